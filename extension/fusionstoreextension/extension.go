package fusionstoreextension

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelfusion/otelfusion/extension/fusionstoreextension/internal/metadata"
	"github.com/otelfusion/otelfusion/pkg/fusionstore"
)

// storeExtension owns one database: it opens it before the pipelines start,
// runs its sweeper and checkpointer, serves its query API, and closes it
// after the pipelines stop. Exporters append to it through
// fusionstore.Appender, finding it by component ID.
type storeExtension struct {
	cfg       *Config
	settings  component.TelemetrySettings
	telemetry *metadata.TelemetryBuilder

	// store is set by Start and stays set after Shutdown, so a late append
	// finds it closed (fusionstore.ErrClosed) instead of racing with Close.
	store atomic.Pointer[fusionstore.Store]

	// Set by Start; Start and Shutdown are called one after the other.
	sweeper      *fusionstore.Periodic
	checkpointer *fusionstore.Periodic
	querySrv     *http.Server
	queryServe   sync.WaitGroup
}

var (
	_ extension.Extension  = (*storeExtension)(nil)
	_ fusionstore.Appender = (*storeExtension)(nil)
)

func newStoreExtension(cfg *Config, set extension.Settings) (*storeExtension, error) {
	telemetry, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	return &storeExtension{cfg: cfg, settings: set.TelemetrySettings, telemetry: telemetry}, nil
}

// Start opens the database, starts the sweeper and the checkpointer, then
// the query API when configured. On failure it releases what it opened.
func (e *storeExtension) Start(ctx context.Context, host component.Host) error {
	if err := e.start(ctx, host); err != nil {
		return errors.Join(err, e.Shutdown(ctx))
	}
	return nil
}

func (e *storeExtension) start(ctx context.Context, host component.Host) error {
	store, err := fusionstore.Open(ctx, &e.cfg.Store)
	if err != nil {
		return err
	}
	e.store.Store(store)
	e.sweeper = fusionstore.StartSweeper(store, e.settings.Logger, e.telemetry.SweptRows)
	e.checkpointer = fusionstore.StartCheckpointer(store, e.settings.Logger)
	if !e.cfg.Query.HasValue() {
		return nil
	}
	queryCfg := e.cfg.Query.Get()
	handler := &queryHandler{
		store: store,
		limits: fusionstore.QueryLimits{Timeout: queryCfg.QueryTimeout, MaxRows: queryCfg.MaxRows,
			DefaultTimeWindow: queryCfg.DefaultTimeWindow},
		maxResponseBytes: queryCfg.MaxResponseBytes,
		tenantHeader:     queryCfg.TenantHeader,
		logger:           e.settings.Logger,
		telemetry:        e.telemetry,
	}
	listener, err := queryCfg.ServerConfig.ToListener(ctx)
	if err != nil {
		return fmt.Errorf("fusionstore: query API listener: %w", err)
	}
	mux := newQueryMux(handler)
	diagnoseHandler, err := newDiagnoseHandler(handler, e.settings)
	if err != nil {
		_ = listener.Close()
		return fmt.Errorf("fusionstore: diagnosis API: %w", err)
	}
	mux.Handle(DiagnosePath, diagnoseHandler)
	srv, err := queryCfg.ServerConfig.ToServer(ctx, host.GetExtensions(), e.settings, mux)
	if err != nil {
		_ = listener.Close()
		return fmt.Errorf("fusionstore: query API server: %w", err)
	}
	e.querySrv = srv
	e.settings.Logger.Info("Fusion store query API listening", zap.String("endpoint", listener.Addr().String()),
		zap.Strings("paths", []string{QueryPath, DiagnosePath}), zap.String("store", e.cfg.Store.Path))
	e.queryServe.Go(func() {
		if err := srv.Serve(listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			e.settings.Logger.Error("Query API stopped", zap.Error(err))
		}
	})
	return nil
}

// Shutdown stops the query API, the sweeper and the checkpointer, then
// closes the database (which checkpoints it one last time). Safe without
// Start, and more than once.
func (e *storeExtension) Shutdown(ctx context.Context) error {
	var errs error
	if e.querySrv != nil {
		if err := e.querySrv.Shutdown(ctx); err != nil {
			errs = errors.Join(errs, e.querySrv.Close())
		}
		e.queryServe.Wait()
		e.querySrv = nil
	}
	e.sweeper.Stop()
	e.sweeper = nil
	e.checkpointer.Stop()
	e.checkpointer = nil
	if store := e.store.Load(); store != nil {
		errs = errors.Join(errs, store.Close())
	}
	return errs
}

// AppendTraces stores td; fusionstore.ErrClosed before Start and after
// Shutdown.
func (e *storeExtension) AppendTraces(ctx context.Context, td ptrace.Traces) error {
	store := e.store.Load()
	if store == nil {
		return fusionstore.ErrClosed
	}
	if err := store.AppendTraces(ctx, td); err != nil {
		return err
	}
	e.countRows(ctx, "traces", td.SpanCount())
	return nil
}

// AppendLogs stores ld; fusionstore.ErrClosed before Start and after
// Shutdown.
func (e *storeExtension) AppendLogs(ctx context.Context, ld plog.Logs) error {
	store := e.store.Load()
	if store == nil {
		return fusionstore.ErrClosed
	}
	if err := store.AppendLogs(ctx, ld); err != nil {
		return err
	}
	e.countRows(ctx, "logs", ld.LogRecordCount())
	return nil
}

// AppendMetrics stores md; fusionstore.ErrClosed before Start and after
// Shutdown.
func (e *storeExtension) AppendMetrics(ctx context.Context, md pmetric.Metrics) error {
	store := e.store.Load()
	if store == nil {
		return fusionstore.ErrClosed
	}
	if err := store.AppendMetrics(ctx, md); err != nil {
		return err
	}
	e.countRows(ctx, "metrics", md.DataPointCount())
	return nil
}

// countRows counts rows written to table.
func (e *storeExtension) countRows(ctx context.Context, table string, rows int) {
	e.telemetry.Rows.Add(ctx, int64(rows), metric.WithAttributes(attribute.String("table", table)))
}
