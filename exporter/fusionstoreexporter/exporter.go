package fusionstoreexporter

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/zap"

	"github.com/otelfusion/otelfusion/internal/sourceposition"
	"github.com/otelfusion/otelfusion/pkg/fusionstore"
)

// storeExporter appends each export of one signal to the store of a
// fusionstore extension. The extension owns the database; the exporter
// holds nothing to release.
type storeExporter struct {
	cfg    *Config
	logger *zap.Logger
	// store is set by start, before exporterhelper lets any push through.
	store fusionstore.Appender
	// positioned is store when it can store an export with the position
	// it was read at (a Kafka offset, on the context): exactly once.
	positioned fusionstore.PositionedAppender
}

func newStoreExporter(cfg *Config, logger *zap.Logger) *storeExporter {
	return &storeExporter{cfg: cfg, logger: logger}
}

// logReplay tells of an export skipped because the store already holds its
// position: data read again after a crash, stored once.
func (e *storeExporter) logReplay(stored bool, err error, pos fusionstore.Position, items int) error {
	if errors.Is(err, fusionstore.ErrPositionOverlap) {
		// Retrying cannot help: the receiver offers the records one by one.
		return consumererror.NewPermanent(err)
	}
	if err == nil && !stored {
		e.logger.Info("Skipped a replayed export: the store already holds its position",
			zap.Stringer("position", pos), zap.Int("items", items))
	}
	return err
}

// start finds the extension named by 'extension' among the host's.
func (e *storeExporter) start(_ context.Context, host component.Host) error {
	ext, ok := host.GetExtensions()[e.cfg.Extension]
	if !ok {
		return fmt.Errorf("'extension': no extension %q is configured; add it under 'extensions' and to 'service::extensions'", e.cfg.Extension)
	}
	store, ok := ext.(fusionstore.Appender)
	if !ok {
		return fmt.Errorf("'extension': extension %q is not a fusionstore extension", e.cfg.Extension)
	}
	e.store = store
	e.positioned, _ = ext.(fusionstore.PositionedAppender)
	return nil
}

func (e *storeExporter) pushTraces(ctx context.Context, td ptrace.Traces) error {
	if td.ResourceSpans().Len() == 0 {
		return nil
	}
	if pos, ok := sourceposition.FromContext(ctx); ok && e.positioned != nil {
		stored, err := e.positioned.AppendTracesAt(ctx, td, pos)
		return e.logReplay(stored, err, pos, td.SpanCount())
	}
	return e.store.AppendTraces(ctx, td)
}

func (e *storeExporter) pushLogs(ctx context.Context, ld plog.Logs) error {
	if ld.ResourceLogs().Len() == 0 {
		return nil
	}
	if pos, ok := sourceposition.FromContext(ctx); ok && e.positioned != nil {
		stored, err := e.positioned.AppendLogsAt(ctx, ld, pos)
		return e.logReplay(stored, err, pos, ld.LogRecordCount())
	}
	return e.store.AppendLogs(ctx, ld)
}

func (e *storeExporter) pushMetrics(ctx context.Context, md pmetric.Metrics) error {
	if md.ResourceMetrics().Len() == 0 {
		return nil
	}
	if pos, ok := sourceposition.FromContext(ctx); ok && e.positioned != nil {
		stored, err := e.positioned.AppendMetricsAt(ctx, md, pos)
		return e.logReplay(stored, err, pos, md.DataPointCount())
	}
	return e.store.AppendMetrics(ctx, md)
}
