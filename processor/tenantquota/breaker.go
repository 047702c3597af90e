package tenantquota

import (
	"time"
)

// breakerState is whether a tenant is in degrade mode.
type breakerState int

const (
	// breakerClosed is normal mode: quotas only.
	breakerClosed breakerState = iota
	// breakerOpen is degrade mode: sampled data plus summary metrics.
	breakerOpen
)

func (s breakerState) String() string {
	if s == breakerOpen {
		return "open"
	}
	return "closed"
}

// breaker opens after openSamples consecutive load ratios above openRatio and
// closes after closeSamples consecutive ratios below closeRatio. The two
// thresholds and the streaks give it hysteresis: a load that wavers around
// one threshold never completes a streak. Not safe for concurrent use.
type breaker struct {
	openRatio, closeRatio     float64
	openSamples, closeSamples int

	state  breakerState
	streak int
	since  time.Time // when state was entered
}

func newBreaker(cfg BreakerConfig) breaker {
	return breaker{
		openRatio:    cfg.OpenRatio,
		closeRatio:   cfg.CloseRatio,
		openSamples:  samplesFor(cfg.OpenAfter, cfg.Bucket),
		closeSamples: samplesFor(cfg.CloseAfter, cfg.Bucket),
	}
}

// samplesFor is how many whole buckets cover d.
func samplesFor(d, bucket time.Duration) int {
	return int((d + bucket - 1) / bucket)
}

// observe takes the ratio of one completed bucket ending at end and reports
// whether the state changed.
func (b *breaker) observe(ratio float64, end time.Time) bool {
	switch b.state {
	case breakerClosed:
		if ratio > b.openRatio {
			b.streak++
		} else {
			b.streak = 0
		}
		if b.streak >= b.openSamples {
			b.state, b.streak, b.since = breakerOpen, 0, end
			return true
		}
	case breakerOpen:
		if ratio < b.closeRatio {
			b.streak++
		} else {
			b.streak = 0
		}
		if b.streak >= b.closeSamples {
			b.state, b.streak, b.since = breakerClosed, 0, end
			return true
		}
	}
	return false
}

// signalLoad is what one signal offered in the current bucket.
type signalLoad struct {
	items, bytes int64
}

// loadMeter sums offered load in fixed buckets aligned to the clock, and
// turns each completed bucket into a ratio of offered load to quota. Not safe
// for concurrent use.
type loadMeter struct {
	bucket time.Duration
	// maxGap bounds the empty buckets replayed after a long idle time: more
	// than a full streak of them cannot change the outcome.
	maxGap int

	start   time.Time // start of the current bucket; zero before the first use
	current [numSignals]signalLoad
	// last is the offered items per second of the last completed bucket.
	last [numSignals]float64
}

func newLoadMeter(cfg BreakerConfig) loadMeter {
	return loadMeter{
		bucket: cfg.Bucket,
		maxGap: max(samplesFor(cfg.OpenAfter, cfg.Bucket), samplesFor(cfg.CloseAfter, cfg.Bucket)) + 1,
	}
}

// advance closes every bucket that ended by now, calling complete with each
// one's offered load and end time, oldest first.
func (m *loadMeter) advance(now time.Time, complete func(load [numSignals]signalLoad, end time.Time)) {
	if m.start.IsZero() {
		m.start = now.Truncate(m.bucket)
		return
	}
	if now.Before(m.start.Add(m.bucket)) {
		return
	}
	elapsed := int(now.Sub(m.start) / m.bucket)
	if elapsed > m.maxGap {
		// Replay only the last maxGap buckets; the first of them carries
		// what the current bucket held.
		m.start = m.start.Add(time.Duration(elapsed-m.maxGap) * m.bucket)
		elapsed = m.maxGap
	}
	for range elapsed {
		end := m.start.Add(m.bucket)
		for s := range m.current {
			m.last[s] = float64(m.current[s].items) / m.bucket.Seconds()
		}
		complete(m.current, end)
		m.current = [numSignals]signalLoad{}
		m.start = end
	}
}

// add counts offered items and bytes of one signal in the current bucket.
func (m *loadMeter) add(s signal, items, bytes int) {
	m.current[s].items += int64(items)
	m.current[s].bytes += int64(bytes)
}

// loadRatio is the highest offered/quota ratio of one bucket over signals,
// items and bytes; unlimited quotas do not count.
func loadRatio(load [numSignals]signalLoad, limits *LimitsConfig, bucket time.Duration) float64 {
	secs := bucket.Seconds()
	ratio := 0.0
	for s := range numSignals {
		q := limits.quota(signal(s))
		if q.ItemsPerSecond > 0 {
			ratio = max(ratio, float64(load[s].items)/(q.ItemsPerSecond*secs))
		}
		if q.BytesPerSecond > 0 {
			ratio = max(ratio, float64(load[s].bytes)/(q.BytesPerSecond*secs))
		}
	}
	return ratio
}
