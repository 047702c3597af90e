package fusedexporter

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/otelfusion/otelfusion/pkg/otlpgo"
)

// FrameCompression names how the body of each fused frame is compressed.
type FrameCompression string

const (
	// FrameCompressionZstd compresses the frame body with zstd (the default).
	FrameCompressionZstd FrameCompression = "zstd"
	// FrameCompressionNone sends the frame body as it is.
	FrameCompressionNone FrameCompression = "none"
)

// codec returns the otlpgo option for the configured name.
func (c FrameCompression) codec() otlpgo.Compression {
	if c == FrameCompressionNone {
		return otlpgo.CompressionNone
	}
	return otlpgo.CompressionZstd
}

// Config is the configuration of the fused exporter.
type Config struct {
	// ClientConfig is the HTTP client: endpoint, tls, headers, auth, timeout
	// (per fused request), compression (HTTP level; none by default because
	// frames are compressed themselves).
	ClientConfig confighttp.ClientConfig `mapstructure:",squash"`

	// FrameCompression is the frame-level body compression: "zstd" or "none".
	FrameCompression FrameCompression `mapstructure:"frame_compression"`

	// Flush decides when the pushes gathered from the pipelines go out as one
	// fused request.
	Flush FlushConfig `mapstructure:"flush"`

	// QueueConfig is the standard exporterhelper sending queue, one per
	// signal; set its storage to a storage extension to survive restarts.
	QueueConfig configoptional.Optional[exporterhelper.QueueBatchConfig] `mapstructure:"sending_queue"`

	// RetryConfig is the standard exporterhelper retry of refused signals.
	RetryConfig configretry.BackOffConfig `mapstructure:"retry_on_failure"`

	// Stream sends frames in otlpgo stream mode (stream.go).
	Stream StreamConfig `mapstructure:"stream"`

	// Routing, when set, replaces 'endpoint' with a fleet of gateways chosen
	// by trace id; the queue and retry settings above apply per endpoint.
	Routing configoptional.Optional[RoutingConfig] `mapstructure:"routing"`

	// Kafka, when present, sends the frames to a Kafka topic in
	// transactions instead of to 'endpoint' (kafka_config.go).
	Kafka configoptional.Optional[KafkaConfig] `mapstructure:"kafka"`

	// hasStore records a 'store' key: the store moved to the fusionstore
	// extension and exporter, and Validate says so.
	hasStore bool

	_ struct{}
}

// FlushConfig bounds how long and how much the coalescer gathers.
type FlushConfig struct {
	// Timeout is the longest a push waits for others before its fused
	// request is sent, counted from the first push of the request.
	Timeout time.Duration `mapstructure:"timeout"`

	// MaxItems sends the fused request as soon as the gathered pushes hold
	// this many items (spans + log records + metric data points). It is a
	// trigger, not a cap: one push is never split.
	MaxItems int `mapstructure:"max_items"`

	_ struct{}
}

var (
	_ component.Config    = (*Config)(nil)
	_ confmap.Unmarshaler = (*Config)(nil)
)

// errStoreMoved is the answer to a configuration that still has 'store'.
var errStoreMoved = errors.New("'store' is no longer a key of the fused exporter: move its settings to a " +
	"'fusionstore' extension (listed in 'service::extensions') and add a 'fusionstore' exporter to the " +
	"pipelines; see the Migration section of the otelfusion README")

// Unmarshal notes a 'store' key, which Validate refuses, and unmarshals the
// rest.
func (cfg *Config) Unmarshal(conf *confmap.Conf) error {
	if conf.IsSet("store") {
		cfg.hasStore = true
		conf.Delete("store")
	}
	return conf.Unmarshal(cfg)
}

// Validate checks the fused exporter's own keys; the nested client, queue
// and retry configurations validate themselves.
func (cfg *Config) Validate() error {
	if cfg.hasStore {
		return errStoreMoved
	}
	var errs error
	switch {
	case cfg.Routing.HasValue() && cfg.Kafka.HasValue():
		errs = errors.Join(errs, errors.New("'routing' and 'kafka' are exclusive: frames go to a fleet of gateways or to a Kafka topic"))
	case cfg.Routing.HasValue():
		errs = errors.Join(errs, cfg.Routing.Get().validate())
		if cfg.ClientConfig.Endpoint != "" {
			errs = errors.Join(errs, errors.New("'endpoint' and 'routing' are exclusive: routing names the endpoints"))
		}
	case cfg.Kafka.HasValue():
		// The frames go to Kafka; 'endpoint' is not used.
		if cfg.Stream.Enabled {
			errs = errors.Join(errs, errors.New("'stream::enabled' needs an HTTP endpoint: Kafka records are stateless frames, read by any gateway of the group"))
		}
	case cfg.ClientConfig.Endpoint == "":
		errs = errors.Join(errs, errors.New("'endpoint' must be set"))
	default:
		if _, err := fusedURL(cfg.ClientConfig.Endpoint); err != nil {
			errs = errors.Join(errs, err)
		}
	}
	switch cfg.FrameCompression {
	case FrameCompressionZstd, FrameCompressionNone:
	default:
		errs = errors.Join(errs, fmt.Errorf("'frame_compression' must be %q or %q, got %q",
			FrameCompressionZstd, FrameCompressionNone, cfg.FrameCompression))
	}
	if cfg.ClientConfig.Timeout < 0 {
		errs = errors.Join(errs, fmt.Errorf("'timeout' must not be negative, got %s", cfg.ClientConfig.Timeout))
	}
	if cfg.Flush.Timeout <= 0 {
		errs = errors.Join(errs, fmt.Errorf("'flush::timeout' must be positive, got %s", cfg.Flush.Timeout))
	}
	if cfg.Stream.MaxStateBytes < 0 {
		errs = errors.Join(errs, fmt.Errorf("'stream::max_state_bytes' must not be negative, got %d", cfg.Stream.MaxStateBytes))
	}
	if cfg.Flush.MaxItems <= 0 {
		errs = errors.Join(errs, fmt.Errorf("'flush::max_items' must be positive, got %d", cfg.Flush.MaxItems))
	}
	return errs
}

// fusedURL returns the URL fused frames are POSTed to: the endpoint as it is
// when it names a path, else the endpoint with otlpgo.HTTPPath appended.
func fusedURL(endpoint string) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return "", fmt.Errorf("'endpoint' must be a valid URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("'endpoint' must be an http:// or https:// URL with a host, got %q", endpoint)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = otlpgo.HTTPPath
	}
	return u.String(), nil
}
