package otlpgoreceiver

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/otelfusion/otelfusion/pkg/otlpgo"
	"github.com/otelfusion/otelfusion/receiver/otlpgoreceiver/internal/metadata"
)

func TestCreateDefaultConfig(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	require.NoError(t, componenttest.CheckConfigStruct(cfg))
	require.NoError(t, confmap.Validate(cfg))

	assert.False(t, cfg.Protocols.GRPC.HasValue(), "grpc is served only when configured")
	assert.False(t, cfg.Protocols.HTTP.HasValue(), "http is served only when configured")
	assert.Equal(t, "localhost:4319", cfg.Fused.ServerConfig.NetAddr.Endpoint)
	assert.Equal(t, time.Second, cfg.Fused.RetryAfter)
	assert.Equal(t, int64(128<<20), cfg.Fused.MaxInflightBytes)
	assert.Equal(t, otlpgo.DefaultLimits(), cfg.Fused.Limits.decoderLimits())
	assert.Equal(t, "localhost:4317", cfg.Protocols.GRPC.GetOrInsertDefault().NetAddr.Endpoint)
	assert.Equal(t, "localhost:4318", cfg.Protocols.HTTP.GetOrInsertDefault().ServerConfig.NetAddr.Endpoint)
}

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)

	tests := []struct {
		id       component.ID
		expected func() *Config
	}{
		{
			id:       component.NewID(metadata.Type),
			expected: func() *Config { return createDefaultConfig().(*Config) },
		},
		{
			id: component.NewIDWithName(metadata.Type, "all"),
			expected: func() *Config {
				cfg := createDefaultConfig().(*Config)
				cfg.Protocols.GRPC.GetOrInsertDefault()
				cfg.Protocols.HTTP.GetOrInsertDefault()
				return cfg
			},
		},
		{
			id: component.NewIDWithName(metadata.Type, "custom"),
			expected: func() *Config {
				cfg := createDefaultConfig().(*Config)
				cfg.Protocols.GRPC.GetOrInsertDefault().NetAddr.Endpoint = "0.0.0.0:14317"
				httpCfg := cfg.Protocols.HTTP.GetOrInsertDefault()
				httpCfg.ServerConfig.NetAddr.Endpoint = "0.0.0.0:14318"
				httpCfg.TracesURLPath = "/ingest/traces"
				cfg.Fused.ServerConfig.NetAddr.Endpoint = "0.0.0.0:14319"
				cfg.Fused.ServerConfig.MaxRequestBodySize = 1 << 20
				cfg.Fused.ServerConfig.IncludeMetadata = true
				cfg.Fused.RetryAfter = 5 * time.Second
				cfg.Fused.MaxInflightBytes = 32 << 20
				cfg.Fused.Limits = LimitsConfig{
					MaxFrameBytes:   1 << 20,
					MaxBodyBytes:    4 << 20,
					MaxItems:        10000,
					MaxDictEntries:  5000,
					MaxStringBytes:  65536,
					MaxDepth:        8,
					MaxMapEntries:   256,
					MaxDecodedBytes: 8 << 20,
					MaxExpansion:    16,
					MaxAttributes:   100000,
					MaxNestedValues: 50000,

					MaxStreamStateBytes: 8 << 20,
				}
				return cfg
			},
		},
		{
			id: component.NewIDWithName(metadata.Type, "tenant"),
			expected: func() *Config {
				cfg := createDefaultConfig().(*Config)
				cfg.Tenant.Sources = []TenantSource{TenantSourceResource, TenantSourceMetadata}
				cfg.Tenant.MetadataKey = "X-Scope-OrgID"
				cfg.Tenant.ResourceAttribute = "org.id"
				cfg.Tenant.DefaultTenant = ""
				cfg.Tenant.OnConflict = ConflictRefuse
				cfg.Tenant.ServerOnlyAttributes = []string{"otelfusion.retention", "otelfusion.quota"}
				return cfg
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.id.String(), func(t *testing.T) {
			cfg := NewFactory().CreateDefaultConfig()
			sub, err := cm.Sub(tt.id.String())
			require.NoError(t, err)
			require.NoError(t, sub.Unmarshal(cfg))
			require.NoError(t, confmap.Validate(cfg))
			assert.Equal(t, tt.expected(), cfg)
		})
	}
}

func TestLoadConfigInvalid(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)

	tests := []struct {
		name    string
		wantErr string
	}{
		{
			name:    "invalid_limits",
			wantErr: "'fused::limits::max_items' must be > 0\n'fused::limits::max_depth' must be > 0",
		},
		{
			name:    "invalid_retry_after",
			wantErr: "'fused::retry_after' must be > 0",
		},
		{
			name: "invalid_decode_limits",
			wantErr: "'fused::limits::max_decoded_bytes' must be > 0\n'fused::limits::max_expansion' must be > 0\n" +
				"'fused::limits::max_attributes' must be > 0\n'fused::limits::max_nested_values' must be > 0",
		},
		{
			name:    "invalid_max_inflight_bytes",
			wantErr: "'fused::max_inflight_bytes' must be > 0",
		},
		{
			name:    "invalid_streams",
			wantErr: "'fused::limits::max_stream_state_bytes' must be > 0\n'fused::max_streams' must be > 0",
		},
		{
			name:    "max_inflight_bytes_below_max_decoded_bytes",
			wantErr: "'fused::max_inflight_bytes' must be >= 'fused::limits::max_decoded_bytes'",
		},
		{
			name: "invalid_tenant",
			wantErr: `'tenant::sources' has "header", want "auth", "metadata" or "resource"` + "\n" +
				`'tenant::on_conflict' must be "overwrite" or "refuse", got "ignore"`,
		},
		{
			name:    "max_body_bytes_over_max_decoded_bytes",
			wantErr: "'fused::limits::max_body_bytes' must be <= 'fused::limits::max_decoded_bytes'",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := NewFactory().CreateDefaultConfig()
			sub, err := cm.Sub(component.NewIDWithName(metadata.Type, tt.name).String())
			require.NoError(t, err)
			require.NoError(t, sub.Unmarshal(cfg))
			assert.EqualError(t, confmap.Validate(cfg), tt.wantErr)
		})
	}
}
