// Package fused exports spans, log records and metric points of the
// OpenTelemetry Go SDK to otelcol-fusion over one connection: the trace,
// log and metric exporters of one Client add to the same frame, and one
// flush sends spans, records and points in one POST /v1/fused request.
package fused

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/otelfusion/otelfusion/sdk/internal/otlpgo"
)

// ErrShutdown is returned by exports and flushes after Shutdown.
var ErrShutdown = errors.New("fused: client is shut down")

// Flusher is what Flush and Shutdown drive: the SDK's providers
// (*sdktrace.TracerProvider, *sdklog.LoggerProvider, *sdkmetric.MeterProvider).
type Flusher interface {
	ForceFlush(ctx context.Context) error
}

// shutdowner is a provider Shutdown shuts down.
type shutdowner interface {
	Shutdown(ctx context.Context) error
}

// Client holds the frame that its exporters add to and sends it. It is safe
// for concurrent use.
type Client struct {
	cfg      config
	url      string
	http     *http.Client
	encoding otlpgo.Compression

	mu       sync.Mutex
	frame    *otlpgo.Builder // what the exporters have added since the last send
	since    time.Time       // when the first item of frame was added
	holds    int             // Flush calls making their providers export: no send meanwhile
	shutdown bool
	free     []*otlpgo.Builder

	queue   chan *batch
	stop    chan struct{}
	stopped sync.WaitGroup

	stats stats
}

// batch is one frame on its way, or (frame nil) a marker that Flush waits on.
type batch struct {
	frame *otlpgo.Builder
	done  chan struct{}
	err   error
}

// New returns a Client that sends to the endpoint the options name and
// starts its sender. Shutdown stops it.
func New(_ context.Context, opts ...Option) (*Client, error) {
	cfg := newConfig(opts)
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	hc := &http.Client{}
	if cfg.httpClient != nil {
		copied := *cfg.httpClient
		hc = &copied
	}
	hc.Timeout = cfg.timeout
	c := &Client{
		cfg:   cfg,
		url:   fmt.Sprintf("%s://%s%s", cfg.scheme, cfg.host, cfg.path),
		http:  hc,
		frame: otlpgo.NewBuilder(),
		queue: make(chan *batch, cfg.queueFrames),
		stop:  make(chan struct{}),
	}
	if cfg.compression == ZstdCompression {
		c.encoding = otlpgo.CompressionZstd
	}
	c.stopped.Add(2)
	go c.sendLoop()
	go c.flushLoop()
	return c, nil
}

// add runs fill on the open frame, then sends the frame if it has grown to
// the maximum size. It fails after Shutdown, or when the frame cannot be
// queued before ctx ends (its items are then dropped and counted).
func (c *Client) add(ctx context.Context, fill func(*otlpgo.Builder)) error {
	c.mu.Lock()
	if c.shutdown {
		c.mu.Unlock()
		return ErrShutdown
	}
	if c.frame.Present() == 0 {
		c.since = time.Now()
	}
	fill(c.frame)
	var full *batch
	if c.frame.Size() >= c.cfg.maxFrameBytes {
		full = c.sealLocked()
	}
	c.mu.Unlock()
	if full == nil {
		return nil
	}
	return c.enqueue(ctx, full)
}

// sealLocked takes the open frame for sending and opens a new one; nil when
// the frame is empty.
func (c *Client) sealLocked() *batch {
	if c.frame.Present() == 0 {
		return nil
	}
	b := &batch{frame: c.frame, done: make(chan struct{})}
	if n := len(c.free); n > 0 {
		c.frame, c.free = c.free[n-1], c.free[:n-1]
	} else {
		c.frame = otlpgo.NewBuilder()
	}
	return b
}

// recycle gives a sent frame's buffers back.
func (c *Client) recycle(f *otlpgo.Builder) {
	f.Reset()
	c.mu.Lock()
	if len(c.free) < 2 {
		c.free = append(c.free, f)
	}
	c.mu.Unlock()
}

// enqueue hands b to the sender, waiting for room until ctx ends.
func (c *Client) enqueue(ctx context.Context, b *batch) error {
	select {
	case c.queue <- b:
		return nil
	default:
	}
	select {
	case c.queue <- b:
		return nil
	case <-ctx.Done():
		if b.frame != nil {
			c.stats.drop(b.frame, otlpgo.AllSignals)
			c.recycle(b.frame)
		}
		return fmt.Errorf("fused: send queue full, frame dropped: %w", ctx.Err())
	}
}

// sendPending seals the open frame and waits until it and every frame
// queued before it have been sent (or given up on).
func (c *Client) sendPending(ctx context.Context) error {
	c.mu.Lock()
	b := c.sealLocked()
	c.mu.Unlock()
	if b == nil {
		b = &batch{done: make(chan struct{})} // a marker behind the frames already queued
	}
	if err := c.enqueue(ctx, b); err != nil {
		return err
	}
	select {
	case <-b.done:
		return b.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// exporterFlush is ForceFlush of an exporter: nothing to do while a Flush
// of the client is gathering the providers' data, else send what is pending.
func (c *Client) exporterFlush(ctx context.Context) error {
	c.mu.Lock()
	held, shut := c.holds > 0, c.shutdown
	c.mu.Unlock()
	if held || shut {
		return nil
	}
	return c.sendPending(ctx)
}

// Flush makes each provider export what it holds into the client, and then
// sends all of it in one request, and waits for the answer. With no
// providers it sends what the exporters have added so far.
func (c *Client) Flush(ctx context.Context, providers ...Flusher) error {
	c.mu.Lock()
	if c.shutdown {
		c.mu.Unlock()
		return ErrShutdown
	}
	c.holds++
	c.mu.Unlock()
	var errs []error
	for _, p := range providers {
		errs = append(errs, p.ForceFlush(ctx))
	}
	c.mu.Lock()
	c.holds--
	c.mu.Unlock()
	errs = append(errs, c.sendPending(ctx))
	return errors.Join(errs...)
}

// Shutdown shuts the providers down (each exports what it holds into the
// client), sends everything pending in one last request, and stops the
// client. Later exports fail with ErrShutdown. It is safe to call twice.
func (c *Client) Shutdown(ctx context.Context, providers ...Flusher) error {
	c.mu.Lock()
	if c.shutdown {
		c.mu.Unlock()
		return nil
	}
	c.holds++
	c.mu.Unlock()
	var errs []error
	for _, p := range providers {
		if s, ok := p.(shutdowner); ok {
			errs = append(errs, s.Shutdown(ctx))
		} else {
			errs = append(errs, p.ForceFlush(ctx))
		}
	}
	c.mu.Lock()
	c.holds--
	c.shutdown = true // from here on exports fail: nothing is added behind the last frame
	last := c.sealLocked()
	c.mu.Unlock()
	if last == nil {
		last = &batch{done: make(chan struct{})}
	}
	if err := c.enqueue(ctx, last); err != nil {
		errs = append(errs, err)
	} else {
		select {
		case <-last.done:
			errs = append(errs, last.err)
		case <-ctx.Done():
			errs = append(errs, ctx.Err())
		}
	}
	close(c.stop)
	c.stopped.Wait()
	return errors.Join(errs...)
}

// flushLoop sends the open frame once its first item has waited the flush
// interval, unless a Flush is gathering data.
func (c *Client) flushLoop() {
	defer c.stopped.Done()
	tick := time.NewTicker(max(c.cfg.flushInterval/4, time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-tick.C:
		}
		c.mu.Lock()
		var b *batch
		if c.holds == 0 && !c.shutdown && c.frame.Present() != 0 && time.Since(c.since) >= c.cfg.flushInterval {
			b = c.sealLocked()
		}
		c.mu.Unlock()
		if b != nil {
			select {
			case c.queue <- b:
			case <-c.stop:
				c.stats.drop(b.frame, otlpgo.AllSignals)
				return
			}
		}
	}
}

// Stats returns what the client has sent and lost so far.
func (c *Client) Stats() Stats { return c.stats.snapshot() }

// Stats counts the items of each signal: those the collector accepted,
// rejected for good, and those dropped (queue full, permanent errors,
// retries given up), and the requests made.
type Stats struct {
	// Requests counts POST requests made, retries included.
	Requests int64
	// Retries counts requests that were retries.
	Retries int64
	// Accepted, Rejected and Dropped count items by signal: traces (spans),
	// logs (records), metrics (data points).
	Accepted, Rejected, Dropped [3]int64
}

type stats struct {
	requests, retries           atomic.Int64
	accepted, rejected, dropped [3]atomic.Int64
}

func (s *stats) drop(f *otlpgo.Builder, which otlpgo.SignalSet) {
	for sig := range otlpgo.Signal(3) {
		if which.Has(sig) {
			s.dropped[sig].Add(int64(f.Items(sig)))
		}
	}
}

func (s *stats) snapshot() Stats {
	out := Stats{Requests: s.requests.Load(), Retries: s.retries.Load()}
	for i := range 3 {
		out.Accepted[i] = s.accepted[i].Load()
		out.Rejected[i] = s.rejected[i].Load()
		out.Dropped[i] = s.dropped[i].Load()
	}
	return out
}
