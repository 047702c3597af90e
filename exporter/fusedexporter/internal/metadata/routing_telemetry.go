package metadata

import (
	"errors"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/metric"
)

// RoutingTelemetry holds the instruments of the exporter's routing.
type RoutingTelemetry struct {
	// RoutingEndpoints is the number of endpoints in the ring now: resolved
	// and, with on_endpoint_failure: reroute, not marked down.
	RoutingEndpoints metric.Int64Gauge
	// RoutingResolutions counts resolver lookups, by "outcome" (success,
	// failure).
	RoutingResolutions metric.Int64Counter
	// RoutingMembershipChanges counts changes of the resolved endpoint list,
	// the first resolution included.
	RoutingMembershipChanges metric.Int64Counter
	// RoutedItems counts items handed to an endpoint's queue, by "signal".
	RoutedItems metric.Int64Counter
	// ReroutedItems counts items moved off an unreachable or departed
	// endpoint to the endpoint that owns them now, by "signal".
	ReroutedItems metric.Int64Counter
	// EndpointsDown counts endpoints taken out of the ring because they could
	// not be reached.
	EndpointsDown metric.Int64Counter
}

// NewRoutingTelemetry creates the routing instruments from
// settings.MeterProvider.
func NewRoutingTelemetry(settings component.TelemetrySettings) (*RoutingTelemetry, error) {
	meter := settings.MeterProvider.Meter(ScopeName)
	var rt RoutingTelemetry
	var err, errs error
	rt.RoutingEndpoints, err = meter.Int64Gauge("otelcol_exporter_fused_routing_endpoints",
		metric.WithDescription("Endpoints in the routing ring."),
		metric.WithUnit("{endpoints}"))
	errs = errors.Join(errs, err)
	rt.RoutingResolutions, err = meter.Int64Counter("otelcol_exporter_fused_routing_resolutions",
		metric.WithDescription("Routing resolver lookups, by outcome (success, failure)."),
		metric.WithUnit("{lookups}"))
	errs = errors.Join(errs, err)
	rt.RoutingMembershipChanges, err = meter.Int64Counter("otelcol_exporter_fused_routing_membership_changes",
		metric.WithDescription("Changes of the resolved endpoint list, the first resolution included."),
		metric.WithUnit("{changes}"))
	errs = errors.Join(errs, err)
	rt.RoutedItems, err = meter.Int64Counter("otelcol_exporter_fused_routed_items",
		metric.WithDescription("Items handed to an endpoint's queue, by signal."),
		metric.WithUnit("{items}"))
	errs = errors.Join(errs, err)
	rt.ReroutedItems, err = meter.Int64Counter("otelcol_exporter_fused_rerouted_items",
		metric.WithDescription("Items moved off an unreachable or departed endpoint, by signal."),
		metric.WithUnit("{items}"))
	errs = errors.Join(errs, err)
	rt.EndpointsDown, err = meter.Int64Counter("otelcol_exporter_fused_routing_endpoints_down",
		metric.WithDescription("Endpoints taken out of the ring because they could not be reached."),
		metric.WithUnit("{endpoints}"))
	errs = errors.Join(errs, err)
	return &rt, errs
}
