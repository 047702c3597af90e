package otlpgoreceiver // import "github.com/otelfusion/otelfusion/receiver/otlpgoreceiver"

import (
	"errors"
	"fmt"
	"time"

	"github.com/otelfusion/otelfusion/internal/kafkaclient"
)

// KafkaConfig consumes fused frames that fused exporters produced to a Kafka
// topic, as one member of a consumer group, reading committed records only.
// The frames are decoded under 'fused::limits'.
type KafkaConfig struct {
	// Config is the connection: brokers, client_id, tls, sasl.
	kafkaclient.Config `mapstructure:",squash"`

	// Topic is the topic the fused exporters produce to.
	Topic string `mapstructure:"topic"`

	// GroupID is the consumer group; the topic's partitions are divided
	// among the receivers that share it.
	GroupID string `mapstructure:"group_id"`

	// InstanceID, when set, makes this receiver a static member of the
	// group: restarted within session_timeout it gets its partitions back
	// without a rebalance. Unique per collector.
	InstanceID string `mapstructure:"instance_id"`

	// SessionTimeout is how long the group waits for a silent member (one
	// that died) before giving its partitions to the others.
	SessionTimeout time.Duration `mapstructure:"session_timeout"`

	// MaxPollRecords bounds the records taken from one poll; their offsets
	// are committed once every one of them was accepted.
	MaxPollRecords int `mapstructure:"max_poll_records"`

	// MaxBatchBytes bounds the encoded frames of one partition that are
	// merged into one export (one store transaction per signal).
	MaxBatchBytes int `mapstructure:"max_batch_bytes"`

	// InitialBackoff is the first wait before a frame a pipeline refused
	// for now (429/503-style) is offered again; it doubles up to
	// MaxBackoff. A delay the refusal asks for is waited at least.
	InitialBackoff time.Duration `mapstructure:"initial_backoff"`

	// MaxBackoff bounds the wait between offers of a refused frame. The
	// frame is offered until it is accepted: a refusal is never a loss.
	MaxBackoff time.Duration `mapstructure:"max_backoff"`

	_ struct{}
}

const (
	defaultKafkaTopic          = "otelfusion-fused"
	defaultKafkaGroupID        = "otelfusion-gateway"
	defaultKafkaSessionTimeout = 45 * time.Second
	defaultKafkaMaxPollRecords = 500
	defaultKafkaMaxBatchBytes  = 4 << 20
	defaultKafkaInitialBackoff = 100 * time.Millisecond
	defaultKafkaMaxBackoff     = 5 * time.Second
)

func defaultKafkaConfig() KafkaConfig {
	return KafkaConfig{
		Topic:          defaultKafkaTopic,
		GroupID:        defaultKafkaGroupID,
		SessionTimeout: defaultKafkaSessionTimeout,
		MaxPollRecords: defaultKafkaMaxPollRecords,
		MaxBatchBytes:  defaultKafkaMaxBatchBytes,
		InitialBackoff: defaultKafkaInitialBackoff,
		MaxBackoff:     defaultKafkaMaxBackoff,
	}
}

// Validate checks the kafka section; errors name keys from
// 'protocols::kafka::'.
func (c *KafkaConfig) Validate() error {
	const prefix = "protocols::kafka::"
	errs := []error{c.Config.Validate(prefix)}
	if c.Topic == "" {
		errs = append(errs, errors.New("'"+prefix+"topic' must be set"))
	}
	if c.GroupID == "" {
		errs = append(errs, errors.New("'"+prefix+"group_id' must be set"))
	}
	if c.SessionTimeout <= 0 {
		errs = append(errs, fmt.Errorf("'%ssession_timeout' must be positive, got %s", prefix, c.SessionTimeout))
	}
	if c.MaxPollRecords <= 0 {
		errs = append(errs, fmt.Errorf("'%smax_poll_records' must be positive, got %d", prefix, c.MaxPollRecords))
	}
	if c.MaxBatchBytes <= 0 {
		errs = append(errs, fmt.Errorf("'%smax_batch_bytes' must be positive, got %d", prefix, c.MaxBatchBytes))
	}
	if c.InitialBackoff <= 0 {
		errs = append(errs, fmt.Errorf("'%sinitial_backoff' must be positive, got %s", prefix, c.InitialBackoff))
	}
	if c.MaxBackoff < c.InitialBackoff {
		errs = append(errs, fmt.Errorf("'%smax_backoff' must be >= '%sinitial_backoff'", prefix, prefix))
	}
	return errors.Join(errs...)
}
