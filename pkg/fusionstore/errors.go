package fusionstore

import "errors"

// Sentinel errors of the store. The messages quote the keys of the
// fusionstore extension that set the limit hit.
var (
	// ErrClosed is an append or checkpoint on a store that is closed (or
	// was never opened).
	ErrClosed = errors.New("fusionstore: the store is closed")

	// ErrSchemaMismatch is a database file whose tables differ from the ones
	// the store writes (fusionql.Schema): one made by another version. Open
	// refuses it and names the first column that differs.
	ErrSchemaMismatch = errors.New("fusionstore: the database file's tables differ from the store's schema")

	// ErrQueryTimeout is a query interrupted at its QueryLimits.Timeout
	// ('query::query_timeout').
	ErrQueryTimeout = errors.New("query exceeded 'query_timeout'")

	// ErrMemoryLimit is a query stopped for want of memory: it needed more
	// than 'memory_limit' and could not spill the rest, or the memory guard
	// interrupted it.
	ErrMemoryLimit = errors.New("query needed more memory than 'memory_limit' allows " +
		"(after spilling up to 'max_temp_directory_size' to disk); narrow it or raise the limits")

	// ErrAnswerTooLarge is an answer cut short at
	// 'query::max_response_bytes'; the rows after it are not sent.
	ErrAnswerTooLarge = errors.New("answer exceeded 'query::max_response_bytes'")

	// errCheckpointBusy is a checkpoint DuckDB refused because another write
	// transaction (a retention sweep) was running; the next interval retries.
	errCheckpointBusy = errors.New("fusionstore: checkpoint skipped: another write transaction is running")
)
