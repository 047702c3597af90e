package tenantquota

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configoptional"
)

// Source names where a tenant id is read from.
type Source string

const (
	// SourceMetadata is the client metadata (a request header kept by the
	// receiver's include_metadata).
	SourceMetadata Source = "metadata"
	// SourceResource is a resource attribute.
	SourceResource Source = "resource"
)

// Config is the configuration of the tenant quota processor.
type Config struct {
	// Tenant says how a request's tenant is found.
	Tenant TenantConfig `mapstructure:"tenant"`

	// Defaults are the limits of every tenant without an override.
	Defaults LimitsConfig `mapstructure:"defaults"`

	// Tenants are per-tenant overrides of the defaults, by tenant id. A
	// section set here replaces the same section of the defaults.
	Tenants map[string]TenantOverrides `mapstructure:"tenants"`

	// Breaker configures the per-tenant breaker and its degrade mode.
	Breaker BreakerConfig `mapstructure:"breaker"`

	// Summary configures the metrics computed from all offered spans and
	// logs of a tenant whose data is sampled.
	Summary SummaryConfig `mapstructure:"summary"`

	// OverridesFile is a YAML file of tenant overrides ("tenants:"), read at
	// start and again whenever its content changes. Empty turns it off.
	OverridesFile string `mapstructure:"overrides_file"`

	// ReloadInterval is how often OverridesFile is checked for changes.
	ReloadInterval time.Duration `mapstructure:"reload_interval"`

	// EnvironmentAttribute is the resource attribute that selects a
	// per-environment sampling rate (env_sampling_rates).
	EnvironmentAttribute string `mapstructure:"environment_attribute"`

	// RetentionAttribute is the resource attribute given the tenant's
	// retention, for the store to honour.
	RetentionAttribute string `mapstructure:"retention_attribute"`

	// MaxTenants bounds the tenants tracked; data of further tenants is
	// counted against the default tenant.
	MaxTenants int `mapstructure:"max_tenants"`

	// Admin is the HTTP API to read tenant state and set overrides at run
	// time. Off unless the "admin" key is present.
	Admin configoptional.Optional[AdminConfig] `mapstructure:"admin"`

	_ struct{}
}

// TenantConfig says how a request's tenant is found.
type TenantConfig struct {
	// MetadataKey is the client metadata key (request header) holding the
	// tenant id; the receiver must set include_metadata.
	MetadataKey string `mapstructure:"metadata_key"`
	// ResourceAttribute is the resource attribute holding the tenant id.
	ResourceAttribute string `mapstructure:"resource_attribute"`
	// Precedence lists the sources tried, in order: "metadata", "resource".
	Precedence []Source `mapstructure:"precedence"`
	// Default is the tenant of data no source labels.
	Default string `mapstructure:"default"`
	// RefuseUnlabelled refuses data no source labels, instead of counting it
	// against the default tenant.
	RefuseUnlabelled bool `mapstructure:"refuse_unlabelled"`

	_ struct{}
}

// LimitsConfig is one tenant's full set of limits.
type LimitsConfig struct {
	// Traces limits spans.
	Traces SignalQuota `mapstructure:"traces"`
	// Logs limits log records.
	Logs SignalQuota `mapstructure:"logs"`
	// Metrics limits metric data points.
	Metrics SignalQuota `mapstructure:"metrics"`
	// SamplingRate is the share of traces (and logs) kept in normal mode.
	SamplingRate float64 `mapstructure:"sampling_rate"`
	// EnvSamplingRates are sampling rates for resources of one environment
	// (EnvironmentAttribute), by environment name.
	EnvSamplingRates map[string]float64 `mapstructure:"env_sampling_rates"`
	// Retention is written to RetentionAttribute; zero writes nothing.
	Retention time.Duration `mapstructure:"retention"`

	_ struct{}
}

// SignalQuota is the rate limit of one signal. A zero rate is unlimited.
type SignalQuota struct {
	// ItemsPerSecond is the sustained rate of spans, log records or metric
	// data points.
	ItemsPerSecond float64 `mapstructure:"items_per_second" json:"items_per_second"`
	// ItemsBurst is the most items taken at once; zero means one second's
	// worth (ItemsPerSecond rounded up).
	ItemsBurst int `mapstructure:"items_burst" json:"items_burst"`
	// BytesPerSecond is the sustained rate of request bytes (protobuf size).
	BytesPerSecond float64 `mapstructure:"bytes_per_second" json:"bytes_per_second"`
	// BytesBurst is the most bytes taken at once; zero means one second's
	// worth.
	BytesBurst int `mapstructure:"bytes_burst" json:"bytes_burst"`

	_ struct{}
}

// TenantOverrides replaces sections of the defaults for one tenant. A nil
// section keeps the value of the layer below.
type TenantOverrides struct {
	// Traces replaces the traces quota.
	Traces *SignalQuota `mapstructure:"traces"`
	// Logs replaces the logs quota.
	Logs *SignalQuota `mapstructure:"logs"`
	// Metrics replaces the metrics quota.
	Metrics *SignalQuota `mapstructure:"metrics"`
	// SamplingRate replaces the normal-mode sampling rate.
	SamplingRate *float64 `mapstructure:"sampling_rate"`
	// EnvSamplingRates set per-environment rates, key by key.
	EnvSamplingRates map[string]float64 `mapstructure:"env_sampling_rates"`
	// Retention replaces the retention.
	Retention *time.Duration `mapstructure:"retention"`

	_ struct{}
}

// BreakerConfig configures the per-tenant breaker. Offered load is measured
// in buckets of Bucket; the breaker looks at one ratio (offered / quota, the
// highest over signals and over items and bytes) per completed bucket.
type BreakerConfig struct {
	// OpenRatio: the breaker opens when the ratio stays above it...
	OpenRatio float64 `mapstructure:"open_ratio"`
	// OpenAfter: ...for this long.
	OpenAfter time.Duration `mapstructure:"open_after"`
	// CloseRatio: the breaker closes when the ratio stays below it...
	CloseRatio float64 `mapstructure:"close_ratio"`
	// CloseAfter: ...for this long.
	CloseAfter time.Duration `mapstructure:"close_after"`
	// Bucket is the width of one load measurement.
	Bucket time.Duration `mapstructure:"bucket"`
	// DegradedSampleRate is the share of traces kept while the breaker is open.
	DegradedSampleRate float64 `mapstructure:"degraded_sample_rate"`

	_ struct{}
}

// SummaryConfig configures the summary metrics of sampled tenants.
type SummaryConfig struct {
	// FlushInterval is how often summary metrics are emitted.
	FlushInterval time.Duration `mapstructure:"flush_interval"`
	// MaxSeries bounds the service/operation series per tenant and flush;
	// more are counted in one overflow series.
	MaxSeries int `mapstructure:"max_series"`

	_ struct{}
}

// AdminConfig is the admin HTTP server.
type AdminConfig struct {
	// ServerConfig is the HTTP server: endpoint, TLS, auth and the rest.
	ServerConfig confighttp.ServerConfig `mapstructure:",squash"`
	// Token, when set, is the bearer token every request must carry. Kept
	// for existing configs; 'auth' with an authenticator extension is the
	// way to protect the API.
	Token configopaque.String `mapstructure:"token"`

	_ struct{}
}

var _ component.Config = (*Config)(nil)

// Validate checks every key and names the one at fault.
func (cfg *Config) Validate() error {
	var errs error
	t := cfg.Tenant
	if len(t.Precedence) == 0 {
		errs = errors.Join(errs, errors.New("'tenant::precedence' must name at least one source"))
	}
	for i, s := range t.Precedence {
		switch s {
		case SourceMetadata:
			if t.MetadataKey == "" {
				errs = errors.Join(errs, errors.New("'tenant::metadata_key' must be set when 'tenant::precedence' names \"metadata\""))
			}
		case SourceResource:
			if t.ResourceAttribute == "" {
				errs = errors.Join(errs, errors.New("'tenant::resource_attribute' must be set when 'tenant::precedence' names \"resource\""))
			}
		default:
			errs = errors.Join(errs, fmt.Errorf("'tenant::precedence[%d]' must be %q or %q, got %q", i, SourceMetadata, SourceResource, s))
		}
	}
	if t.Default == "" && !t.RefuseUnlabelled {
		errs = errors.Join(errs, errors.New("'tenant::default' must be set unless 'tenant::refuse_unlabelled' is true"))
	}
	errs = errors.Join(errs, cfg.Defaults.validate("defaults::"))
	for _, id := range slices.Sorted(maps.Keys(cfg.Tenants)) {
		errs = errors.Join(errs, cfg.Tenants[id].validate("tenants::"+id+"::"))
	}
	b := cfg.Breaker
	if b.Bucket <= 0 {
		errs = errors.Join(errs, fmt.Errorf("'breaker::bucket' must be > 0, got %s", b.Bucket))
	}
	if !(b.CloseRatio > 0) {
		errs = errors.Join(errs, fmt.Errorf("'breaker::close_ratio' must be > 0, got %v", b.CloseRatio))
	}
	if !(b.OpenRatio > b.CloseRatio) {
		errs = errors.Join(errs, fmt.Errorf("'breaker::open_ratio' must be > 'breaker::close_ratio', got %v <= %v", b.OpenRatio, b.CloseRatio))
	}
	if b.OpenAfter < b.Bucket {
		errs = errors.Join(errs, fmt.Errorf("'breaker::open_after' must be >= 'breaker::bucket', got %s", b.OpenAfter))
	}
	if b.CloseAfter < b.Bucket {
		errs = errors.Join(errs, fmt.Errorf("'breaker::close_after' must be >= 'breaker::bucket', got %s", b.CloseAfter))
	}
	if err := validRate(b.DegradedSampleRate); err != nil {
		errs = errors.Join(errs, fmt.Errorf("'breaker::degraded_sample_rate' %w", err))
	}
	if cfg.Summary.FlushInterval <= 0 {
		errs = errors.Join(errs, fmt.Errorf("'summary::flush_interval' must be > 0, got %s", cfg.Summary.FlushInterval))
	}
	if cfg.Summary.MaxSeries <= 0 {
		errs = errors.Join(errs, fmt.Errorf("'summary::max_series' must be > 0, got %d", cfg.Summary.MaxSeries))
	}
	if cfg.OverridesFile != "" && cfg.ReloadInterval <= 0 {
		errs = errors.Join(errs, fmt.Errorf("'reload_interval' must be > 0, got %s", cfg.ReloadInterval))
	}
	if cfg.MaxTenants <= 0 {
		errs = errors.Join(errs, fmt.Errorf("'max_tenants' must be > 0, got %d", cfg.MaxTenants))
	}
	return errs
}

func validRate(r float64) error {
	if !(r >= 0 && r <= 1) {
		return fmt.Errorf("must be in [0, 1], got %v", r)
	}
	return nil
}

func (l LimitsConfig) validate(prefix string) error {
	errs := errors.Join(
		l.Traces.validate(prefix+"traces::"),
		l.Logs.validate(prefix+"logs::"),
		l.Metrics.validate(prefix+"metrics::"),
	)
	if err := validRate(l.SamplingRate); err != nil {
		errs = errors.Join(errs, fmt.Errorf("'%ssampling_rate' %w", prefix, err))
	}
	for _, env := range slices.Sorted(maps.Keys(l.EnvSamplingRates)) {
		if err := validRate(l.EnvSamplingRates[env]); err != nil {
			errs = errors.Join(errs, fmt.Errorf("'%senv_sampling_rates::%s' %w", prefix, env, err))
		}
	}
	if l.Retention < 0 {
		errs = errors.Join(errs, fmt.Errorf("'%sretention' must be >= 0, got %s", prefix, l.Retention))
	}
	return errs
}

func (o TenantOverrides) validate(prefix string) error {
	var errs error
	for _, s := range []struct {
		name  string
		quota *SignalQuota
	}{{"traces", o.Traces}, {"logs", o.Logs}, {"metrics", o.Metrics}} {
		if s.quota != nil {
			errs = errors.Join(errs, s.quota.validate(prefix+s.name+"::"))
		}
	}
	if o.SamplingRate != nil {
		if err := validRate(*o.SamplingRate); err != nil {
			errs = errors.Join(errs, fmt.Errorf("'%ssampling_rate' %w", prefix, err))
		}
	}
	for _, env := range slices.Sorted(maps.Keys(o.EnvSamplingRates)) {
		if err := validRate(o.EnvSamplingRates[env]); err != nil {
			errs = errors.Join(errs, fmt.Errorf("'%senv_sampling_rates::%s' %w", prefix, env, err))
		}
	}
	if o.Retention != nil && *o.Retention < 0 {
		errs = errors.Join(errs, fmt.Errorf("'%sretention' must be >= 0, got %s", prefix, *o.Retention))
	}
	return errs
}

func (q SignalQuota) validate(prefix string) error {
	var errs error
	check := func(rateKey string, rate float64, burstKey string, burst int) {
		if !(rate >= 0) || math.IsInf(rate, 1) {
			errs = errors.Join(errs, fmt.Errorf("'%s%s' must be a finite number >= 0, got %v", prefix, rateKey, rate))
		}
		if burst < 0 {
			errs = errors.Join(errs, fmt.Errorf("'%s%s' must be >= 0, got %d", prefix, burstKey, burst))
		} else if burst > 0 && float64(burst) < rate {
			errs = errors.Join(errs, fmt.Errorf("'%s%s' must be >= '%s', got %d < %v", prefix, burstKey, rateKey, burst, rate))
		}
	}
	check("items_per_second", q.ItemsPerSecond, "items_burst", q.ItemsBurst)
	check("bytes_per_second", q.BytesPerSecond, "bytes_burst", q.BytesBurst)
	return errs
}
