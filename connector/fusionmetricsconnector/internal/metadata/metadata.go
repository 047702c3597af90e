// Package metadata holds the fusion metrics connector's identity (component
// type, instrumentation scope, stability) and its own telemetry instruments.
package metadata

import (
	"go.opentelemetry.io/collector/component"
)

var (
	// Type is the component type named in collector configuration.
	Type = component.MustNewType("fusionmetrics")
	// ScopeName is the instrumentation scope of the connector's own
	// telemetry and of the metrics it derives.
	ScopeName = "github.com/otelfusion/otelfusion/connector/fusionmetricsconnector"
)

const (
	// TracesToMetricsStability is the stability of traces→metrics.
	TracesToMetricsStability = component.StabilityLevelAlpha
	// LogsToMetricsStability is the stability of logs→metrics.
	LogsToMetricsStability = component.StabilityLevelAlpha
)
