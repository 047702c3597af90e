package fusionprocessor

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/otelfusion/otelfusion/processor/fusionprocessor/internal/metadata"
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
				cfg.Attributes = AttributesConfig{
					Service: "app.name",
					TraceID: []string{"trace_id"}, SpanID: []string{"span_id"}, Traceparent: []string{"tp"},
					DatadogTraceID: []string{"dd.trace_id"}, DatadogSpanID: []string{"dd.span_id"},
				}
				cfg.Model = ModelConfig{Operation: "span.operation", Service: "span.service", SpanStatus: "span.status", Duration: "duration_ns"}
				cfg.Index = IndexConfig{MaxEntries: 5000, TTL: 30 * time.Second}
				cfg.LateLogs = LateLogsConfig{MaxDelay: 500 * time.Millisecond, MaxBuffered: 100}
			}),
		},
		{
			id: component.NewIDWithName(metadata.Type, "no_buffer"),
			want: withDefaults(func(cfg *Config) {
				cfg.LateLogs = LateLogsConfig{}
			}),
		},
		{
			id:      component.NewIDWithName(metadata.Type, "bad_index"),
			wantErr: "'index::max_entries' must be > 0, got 0\n'index::ttl' must be > 0, got 0s",
		},
		{
			id:      component.NewIDWithName(metadata.Type, "bad_late_logs"),
			wantErr: "'late_logs::max_buffered' must be > 0, got 0",
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
