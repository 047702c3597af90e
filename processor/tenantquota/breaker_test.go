package tenantquota

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelfusion/otelfusion/internal/fusiontest"
)

// breakerHarness drives one tenant's offered load bucket by bucket on a fake
// clock: quota 100 spans/s, 10 s buckets, so 1000 spans per bucket is ratio 1.
type breakerHarness struct {
	t     *testing.T
	p     *quotaProcessor
	clock *fusiontest.Clock
}

const harnessBucket = 10 * time.Second

func newBreakerHarness(t *testing.T) *breakerHarness {
	cfg := testConfig()
	cfg.Defaults.Traces = SignalQuota{ItemsPerSecond: 100}
	cfg.Breaker.Bucket = harnessBucket
	cfg.Breaker.OpenAfter = 30 * time.Second  // 3 buckets
	cfg.Breaker.CloseAfter = 50 * time.Second // 5 buckets
	clock := newFakeClock()
	return &breakerHarness{t: t, p: newTestProcessor(t, cfg, clock), clock: clock}
}

// bucket offers ratio × quota in the current bucket, then moves to the
// start of the next bucket, which closes this one.
func (h *breakerHarness) bucket(ratio float64) {
	h.t.Helper()
	ts := h.p.tenant("a", h.clock.Now())
	ts.mu.Lock()
	h.p.advance(ts, h.clock.Now())
	ts.meter.add(signalTraces, int(ratio*1000+0.5), 0)
	ts.mu.Unlock()
	h.clock.Advance(harnessBucket)
	h.p.tick(h.clock.Now())
}

func (h *breakerHarness) state() breakerState {
	ts := h.p.tenant("a", h.clock.Now())
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.breaker.state
}

func (h *breakerHarness) run(ratios ...float64) {
	h.t.Helper()
	for _, r := range ratios {
		h.bucket(r)
	}
}

func repeat(r float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = r
	}
	return out
}

func TestBreakerTransitions(t *testing.T) {
	tests := []struct {
		name   string
		ratios []float64
		want   breakerState
	}{
		{"just above open_ratio, one bucket short of open_after", repeat(1.201, 2), breakerClosed},
		{"just above open_ratio for exactly open_after", repeat(1.201, 3), breakerOpen},
		{"exactly at open_ratio never opens", repeat(1.2, 20), breakerClosed},
		{"between the ratios never opens", repeat(1.0, 20), breakerClosed},
		{"streak broken by one bucket at open_ratio", []float64{1.5, 1.5, 1.2, 1.5, 1.5}, breakerClosed},
		{"flapping above and below open_ratio", []float64{1.5, 1.5, 1.0, 1.5, 1.5, 1.1, 1.5, 1.5, 0.9, 1.5, 1.5}, breakerClosed},
		{"open, then just below close_ratio one bucket short", append(repeat(2, 3), repeat(0.799, 4)...), breakerOpen},
		{"open, then just below close_ratio for exactly close_after", append(repeat(2, 3), repeat(0.799, 5)...), breakerClosed},
		{"open, exactly at close_ratio never closes", append(repeat(2, 3), repeat(0.8, 20)...), breakerOpen},
		{"open, between the ratios stays open", append(repeat(2, 3), repeat(1.0, 20)...), breakerOpen},
		{"open, flapping around close_ratio stays open",
			append(repeat(2, 3), 0.5, 0.5, 0.5, 0.5, 0.9, 0.5, 0.5, 0.5, 0.5, 0.85, 0.1, 0.1, 0.1, 0.1), breakerOpen},
		{"open, closed, opened again", append(append(repeat(2, 3), repeat(0, 5)...), repeat(2, 3)...), breakerOpen},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newBreakerHarness(t)
			h.run(tt.ratios...)
			assert.Equal(t, tt.want, h.state())
		})
	}
}

// TestBreakerOpensAtTheInstant checks the time, not only the bucket count:
// the breaker opens when the open_after-th bucket ends, not a moment before.
func TestBreakerOpensAtTheInstant(t *testing.T) {
	h := newBreakerHarness(t)
	start := h.clock.Now()
	ts := h.p.tenant("a", start)
	for range 3 {
		ts.mu.Lock()
		h.p.advance(ts, h.clock.Now())
		ts.meter.add(signalTraces, 2000, 0)
		ts.mu.Unlock()
		h.clock.Advance(harnessBucket - time.Nanosecond)
		h.p.tick(h.clock.Now())
		h.clock.Advance(time.Nanosecond)
		if h.clock.Now().Sub(start) < 30*time.Second {
			h.p.tick(h.clock.Now())
		}
	}
	ts.mu.Lock()
	assert.Equal(t, breakerClosed, ts.breaker.state, "open_after has not passed yet")
	ts.mu.Unlock()
	h.p.tick(h.clock.Now())
	ts.mu.Lock()
	defer ts.mu.Unlock()
	assert.Equal(t, breakerOpen, ts.breaker.state)
	assert.Equal(t, start.Add(30*time.Second), ts.breaker.since)
}

// TestBreakerClosesWhenIdle: a tenant that stops sending closes its breaker
// from the tick alone.
func TestBreakerClosesWhenIdle(t *testing.T) {
	h := newBreakerHarness(t)
	h.run(repeat(3, 3)...)
	require.Equal(t, breakerOpen, h.state())
	h.clock.Advance(40 * time.Second)
	h.p.tick(h.clock.Now())
	assert.Equal(t, breakerOpen, h.state(), "4 idle buckets of the 5 needed")
	h.clock.Advance(10 * time.Second)
	h.p.tick(h.clock.Now())
	assert.Equal(t, breakerClosed, h.state())
	// A very long gap replays a bounded number of buckets.
	h.run(repeat(3, 3)...)
	require.Equal(t, breakerOpen, h.state())
	h.clock.Advance(1000 * time.Hour)
	h.p.tick(h.clock.Now())
	assert.Equal(t, breakerClosed, h.state())
}

// TestBreakerCountsRefusedLoad: offered load includes refused requests, so a
// tenant hammering its quota opens the breaker even though little is accepted.
func TestBreakerCountsRefusedLoad(t *testing.T) {
	h := newBreakerHarness(t)
	ctx := tenantContext("a")
	for range 3 {
		for range 20 {
			_, _ = h.p.processTraces(ctx, spans(100)) // 2000 offered per bucket, ratio 2
		}
		h.clock.Advance(harnessBucket)
		h.p.tick(h.clock.Now())
	}
	assert.Equal(t, breakerOpen, h.state())
	v, ok := h.p.view("a")
	require.True(t, ok)
	assert.Equal(t, "open", v.Breaker)
	assert.Positive(t, v.Refused["traces"])
	assert.InDelta(t, 2.0, v.LoadRatio, 1e-9)
}
