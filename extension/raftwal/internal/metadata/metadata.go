// Package metadata holds the raftwal extension's identity (component type,
// instrumentation scope, stability) and its own telemetry instruments.
package metadata

import (
	"go.opentelemetry.io/collector/component"
)

var (
	// Type is the component type named in collector configuration.
	Type = component.MustNewType("raftwal")
	// ScopeName is the instrumentation scope of the extension's telemetry.
	ScopeName = "github.com/otelfusion/otelfusion/extension/raftwal"
)

// ExtensionStability is the stability of the extension.
const ExtensionStability = component.StabilityLevelAlpha
