// Package metadata holds the fusionstore extension's identity (component
// type, instrumentation scope, stability) and its own telemetry instruments.
package metadata

import (
	"go.opentelemetry.io/collector/component"
)

var (
	// Type is the component type named in collector configuration.
	Type = component.MustNewType("fusionstore")
	// ScopeName is the instrumentation scope of the extension's telemetry.
	ScopeName = "github.com/otelfusion/otelfusion/extension/fusionstoreextension"
)

// ExtensionStability is the stability of the extension.
const ExtensionStability = component.StabilityLevelAlpha
