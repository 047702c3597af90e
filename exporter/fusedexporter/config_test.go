package fusedexporter

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/otelfusion/otelfusion/exporter/fusedexporter/internal/metadata"
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
		id      component.ID
		want    *Config
		wantErr string
	}{
		{
			id: component.NewID(metadata.Type),
			want: withDefaults(func(cfg *Config) {
				cfg.ClientConfig.Endpoint = "https://gateway.example.com:4319"
			}),
		},
		{
			id: component.NewIDWithName(metadata.Type, "full"),
			want: withDefaults(func(cfg *Config) {
				cfg.ClientConfig.Endpoint = "https://gateway.example.com:4319/ingest/fused"
				cfg.ClientConfig.Timeout = 10 * time.Second
				cfg.ClientConfig.Headers.Set("x-tenant", configopaque.String("acme"))
				cfg.FrameCompression = FrameCompressionNone
				cfg.Flush = FlushConfig{Timeout: 500 * time.Millisecond, MaxItems: 1000}
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
			id: component.NewIDWithName(metadata.Type, "stream"),
			want: withDefaults(func(cfg *Config) {
				cfg.ClientConfig.Endpoint = "http://gateway.example.com:4319"
				cfg.Stream = StreamConfig{Enabled: true, MaxStateBytes: 4 << 20}
			}),
		},
		{
			id:      component.NewIDWithName(metadata.Type, "bad_stream"),
			wantErr: "'stream::max_state_bytes' must not be negative, got -1",
		},
		{
			id:      component.NewIDWithName(metadata.Type, "no_endpoint"),
			wantErr: "'endpoint' must be set",
		},
		{
			id:      component.NewIDWithName(metadata.Type, "store"),
			wantErr: errStoreMoved.Error(),
		},
		{
			id:      component.NewIDWithName(metadata.Type, "store_bare"),
			wantErr: errStoreMoved.Error(),
		},
		{
			id:      component.NewIDWithName(metadata.Type, "not_a_url"),
			wantErr: `'endpoint' must be an http:// or https:// URL with a host, got "gateway.example.com:4319"`,
		},
		{
			id:      component.NewIDWithName(metadata.Type, "bad_compression"),
			wantErr: `'frame_compression' must be "zstd" or "none", got "lz4"`,
		},
		{
			id:      component.NewIDWithName(metadata.Type, "bad_flush"),
			wantErr: "'flush::timeout' must be positive, got 0s\n'flush::max_items' must be positive, got -1",
		},
		{
			id:      component.NewIDWithName(metadata.Type, "negative_timeout"),
			wantErr: "'timeout' must not be negative, got -1s",
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

func TestFusedURL(t *testing.T) {
	tests := []struct {
		endpoint string
		want     string
	}{
		{endpoint: "http://gateway:4319", want: "http://gateway:4319/v1/fused"},
		{endpoint: "http://gateway:4319/", want: "http://gateway:4319/v1/fused"},
		{endpoint: "https://gateway/ingest/fused", want: "https://gateway/ingest/fused"},
		{endpoint: "https://gateway/v1/fused?tenant=a", want: "https://gateway/v1/fused?tenant=a"},
	}
	for _, tt := range tests {
		t.Run(tt.endpoint, func(t *testing.T) {
			got, err := fusedURL(tt.endpoint)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}
