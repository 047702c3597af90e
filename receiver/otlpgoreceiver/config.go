package otlpgoreceiver // import "github.com/otelfusion/otelfusion/receiver/otlpgoreceiver"

import (
	"errors"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configgrpc"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"

	"github.com/otelfusion/otelfusion/pkg/otlpgo"
)

// Config is the configuration of the otlpgo receiver: the standard OTLP
// protocols, served by the core OTLP receiver, plus the fused frame endpoint.
type Config struct {
	// Protocols configures standard OTLP/gRPC and OTLP/HTTP. Each is served
	// only when its key is present, as with the core otlp receiver.
	Protocols Protocols `mapstructure:"protocols"`

	// Fused configures the HTTP endpoint that takes fused frames.
	Fused FusedConfig `mapstructure:"fused"`

	// Tenant decides the tenant of every item, for all three protocols.
	Tenant TenantConfig `mapstructure:"tenant"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// Protocols holds the standard OTLP servers, with the core otlp receiver's
// own settings types so every option it documents works here unchanged.
type Protocols struct {
	// GRPC configures the OTLP/gRPC server.
	GRPC configoptional.Optional[configgrpc.ServerConfig] `mapstructure:"grpc"`

	// HTTP configures the OTLP/HTTP server, including its URL paths.
	HTTP configoptional.Optional[otlpreceiver.HTTPConfig] `mapstructure:"http"`

	// Kafka consumes fused frames from a Kafka topic (kafka_config.go).
	Kafka configoptional.Optional[KafkaConfig] `mapstructure:"kafka"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// FusedConfig configures the fused frame endpoint, POST /v1/fused.
type FusedConfig struct {
	// ServerConfig is the HTTP server: endpoint, TLS, auth, CORS,
	// max_request_body_size, include_metadata and the rest of confighttp.
	ServerConfig confighttp.ServerConfig `mapstructure:",squash"`

	// Limits bound what the frame decoder accepts from one request.
	Limits LimitsConfig `mapstructure:"limits"`

	// RetryAfter is the Retry-After sent when a pipeline refuses a signal for
	// now without saying how long to wait (no gRPC RetryInfo in its error),
	// and when max_inflight_bytes has no room for a request.
	RetryAfter time.Duration `mapstructure:"retry_after"`

	// MaxInflightBytes bounds the memory that all requests being served at
	// once may hold: each reserves its body (Content-Length, or
	// max_frame_bytes when unknown) before reading it and the frame's
	// decode cost before decoding it, until its pipelines have returned. A
	// request that does not fit is answered 503 with Retry-After.
	MaxInflightBytes int64 `mapstructure:"max_inflight_bytes"`

	// MaxStreams bounds the otlpgo streams (requests with an Otlpgo-Stream
	// header) whose state the receiver keeps, each at most
	// limits::max_stream_state_bytes; when a new stream comes to a full
	// table, the least recently used one is dropped.
	MaxStreams int `mapstructure:"max_streams"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// LimitsConfig is the YAML form of otlpgo.Limits.
type LimitsConfig struct {
	// MaxFrameBytes bounds the encoded frame, header included; a larger
	// request body is answered 413.
	MaxFrameBytes int `mapstructure:"max_frame_bytes"`
	// MaxBodyBytes bounds the frame body after decompression.
	MaxBodyBytes int `mapstructure:"max_body_bytes"`
	// MaxItems bounds spans + log records + metric data points in one frame.
	MaxItems int `mapstructure:"max_items"`
	// MaxDictEntries bounds the number of strings in the frame dictionary.
	MaxDictEntries int `mapstructure:"max_dict_entries"`
	// MaxStringBytes bounds the length of any one string or bytes value.
	MaxStringBytes int `mapstructure:"max_string_bytes"`
	// MaxDepth bounds the nesting of map and array attribute values.
	MaxDepth int `mapstructure:"max_depth"`
	// MaxMapEntries bounds the keys of one map (attributes and map values).
	MaxMapEntries int `mapstructure:"max_map_entries"`
	// MaxDecodedBytes bounds the memory one frame may decode into, the
	// decompressed body included, a string reference counting the length
	// of its string. It must be at least MaxBodyBytes.
	MaxDecodedBytes int `mapstructure:"max_decoded_bytes"`
	// MaxExpansion bounds the decoded size to this many times raw_len, the
	// body after decompression (but never below 64 KiB).
	MaxExpansion int `mapstructure:"max_expansion"`
	// MaxAttributes bounds the attribute entries of all maps in one frame.
	MaxAttributes int `mapstructure:"max_attributes"`
	// MaxNestedValues bounds the entries of map values plus the elements of
	// array values in one frame.
	MaxNestedValues int `mapstructure:"max_nested_values"`
	// MaxStreamStateBytes bounds the dictionary and map shapes one stream
	// keeps from frame to frame.
	MaxStreamStateBytes int `mapstructure:"max_stream_state_bytes"`

	// prevent unkeyed literal initialization
	_ struct{}
}

const (
	defaultGRPCEndpoint  = "localhost:4317"
	defaultHTTPEndpoint  = "localhost:4318"
	defaultFusedEndpoint = "localhost:4319"
	defaultRetryAfter    = time.Second
	// defaultMaxInflightBytes leaves room for four frames decoding at the
	// default max_decoded_bytes at once.
	defaultMaxInflightBytes = 128 << 20
	// defaultMaxStreams at the default max_stream_state_bytes (8 MiB) bounds
	// stream state to 256 MiB.
	defaultMaxStreams = 32
)

var _ component.Config = (*Config)(nil)

func createDefaultConfig() component.Config {
	// The core receiver's defaults (gRPC read buffer, URL paths, timeouts)
	// are taken from its factory so the two never drift apart.
	core := otlpreceiver.NewFactory().CreateDefaultConfig().(*otlpreceiver.Config)

	fusedServer := confighttp.NewDefaultServerConfig()
	fusedServer.NetAddr.Endpoint = defaultFusedEndpoint
	// A frame may be as large as the decoder allows; confighttp's own 20 MiB
	// default would silently undercut max_frame_bytes.
	fusedServer.MaxRequestBodySize = int64(otlpgo.DefaultLimits().MaxFrameBytes)

	return &Config{
		Protocols: Protocols{
			GRPC:  core.Protocols.GRPC,
			HTTP:  core.Protocols.HTTP,
			Kafka: configoptional.Default(defaultKafkaConfig()),
		},
		Fused: FusedConfig{
			ServerConfig:     fusedServer,
			Limits:           limitsConfigFrom(otlpgo.DefaultLimits()),
			RetryAfter:       defaultRetryAfter,
			MaxInflightBytes: defaultMaxInflightBytes,
			MaxStreams:       defaultMaxStreams,
		},
		Tenant: defaultTenantConfig(),
	}
}

// Validate checks the tenant and fused settings; confighttp and configgrpc validate
// their own sections.
func (cfg *Config) Validate() error {
	errs := cfg.Tenant.validate()
	if cfg.Fused.RetryAfter <= 0 {
		errs = errors.Join(errs, errors.New("'fused::retry_after' must be > 0"))
	}
	l := cfg.Fused.Limits
	for _, limit := range []struct {
		key   string
		value int
	}{
		{"max_frame_bytes", l.MaxFrameBytes},
		{"max_body_bytes", l.MaxBodyBytes},
		{"max_items", l.MaxItems},
		{"max_dict_entries", l.MaxDictEntries},
		{"max_string_bytes", l.MaxStringBytes},
		{"max_depth", l.MaxDepth},
		{"max_map_entries", l.MaxMapEntries},
		{"max_decoded_bytes", l.MaxDecodedBytes},
		{"max_expansion", l.MaxExpansion},
		{"max_attributes", l.MaxAttributes},
		{"max_nested_values", l.MaxNestedValues},
		{"max_stream_state_bytes", l.MaxStreamStateBytes},
	} {
		if limit.value <= 0 {
			errs = errors.Join(errs, errors.New("'fused::limits::"+limit.key+"' must be > 0"))
		}
	}
	if l.MaxDecodedBytes > 0 && l.MaxBodyBytes > l.MaxDecodedBytes {
		// The decoded size counts the body, so a larger body could never decode.
		errs = errors.Join(errs, errors.New("'fused::limits::max_body_bytes' must be <= 'fused::limits::max_decoded_bytes'"))
	}
	if cfg.Fused.MaxStreams <= 0 {
		errs = errors.Join(errs, errors.New("'fused::max_streams' must be > 0"))
	}
	switch {
	case cfg.Fused.MaxInflightBytes <= 0:
		errs = errors.Join(errs, errors.New("'fused::max_inflight_bytes' must be > 0"))
	case cfg.Fused.MaxInflightBytes < int64(l.MaxDecodedBytes):
		// Otherwise a frame allowed to decode could never get the memory to.
		errs = errors.Join(errs, errors.New("'fused::max_inflight_bytes' must be >= 'fused::limits::max_decoded_bytes'"))
	}
	return errs
}

// decoderLimits returns the limits to decode frames with.
func (l LimitsConfig) decoderLimits() otlpgo.Limits {
	return otlpgo.Limits{
		MaxFrameBytes:   l.MaxFrameBytes,
		MaxBodyBytes:    l.MaxBodyBytes,
		MaxItems:        l.MaxItems,
		MaxDictEntries:  l.MaxDictEntries,
		MaxStringBytes:  l.MaxStringBytes,
		MaxDepth:        l.MaxDepth,
		MaxMapEntries:   l.MaxMapEntries,
		MaxDecodedBytes: l.MaxDecodedBytes,
		MaxExpansion:    l.MaxExpansion,
		MaxAttributes:   l.MaxAttributes,
		MaxNestedValues: l.MaxNestedValues,

		MaxStreamStateBytes: l.MaxStreamStateBytes,
	}
}

func limitsConfigFrom(l otlpgo.Limits) LimitsConfig {
	return LimitsConfig{
		MaxFrameBytes:   l.MaxFrameBytes,
		MaxBodyBytes:    l.MaxBodyBytes,
		MaxItems:        l.MaxItems,
		MaxDictEntries:  l.MaxDictEntries,
		MaxStringBytes:  l.MaxStringBytes,
		MaxDepth:        l.MaxDepth,
		MaxMapEntries:   l.MaxMapEntries,
		MaxDecodedBytes: l.MaxDecodedBytes,
		MaxExpansion:    l.MaxExpansion,
		MaxAttributes:   l.MaxAttributes,
		MaxNestedValues: l.MaxNestedValues,

		MaxStreamStateBytes: l.MaxStreamStateBytes,
	}
}
