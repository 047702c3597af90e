package fusedexporter

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// errShutdown is returned to a push that arrives after the exporter stopped.
var errShutdown = errors.New("fused exporter is shut down")

// signal is one of the three pipelines a push comes from.
type signal uint8

const (
	signalTraces signal = iota
	signalLogs
	signalMetrics
	signalCount
)

// String returns the signal name used in messages and metric attributes.
func (s signal) String() string {
	switch s {
	case signalTraces:
		return "traces"
	case signalLogs:
		return "logs"
	case signalMetrics:
		return "metrics"
	default:
		return "unknown"
	}
}

// itemNoun names what a signal's items are, for error messages.
func (s signal) itemNoun() string {
	switch s {
	case signalTraces:
		return "spans"
	case signalLogs:
		return "log records"
	case signalMetrics:
		return "metric data points"
	default:
		return "items"
	}
}

// flushReason says why the coalescer sent what it had gathered.
type flushReason string

const (
	flushMaxItems   flushReason = "max_items"
	flushAllWaiting flushReason = "all_waiting"
	flushTimeout    flushReason = "timeout"
	flushShutdown   flushReason = "shutdown"
)

// A push moves waiting -> claimed when a fused request takes it, or
// waiting -> abandoned when its caller gives up first; never both.
const (
	pushWaiting int32 = iota
	pushClaimed
	pushAbandoned
)

// push is one pipeline's data waiting for the fused request that carries it.
// Exactly one of traces, logs, metrics is set, per signal; it is only read.
type push struct {
	signal  signal
	traces  ptrace.Traces
	logs    plog.Logs
	metrics pmetric.Metrics
	items   int

	state  atomic.Int32
	result chan error // buffered 1: the sender never blocks on a gone caller
}

func newPush(s signal, items int) *push {
	return &push{signal: s, items: items, result: make(chan error, 1)}
}

// sendFunc sends one flushed group of pushes and writes exactly one result
// to each push it claims. It runs on its own goroutine.
type sendFunc func(batch []*push, reason flushReason)

// coalescer gathers pushes from all signals and flushes them together when
// the first has waited flushTimeout, maxItems items are gathered, or every
// sender of one signal is waiting (more of it cannot come, so waiting longer
// would only slow that signal down).
type coalescer struct {
	flushTimeout time.Duration
	maxItems     int
	// sendersPerSignal is how many pushes of one signal can be in flight at
	// once (the queue's num_consumers); 0 when unknown.
	sendersPerSignal int
	send             sendFunc

	incoming chan *push
	stopping chan struct{}
	loopDone chan struct{}
	sends    sync.WaitGroup
	stopOnce sync.Once
}

func newCoalescer(flushTimeout time.Duration, maxItems, sendersPerSignal int, send sendFunc) *coalescer {
	return &coalescer{
		flushTimeout:     flushTimeout,
		maxItems:         maxItems,
		sendersPerSignal: sendersPerSignal,
		send:             send,
		incoming:         make(chan *push),
		stopping:         make(chan struct{}),
		loopDone:         make(chan struct{}),
	}
}

// start runs the gathering loop until stop.
func (c *coalescer) start() { go c.loop() }

// submit hands p to the loop and blocks until the fused request that carried
// it is answered, or ctx ends. It is safe for concurrent use.
func (c *coalescer) submit(ctx context.Context, p *push) error {
	select {
	case c.incoming <- p:
	case <-c.stopping:
		return errShutdown
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-p.result:
		return err
	case <-ctx.Done():
		if p.state.CompareAndSwap(pushWaiting, pushAbandoned) {
			return ctx.Err() // never sent; the flush will skip it
		}
		return errors.Join(errors.New("gave up waiting for the fused request carrying this push"), ctx.Err())
	}
}

func (c *coalescer) loop() {
	defer close(c.loopDone)
	var (
		batch   []*push
		items   int
		pushes  [signalCount]int
		timer   = time.NewTimer(time.Hour)
		timeout <-chan time.Time
	)
	timer.Stop()
	defer timer.Stop()
	flush := func(reason flushReason) {
		if len(batch) == 0 {
			return
		}
		gathered := batch
		batch, items, pushes, timeout = nil, 0, [signalCount]int{}, nil
		timer.Stop()
		c.sends.Go(func() { c.send(gathered, reason) })
	}
	for {
		select {
		case p := <-c.incoming:
			if len(batch) == 0 {
				timer.Reset(c.flushTimeout)
				timeout = timer.C
			}
			batch = append(batch, p)
			items += p.items
			pushes[p.signal]++
			switch {
			case items >= c.maxItems:
				flush(flushMaxItems)
			case c.sendersPerSignal > 0 && pushes[p.signal] >= c.sendersPerSignal:
				flush(flushAllWaiting)
			}
		case <-timeout:
			flush(flushTimeout)
		case <-c.stopping:
			flush(flushShutdown)
			return
		}
	}
}

// stop flushes what is gathered and waits for every fused request in flight.
// If ctx ends first, abort is called to cancel them, and stop still waits
// for their goroutines so none outlives the exporter.
func (c *coalescer) stop(ctx context.Context, abort func()) error {
	c.stopOnce.Do(func() { close(c.stopping) })
	<-c.loopDone
	sent := make(chan struct{})
	go func() {
		c.sends.Wait()
		close(sent)
	}()
	select {
	case <-sent:
		return nil
	case <-ctx.Done():
		abort()
		<-sent
		return ctx.Err()
	}
}

// claim keeps the pushes whose callers still wait, marking them as sent.
func claim(batch []*push) []*push {
	kept := batch[:0]
	for _, p := range batch {
		if p.state.CompareAndSwap(pushWaiting, pushClaimed) {
			kept = append(kept, p)
		}
	}
	return kept
}
