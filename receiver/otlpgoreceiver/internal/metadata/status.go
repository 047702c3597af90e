// Package metadata holds the identity, stability and internal telemetry of the
// otlpgo receiver, in the shape mdatagen would generate for it.
package metadata // import "github.com/otelfusion/otelfusion/receiver/otlpgoreceiver/internal/metadata"

import (
	"go.opentelemetry.io/collector/component"
)

var (
	// Type is the component type users name in the collector configuration.
	Type = component.MustNewType("otlpgo")
	// ScopeName is the instrumentation scope of the receiver's own telemetry.
	ScopeName = "github.com/otelfusion/otelfusion/receiver/otlpgoreceiver"
)

const (
	TracesStability  = component.StabilityLevelAlpha
	MetricsStability = component.StabilityLevelAlpha
	LogsStability    = component.StabilityLevelAlpha
)
