package fusionmetricsconnector

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/otelfusion/otelfusion/connector/fusionmetricsconnector/internal/metadata"
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
				cfg.Attributes = AttributesConfig{Service: "app.name", LogService: "span.service", Tenant: "customer"}
				cfg.Dimensions = []string{"http.route", "deployment.environment.name"}
				cfg.Histogram.Unit = "s"
				cfg.Histogram.ExponentialMaxSize = 160
				cfg.Exemplars.MaxPerDataPoint = 2
				cfg.Temporality = TemporalityCumulative
				cfg.FlushInterval = 5 * time.Second
				cfg.CardinalityLimit = 50
				cfg.MaxServices = 10
				cfg.Rollups = []RollupConfig{
					{Name: "by_service", Keep: []string{"service.name", "deployment.environment.name"}},
					{Name: "no_tenant", Drop: []string{"customer", "http.route"}},
				}
			}),
		},
		{
			id: component.NewIDWithName(metadata.Type, "bad_values"),
			wantErr: "'attributes::service' must be set\n" +
				`'temporality' must be "delta" or "cumulative", got "sometimes"` + "\n" +
				"'flush_interval' must be > 0, got 0s\n" +
				"'cardinality_limit' must be > 0, got 0\n" +
				"'max_services' must be > 0, got -1\n" +
				"'exemplars::max_per_data_point' must be >= 0, got -1\n" +
				`'histogram::unit' must be "ms" or "s", got "us"` + "\n" +
				"'histogram::explicit' must be in increasing order",
		},
		{
			id: component.NewIDWithName(metadata.Type, "bad_rollups"),
			wantErr: `'dimensions' must be distinct and non-empty, got "a"` + "\n" +
				"'rollups[0]' must set exactly one of 'keep' and 'drop'\n" +
				`'rollups[1]::name' "x" is used twice` + "\n" +
				"'rollups[2]::name' must be set",
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
}
