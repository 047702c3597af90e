package fusionprocessor

import (
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/component"
)

// Config is the configuration of the fusion processor.
type Config struct {
	// Attributes names the attributes read from incoming data.
	Attributes AttributesConfig `mapstructure:"attributes"`

	// Model names the attributes the processor writes where the model's field
	// has no native pdata home. An empty name turns that attribute off.
	Model ModelConfig `mapstructure:"model"`

	// Index bounds the index of recently seen spans that logs are enriched from.
	Index IndexConfig `mapstructure:"index"`

	// LateLogs bounds the buffer of logs that arrive before their span.
	LateLogs LateLogsConfig `mapstructure:"late_logs"`

	_ struct{}
}

// AttributesConfig names the attributes read from incoming data. Each hint
// list is tried in order; the first attribute present wins.
type AttributesConfig struct {
	// Service is the resource attribute holding the service name.
	Service string `mapstructure:"service"`
	// TraceID lists log attributes holding a 32-hex-digit trace id.
	TraceID []string `mapstructure:"trace_id"`
	// SpanID lists log attributes holding a 16-hex-digit span id.
	SpanID []string `mapstructure:"span_id"`
	// Traceparent lists log attributes holding a W3C traceparent header.
	Traceparent []string `mapstructure:"traceparent"`
	// DatadogTraceID lists log attributes holding a Datadog trace id: decimal
	// (the lower 64 bits) or 16/32 hex digits.
	DatadogTraceID []string `mapstructure:"datadog_trace_id"`
	// DatadogSpanID lists log attributes holding a Datadog span id: decimal
	// or 16 hex digits.
	DatadogSpanID []string `mapstructure:"datadog_span_id"`

	_ struct{}
}

// ModelConfig names the attributes written by the processor.
type ModelConfig struct {
	// Operation is the log attribute given the name of the log's span.
	Operation string `mapstructure:"operation"`
	// Service is the log attribute given the span's service, written only
	// when the log's resource has no service name.
	Service string `mapstructure:"service"`
	// SpanStatus is the log attribute given the span's status code.
	SpanStatus string `mapstructure:"span_status"`
	// Duration is the span attribute given the span's duration in nanoseconds.
	Duration string `mapstructure:"duration"`

	_ struct{}
}

// IndexConfig bounds the span index.
type IndexConfig struct {
	// MaxEntries is the most spans the index holds; the oldest go first.
	MaxEntries int `mapstructure:"max_entries"`
	// TTL is how long an indexed span can enrich logs.
	TTL time.Duration `mapstructure:"ttl"`

	_ struct{}
}

// LateLogsConfig bounds the late-span buffer.
type LateLogsConfig struct {
	// MaxDelay is the longest a log waits for its span before it goes on
	// unenriched. Zero turns the buffer off.
	MaxDelay time.Duration `mapstructure:"max_delay"`
	// MaxBuffered is the most log records waiting at once; a log that finds
	// the buffer full goes on at once, unenriched.
	MaxBuffered int `mapstructure:"max_buffered"`

	_ struct{}
}

var _ component.Config = (*Config)(nil)

// Validate checks every key and names the one at fault.
func (cfg *Config) Validate() error {
	var errs error
	if cfg.Attributes.Service == "" {
		errs = errors.Join(errs, errors.New("'attributes::service' must be set"))
	}
	if cfg.Index.MaxEntries <= 0 {
		errs = errors.Join(errs, fmt.Errorf("'index::max_entries' must be > 0, got %d", cfg.Index.MaxEntries))
	}
	if cfg.Index.TTL <= 0 {
		errs = errors.Join(errs, fmt.Errorf("'index::ttl' must be > 0, got %s", cfg.Index.TTL))
	}
	if cfg.LateLogs.MaxDelay < 0 {
		errs = errors.Join(errs, fmt.Errorf("'late_logs::max_delay' must be >= 0, got %s", cfg.LateLogs.MaxDelay))
	}
	if cfg.LateLogs.MaxDelay > 0 && cfg.LateLogs.MaxBuffered <= 0 {
		errs = errors.Join(errs, fmt.Errorf("'late_logs::max_buffered' must be > 0, got %d", cfg.LateLogs.MaxBuffered))
	}
	return errs
}
