// Package metadata holds the fusionstore exporter's identity (component
// type, stability).
package metadata

import (
	"go.opentelemetry.io/collector/component"
)

// Type is the component type named in collector configuration.
var Type = component.MustNewType("fusionstore")

const (
	// TracesStability is the stability of the traces pipeline support.
	TracesStability = component.StabilityLevelAlpha
	// LogsStability is the stability of the logs pipeline support.
	LogsStability = component.StabilityLevelAlpha
	// MetricsStability is the stability of the metrics pipeline support.
	MetricsStability = component.StabilityLevelAlpha
)
