package fusedexporter

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

	"github.com/otelfusion/otelfusion/pkg/fusionql"
)

// retentionTable remembers each tenant's retention override, so a restart
// keeps applying it before the tenant's next export. FusionQL cannot name it.
const retentionTable = "tenant_retention"

// fusedStore is the embedded DuckDB database of the unified model. Appends
// are serialised by mu (one appender per table on one connection); queries
// and the sweeper use the connection pool of db and run beside them.
type fusedStore struct {
	cfg       *StoreConfig
	connector *duckdb.Connector
	db        *sql.DB
	now       func() time.Time
	// nativeMemory measures the memory the query guard holds under
	// memory_limit; a field so tests can fake it.
	nativeMemory func() (int64, error)
	queryMemory  queryMemory

	mu        sync.Mutex
	conn      driver.Conn
	appenders [signalCount]*duckdb.Appender
	// overrides caches the per-tenant retentions written to retentionTable.
	overrides map[string]time.Duration
}

// schemaDDL creates the tables FusionQL's schema describes (the DuckDB
// dialect generates them) and the store's own retention table.
func schemaDDL() []string {
	return append(fusionql.DuckDB{}.SchemaDDL(),
		"CREATE TABLE IF NOT EXISTS "+retentionTable+" (tenant VARCHAR PRIMARY KEY, retention_ns BIGINT)")
}

// tableOf names the table a signal's rows go to.
func tableOf(s signal) string { return s.String() }

// openStore opens (creating when missing) the database at cfg.Path.
func openStore(ctx context.Context, cfg *StoreConfig, now func() time.Time) (*fusedStore, error) {
	if dir := filepath.Dir(cfg.Path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("store: creating directory of %q: %w", cfg.Path, err)
		}
	}
	connector, err := duckdb.NewConnector(cfg.Path, nil)
	if err != nil {
		return nil, fmt.Errorf("store: opening %q: %w", cfg.Path, err)
	}
	s := &fusedStore{cfg: cfg, connector: connector, db: sql.OpenDB(connector), now: now,
		nativeMemory: nativeMemory, overrides: map[string]time.Duration{}}
	if err := s.init(ctx); err != nil {
		_ = s.close()
		return nil, err
	}
	return s, nil
}

// settingsSQL sets DuckDB's resource limits from the store configuration.
// They are global settings of the database instance, so setting them once
// on any connection covers every connection of the pool.
func settingsSQL(cfg *StoreConfig) []string {
	quote := func(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
	return []string{
		fmt.Sprintf("SET GLOBAL memory_limit = '%dB'", cfg.MemoryLimit),
		fmt.Sprintf("SET GLOBAL threads = %d", cfg.Threads),
		"SET GLOBAL temp_directory = " + quote(cfg.tempDirectory()),
		fmt.Sprintf("SET GLOBAL max_temp_directory_size = '%dB'", cfg.MaxTempDirectorySize),
	}
}

func (s *fusedStore) init(ctx context.Context) error {
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
	for sig := range signalCount {
		app, err := duckdb.NewAppenderFromConn(conn, "", tableOf(sig))
		if err != nil {
			return fmt.Errorf("store: appender for %s: %w", tableOf(sig), err)
		}
		s.appenders[sig] = app
	}
	return nil
}

// close flushes and closes the appenders, then the database. It is safe on a
// partly opened store.
func (s *fusedStore) close() error {
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
func (s *fusedStore) appendRows(sig signal, rows [][]driver.Value, overrides map[string]time.Duration) error {
	if len(rows) == 0 && len(overrides) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	app := s.appenders[sig]
	if app == nil {
		return errShutdown
	}
	for _, row := range rows {
		if err := app.AppendRow(row...); err != nil {
			_ = app.Clear()
			return fmt.Errorf("store: appending to %s: %w", tableOf(sig), err)
		}
	}
	if err := app.Flush(); err != nil {
		return fmt.Errorf("store: flushing %s: %w", tableOf(sig), err)
	}
	return s.rememberOverrides(overrides)
}

// rememberOverrides records tenants' retention overrides that changed.
// Called with mu held.
func (s *fusedStore) rememberOverrides(overrides map[string]time.Duration) error {
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

func (s *fusedStore) appendTraces(td ptrace.Traces) error {
	rows, overrides := s.spanRows(td)
	return s.appendRows(signalTraces, rows, overrides)
}

func (s *fusedStore) appendLogs(ld plog.Logs) error {
	rows, overrides := s.logRows(ld)
	return s.appendRows(signalLogs, rows, overrides)
}

func (s *fusedStore) appendMetrics(md pmetric.Metrics) error {
	rows, overrides := s.metricRows(md)
	return s.appendRows(signalMetrics, rows, overrides)
}

// retentions returns a copy of the per-tenant retention overrides.
func (s *fusedStore) retentions() map[string]time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]time.Duration, len(s.overrides))
	for k, v := range s.overrides {
		out[k] = v
	}
	return out
}
