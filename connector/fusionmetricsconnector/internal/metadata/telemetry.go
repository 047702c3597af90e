package metadata

import (
	"errors"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/metric"
)

// TelemetryBuilder holds the connector's own instruments.
type TelemetryBuilder struct {
	// Recorded counts spans and log records aggregated, by "signal".
	Recorded metric.Int64Counter
	// MetricSeries is the number of derived metric series held, by "table".
	MetricSeries metric.Int64UpDownCounter
	// MetricOverflows counts measurements routed to an overflow series, by "table".
	MetricOverflows metric.Int64Counter
	// FlushErrors counts derived data points the metrics pipeline refused.
	FlushErrors metric.Int64Counter
}

// NewTelemetryBuilder creates the instruments from settings.MeterProvider.
func NewTelemetryBuilder(settings component.TelemetrySettings) (*TelemetryBuilder, error) {
	meter := settings.MeterProvider.Meter(ScopeName)
	var tb TelemetryBuilder
	var err, errs error
	tb.Recorded, err = meter.Int64Counter("otelcol_connector_fusionmetrics_recorded",
		metric.WithDescription("Spans and log records aggregated into derived metrics, by signal."), metric.WithUnit("{items}"))
	errs = errors.Join(errs, err)
	tb.MetricSeries, err = meter.Int64UpDownCounter("otelcol_connector_fusionmetrics_series",
		metric.WithDescription("Derived metric series held, by table (spans, logs, or a rollup tier)."), metric.WithUnit("{series}"))
	errs = errors.Join(errs, err)
	tb.MetricOverflows, err = meter.Int64Counter("otelcol_connector_fusionmetrics_overflows",
		metric.WithDescription("Measurements routed to an overflow series, by table."), metric.WithUnit("{measurements}"))
	errs = errors.Join(errs, err)
	tb.FlushErrors, err = meter.Int64Counter("otelcol_connector_fusionmetrics_flush_errors",
		metric.WithDescription("Derived data points refused by the next consumer."), metric.WithUnit("{points}"))
	errs = errors.Join(errs, err)
	return &tb, errs
}
