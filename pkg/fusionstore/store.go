// Package fusionstore is the embedded DuckDB database of otelfusion's
// unified model: tables traces, logs and metrics (the schema fusionql
// describes), filled from pdata exports, trimmed by a retention sweeper and
// queried in FusionQL with every answer streamed under limits. It needs no
// collector: the fusionstore extension owns one Store, and the fusionstore
// exporter appends to it.
package fusionstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/duckdb/duckdb-go/v2"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// retentionTable remembers each tenant's retention override, so a restart
// keeps applying it before the tenant's next export. FusionQL cannot name it.
const retentionTable = "tenant_retention"

// Appender takes exports into a store. Each call stores the whole export or,
// on error, none of it. Safe for concurrent use.
type Appender interface {
	// AppendTraces stores one row per span.
	AppendTraces(ctx context.Context, td ptrace.Traces) error
	// AppendLogs stores one row per log record.
	AppendLogs(ctx context.Context, ld plog.Logs) error
	// AppendMetrics stores one row per data point.
	AppendMetrics(ctx context.Context, md pmetric.Metrics) error
}

// table is one of the tables an export's rows go to.
type table uint8

const (
	tableTraces table = iota
	tableLogs
	tableMetrics
	tableCount
)

// String is the table's name in the database and in FusionQL.
func (t table) String() string {
	switch t {
	case tableTraces:
		return "traces"
	case tableLogs:
		return "logs"
	case tableMetrics:
		return "metrics"
	default:
		return "unknown"
	}
}

// Store is the embedded DuckDB database of the unified model. Appends are
// serialised by mu (one appender per table on one connection); queries and
// the sweeper use the connection pool of db and run beside them. All its
// methods are safe for concurrent use.
type Store struct {
	cfg       *Config
	connector *duckdb.Connector
	db        *sql.DB
	now       func() time.Time
	// nativeMemory measures the memory the query guard holds under
	// memory_limit; a field so tests can fake it.
	nativeMemory func() (int64, error)
	queryMemory  queryMemory

	mu        sync.Mutex
	conn      driver.Conn
	appenders [tableCount]*duckdb.Appender
	// overrides caches the per-tenant retentions written to retentionTable.
	overrides map[string]time.Duration
	// positions caches positionsTable (positions.go), read on first use.
	positions map[positionKey]int64
	// beforeCommit, when set by a test, fails a positioned append's commit.
	beforeCommit func() error
}

var _ Appender = (*Store)(nil)

// Open opens (creating when missing) the database at cfg.Path with cfg's
// settings and creates the tables it lacks. cfg must be valid and is not
// copied: it must not change while the store is open.
func Open(ctx context.Context, cfg *Config) (*Store, error) {
	return open(ctx, cfg, time.Now)
}

// open is Open on a clock of the caller's (retention, default time window).
func open(ctx context.Context, cfg *Config, now func() time.Time) (*Store, error) {
	if dir := filepath.Dir(cfg.Path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("store: creating directory of %q: %w", cfg.Path, err)
		}
	}
	connector, err := duckdb.NewConnector(cfg.Path, nil)
	if err != nil {
		return nil, fmt.Errorf("store: opening %q: %w", cfg.Path, err)
	}
	s := &Store{cfg: cfg, connector: connector, db: sql.OpenDB(connector), now: now,
		nativeMemory: nativeMemory, overrides: map[string]time.Duration{}}
	if err := s.init(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// settingsSQL sets DuckDB's resource limits from the store configuration.
// They are global settings of the database instance, so setting them once
// on any connection covers every connection of the pool.
func settingsSQL(cfg *Config) []string {
	quote := func(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
	return []string{
		fmt.Sprintf("SET GLOBAL memory_limit = '%dB'", cfg.MemoryLimit),
		fmt.Sprintf("SET GLOBAL threads = %d", cfg.Threads),
		"SET GLOBAL temp_directory = " + quote(cfg.tempDirectory()),
		fmt.Sprintf("SET GLOBAL max_temp_directory_size = '%dB'", cfg.MaxTempDirectorySize),
	}
}

func (s *Store) init(ctx context.Context) error {
	// The limits come first: nothing runs on the instance without them.
	for _, stmt := range settingsSQL(s.cfg) {
		if _, err := s.db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("store: applying %q: %w", stmt, err)
		}
	}
	for _, stmt := range schemaDDL() {
		if _, err := s.db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("store: creating tables: %w", err)
		}
	}
	if err := s.checkSchema(ctx); err != nil {
		return err
	}
	rows, err := s.db.QueryContext(ctx, "SELECT tenant, retention_ns FROM "+retentionTable)
	if err != nil {
		return fmt.Errorf("store: reading tenant retentions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var tenant string
		var ns int64
		if err := rows.Scan(&tenant, &ns); err != nil {
			return err
		}
		s.overrides[tenant] = time.Duration(ns)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	conn, err := s.connector.Connect(ctx)
	if err != nil {
		return fmt.Errorf("store: connecting: %w", err)
	}
	s.conn = conn
	for t := range tableCount {
		var app *duckdb.Appender
		if t == tableTraces {
			app, err = newTracesAppender(conn, s.cfg.DedupSpans)
		} else {
			app, err = duckdb.NewAppenderFromConn(conn, "", t.String())
		}
		if err != nil {
			return fmt.Errorf("store: appender for %s: %w", t, err)
		}
		s.appenders[t] = app
	}
	return nil
}

// Close flushes and closes the appenders, then the database (which
// checkpoints it one last time). It is safe on a partly opened store and
// more than once; appends after it return ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs error
	for i, app := range s.appenders {
		if app != nil {
			errs = errors.Join(errs, app.Close())
			s.appenders[i] = nil
		}
	}
	if s.conn != nil {
		errs = errors.Join(errs, s.conn.Close())
		s.conn = nil
	}
	if s.db != nil {
		errs = errors.Join(errs, s.db.Close())
		s.db = nil
	}
	if s.connector != nil {
		errs = errors.Join(errs, s.connector.Close())
		s.connector = nil
	}
	return errs
}

// appendRows appends one export's rows to a table and flushes them as one
// batch: either the whole export is stored or, on error, none of the rows
// still buffered are.
func (s *Store) appendRows(t table, rows [][]driver.Value, overrides map[string]time.Duration) error {
	if len(rows) == 0 && len(overrides) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.flushRowsLocked(t, rows); err != nil {
		return err
	}
	return s.rememberOverrides(overrides)
}

// flushRowsLocked appends rows to a table and flushes them. Called with mu
// held; appendAt runs it inside a transaction of its own.
func (s *Store) flushRowsLocked(t table, rows [][]driver.Value) error {
	app := s.appenders[t]
	if app == nil {
		return ErrClosed
	}
	for _, row := range rows {
		if err := app.AppendRow(row...); err != nil {
			_ = app.Clear()
			return fmt.Errorf("store: appending to %s: %w", t, err)
		}
	}
	if err := app.Flush(); err != nil {
		return fmt.Errorf("store: flushing %s: %w", t, err)
	}
	return nil
}

// rememberOverrides records tenants' retention overrides that changed.
// Called with mu held.
func (s *Store) rememberOverrides(overrides map[string]time.Duration) error {
	for tenant, retention := range overrides {
		if old, ok := s.overrides[tenant]; ok && old == retention {
			continue
		}
		if _, err := s.db.Exec("INSERT OR REPLACE INTO "+retentionTable+" VALUES (?, ?)", tenant, int64(retention)); err != nil {
			return fmt.Errorf("store: recording retention of tenant %q: %w", tenant, err)
		}
		s.overrides[tenant] = retention
	}
	return nil
}

// AppendTraces stores td, one row per span, in one flush. ctx is not
// consulted: a flush, once begun, is not interrupted.
func (s *Store) AppendTraces(_ context.Context, td ptrace.Traces) error {
	rows, overrides := s.spanRows(td)
	return s.appendRows(tableTraces, rows, overrides)
}

// AppendLogs stores ld, one row per log record, in one flush.
func (s *Store) AppendLogs(_ context.Context, ld plog.Logs) error {
	rows, overrides := s.logRows(ld)
	return s.appendRows(tableLogs, rows, overrides)
}

// AppendMetrics stores md, one row per data point, in one flush.
func (s *Store) AppendMetrics(_ context.Context, md pmetric.Metrics) error {
	rows, overrides := s.metricRows(md)
	return s.appendRows(tableMetrics, rows, overrides)
}

// retentions returns a copy of the per-tenant retention overrides.
func (s *Store) retentions() map[string]time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]time.Duration, len(s.overrides))
	for k, v := range s.overrides {
		out[k] = v
	}
	return out
}
