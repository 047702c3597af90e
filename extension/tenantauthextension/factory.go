package tenantauthextension // import "github.com/otelfusion/otelfusion/extension/tenantauthextension"

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"

	"github.com/otelfusion/otelfusion/extension/tenantauthextension/internal/metadata"
)

// NewFactory returns the factory of the tenantauth server authenticator.
func NewFactory() extension.Factory {
	return extension.NewFactory(metadata.Type, createDefaultConfig, createExtension, metadata.ExtensionStability)
}

func createDefaultConfig() component.Config {
	return &Config{}
}

func createExtension(_ context.Context, set extension.Settings, cfg component.Config) (extension.Extension, error) {
	return newTenantAuth(cfg.(*Config), set), nil
}
