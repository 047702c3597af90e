package fusionprocessor

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"go.opentelemetry.io/collector/component"
)

// Temporality names how derived metrics are reported.
type Temporality string

const (
	// TemporalityDelta reports what happened since the previous flush.
	TemporalityDelta Temporality = "delta"
	// TemporalityCumulative reports totals since the series was created.
	TemporalityCumulative Temporality = "cumulative"
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

	// Metrics configures the metrics derived from spans and logs. They are
	// emitted only when the processor is in at least one metrics pipeline.
	Metrics MetricsConfig `mapstructure:"metrics"`

	_ struct{}
}

// AttributesConfig names the attributes read from incoming data. Each hint
// list is tried in order; the first attribute present wins.
type AttributesConfig struct {
	// Service is the resource attribute holding the service name.
	Service string `mapstructure:"service"`
	// Tenant is the resource attribute holding the tenant the receiver
	// decided; when set and present, the tenant is a dimension of every
	// derived metric and the attribute of the resource it is emitted under.
	Tenant string `mapstructure:"tenant"`
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

// MetricsConfig configures the derived metrics.
type MetricsConfig struct {
	// Spans turns on the RED metrics (calls, errors, duration) from spans.
	Spans bool `mapstructure:"spans"`
	// Logs turns on the log record counts by service and severity.
	Logs bool `mapstructure:"logs"`
	// Dimensions are extra span (else resource) attributes, or log (else
	// resource) attributes, added to every derived series.
	Dimensions []string `mapstructure:"dimensions"`
	// Histogram configures the duration histogram.
	Histogram HistogramConfig `mapstructure:"histogram"`
	// Exemplars caps the exemplars of each data point per flush.
	Exemplars ExemplarsConfig `mapstructure:"exemplars"`
	// Temporality is "delta" or "cumulative".
	Temporality Temporality `mapstructure:"temporality"`
	// FlushInterval is how often derived metrics are emitted.
	FlushInterval time.Duration `mapstructure:"flush_interval"`
	// CardinalityLimit is the most series per service in each table; more go
	// to the service's overflow series (otel.metric.overflow=true).
	CardinalityLimit int `mapstructure:"cardinality_limit"`
	// MaxServices is the most services in each table; more go to one
	// overflow series without a service.
	MaxServices int `mapstructure:"max_services"`
	// Rollups are extra tiers aggregated in the same pass with fewer
	// dimensions; each emits the same metrics with the tier name appended.
	Rollups []RollupConfig `mapstructure:"rollups"`

	_ struct{}
}

// HistogramConfig chooses the duration histogram.
type HistogramConfig struct {
	// Unit is "ms" or "s".
	Unit string `mapstructure:"unit"`
	// Explicit bucket bounds, in Unit; used unless Exponential is set.
	Explicit []float64 `mapstructure:"explicit"`
	// ExponentialMaxSize, when > 0, switches to a base-2 exponential
	// histogram with at most this many buckets.
	ExponentialMaxSize int `mapstructure:"exponential_max_size"`

	_ struct{}
}

// ExemplarsConfig caps exemplars.
type ExemplarsConfig struct {
	// MaxPerDataPoint is the most exemplars one data point carries per
	// flush; the first ones of the interval are kept. Zero turns them off.
	MaxPerDataPoint int `mapstructure:"max_per_data_point"`

	_ struct{}
}

// RollupConfig is one rollup tier. Exactly one of Keep and Drop is set.
type RollupConfig struct {
	// Name is appended to the metric names of this tier ("fusion.span.calls.<name>").
	Name string `mapstructure:"name"`
	// Keep lists the dimensions the tier keeps.
	Keep []string `mapstructure:"keep"`
	// Drop lists the dimensions the tier drops.
	Drop []string `mapstructure:"drop"`

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
	m := cfg.Metrics
	switch m.Temporality {
	case TemporalityDelta, TemporalityCumulative:
	default:
		errs = errors.Join(errs, fmt.Errorf("'metrics::temporality' must be %q or %q, got %q",
			TemporalityDelta, TemporalityCumulative, m.Temporality))
	}
	if m.FlushInterval <= 0 {
		errs = errors.Join(errs, fmt.Errorf("'metrics::flush_interval' must be > 0, got %s", m.FlushInterval))
	}
	if m.CardinalityLimit <= 0 {
		errs = errors.Join(errs, fmt.Errorf("'metrics::cardinality_limit' must be > 0, got %d", m.CardinalityLimit))
	}
	if m.MaxServices <= 0 {
		errs = errors.Join(errs, fmt.Errorf("'metrics::max_services' must be > 0, got %d", m.MaxServices))
	}
	if m.Exemplars.MaxPerDataPoint < 0 {
		errs = errors.Join(errs, fmt.Errorf("'metrics::exemplars::max_per_data_point' must be >= 0, got %d", m.Exemplars.MaxPerDataPoint))
	}
	if m.Histogram.Unit != "ms" && m.Histogram.Unit != "s" {
		errs = errors.Join(errs, fmt.Errorf("'metrics::histogram::unit' must be \"ms\" or \"s\", got %q", m.Histogram.Unit))
	}
	if m.Histogram.ExponentialMaxSize < 0 {
		errs = errors.Join(errs, fmt.Errorf("'metrics::histogram::exponential_max_size' must be >= 0, got %d", m.Histogram.ExponentialMaxSize))
	}
	if m.Histogram.ExponentialMaxSize == 0 && !slices.IsSorted(m.Histogram.Explicit) {
		errs = errors.Join(errs, errors.New("'metrics::histogram::explicit' must be in increasing order"))
	}
	for i, d := range m.Dimensions {
		if d == "" || slices.Contains(m.Dimensions[:i], d) {
			errs = errors.Join(errs, fmt.Errorf("'metrics::dimensions' must be distinct and non-empty, got %q", d))
		}
	}
	names := map[string]bool{}
	for i, r := range m.Rollups {
		key := fmt.Sprintf("'metrics::rollups[%d]", i)
		if r.Name == "" {
			errs = errors.Join(errs, fmt.Errorf("%s::name' must be set", key))
		} else if names[r.Name] {
			errs = errors.Join(errs, fmt.Errorf("%s::name' %q is used twice", key, r.Name))
		}
		names[r.Name] = true
		if (len(r.Keep) == 0) == (len(r.Drop) == 0) {
			errs = errors.Join(errs, fmt.Errorf("%s' must set exactly one of 'keep' and 'drop'", key))
		}
	}
	return errs
}
