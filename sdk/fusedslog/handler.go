// Package fusedslog is a log/slog Handler that sends records through the
// OpenTelemetry Go SDK's log pipeline (and so, with the fused exporters,
// in the same requests as the spans and points of the application). It
// stamps each record with the trace and span ids of its context.
//
// Handle costs the caller a copy of the record into a bounded ring and no
// allocation: the conversion to an OTel log record and the emit happen on
// a worker goroutine. When the ring is full the record is dropped and
// counted, and the caller goes on. Records below a level can be sampled,
// keeping those that carry an error.
package fusedslog

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	otellog "go.opentelemetry.io/otel/log"
)

// Handler is a slog.Handler. Handlers derived with WithAttrs and WithGroup
// share the ring, worker and counters of the one New returned.
type Handler struct {
	core   *core
	attrs  []slog.Attr // from WithAttrs, keys already prefixed by their groups
	prefix string      // the open groups, "a.b."
}

// core is what a Handler and the handlers derived from it share.
type core struct {
	logger    otellog.Logger
	level     slog.Leveler
	sampling  Sampling
	ring      *ring
	sampleSeq atomic.Uint64
	dropped   atomic.Uint64
	sampled   atomic.Uint64
	emitted   atomic.Uint64
	closed    atomic.Bool
	// paused holds the worker back (benchmarks measure the caller's side
	// alone with it).
	paused atomic.Bool
	// emittedTo is the ring position up to which records have been emitted.
	emittedTo atomic.Uint64
	idle      time.Duration
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// Sampling keeps every record at or above KeepLevel, and every record that
// carries an error value; of the others it keeps one in Every. Every <= 1
// keeps all.
type Sampling struct {
	// Every keeps one record in Every below KeepLevel.
	Every uint64
	// KeepLevel and above are always kept.
	KeepLevel slog.Level
}

// Option configures a Handler.
type Option func(*core)

// WithLevel sets the minimum level handled (slog.LevelInfo by default).
func WithLevel(l slog.Leveler) Option { return func(c *core) { c.level = l } }

// WithBufferSize sets how many records the ring holds (rounded up to a
// power of two; 4096 by default, about 1.3 MB). Memory is bounded by it.
func WithBufferSize(n int) Option {
	return func(c *core) { c.ring = newRing(max(n, 2)) }
}

// WithSampling samples records below s.KeepLevel.
func WithSampling(s Sampling) Option { return func(c *core) { c.sampling = s } }

// WithIdleWait sets how long the worker sleeps when the ring is empty (1 ms
// by default): the longest a record waits before the SDK sees it.
func WithIdleWait(d time.Duration) Option { return func(c *core) { c.idle = d } }

// New returns a Handler that emits through logger (from an OTel
// LoggerProvider, e.g. sdklog's) and starts its worker; Close stops it.
func New(logger otellog.Logger, opts ...Option) *Handler {
	c := &core{
		logger:   logger,
		level:    slog.LevelInfo,
		sampling: Sampling{Every: 1, KeepLevel: slog.LevelWarn},
		idle:     time.Millisecond,
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	for _, o := range opts {
		o(c)
	}
	if c.ring == nil {
		c.ring = newRing(4096)
	}
	go c.work()
	return &Handler{core: c}
}

// Enabled reports whether records at level are handled.
func (h *Handler) Enabled(_ context.Context, level slog.Level) bool {
	return level >= h.core.level.Level()
}

// Handle queues r for the worker, with the trace context of ctx. It never
// blocks and never fails: a record the ring has no room for is counted in
// Stats().Dropped.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	c := h.core
	if r.Level < c.sampling.KeepLevel && c.sampling.Every > 1 &&
		c.sampleSeq.Add(1)%c.sampling.Every != 0 && !hasError(&r) {
		c.sampled.Add(1)
		return nil
	}
	if c.closed.Load() || !c.ring.push(&r, ctx, h) {
		c.dropped.Add(1)
	}
	return nil
}

// hasError reports whether a record carries an error value.
func hasError(r *slog.Record) bool {
	found := false
	r.Attrs(func(a slog.Attr) bool {
		if a.Value.Kind() == slog.KindAny {
			if _, ok := a.Value.Any().(error); ok {
				found = true
				return false
			}
		}
		return true
	})
	return found
}

// WithAttrs returns a handler that adds attrs to every record.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	n := &Handler{core: h.core, prefix: h.prefix, attrs: make([]slog.Attr, len(h.attrs), len(h.attrs)+len(attrs))}
	copy(n.attrs, h.attrs)
	for _, a := range attrs {
		a.Key = h.prefix + a.Key
		n.attrs = append(n.attrs, a)
	}
	return n
}

// WithGroup returns a handler that puts later attributes under name.
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &Handler{core: h.core, attrs: h.attrs, prefix: h.prefix + name + "."}
}

// Stats counts the records emitted to the SDK, dropped because the ring
// was full, and left out by sampling.
type Stats struct {
	Emitted, Dropped, SampledOut uint64
}

// Stats returns the handler's counters.
func (h *Handler) Stats() Stats {
	return Stats{Emitted: h.core.emitted.Load(), Dropped: h.core.dropped.Load(), SampledOut: h.core.sampled.Load()}
}

// Flush waits until every record queued before the call has been emitted
// to the SDK's logger.
func (h *Handler) Flush(ctx context.Context) error {
	target := h.core.ring.tail.Load()
	for h.core.emittedTo.Load() < target {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-h.core.done:
			return errClosed
		case <-time.After(100 * time.Microsecond):
		}
	}
	return nil
}

var errClosed = errors.New("fusedslog: handler closed")

// Close emits what is queued and stops the worker. Records handled later
// are dropped and counted.
func (h *Handler) Close(ctx context.Context) error {
	h.core.closed.Store(true)
	err := h.Flush(ctx)
	h.core.closeOnce.Do(func() { close(h.core.stop) })
	select {
	case <-h.core.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	if errors.Is(err, errClosed) {
		return nil
	}
	return err
}

// work is the consumer: it empties the ring into the SDK's logger.
func (c *core) work() {
	defer close(c.done)
	ctx := context.Background()
	var e entry
	drain := func() {
		for c.ring.pop(&e) {
			c.emit(ctx, &e)
			e.record, e.ctx, e.handler = slog.Record{}, nil, nil
			c.emittedTo.Store(c.ring.head.Load())
		}
	}
	for {
		if !c.paused.Load() {
			drain()
		}
		select {
		case <-c.stop:
			drain()
			return
		case <-time.After(c.idle):
		}
	}
}
