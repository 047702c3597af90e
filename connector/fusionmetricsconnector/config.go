package fusionmetricsconnector

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

// Config is the configuration of the fusion metrics connector.
type Config struct {
	// Attributes names the attributes the service and tenant are read from.
	Attributes AttributesConfig `mapstructure:"attributes"`
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

// AttributesConfig names the attributes read from incoming data.
type AttributesConfig struct {
	// Service is the resource attribute holding the service name.
	Service string `mapstructure:"service"`
	// LogService is the log attribute read as the service when the log's
	// resource has none: the fusion processor writes the linked span's
	// service there. Empty turns the fallback off.
	LogService string `mapstructure:"log_service"`
	// Tenant is the resource attribute holding the tenant the receiver
	// decided; when set and present, the tenant is a dimension of every
	// derived metric and the attribute of the resource it is emitted under.
	Tenant string `mapstructure:"tenant"`

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
	switch cfg.Temporality {
	case TemporalityDelta, TemporalityCumulative:
	default:
		errs = errors.Join(errs, fmt.Errorf("'temporality' must be %q or %q, got %q",
			TemporalityDelta, TemporalityCumulative, cfg.Temporality))
	}
	if cfg.FlushInterval <= 0 {
		errs = errors.Join(errs, fmt.Errorf("'flush_interval' must be > 0, got %s", cfg.FlushInterval))
	}
	if cfg.CardinalityLimit <= 0 {
		errs = errors.Join(errs, fmt.Errorf("'cardinality_limit' must be > 0, got %d", cfg.CardinalityLimit))
	}
	if cfg.MaxServices <= 0 {
		errs = errors.Join(errs, fmt.Errorf("'max_services' must be > 0, got %d", cfg.MaxServices))
	}
	if cfg.Exemplars.MaxPerDataPoint < 0 {
		errs = errors.Join(errs, fmt.Errorf("'exemplars::max_per_data_point' must be >= 0, got %d", cfg.Exemplars.MaxPerDataPoint))
	}
	if cfg.Histogram.Unit != "ms" && cfg.Histogram.Unit != "s" {
		errs = errors.Join(errs, fmt.Errorf("'histogram::unit' must be \"ms\" or \"s\", got %q", cfg.Histogram.Unit))
	}
	if cfg.Histogram.ExponentialMaxSize < 0 {
		errs = errors.Join(errs, fmt.Errorf("'histogram::exponential_max_size' must be >= 0, got %d", cfg.Histogram.ExponentialMaxSize))
	}
	if cfg.Histogram.ExponentialMaxSize == 0 && !slices.IsSorted(cfg.Histogram.Explicit) {
		errs = errors.Join(errs, errors.New("'histogram::explicit' must be in increasing order"))
	}
	for i, d := range cfg.Dimensions {
		if d == "" || slices.Contains(cfg.Dimensions[:i], d) {
			errs = errors.Join(errs, fmt.Errorf("'dimensions' must be distinct and non-empty, got %q", d))
		}
	}
	names := map[string]bool{}
	for i, r := range cfg.Rollups {
		key := fmt.Sprintf("'rollups[%d]", i)
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
