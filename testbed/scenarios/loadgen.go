package scenarios

import (
	"context"
	"fmt"
	"log"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/consumer/consumererror"

	"github.com/open-telemetry/opentelemetry-collector-contrib/testbed/testbed"
	"github.com/otelfusion/otelfusion/pkg/otlpgo"
)

// signalCounts is items per signal.
type signalCounts struct {
	Traces, Logs, Metrics uint64
}

func (c signalCounts) total() uint64 { return c.Traces + c.Logs + c.Metrics }

func (c signalCounts) minus(o signalCounts) signalCounts {
	return signalCounts{Traces: c.Traces - o.Traces, Logs: c.Logs - o.Logs, Metrics: c.Metrics - o.Metrics}
}

// countingLoad is a framework LoadGenerator that can tell its items sent
// apart by signal.
type countingLoad interface {
	testbed.LoadGenerator
	// SentBySignal returns the items handed to the collector so far.
	SentBySignal() signalCounts
	// Errors counts items whose send failed for good or ran out of retries.
	Errors() uint64
}

// signalLoad is the framework's ProviderSender for one signal.
type signalLoad struct {
	*testbed.ProviderSender
	signal string
}

func newSignalLoad(provider testbed.DataProvider, sender signalSender, signal string) (*signalLoad, error) {
	lg, err := testbed.NewLoadGenerator(provider, forSignal(sender, signal))
	if err != nil {
		return nil, err
	}
	return &signalLoad{ProviderSender: lg.(*testbed.ProviderSender), signal: signal}, nil
}

func (l *signalLoad) SentBySignal() signalCounts {
	n := l.DataItemsSent()
	switch l.signal {
	case "traces":
		return signalCounts{Traces: n}
	case "logs":
		return signalCounts{Logs: n}
	default:
		return signalCounts{Metrics: n}
	}
}

func (l *signalLoad) Errors() uint64 { return l.PermanentErrors() + l.NonPermanentErrors() }

// multiLoad runs several loads side by side as one: the three OTLP streams
// that carry the same traffic as one fused stream.
type multiLoad struct {
	loads []countingLoad
	// rates is the items per second of each load; Start's DataItemsPerSecond
	// is ignored.
	rates []int
}

func (m *multiLoad) Start(options testbed.LoadOptions) {
	for i, l := range m.loads {
		opts := options
		opts.DataItemsPerSecond = m.rates[i]
		l.Start(opts)
	}
}

func (m *multiLoad) Stop() {
	for _, l := range m.loads {
		l.Stop()
	}
}

func (m *multiLoad) IsReady() bool {
	for _, l := range m.loads {
		if !l.IsReady() {
			return false
		}
	}
	return true
}

func (m *multiLoad) DataItemsSent() uint64 { return m.SentBySignal().total() }

func (*multiLoad) IncDataItemsSent() {}

func (m *multiLoad) PermanentErrors() uint64 {
	var n uint64
	for _, l := range m.loads {
		n += l.PermanentErrors()
	}
	return n
}

func (m *multiLoad) Errors() uint64 {
	var n uint64
	for _, l := range m.loads {
		n += l.Errors()
	}
	return n
}

func (m *multiLoad) SentBySignal() signalCounts {
	var c signalCounts
	for _, l := range m.loads {
		s := l.SentBySignal()
		c.Traces += s.Traces
		c.Logs += s.Logs
		c.Metrics += s.Metrics
	}
	return c
}

func (m *multiLoad) GetStats() string {
	s := m.SentBySignal()
	return fmt.Sprintf("Sent: %d spans, %d logs, %d points", s.Traces, s.Logs, s.Metrics)
}

// fusedLoad sends one fused stream: every tick one frame with a batch of
// spans, one of log records and one of metric points. DataItemsPerSecond is
// the rate of each signal; ItemsPerBatch is the batch of each signal.
type fusedLoad struct {
	provider *fusionDataProvider
	sender   *fusedSender

	sent           [3]atomic.Uint64
	scratch        atomic.Uint64
	failed         atomic.Uint64
	permanentCount atomic.Uint64

	startedAt time.Time
	mu        sync.Mutex
	stop      chan struct{}
	stopOnce  sync.Once
	done      sync.WaitGroup
}

var _ countingLoad = (*fusedLoad)(nil)

func newFusedLoad(provider *fusionDataProvider, sender *fusedSender) *fusedLoad {
	provider.SetLoadGeneratorCounters(new(atomic.Uint64))
	return &fusedLoad{provider: provider, sender: sender, stop: make(chan struct{})}
}

func (l *fusedLoad) Start(options testbed.LoadOptions) {
	if options.ItemsPerBatch == 0 {
		options.ItemsPerBatch = 100
	}
	if options.MaxDelay == 0 {
		options.MaxDelay = 10 * time.Second
	}
	workers := max(options.Parallel, 1)
	l.mu.Lock()
	l.startedAt = time.Now()
	l.mu.Unlock()
	if err := l.sender.Start(); err != nil {
		log.Printf("cannot start fused sender: %v", err)
		return
	}
	framesPerSecond := float64(options.DataItemsPerSecond) / float64(options.ItemsPerBatch)
	tick := time.Duration(float64(time.Second) * float64(workers) / framesPerSecond)
	for range workers {
		l.done.Go(func() {
			ticker := time.NewTicker(tick)
			defer ticker.Stop()
			for {
				select {
				case <-ticker.C:
					l.sendOne(options.MaxDelay)
				case <-l.stop:
					return
				}
			}
		})
	}
}

func (l *fusedLoad) sendOne(maxDelay time.Duration) {
	req := otlpgo.Request{}
	req.Traces, _ = l.provider.GenerateTraces()
	req.Logs, _ = l.provider.GenerateLogs()
	req.Metrics, _ = l.provider.GenerateMetrics()
	counts := [3]int{req.Traces.SpanCount(), req.Logs.LogRecordCount(), req.Metrics.DataPointCount()}
	for i, n := range counts {
		l.sent[i].Add(uint64(n))
	}
	if err := l.sender.SendFused(context.Background(), req, maxDelay); err != nil {
		n := uint64(counts[0] + counts[1] + counts[2])
		l.failed.Add(n)
		if consumererror.IsPermanent(err) {
			l.permanentCount.Add(n)
		}
		log.Printf("fused send: %v", err)
	}
}

func (l *fusedLoad) Stop() {
	l.stopOnce.Do(func() {
		close(l.stop)
		l.done.Wait()
	})
}

func (l *fusedLoad) IsReady() bool {
	return (&testbed.ProviderSender{Sender: l.sender}).IsReady()
}

func (l *fusedLoad) SentBySignal() signalCounts {
	return signalCounts{Traces: l.sent[0].Load(), Logs: l.sent[1].Load(), Metrics: l.sent[2].Load()}
}

func (l *fusedLoad) DataItemsSent() uint64 { return l.SentBySignal().total() }

func (l *fusedLoad) IncDataItemsSent() { l.scratch.Add(1) }

func (l *fusedLoad) PermanentErrors() uint64 { return l.permanentCount.Load() }

func (l *fusedLoad) Errors() uint64 { return l.failed.Load() }

func (l *fusedLoad) GetStats() string {
	s := l.SentBySignal()
	l.mu.Lock()
	elapsed := time.Since(l.startedAt).Seconds()
	l.mu.Unlock()
	return fmt.Sprintf("Sent fused: %d spans, %d logs, %d points (%.0f items/s)",
		s.Traces, s.Logs, s.Metrics, float64(s.total())/max(elapsed, 1e-9))
}
