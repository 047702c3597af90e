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
// serialised by mu (one INSERT per export on one connection, reading the
// export's columns through a table function); queries and the sweeper use
// the connection pool of db and run beside them. All its
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

	mu         sync.Mutex
	appendConn *sql.Conn
	ingest     [tableCount]ingestTable
	// The batches are reused from one append to the next.
	spans  spanBatch
	logs   logBatch
	points pointBatch
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
		fmt.Sprintf("SET GLOBAL checkpoint_threshold = '%dB'", cfg.CheckpointWALSize),
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
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: connecting: %w", err)
	}
	s.appendConn = conn
	s.ingest, err = prepareIngest(ctx, conn, s.cfg.DedupSpans)
	return err
}

// Close closes the append connection, then the database (which
// checkpoints it one last time). It is safe on a partly opened store and
// more than once; appends after it return ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs error
	for i, it := range s.ingest {
		if it.insert != nil {
			errs = errors.Join(errs, it.insert.Close())
		}
		s.ingest[i] = ingestTable{}
	}
	if s.appendConn != nil {
		errs = errors.Join(errs, s.appendConn.Close())
		s.appendConn = nil
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

// appendBatch fills a table's batch from one export and stores it in one
// INSERT: either the whole export is stored or, on error, none of it. The
// context is not consulted: an insert, once begun, runs to its end.
func (s *Store) appendBatch(ctx context.Context, t table, b batch, fill func() (int, map[string]time.Duration)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.appendConn == nil {
		return ErrClosed
	}
	overrides, err := s.insertLocked(ctx, t, b, fill)
	if err != nil {
		return err
	}
	return s.rememberOverrides(overrides)
}

// insertLocked fills b and stores it in table t in one INSERT, and returns
// the retention overrides the export carries. Called with mu held; a
// positioned append (positions.go) runs it inside a transaction of its own.
func (s *Store) insertLocked(ctx context.Context, t table, b batch, fill func() (int, map[string]time.Duration)) (map[string]time.Duration, error) {
	defer func() {
		for _, c := range b.columns() {
			c.reset()
		}
	}()
	rows, overrides := fill()
	if rows > 0 {
		var args []any
		if t == tableTraces && s.cfg.DedupSpans {
			lo, hi := s.spans.start.bounds()
			args = []any{lo, hi}
		}
		if err := s.ingest[t].insertBatch(context.WithoutCancel(ctx), b, rows, args...); err != nil {
			return nil, fmt.Errorf("store: appending to %s: %w", t, err)
		}
	}
	return overrides, nil
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

// AppendTraces stores td, one row per span, in one insert.
func (s *Store) AppendTraces(ctx context.Context, td ptrace.Traces) error {
	return s.appendBatch(ctx, tableTraces, &s.spans, func() (int, map[string]time.Duration) {
		return s.spans.fill(s, td)
	})
}

// AppendLogs stores ld, one row per log record, in one insert.
func (s *Store) AppendLogs(ctx context.Context, ld plog.Logs) error {
	return s.appendBatch(ctx, tableLogs, &s.logs, func() (int, map[string]time.Duration) {
		return s.logs.fill(s, ld)
	})
}

// AppendMetrics stores md, one row per data point, in one insert.
func (s *Store) AppendMetrics(ctx context.Context, md pmetric.Metrics) error {
	return s.appendBatch(ctx, tableMetrics, &s.points, func() (int, map[string]time.Duration) {
		return s.points.fill(s, md)
	})
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
