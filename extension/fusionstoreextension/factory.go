package fusionstoreextension

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/extension"

	"github.com/otelfusion/otelfusion/extension/fusionstoreextension/internal/metadata"
	"github.com/otelfusion/otelfusion/pkg/fusionstore"
)

const (
	defaultQueryEndpoint = "127.0.0.1:4320"
	// Below confighttp's default write_timeout (30s), so a timed-out query
	// still gets its 504 answer written.
	defaultQueryTimeout = 20 * time.Second
	defaultMaxRows      = 10000
	defaultMaxResponse  = 16 << 20
	defaultTimeWindow   = time.Hour
	defaultTenantHeader = "X-Tenant-ID"
	// A query is text: 1 MiB is far more than any real one needs.
	defaultQueryMaxBodySize = 1 << 20
)

// NewFactory returns the factory of the fusionstore extension.
func NewFactory() extension.Factory {
	return extension.NewFactory(metadata.Type, createDefaultConfig, createExtension, metadata.ExtensionStability)
}

func createDefaultConfig() component.Config {
	server := confighttp.NewDefaultServerConfig()
	server.NetAddr.Endpoint = defaultQueryEndpoint
	server.MaxRequestBodySize = defaultQueryMaxBodySize
	return &Config{
		Store: fusionstore.NewDefaultConfig(),
		Query: configoptional.Some(QueryConfig{
			ServerConfig:      server,
			QueryTimeout:      defaultQueryTimeout,
			MaxRows:           defaultMaxRows,
			MaxResponseBytes:  defaultMaxResponse,
			DefaultTimeWindow: defaultTimeWindow,
			TenantHeader:      defaultTenantHeader,
		}),
	}
}

func createExtension(_ context.Context, set extension.Settings, cfg component.Config) (extension.Extension, error) {
	return newStoreExtension(cfg.(*Config), set)
}
