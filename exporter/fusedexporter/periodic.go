package fusedexporter

import (
	"context"
	"time"
)

// periodic is a task run on an interval in its own goroutine until stop.
type periodic struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// startPeriodic runs task every interval; ctx ends when stop is called.
func startPeriodic(interval time.Duration, task func(ctx context.Context)) *periodic {
	ctx, cancel := context.WithCancel(context.Background())
	p := &periodic{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		ticker := time.NewTicker(interval)
		defer ticker.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
				task(ctx)
			}
		}
	}()
	return p
}

// stop ends the loop and waits for a run in progress. Safe on nil.
func (p *periodic) stop() {
	if p == nil {
		return
	}
	p.cancel()
	<-p.done
}
