package raftwal

import (
	"context"
	"sync/atomic"

	"go.opentelemetry.io/collector/extension/xextension/storage"
)

// client is one component's view of the replicated map: every key is
// prefixed with the component's kind/id/name, so queues of different
// exporters never collide. Safe for concurrent use.
type client struct {
	node   *node
	prefix string
	closed atomic.Bool
}

var _ storage.Client = (*client)(nil)

// Get reads the leader's FSM; a write that returned is always visible.
func (c *client) Get(ctx context.Context, key string) ([]byte, error) {
	op := storage.GetOperation(key)
	if err := c.Batch(ctx, op); err != nil {
		return nil, err
	}
	return op.Value, nil
}

// Set stores value at key once a quorum has it on disk.
func (c *client) Set(ctx context.Context, key string, value []byte) error {
	return c.Batch(ctx, storage.SetOperation(key, value))
}

// Delete removes key once a quorum has it on disk.
func (c *client) Delete(ctx context.Context, key string) error {
	return c.Batch(ctx, storage.DeleteOperation(key))
}

// Batch applies ops atomically, as one part of one Raft entry. A batch of
// only Get operations is answered from the leader's FSM without a log entry.
func (c *client) Batch(ctx context.Context, ops ...*storage.Operation) error {
	if c.closed.Load() {
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if !c.node.isLeader() {
		return ErrNotLeader
	}
	readOnly := true
	kv := make([]kvOp, len(ops))
	for i, op := range ops {
		kv[i] = kvOp{typ: op.Type, key: c.prefix + op.Key, value: op.Value}
		if op.Type != storage.Get {
			readOnly = false
		}
	}
	if readOnly {
		for i, op := range ops {
			op.Value = c.node.fsm.get(kv[i].key)
		}
		return nil
	}
	out := c.node.committer.commit(kv)
	if out.err != nil {
		return out.err
	}
	next := 0
	for _, op := range ops {
		if op.Type == storage.Get && next < len(out.gets) {
			op.Value = out.gets[next]
			next++
		}
	}
	return nil
}

// Close releases the client; the data stays.
func (c *client) Close(context.Context) error {
	c.closed.Store(true)
	return nil
}
