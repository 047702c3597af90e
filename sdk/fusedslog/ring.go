package fusedslog

import (
	"context"
	"log/slog"
	"sync/atomic"
)

// entry is one record waiting in the ring: the slog record as the caller
// handed it, the caller's context (the worker takes the trace context from
// it: reading it on the caller's path would cost more than the rest of
// Handle), and the handler (for its attributes and groups).
type entry struct {
	seq     atomic.Uint64 // Vyukov's sequence: pos when free, pos+1 when filled
	record  slog.Record
	ctx     context.Context
	handler *Handler
}

// ring is a bounded multi-producer, single-consumer queue without locks
// (Dmitry Vyukov's bounded MPMC queue, consumed by one goroutine). A
// producer that finds it full gives up at once: the caller never waits.
type ring struct {
	_       [64]byte
	tail    atomic.Uint64 // next position producers claim
	_       [56]byte
	head    atomic.Uint64 // next position the consumer reads
	_       [56]byte
	mask    uint64
	entries []entry
}

func newRing(size int) *ring {
	n := 1
	for n < size {
		n <<= 1
	}
	r := &ring{mask: uint64(n - 1), entries: make([]entry, n)}
	for i := range r.entries {
		r.entries[i].seq.Store(uint64(i))
	}
	return r
}

// push copies the record into a free entry; false when the ring is full.
func (q *ring) push(rec *slog.Record, ctx context.Context, h *Handler) bool {
	pos := q.tail.Load()
	for {
		e := &q.entries[pos&q.mask]
		seq := e.seq.Load()
		switch {
		case seq == pos:
			if q.tail.CompareAndSwap(pos, pos+1) {
				e.record = *rec
				e.ctx = ctx
				e.handler = h
				e.seq.Store(pos + 1)
				return true
			}
			pos = q.tail.Load()
		case seq < pos: // the consumer has not freed this entry: full
			return false
		default: // another producer took pos
			pos = q.tail.Load()
		}
	}
}

// pop moves the next filled entry into out and frees it; false when empty.
// Only the consumer goroutine calls it.
func (q *ring) pop(out *entry) bool {
	pos := q.head.Load()
	e := &q.entries[pos&q.mask]
	if e.seq.Load() != pos+1 {
		return false
	}
	out.record, out.ctx, out.handler = e.record, e.ctx, e.handler
	e.record, e.ctx, e.handler = slog.Record{}, nil, nil // let go of the caller's data
	e.seq.Store(pos + q.mask + 1)
	q.head.Store(pos + 1)
	return true
}
