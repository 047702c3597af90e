package metadata

import (
	"errors"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/metric"
)

// TelemetryBuilder holds the processor's own instruments. The standard
// otelcol_processor_incoming/outgoing_items come from processorhelper.
type TelemetryBuilder struct {
	// SpansIndexed counts spans written to the span index.
	SpansIndexed metric.Int64Counter
	// LogsEnriched counts log records given their span's operation and service.
	LogsEnriched metric.Int64Counter
	// LogsUnlinked counts log records that left without enrichment, by
	// "reason" (no_trace_context, span_not_seen, buffer_full).
	LogsUnlinked metric.Int64Counter
	// InvalidHints counts trace-context attributes that did not parse, by
	// "reason" (bad_hex, wrong_length, all_zeros, bad_format).
	InvalidHints metric.Int64Counter
	// LogsDelayed counts log records that arrived before their span and
	// waited in the late-span buffer.
	LogsDelayed metric.Int64Counter
	// BufferedLogs is the number of log records waiting for their span.
	BufferedLogs metric.Int64UpDownCounter
	// ForwardErrors counts buffered log records the next consumer refused.
	ForwardErrors metric.Int64Counter
}

// NewTelemetryBuilder creates the instruments from settings.MeterProvider.
func NewTelemetryBuilder(settings component.TelemetrySettings) (*TelemetryBuilder, error) {
	meter := settings.MeterProvider.Meter(ScopeName)
	var tb TelemetryBuilder
	var err, errs error
	tb.SpansIndexed, err = meter.Int64Counter("otelcol_processor_fusion_spans_indexed",
		metric.WithDescription("Spans written to the span index."), metric.WithUnit("{spans}"))
	errs = errors.Join(errs, err)
	tb.LogsEnriched, err = meter.Int64Counter("otelcol_processor_fusion_logs_enriched",
		metric.WithDescription("Log records enriched with their span's operation and service."), metric.WithUnit("{records}"))
	errs = errors.Join(errs, err)
	tb.LogsUnlinked, err = meter.Int64Counter("otelcol_processor_fusion_logs_unlinked",
		metric.WithDescription("Log records passed on without enrichment, by reason."), metric.WithUnit("{records}"))
	errs = errors.Join(errs, err)
	tb.InvalidHints, err = meter.Int64Counter("otelcol_processor_fusion_invalid_hints",
		metric.WithDescription("Trace-context attributes on logs that did not parse, by reason."), metric.WithUnit("{hints}"))
	errs = errors.Join(errs, err)
	tb.LogsDelayed, err = meter.Int64Counter("otelcol_processor_fusion_logs_delayed",
		metric.WithDescription("Log records that arrived before their span and waited for it."), metric.WithUnit("{records}"))
	errs = errors.Join(errs, err)
	tb.BufferedLogs, err = meter.Int64UpDownCounter("otelcol_processor_fusion_buffered_logs",
		metric.WithDescription("Log records waiting in the late-span buffer."), metric.WithUnit("{records}"))
	errs = errors.Join(errs, err)
	tb.ForwardErrors, err = meter.Int64Counter("otelcol_processor_fusion_forward_errors",
		metric.WithDescription("Buffered log records refused by the next consumer."), metric.WithUnit("{records}"))
	errs = errors.Join(errs, err)
	return &tb, errs
}
