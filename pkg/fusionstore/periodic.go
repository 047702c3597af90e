package fusionstore

import (
	"context"
	"time"
)

// Periodic is a task run on an interval in its own goroutine until Stop.
type Periodic struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// startPeriodic runs task every interval; ctx ends when Stop is called.
func startPeriodic(interval time.Duration, task func(ctx context.Context)) *Periodic {
	ctx, cancel := context.WithCancel(context.Background())
	p := &Periodic{cancel: cancel, done: make(chan struct{})}
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

// Stop ends the loop and waits for a run in progress. Safe on nil.
func (p *Periodic) Stop() {
	if p == nil {
		return
	}
	p.cancel()
	<-p.done
}
