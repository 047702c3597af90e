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

	// StoreRows counts rows written to the store, by "table".
	StoreRows metric.Int64Counter
	// StoreSweptRows counts rows the retention sweeper deleted.
	StoreSweptRows metric.Int64Counter
	// StoreQueries counts queries answered by the query API, by "outcome".
	StoreQueries metric.Int64Counter
	// StoreQueryDuration records how long queries ran.
	StoreQueryDuration metric.Float64Histogram
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
	tb.StoreRows, err = meter.Int64Counter("otelcol_exporter_fused_store_rows",
		metric.WithDescription("Rows written to the fused store, by table (traces, logs, metrics)."),
		metric.WithUnit("{rows}"))
	errs = errors.Join(errs, err)
	tb.StoreSweptRows, err = meter.Int64Counter("otelcol_exporter_fused_store_swept_rows",
		metric.WithDescription("Rows the fused store's retention sweeper deleted."),
		metric.WithUnit("{rows}"))
	errs = errors.Join(errs, err)
	tb.StoreQueries, err = meter.Int64Counter("otelcol_exporter_fused_store_queries",
		metric.WithDescription("Queries answered by the fused store's query API, by outcome (ok, invalid, timeout, failed)."),
		metric.WithUnit("{queries}"))
	errs = errors.Join(errs, err)
	tb.StoreQueryDuration, err = meter.Float64Histogram("otelcol_exporter_fused_store_query_duration",
		metric.WithDescription("Run time of the fused store's queries, parse to last row."),
		metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(0.001, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30))
	errs = errors.Join(errs, err)
	return &tb, errs
}
