package metadata

import (
	"errors"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/metric"
)

// TelemetryBuilder holds the exporter's own instruments. The standard
// otelcol_exporter_* metrics come from exporterhelper; these describe the
// fused requests, which exporterhelper cannot see.
type TelemetryBuilder struct {
	// FusedRequests counts fused HTTP requests sent, by "outcome".
	FusedRequests metric.Int64Counter
	// FusedWireBytes counts frame bytes written to the wire.
	FusedWireBytes metric.Int64Counter
	// FusedRequestItems records the items of each signal carried by one
	// fused request, by "signal".
	FusedRequestItems metric.Int64Histogram
	// FusedFlushes counts coalescer flushes, by "reason".
	FusedFlushes metric.Int64Counter
}

// NewTelemetryBuilder creates the instruments from settings.MeterProvider.
func NewTelemetryBuilder(settings component.TelemetrySettings) (*TelemetryBuilder, error) {
	meter := settings.MeterProvider.Meter(ScopeName)
	var tb TelemetryBuilder
	var err, errs error
	tb.FusedRequests, err = meter.Int64Counter("otelcol_exporter_fused_requests",
		metric.WithDescription("Fused requests sent, by outcome (success, refused, failed)."),
		metric.WithUnit("{requests}"))
	errs = errors.Join(errs, err)
	tb.FusedWireBytes, err = meter.Int64Counter("otelcol_exporter_fused_wire_bytes",
		metric.WithDescription("Bytes of fused frames sent, after frame compression."),
		metric.WithUnit("By"))
	errs = errors.Join(errs, err)
	tb.FusedRequestItems, err = meter.Int64Histogram("otelcol_exporter_fused_request_items",
		metric.WithDescription("Items (spans, log records, data points) of one signal in one fused request."),
		metric.WithUnit("{items}"),
		metric.WithExplicitBucketBoundaries(1, 10, 100, 1000, 10000, 100000))
	errs = errors.Join(errs, err)
	tb.FusedFlushes, err = meter.Int64Counter("otelcol_exporter_fused_flushes",
		metric.WithDescription("Coalescer flushes, by reason (max_items, timeout, shutdown)."),
		metric.WithUnit("{flushes}"))
	errs = errors.Join(errs, err)
	return &tb, errs
}
