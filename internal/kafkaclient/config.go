// Package kafkaclient is the Kafka connection settings the fused exporter
// and the otlpgo receiver share: brokers, TLS (the collector's configtls)
// and SASL, turned into franz-go client options.
package kafkaclient

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configtls"
	"go.uber.org/zap"
)

// SASLMechanism names a SASL mechanism franz-go speaks.
type SASLMechanism string

const (
	// SASLPlain is SASL/PLAIN; use it only over TLS.
	SASLPlain SASLMechanism = "PLAIN"
	// SASLScramSHA256 is SASL/SCRAM-SHA-256.
	SASLScramSHA256 SASLMechanism = "SCRAM-SHA-256"
	// SASLScramSHA512 is SASL/SCRAM-SHA-512.
	SASLScramSHA512 SASLMechanism = "SCRAM-SHA-512"
)

// Config is how to reach a Kafka cluster.
type Config struct {
	// Brokers are the seed brokers, host:port.
	Brokers []string `mapstructure:"brokers"`

	// ClientID is the client id the brokers see (quotas, logs).
	ClientID string `mapstructure:"client_id"`

	// TLS turns TLS on when present, with the collector's usual TLS
	// settings (ca_file, cert_file, key_file, insecure_skip_verify, ...).
	TLS configoptional.Optional[configtls.ClientConfig] `mapstructure:"tls"`

	// SASL authenticates the connection when present.
	SASL configoptional.Optional[SASLConfig] `mapstructure:"sasl"`

	_ struct{}
}

// SASLConfig is a SASL username and password for one mechanism.
type SASLConfig struct {
	// Mechanism is "PLAIN", "SCRAM-SHA-256" or "SCRAM-SHA-512".
	Mechanism SASLMechanism `mapstructure:"mechanism"`
	// Username is the SASL user.
	Username string `mapstructure:"username"`
	// Password is the SASL password.
	Password configopaque.String `mapstructure:"password"`

	_ struct{}
}

// Validate checks the settings; prefix is the YAML path of the section
// ("kafka::"), so errors name the full key.
func (c *Config) Validate(prefix string) error {
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, fmt.Errorf("'%sbrokers' must list at least one broker", prefix))
	}
	for i, b := range c.Brokers {
		if b == "" {
			errs = append(errs, fmt.Errorf("'%sbrokers' entry %d is empty", prefix, i))
		}
	}
	if c.SASL.HasValue() {
		s := c.SASL.Get()
		switch s.Mechanism {
		case SASLPlain, SASLScramSHA256, SASLScramSHA512:
		default:
			errs = append(errs, fmt.Errorf("'%ssasl::mechanism' must be %q, %q or %q, got %q",
				prefix, SASLPlain, SASLScramSHA256, SASLScramSHA512, s.Mechanism))
		}
		if s.Username == "" {
			errs = append(errs, fmt.Errorf("'%ssasl::username' must be set", prefix))
		}
		if s.Password == "" {
			errs = append(errs, fmt.Errorf("'%ssasl::password' must be set", prefix))
		}
	}
	return errors.Join(errs...)
}

// Options returns the franz-go options for these settings, logging
// through logger at warn level and above.
func (c *Config) Options(ctx context.Context, logger *zap.Logger) ([]kgo.Opt, error) {
	opts := []kgo.Opt{kgo.SeedBrokers(c.Brokers...), kgo.WithLogger(zapLogger{logger})}
	if c.ClientID != "" {
		opts = append(opts, kgo.ClientID(c.ClientID))
	}
	if c.TLS.HasValue() {
		tlsCfg, err := c.TLS.Get().LoadTLSConfig(ctx)
		if err != nil {
			return nil, fmt.Errorf("kafka: loading TLS settings: %w", err)
		}
		opts = append(opts, kgo.DialTLSConfig(tlsCfg))
	}
	if c.SASL.HasValue() {
		opts = append(opts, kgo.SASL(c.SASL.Get().mechanism()))
	}
	return opts, nil
}

func (s *SASLConfig) mechanism() sasl.Mechanism {
	switch s.Mechanism {
	case SASLScramSHA256:
		return scram.Auth{User: s.Username, Pass: string(s.Password)}.AsSha256Mechanism()
	case SASLScramSHA512:
		return scram.Auth{User: s.Username, Pass: string(s.Password)}.AsSha512Mechanism()
	default:
		return plain.Auth{User: s.Username, Pass: string(s.Password)}.AsMechanism()
	}
}

// zapLogger hands franz-go's warnings and errors to the collector's logger.
type zapLogger struct{ logger *zap.Logger }

func (l zapLogger) Level() kgo.LogLevel { return kgo.LogLevelWarn }

func (l zapLogger) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	fields := make([]zap.Field, 0, len(keyvals)/2)
	for i := 0; i+1 < len(keyvals); i += 2 {
		fields = append(fields, zap.Any(fmt.Sprint(keyvals[i]), keyvals[i+1]))
	}
	switch level {
	case kgo.LogLevelError:
		l.logger.Error(msg, fields...)
	case kgo.LogLevelWarn:
		l.logger.Warn(msg, fields...)
	default:
		l.logger.Debug(msg, fields...)
	}
}
