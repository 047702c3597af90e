// Package metadata holds the tenantauth extension's identity (component type
// and stability).
package metadata

import (
	"go.opentelemetry.io/collector/component"
)

// Type is the component type named in collector configuration.
var Type = component.MustNewType("tenantauth")

// ExtensionStability is the stability of the extension.
const ExtensionStability = component.StabilityLevelAlpha
