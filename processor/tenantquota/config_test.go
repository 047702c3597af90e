package tenantquota

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/otelfusion/otelfusion/processor/tenantquota/internal/metadata"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)

	withDefaults := func(edit func(*Config)) *Config {
		cfg := createDefaultConfig().(*Config)
		edit(cfg)
		return cfg
	}
	half, retention := 0.5, 720*time.Hour
	tests := []struct {
		id      component.ID
		want    *Config
		wantErr string
	}{
		{
			id:   component.NewID(metadata.Type),
			want: createDefaultConfig().(*Config),
		},
		{
			id: component.NewIDWithName(metadata.Type, "full"),
			want: withDefaults(func(cfg *Config) {
				cfg.Tenant = TenantConfig{
					MetadataKey: "X-Scope-OrgID", ResourceAttribute: "customer.id",
					Precedence: []Source{SourceResource, SourceMetadata}, Default: "anonymous",
				}
				cfg.Defaults = LimitsConfig{
					Traces:       SignalQuota{ItemsPerSecond: 1000, ItemsBurst: 2000, BytesPerSecond: 1 << 20, BytesBurst: 2 << 20},
					Logs:         SignalQuota{ItemsPerSecond: 500},
					Metrics:      SignalQuota{ItemsPerSecond: 200, ItemsBurst: 400},
					SamplingRate: 1,
					Retention:    168 * time.Hour,
				}
				cfg.Tenants = map[string]TenantOverrides{"acme": {
					Traces:           &SignalQuota{ItemsPerSecond: 5000, ItemsBurst: 10000},
					SamplingRate:     &half,
					EnvSamplingRates: map[string]float64{"gray": 0.3},
					Retention:        &retention,
				}}
				cfg.Breaker = BreakerConfig{OpenRatio: 1.5, OpenAfter: time.Minute, CloseRatio: 0.5, CloseAfter: 2 * time.Minute,
					Bucket: 5 * time.Second, DegradedSampleRate: 0.05}
				cfg.Summary = SummaryConfig{FlushInterval: 30 * time.Second, MaxSeries: 50}
				cfg.OverridesFile = "/etc/otelfusion/tenants.yaml"
				cfg.ReloadInterval = time.Second
				cfg.EnvironmentAttribute = "deployment.environment"
				cfg.RetentionAttribute = "store.retention"
				cfg.MaxTenants = 100
				admin := confighttp.NewDefaultServerConfig()
				admin.NetAddr.Endpoint = "0.0.0.0:9999"
				cfg.Admin = configoptional.Some(AdminConfig{ServerConfig: admin, Token: "s3cret"})
			}),
		},
		{
			id: component.NewIDWithName(metadata.Type, "strict"),
			want: withDefaults(func(cfg *Config) {
				cfg.Tenant.Precedence = []Source{SourceMetadata}
				cfg.Tenant.Default = ""
				cfg.Tenant.RefuseUnlabelled = true
			}),
		},
		{
			id: component.NewIDWithName(metadata.Type, "bad_tenant"),
			wantErr: "'tenant::metadata_key' must be set when 'tenant::precedence' names \"metadata\"\n" +
				`'tenant::precedence[1]' must be "metadata" or "resource", got "header"` + "\n" +
				"'tenant::default' must be set unless 'tenant::refuse_unlabelled' is true",
		},
		{
			id: component.NewIDWithName(metadata.Type, "bad_quota"),
			wantErr: "'defaults::traces::items_per_second' must be a finite number >= 0, got -1\n" +
				"'defaults::logs::items_burst' must be >= 'items_per_second', got 50 < 100\n" +
				"'defaults::sampling_rate' must be in [0, 1], got 2\n" +
				"'tenants::acme::metrics::bytes_burst' must be >= 0, got -1",
		},
		{
			id: component.NewIDWithName(metadata.Type, "bad_breaker"),
			wantErr: "'breaker::open_ratio' must be > 'breaker::close_ratio', got 0.7 <= 0.8\n" +
				"'breaker::open_after' must be >= 'breaker::bucket', got 1s\n" +
				"'breaker::degraded_sample_rate' must be in [0, 1], got 1.5\n" +
				"'summary::flush_interval' must be > 0, got 0s\n" +
				"'max_tenants' must be > 0, got 0",
		},
	}
	for _, tt := range tests {
		t.Run(tt.id.String(), func(t *testing.T) {
			cfg := createDefaultConfig()
			sub, err := cm.Sub(tt.id.String())
			require.NoError(t, err)
			require.NoError(t, sub.Unmarshal(cfg))

			if tt.wantErr != "" {
				assert.EqualError(t, cfg.(*Config).Validate(), tt.wantErr)
				assert.Error(t, confmap.Validate(cfg))
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
	assert.False(t, cfg.(*Config).Admin.HasValue(), "the admin API is off unless configured")
}
