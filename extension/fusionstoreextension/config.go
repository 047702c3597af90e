package fusionstoreextension

import (
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"

	"github.com/otelfusion/otelfusion/pkg/fusionstore"
)

// minResponseBytes leaves room for the column names and an error.
const minResponseBytes = 1 << 10

// Config is the configuration of the fusionstore extension: the database
// and its query API.
type Config struct {
	// Store is the database file and its settings: path, tenant_attribute,
	// retention, retention_attribute, sweep_interval, memory_limit, threads,
	// temp_directory, max_temp_directory_size, checkpoint_interval,
	// checkpoint_wal_size, dedup_spans. It validates itself.
	Store fusionstore.Config `mapstructure:",squash"`

	// Query is the HTTP query API (POST /v1/query); on by default on
	// loopback, off with `enabled: false`.
	Query configoptional.Optional[QueryConfig] `mapstructure:"query"`

	_ struct{}
}

// QueryConfig is the query API server and the limits of each query.
type QueryConfig struct {
	// ServerConfig is the HTTP server: endpoint, tls, auth, cors,
	// max_request_body_size (a larger body is answered 413).
	ServerConfig confighttp.ServerConfig `mapstructure:",squash"`

	// QueryTimeout bounds each query's run time; a query past it is
	// interrupted and answered 504.
	QueryTimeout time.Duration `mapstructure:"query_timeout"`

	// MaxRows caps the rows of one answer.
	MaxRows int `mapstructure:"max_rows"`

	// MaxResponseBytes caps the body of one answer. Answers are streamed, so
	// an answer that would pass it ends early, marked truncated.
	MaxResponseBytes int64 `mapstructure:"max_response_bytes"`

	// DefaultTimeWindow bounds tables of a join that set no time range of
	// their own to the last DefaultTimeWindow; 0 refuses such queries.
	DefaultTimeWindow time.Duration `mapstructure:"default_time_window"`

	// TenantHeader is the request header naming the tenant a query is
	// scoped to. A query sees exactly one tenant: the one a tenant's
	// credential belongs to (a header naming another is answered 403), else
	// the one this header names (required: missing or empty is 400). Only an
	// admin credential without the header sees every tenant.
	TenantHeader string `mapstructure:"tenant_header"`

	_ struct{}
}

var _ component.Config = (*Config)(nil)

// Validate checks the query API's keys; the store settings and the HTTP
// server validate themselves.
func (cfg *Config) Validate() error {
	if !cfg.Query.HasValue() {
		return nil
	}
	q := cfg.Query.Get()
	var errs error
	if q.ServerConfig.NetAddr.Endpoint == "" {
		errs = errors.Join(errs, errors.New("'query::endpoint' must be set"))
	}
	if q.QueryTimeout <= 0 {
		errs = errors.Join(errs, fmt.Errorf("'query::query_timeout' must be positive, got %s", q.QueryTimeout))
	}
	if q.MaxRows <= 0 {
		errs = errors.Join(errs, fmt.Errorf("'query::max_rows' must be positive, got %d", q.MaxRows))
	}
	if q.MaxResponseBytes < minResponseBytes {
		errs = errors.Join(errs, fmt.Errorf("'query::max_response_bytes' must be at least %d, got %d", minResponseBytes, q.MaxResponseBytes))
	}
	if q.TenantHeader == "" {
		errs = errors.Join(errs, errors.New("'query::tenant_header' must be set: a query names its tenant in it"))
	}
	if q.DefaultTimeWindow < 0 {
		errs = errors.Join(errs, fmt.Errorf("'query::default_time_window' must not be negative, got %s", q.DefaultTimeWindow))
	}
	return errs
}
