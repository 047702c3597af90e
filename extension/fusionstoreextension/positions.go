package fusionstoreextension

import (
	"context"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otelfusion/otelfusion/pkg/fusionstore"
)

var _ fusionstore.PositionedAppender = (*storeExtension)(nil)

// AppendTracesAt stores td read at pos unless pos was stored already;
// fusionstore.ErrClosed before Start and after Shutdown.
func (e *storeExtension) AppendTracesAt(ctx context.Context, td ptrace.Traces, pos fusionstore.Position) (bool, error) {
	store := e.store.Load()
	if store == nil {
		return false, fusionstore.ErrClosed
	}
	stored, err := store.AppendTracesAt(ctx, td, pos)
	if stored {
		e.countRows(ctx, "traces", td.SpanCount())
	}
	return stored, err
}

// AppendLogsAt stores ld read at pos unless pos was stored already.
func (e *storeExtension) AppendLogsAt(ctx context.Context, ld plog.Logs, pos fusionstore.Position) (bool, error) {
	store := e.store.Load()
	if store == nil {
		return false, fusionstore.ErrClosed
	}
	stored, err := store.AppendLogsAt(ctx, ld, pos)
	if stored {
		e.countRows(ctx, "logs", ld.LogRecordCount())
	}
	return stored, err
}

// AppendMetricsAt stores md read at pos unless pos was stored already.
func (e *storeExtension) AppendMetricsAt(ctx context.Context, md pmetric.Metrics, pos fusionstore.Position) (bool, error) {
	store := e.store.Load()
	if store == nil {
		return false, fusionstore.ErrClosed
	}
	stored, err := store.AppendMetricsAt(ctx, md, pos)
	if stored {
		e.countRows(ctx, "metrics", md.DataPointCount())
	}
	return stored, err
}
