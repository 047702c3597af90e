package fusionstore

import (
	"errors"
	"fmt"
	"time"
)

// Defaults of NewDefaultConfig.
const (
	defaultTenantAttribute    = "tenant.id"
	defaultRetention          = 7 * 24 * time.Hour
	defaultRetentionAttribute = "otelfusion.retention"
	defaultSweepInterval      = time.Minute
	// DuckDB's own default is 80% of RAM: far more than a collector should
	// hold for its queries.
	defaultMemoryLimit          = 512 << 20
	defaultThreads              = 2
	defaultMaxTempDirectorySize = 1 << 30
	defaultCheckpointInterval   = 30 * time.Second
	// DuckDB's own 16 MiB checkpoints every few tens of thousands of rows;
	// each checkpoint compresses the table's last row group again.
	defaultCheckpointWALSize = 128 << 20

	// minMemoryLimit is below what DuckDB needs to run a query at all.
	minMemoryLimit = 16 << 20
)

// Config is the database file and its settings. The mapstructure tags are
// the keys of the fusionstore extension, which squashes this struct into its
// own configuration.
type Config struct {
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

	// CheckpointWALSize is how large, in bytes, the write-ahead log may grow
	// before DuckDB checkpoints on its own between two checkpoint_interval
	// ticks (its checkpoint_threshold). A checkpoint compresses the rows
	// appended since the last one, rewriting the last row group; a larger
	// log means fewer rewrites of it (cheaper ingest), a longer replay after
	// a crash, and more appended rows held uncompressed in memory.
	CheckpointWALSize int64 `mapstructure:"checkpoint_wal_size"`

	// DedupSpans drops a span whose (tenant, trace_id, span_id, start_time)
	// the traces table already holds, or whose (tenant, trace_id, span_id)
	// an earlier span of the same export has: a batch replayed after a
	// crash, or resent by its sender, is stored once. Logs and metric points
	// are never de-duplicated.
	DedupSpans bool `mapstructure:"dedup_spans"`

	_ struct{}
}

// NewDefaultConfig returns the defaults; Path is left for the caller.
func NewDefaultConfig() Config {
	return Config{
		TenantAttribute:      defaultTenantAttribute,
		Retention:            defaultRetention,
		RetentionAttribute:   defaultRetentionAttribute,
		SweepInterval:        defaultSweepInterval,
		MemoryLimit:          defaultMemoryLimit,
		Threads:              defaultThreads,
		MaxTempDirectorySize: defaultMaxTempDirectorySize,
		CheckpointInterval:   defaultCheckpointInterval,
		CheckpointWALSize:    defaultCheckpointWALSize,
	}
}

// tempDirectory is where DuckDB spills: temp_directory, else "<path>.tmp".
func (cfg *Config) tempDirectory() string {
	if cfg.TempDirectory != "" {
		return cfg.TempDirectory
	}
	return cfg.Path + ".tmp"
}

// Validate checks every setting, quoting the key at fault.
func (cfg *Config) Validate() error {
	var errs error
	if cfg.Path == "" {
		errs = errors.Join(errs, errors.New("'path' must be set"))
	}
	if cfg.Retention < 0 {
		errs = errors.Join(errs, fmt.Errorf("'retention' must not be negative, got %s", cfg.Retention))
	}
	if cfg.SweepInterval <= 0 {
		errs = errors.Join(errs, fmt.Errorf("'sweep_interval' must be positive, got %s", cfg.SweepInterval))
	}
	if cfg.MemoryLimit < minMemoryLimit {
		errs = errors.Join(errs, fmt.Errorf("'memory_limit' must be at least %d (16 MiB), got %d", minMemoryLimit, cfg.MemoryLimit))
	}
	if cfg.Threads <= 0 {
		errs = errors.Join(errs, fmt.Errorf("'threads' must be positive, got %d", cfg.Threads))
	}
	if cfg.MaxTempDirectorySize <= 0 {
		errs = errors.Join(errs, fmt.Errorf("'max_temp_directory_size' must be positive, got %d", cfg.MaxTempDirectorySize))
	}
	if cfg.CheckpointWALSize < 1<<20 {
		errs = errors.Join(errs, fmt.Errorf("'checkpoint_wal_size' must be at least 1 MiB, got %d", cfg.CheckpointWALSize))
	}
	if cfg.CheckpointInterval < 0 {
		errs = errors.Join(errs, fmt.Errorf("'checkpoint_interval' must not be negative, got %s", cfg.CheckpointInterval))
	}
	return errs
}
