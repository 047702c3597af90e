package fusedexporter

import (
	"errors"
	"fmt"
	"time"

	"github.com/otelfusion/otelfusion/internal/kafkaclient"
)

// KafkaConfig sends fused frames to a Kafka topic instead of an otlpgo
// receiver: one record per partition a flush touches, each partition chosen
// by trace id, all of a flush in one transaction.
type KafkaConfig struct {
	// Config is the connection: brokers, client_id, tls, sasl.
	kafkaclient.Config `mapstructure:",squash"`

	// Topic is the topic frames are produced to. It must exist; its
	// partition count is read from the cluster.
	Topic string `mapstructure:"topic"`

	// TransactionalID identifies this producer to the cluster. It must be
	// unique per collector and the same across its restarts: a restarted
	// producer with the same id aborts what its previous life left open.
	TransactionalID string `mapstructure:"transactional_id"`

	// TransactionTimeout is how long the cluster keeps a transaction open
	// before aborting it (a producer that died without restarting).
	TransactionTimeout time.Duration `mapstructure:"transaction_timeout"`

	// Timeout bounds producing one flush and committing it.
	Timeout time.Duration `mapstructure:"timeout"`

	// MaxRecordBytes bounds one record's value (an encoded frame); a
	// partition's share of a flush that is larger is split into several
	// records of that partition. Keep it at least 1 KiB below the topic's
	// max.message.bytes.
	MaxRecordBytes int `mapstructure:"max_record_bytes"`

	// MetadataRefresh is how often the topic's partition count is re-read.
	MetadataRefresh time.Duration `mapstructure:"metadata_refresh"`

	_ struct{}
}

const (
	defaultKafkaTopic              = "otelfusion-fused"
	defaultKafkaTransactionTimeout = time.Minute
	defaultKafkaTimeout            = 30 * time.Second
	// defaultKafkaMaxRecordBytes leaves a record batch under Kafka's default
	// max.message.bytes (1048588) with room for its headers.
	defaultKafkaMaxRecordBytes  = 1_000_000
	defaultKafkaMetadataRefresh = 30 * time.Second
)

func defaultKafkaConfig() KafkaConfig {
	return KafkaConfig{
		Topic:              defaultKafkaTopic,
		TransactionTimeout: defaultKafkaTransactionTimeout,
		Timeout:            defaultKafkaTimeout,
		MaxRecordBytes:     defaultKafkaMaxRecordBytes,
		MetadataRefresh:    defaultKafkaMetadataRefresh,
	}
}

// Validate checks the kafka section; errors name keys from 'kafka::'.
func (c *KafkaConfig) Validate() error {
	errs := []error{c.Config.Validate("kafka::")}
	if c.Topic == "" {
		errs = append(errs, errors.New("'kafka::topic' must be set"))
	}
	if c.TransactionalID == "" {
		errs = append(errs, errors.New("'kafka::transactional_id' must be set, unique per collector and stable across its restarts"))
	}
	if c.TransactionTimeout <= 0 {
		errs = append(errs, fmt.Errorf("'kafka::transaction_timeout' must be positive, got %s", c.TransactionTimeout))
	}
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("'kafka::timeout' must be positive, got %s", c.Timeout))
	}
	if c.MaxRecordBytes < 1024 {
		errs = append(errs, fmt.Errorf("'kafka::max_record_bytes' must be at least 1024, got %d", c.MaxRecordBytes))
	}
	if c.MetadataRefresh <= 0 {
		errs = append(errs, fmt.Errorf("'kafka::metadata_refresh' must be positive, got %s", c.MetadataRefresh))
	}
	return errors.Join(errs...)
}
