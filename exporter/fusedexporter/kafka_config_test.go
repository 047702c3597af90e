package fusedexporter

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

	"github.com/otelfusion/otelfusion/exporter/fusedexporter/internal/metadata"
	"github.com/otelfusion/otelfusion/internal/kafkaclient"
)

func TestLoadKafkaConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "kafka_config.yaml"))
	require.NoError(t, err)
	withKafka := func(edit func(*KafkaConfig)) *Config {
		cfg := createDefaultConfig().(*Config)
		k := defaultKafkaConfig()
		edit(&k)
		cfg.Kafka = configoptional.Some(k)
		return cfg
	}
	tests := []struct {
		id      component.ID
		want    *Config
		wantErr string
	}{
		{
			id: component.NewIDWithName(metadata.Type, "kafka"),
			want: withKafka(func(k *KafkaConfig) {
				k.Brokers = []string{"kafka-1:9092", "kafka-2:9092"}
				k.TransactionalID = "agent-eu-1"
			}),
		},
		{
			id: component.NewIDWithName(metadata.Type, "kafka_full"),
			want: withKafka(func(k *KafkaConfig) {
				k.Brokers = []string{"kafka-1:9093"}
				k.ClientID = "agent-eu-1"
				k.TLS = configoptional.Some(configtls.ClientConfig{Config: configtls.Config{CAFile: "/etc/kafka/ca.pem"}})
				k.SASL = configoptional.Some(kafkaclient.SASLConfig{Mechanism: kafkaclient.SASLScramSHA512, Username: "agent", Password: "secret"})
				k.Topic = "fused-eu"
				k.TransactionalID = "agent-eu-1"
				k.TransactionTimeout = 30 * time.Second
				k.Timeout = 10 * time.Second
				k.MaxRecordBytes = 2 << 20
				k.MetadataRefresh = time.Minute
			}),
		},
		{
			id: component.NewIDWithName(metadata.Type, "kafka_missing"),
			wantErr: "kafka: 'kafka::brokers' must list at least one broker\n'kafka::topic' must be set\n" +
				"'kafka::transactional_id' must be set, unique per collector and stable across its restarts",
		},
		{
			id: component.NewIDWithName(metadata.Type, "kafka_bad"),
			wantErr: `kafka: 'kafka::sasl::mechanism' must be "PLAIN", "SCRAM-SHA-256" or "SCRAM-SHA-512", got "GSSAPI"` + "\n" +
				"'kafka::sasl::username' must be set\n'kafka::sasl::password' must be set\n" +
				"'kafka::transaction_timeout' must be positive, got 0s\n'kafka::timeout' must be positive, got -1s\n" +
				"'kafka::max_record_bytes' must be at least 1024, got 100\n'kafka::metadata_refresh' must be positive, got 0s",
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
