package fusionstoreexporter

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/otelfusion/otelfusion/exporter/fusionstoreexporter/internal/metadata"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)

	withDefaults := func(edit func(*Config)) *Config {
		cfg := createDefaultConfig().(*Config)
		edit(cfg)
		return cfg
	}
	storageID := component.MustNewID("file_storage")

	tests := []struct {
		id   component.ID
		want *Config
	}{
		{
			id:   component.NewID(metadata.Type),
			want: withDefaults(func(*Config) {}),
		},
		{
			id: component.NewIDWithName(metadata.Type, "full"),
			want: withDefaults(func(cfg *Config) {
				cfg.Extension = component.MustNewIDWithName("fusionstore", "archive")
				queue := exporterhelper.NewDefaultQueueConfig()
				queue.NumConsumers = 4
				queue.QueueSize = 5000
				queue.StorageID = &storageID
				cfg.QueueConfig = configoptional.Some(queue)
				cfg.RetryConfig = configretry.BackOffConfig{
					Enabled:             true,
					InitialInterval:     time.Second,
					RandomizationFactor: configretry.NewDefaultBackOffConfig().RandomizationFactor,
					Multiplier:          configretry.NewDefaultBackOffConfig().Multiplier,
					MaxInterval:         10 * time.Second,
					MaxElapsedTime:      time.Minute,
				}
			}),
		},
		{
			id: component.NewIDWithName(metadata.Type, "no_queue"),
			want: withDefaults(func(cfg *Config) {
				cfg.QueueConfig = configoptional.None[exporterhelper.QueueBatchConfig]()
			}),
		},
	}
	for _, tt := range tests {
		t.Run(tt.id.String(), func(t *testing.T) {
			cfg := createDefaultConfig()
			sub, err := cm.Sub(tt.id.String())
			require.NoError(t, err)
			require.NoError(t, sub.Unmarshal(cfg))
			require.NoError(t, confmap.Validate(cfg))
			assert.Equal(t, tt.want, cfg)
		})
	}
}

func TestValidateNeedsExtension(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Extension = component.ID{}
	assert.EqualError(t, cfg.Validate(), "'extension' must name a fusionstore extension, e.g. 'fusionstore'")
}

func TestUnmarshalDefaultConfig(t *testing.T) {
	cfg := createDefaultConfig()
	require.NoError(t, confmap.New().Unmarshal(&cfg))
	assert.Equal(t, createDefaultConfig(), cfg)
}
