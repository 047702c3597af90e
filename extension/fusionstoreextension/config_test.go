package fusionstoreextension

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configauth"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/otelfusion/otelfusion/extension/fusionstoreextension/internal/metadata"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)

	withDefaults := func(edit func(*Config)) *Config {
		cfg := createDefaultConfig().(*Config)
		edit(cfg)
		return cfg
	}

	tests := []struct {
		id       component.ID
		want     *Config
		wantErrs []string // each must be in the joined validation error
	}{
		{
			id:   component.NewID(metadata.Type),
			want: withDefaults(func(cfg *Config) { cfg.Store.Path = "./data/fusion.duckdb" }),
		},
		{
			id: component.NewIDWithName(metadata.Type, "full"),
			want: withDefaults(func(cfg *Config) {
				cfg.Store.Path = "/var/lib/otelcol/fusion.duckdb"
				cfg.Store.TenantAttribute = "customer.id"
				cfg.Store.Retention = 72 * time.Hour
				cfg.Store.RetentionAttribute = "quota.retention"
				cfg.Store.SweepInterval = 5 * time.Minute
				cfg.Store.MemoryLimit = 256 << 20
				cfg.Store.Threads = 4
				cfg.Store.TempDirectory = "/var/tmp/fusion-spill"
				cfg.Store.MaxTempDirectorySize = 4 << 30
				cfg.Store.CheckpointInterval = 10 * time.Second
				cfg.Store.DedupSpans = true
				query := cfg.Query.Get()
				query.ServerConfig.NetAddr.Endpoint = "0.0.0.0:5320"
				query.ServerConfig.MaxRequestBodySize = 65536
				query.QueryTimeout = 5 * time.Second
				query.MaxRows = 500
				query.MaxResponseBytes = 1 << 20
				query.DefaultTimeWindow = 15 * time.Minute
				query.TenantHeader = "X-Scope-OrgID"
				query.ServerConfig.Auth = configoptional.Some(confighttp.AuthConfig{
					Config: configauth.Config{AuthenticatorID: component.MustNewID("tenantauth")},
				})
			}),
		},
		{
			id: component.NewIDWithName(metadata.Type, "no_query"),
			want: withDefaults(func(cfg *Config) {
				cfg.Store.Path = "fusion.duckdb"
				cfg.Query = configoptional.None[QueryConfig]()
			}),
		},
		{
			id:       component.NewIDWithName(metadata.Type, "no_path"),
			wantErrs: []string{"'path' must be set"},
		},
		{
			id: component.NewIDWithName(metadata.Type, "bad"),
			wantErrs: []string{
				"'retention' must not be negative, got -1h0m0s",
				"'sweep_interval' must be positive, got 0s",
				"'memory_limit' must be at least 16777216 (16 MiB), got 1048576",
				"'threads' must be positive, got 0",
				"'max_temp_directory_size' must be positive, got 0",
				"'checkpoint_interval' must not be negative, got -1s",
				"'query::endpoint' must be set",
				"'query::query_timeout' must be positive, got 0s",
				"'query::max_rows' must be positive, got 0",
				"'query::max_response_bytes' must be at least 1024, got 100",
				"'query::tenant_header' must be set: a query names its tenant in it",
				"'query::default_time_window' must not be negative, got -1m0s",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.id.String(), func(t *testing.T) {
			cfg := createDefaultConfig()
			sub, err := cm.Sub(tt.id.String())
			require.NoError(t, err)
			require.NoError(t, sub.Unmarshal(cfg))

			if len(tt.wantErrs) > 0 {
				err := confmap.Validate(cfg)
				require.Error(t, err)
				for _, want := range tt.wantErrs {
					assert.Contains(t, err.Error(), want)
				}
				return
			}
			require.NoError(t, confmap.Validate(cfg))
			assert.Equal(t, tt.want, cfg)
		})
	}
}

func TestUnmarshalDefaultConfig(t *testing.T) {
	cfg := createDefaultConfig()
	require.NoError(t, confmap.New().Unmarshal(&cfg))
	assert.Equal(t, createDefaultConfig(), cfg)
}

func TestDefaultConfigNeedsPath(t *testing.T) {
	err := confmap.Validate(createDefaultConfig())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "'path' must be set")
}
