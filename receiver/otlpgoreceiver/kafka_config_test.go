package otlpgoreceiver

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configtls"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/otelfusion/otelfusion/internal/kafkaclient"
	"github.com/otelfusion/otelfusion/receiver/otlpgoreceiver/internal/metadata"
)

func TestLoadKafkaConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "kafka_config.yaml"))
	require.NoError(t, err)
	withKafka := func(edit func(*KafkaConfig)) *Config {
		cfg := createDefaultConfig().(*Config)
		k := defaultKafkaConfig()
		edit(&k)
		cfg.Protocols.Kafka = configoptional.Some(k)
		return cfg
	}
	tests := []struct {
		id      component.ID
		want    *Config
		wantErr string
	}{
		{
			id:   component.NewIDWithName(metadata.Type, "kafka"),
			want: withKafka(func(k *KafkaConfig) { k.Brokers = []string{"kafka-1:9092"} }),
		},
		{
			id: component.NewIDWithName(metadata.Type, "kafka_full"),
			want: withKafka(func(k *KafkaConfig) {
				k.Brokers = []string{"kafka-1:9093", "kafka-2:9093"}
				k.ClientID = "gateway-eu-1"
				k.TLS = configoptional.Some(configtls.ClientConfig{Config: configtls.Config{CAFile: "/etc/kafka/ca.pem"}})
				k.SASL = configoptional.Some(kafkaclient.SASLConfig{Mechanism: kafkaclient.SASLPlain, Username: "gateway", Password: "secret"})
				k.Topic = "fused-eu"
				k.GroupID = "gateways-eu"
				k.InstanceID = "gateway-eu-1"
				k.SessionTimeout = 20 * time.Second
				k.MaxPollRecords = 100
				k.MaxBatchBytes = 1 << 20
				k.InitialBackoff = 50 * time.Millisecond
				k.MaxBackoff = 2 * time.Second
			}),
		},
		{
			id: component.NewIDWithName(metadata.Type, "kafka_bad"),
			wantErr: "protocols::kafka: 'protocols::kafka::brokers' must list at least one broker\n" +
				"'protocols::kafka::sasl::password' must be set\n'protocols::kafka::session_timeout' must be positive, got 0s",
		},
	}
	for _, tt := range tests {
		t.Run(tt.id.String(), func(t *testing.T) {
			cfg := createDefaultConfig()
			sub, err := cm.Sub(tt.id.String())
			require.NoError(t, err)
			require.NoError(t, sub.Unmarshal(cfg))
			if tt.wantErr != "" {
				assert.EqualError(t, confmap.Validate(cfg), tt.wantErr)
				return
			}
			require.NoError(t, confmap.Validate(cfg))
			assert.Equal(t, tt.want, cfg)
		})
	}
}

func TestKafkaIsOffByDefault(t *testing.T) {
	assert.False(t, createDefaultConfig().(*Config).Protocols.Kafka.HasValue())
}
