package metadata

import (
	"errors"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/metric"
)

// TelemetryBuilder holds the extension's own instruments: what goes into
// the store, what the sweeper takes out, and the queries it answers.
type TelemetryBuilder struct {
	// Rows counts rows written to the store, by "table".
	Rows metric.Int64Counter
	// SweptRows counts rows the retention sweeper deleted.
	SweptRows metric.Int64Counter
	// Queries counts queries answered by the query API, by "outcome".
	Queries metric.Int64Counter
	// QueryDuration records how long queries ran.
	QueryDuration metric.Float64Histogram
}

// NewTelemetryBuilder creates the instruments from settings.MeterProvider.
func NewTelemetryBuilder(settings component.TelemetrySettings) (*TelemetryBuilder, error) {
	meter := settings.MeterProvider.Meter(ScopeName)
	var tb TelemetryBuilder
	var err, errs error
	tb.Rows, err = meter.Int64Counter("otelcol_fusionstore_rows",
		metric.WithDescription("Rows written to the fusion store, by table (traces, logs, metrics)."),
		metric.WithUnit("{rows}"))
	errs = errors.Join(errs, err)
	tb.SweptRows, err = meter.Int64Counter("otelcol_fusionstore_swept_rows",
		metric.WithDescription("Rows the fusion store's retention sweeper deleted."),
		metric.WithUnit("{rows}"))
	errs = errors.Join(errs, err)
	tb.Queries, err = meter.Int64Counter("otelcol_fusionstore_queries",
		metric.WithDescription("Queries answered by the fusion store's query API, by outcome (ok, truncated, invalid, timeout, memory_limit, failed, cancelled)."),
		metric.WithUnit("{queries}"))
	errs = errors.Join(errs, err)
	tb.QueryDuration, err = meter.Float64Histogram("otelcol_fusionstore_query_duration",
		metric.WithDescription("Run time of the fusion store's queries, parse to last row."),
		metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(0.001, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30))
	errs = errors.Join(errs, err)
	return &tb, errs
}
