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

	// Store, when present, also writes every export into an embedded DuckDB
	// database and serves FusionQL queries over it.
	Store configoptional.Optional[StoreConfig] `mapstructure:"store"`

	_ struct{}
}

// StoreConfig is the embedded DuckDB store of the unified model.
type StoreConfig struct {
	// Path is the database file; its directory is created when missing.
	Path string `mapstructure:"path"`

	// TenantAttribute is the resource attribute whose value is a row's
	// tenant; rows without it belong to the empty tenant.
	TenantAttribute string `mapstructure:"tenant_attribute"`

	// Retention is how long rows are kept, by their own timestamp; 0 keeps
	// them forever.
	Retention time.Duration `mapstructure:"retention"`

	// RetentionAttribute is the resource attribute (a Go duration string)
	// that overrides Retention for the tenant of the resource carrying it.
	RetentionAttribute string `mapstructure:"retention_attribute"`

	// SweepInterval is how often rows past their retention are deleted.
	SweepInterval time.Duration `mapstructure:"sweep_interval"`

	// MemoryLimit is the most memory, in bytes, DuckDB's buffer manager may
	// hold (its memory_limit); a query needing more spills to TempDirectory
	// and, when that is full too, fails.
	MemoryLimit int64 `mapstructure:"memory_limit"`

	// Threads is how many threads DuckDB runs queries and checkpoints on.
	Threads int `mapstructure:"threads"`

	// TempDirectory is where DuckDB spills what does not fit in
	// MemoryLimit; empty is "<path>.tmp" beside the database.
	TempDirectory string `mapstructure:"temp_directory"`

	// MaxTempDirectorySize caps the bytes spilled to TempDirectory.
	MaxTempDirectorySize int64 `mapstructure:"max_temp_directory_size"`

	// CheckpointInterval is how often the write-ahead log is written into
	// the database file, so the file is current while the collector runs;
	// 0 leaves it to DuckDB (when the log passes 16 MiB, and at shutdown).
	CheckpointInterval time.Duration `mapstructure:"checkpoint_interval"`

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

var _ component.Config = (*Config)(nil)

// Validate checks the fused exporter's own keys; the nested client, queue
// and retry configurations validate themselves.
func (cfg *Config) Validate() error {
	var errs error
	if cfg.ClientConfig.Endpoint == "" {
		if !cfg.Store.HasValue() || cfg.Store.Get().Path == "" {
			errs = errors.Join(errs, errors.New("at least one of 'endpoint' or 'store::path' must be set"))
		}
	} else if _, err := fusedURL(cfg.ClientConfig.Endpoint); err != nil {
		errs = errors.Join(errs, err)
	}
	if cfg.Store.HasValue() {
		errs = errors.Join(errs, cfg.Store.Get().validate())
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

const (
	// minMemoryLimit is below what DuckDB needs to run a query at all.
	minMemoryLimit = 16 << 20
	// minResponseBytes leaves room for the column names and an error.
	minResponseBytes = 1 << 10
)

// tempDirectory is where DuckDB spills: temp_directory, else "<path>.tmp".
func (sc *StoreConfig) tempDirectory() string {
	if sc.TempDirectory != "" {
		return sc.TempDirectory
	}
	return sc.Path + ".tmp"
}

func (sc *StoreConfig) validate() error {
	var errs error
	if sc.Path == "" {
		errs = errors.Join(errs, errors.New("'store::path' must be set"))
	}
	if sc.Retention < 0 {
		errs = errors.Join(errs, fmt.Errorf("'store::retention' must not be negative, got %s", sc.Retention))
	}
	if sc.SweepInterval <= 0 {
		errs = errors.Join(errs, fmt.Errorf("'store::sweep_interval' must be positive, got %s", sc.SweepInterval))
	}
	if sc.MemoryLimit < minMemoryLimit {
		errs = errors.Join(errs, fmt.Errorf("'store::memory_limit' must be at least %d (16 MiB), got %d", minMemoryLimit, sc.MemoryLimit))
	}
	if sc.Threads <= 0 {
		errs = errors.Join(errs, fmt.Errorf("'store::threads' must be positive, got %d", sc.Threads))
	}
	if sc.MaxTempDirectorySize <= 0 {
		errs = errors.Join(errs, fmt.Errorf("'store::max_temp_directory_size' must be positive, got %d", sc.MaxTempDirectorySize))
	}
	if sc.CheckpointInterval < 0 {
		errs = errors.Join(errs, fmt.Errorf("'store::checkpoint_interval' must not be negative, got %s", sc.CheckpointInterval))
	}
	if sc.Query.HasValue() {
		q := sc.Query.Get()
		if q.ServerConfig.NetAddr.Endpoint == "" {
			errs = errors.Join(errs, errors.New("'store::query::endpoint' must be set"))
		}
		if q.QueryTimeout <= 0 {
			errs = errors.Join(errs, fmt.Errorf("'store::query::query_timeout' must be positive, got %s", q.QueryTimeout))
		}
		if q.MaxRows <= 0 {
			errs = errors.Join(errs, fmt.Errorf("'store::query::max_rows' must be positive, got %d", q.MaxRows))
		}
		if q.MaxResponseBytes < minResponseBytes {
			errs = errors.Join(errs, fmt.Errorf("'store::query::max_response_bytes' must be at least %d, got %d", minResponseBytes, q.MaxResponseBytes))
		}
		if q.TenantHeader == "" {
			errs = errors.Join(errs, errors.New("'store::query::tenant_header' must be set: a query names its tenant in it"))
		}
		if q.DefaultTimeWindow < 0 {
			errs = errors.Join(errs, fmt.Errorf("'store::query::default_time_window' must not be negative, got %s", q.DefaultTimeWindow))
		}
	}
	return errs
}
