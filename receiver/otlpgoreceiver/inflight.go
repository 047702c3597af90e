package otlpgoreceiver // import "github.com/otelfusion/otelfusion/receiver/otlpgoreceiver"

import (
	"context"

	"go.opentelemetry.io/otel/metric"
	"golang.org/x/sync/semaphore"
)

// inflightBudget bounds the memory that the requests being served at the same
// time may hold: the frames read and what decoding them may allocate. Each
// request reserves before it allocates and gives everything back once its
// pipelines have returned. A request that does not fit is refused at once
// rather than queued, so a flood of costly frames cannot pile up in waiting.
// It is safe for concurrent use.
type inflightBudget struct {
	capacity int64
	free     *semaphore.Weighted
	// reserved follows what is held, for the receiver's own telemetry.
	reserved metric.Int64UpDownCounter
}

func newInflightBudget(capacity int64, reserved metric.Int64UpDownCounter) *inflightBudget {
	return &inflightBudget{capacity: capacity, free: semaphore.NewWeighted(capacity), reserved: reserved}
}

// reservation is what one request holds of the budget. It belongs to that
// request's goroutine and is not safe for concurrent use.
type reservation struct {
	budget *inflightBudget
	held   int64
}

func (b *inflightBudget) reserve() *reservation {
	return &reservation{budget: b}
}

// grow reserves n more bytes, without waiting: false when the budget has not
// that much free now, and then nothing more is held.
func (r *reservation) grow(ctx context.Context, n int64) bool {
	if n <= 0 {
		return true
	}
	if !r.budget.free.TryAcquire(n) {
		return false
	}
	r.held += n
	r.budget.reserved.Add(ctx, n)
	return true
}

// shrink gives back n of the bytes held, e.g. the part of a reservation made
// for a body of unknown length that the body did not use.
func (r *reservation) shrink(ctx context.Context, n int64) {
	n = min(n, r.held)
	if n <= 0 {
		return
	}
	r.held -= n
	r.budget.free.Release(n)
	r.budget.reserved.Add(ctx, -n)
}

// release gives back everything held.
func (r *reservation) release(ctx context.Context) {
	r.shrink(ctx, r.held)
}
