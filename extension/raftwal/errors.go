package raftwal

import "errors"

// Sentinel errors of the extension. Callers test them with errors.Is.
var (
	// ErrNotLeader is returned by reads and writes on a node that is not the
	// Raft leader (or lost leadership while the write was in flight). It is
	// retryable: the exporter queue refuses the request, the receiver answers
	// 503 / Unavailable, and the client retries (at the new leader).
	ErrNotLeader = errors.New("raftwal: this node is not the raft leader")
	// ErrClosed is returned after the client or the extension shut down.
	ErrClosed = errors.New("raftwal: storage is closed")
	// ErrCorruptEntry is returned when a Raft entry or snapshot does not
	// decode; it never comes from user input, only from a damaged store.
	ErrCorruptEntry = errors.New("raftwal: corrupt entry")
)
