package metadata

import (
	"errors"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/metric"
)

// TelemetryBuilder holds the processor's own instruments, each by "tenant"
// (and "signal" where it applies).
type TelemetryBuilder struct {
	// ItemsAccepted counts items passed on.
	ItemsAccepted metric.Int64Counter
	// ItemsRefused counts items of refused requests, by "reason" (quota,
	// burst, unlabelled).
	ItemsRefused metric.Int64Counter
	// ItemsSampledOut counts items dropped by sampling.
	ItemsSampledOut metric.Int64Counter
	// BreakerState is 1 while the tenant's breaker is open, else 0.
	BreakerState metric.Int64Gauge
	// BreakerTransitions counts breaker changes, by "state" entered.
	BreakerTransitions metric.Int64Counter
	// OfferedRate is the offered items per second over the last bucket.
	OfferedRate metric.Float64Gauge
	// LoadRatio is offered load / quota over the last bucket.
	LoadRatio metric.Float64Gauge
	// OverrideReloads counts reads of the overrides file, by "result".
	OverrideReloads metric.Int64Counter
}

// NewTelemetryBuilder creates the instruments from settings.MeterProvider.
func NewTelemetryBuilder(settings component.TelemetrySettings) (*TelemetryBuilder, error) {
	meter := settings.MeterProvider.Meter(ScopeName)
	var tb TelemetryBuilder
	var err, errs error
	tb.ItemsAccepted, err = meter.Int64Counter("otelcol_processor_tenant_quota_items_accepted",
		metric.WithDescription("Items passed on, by tenant and signal."), metric.WithUnit("{items}"))
	errs = errors.Join(errs, err)
	tb.ItemsRefused, err = meter.Int64Counter("otelcol_processor_tenant_quota_items_refused",
		metric.WithDescription("Items of refused requests, by tenant, signal and reason."), metric.WithUnit("{items}"))
	errs = errors.Join(errs, err)
	tb.ItemsSampledOut, err = meter.Int64Counter("otelcol_processor_tenant_quota_items_sampled_out",
		metric.WithDescription("Items dropped by sampling, by tenant and signal."), metric.WithUnit("{items}"))
	errs = errors.Join(errs, err)
	tb.BreakerState, err = meter.Int64Gauge("otelcol_processor_tenant_quota_breaker_open",
		metric.WithDescription("1 while the tenant's breaker is open (degrade mode), else 0."), metric.WithUnit("1"))
	errs = errors.Join(errs, err)
	tb.BreakerTransitions, err = meter.Int64Counter("otelcol_processor_tenant_quota_breaker_transitions",
		metric.WithDescription("Breaker state changes, by tenant and state entered."), metric.WithUnit("{transitions}"))
	errs = errors.Join(errs, err)
	tb.OfferedRate, err = meter.Float64Gauge("otelcol_processor_tenant_quota_offered_rate",
		metric.WithDescription("Offered items per second over the last bucket, by tenant and signal."), metric.WithUnit("{items}/s"))
	errs = errors.Join(errs, err)
	tb.LoadRatio, err = meter.Float64Gauge("otelcol_processor_tenant_quota_load_ratio",
		metric.WithDescription("Offered load over quota in the last bucket, the highest over signals, by tenant."), metric.WithUnit("1"))
	errs = errors.Join(errs, err)
	tb.OverrideReloads, err = meter.Int64Counter("otelcol_processor_tenant_quota_override_reloads",
		metric.WithDescription("Reads of a changed overrides file, by result (ok, invalid)."), metric.WithUnit("{reloads}"))
	errs = errors.Join(errs, err)
	return &tb, errs
}
