// Package metadata holds the tenant quota processor's identity (component
// type, instrumentation scope, stability) and its own telemetry instruments.
package metadata

import (
	"go.opentelemetry.io/collector/component"
)

var (
	// Type is the component type named in collector configuration.
	Type = component.MustNewType("tenant_quota")
	// ScopeName is the instrumentation scope of the processor's own telemetry
	// and of the summary metrics it emits.
	ScopeName = "github.com/otelfusion/otelfusion/processor/tenantquota"
)

const (
	// TracesStability is the stability of the traces pipeline support.
	TracesStability = component.StabilityLevelAlpha
	// LogsStability is the stability of the logs pipeline support.
	LogsStability = component.StabilityLevelAlpha
	// MetricsStability is the stability of the metrics pipeline support.
	MetricsStability = component.StabilityLevelAlpha
)
