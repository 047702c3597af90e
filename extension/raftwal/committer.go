package raftwal

import (
	"errors"
	"time"

	"github.com/hashicorp/raft"
)

// applier hands an entry to Raft; *raft.Raft is one. Safe for concurrent use.
type applier interface {
	Apply(cmd []byte, timeout time.Duration) raft.ApplyFuture
}

// pendingBatch is one client batch waiting for its entry to commit.
type pendingBatch struct {
	ops  []kvOp
	done chan batchOutcome
}

// batchOutcome is the values of the batch's Get operations, or an error.
type batchOutcome struct {
	gets [][]byte
	err  error
}

// groupCommitter gathers client batches that arrive while an entry is in
// flight into the next entry, so concurrent writers share one Raft append
// (one fsync per replica). Each batch stays whole inside one entry, so it
// is still atomic on every replica.
type groupCommitter struct {
	raft       applier
	queue      chan *pendingBatch
	maxBatches int
	timeout    time.Duration
	stop       chan struct{}
	done       chan struct{}
	// observe is told each entry's commit latency and batch count.
	observe func(latency time.Duration, batches int)
}

// committerLanes is how many entries may be in flight at once; two keep the
// disk busy while the next group gathers.
const committerLanes = 2

func newGroupCommitter(r applier, maxBatches int, timeout time.Duration, observe func(time.Duration, int)) *groupCommitter {
	c := &groupCommitter{
		raft:       r,
		queue:      make(chan *pendingBatch, maxBatches*committerLanes),
		maxBatches: maxBatches,
		timeout:    timeout,
		stop:       make(chan struct{}),
		done:       make(chan struct{}),
		observe:    observe,
	}
	finished := make(chan struct{}, committerLanes)
	for range committerLanes {
		go func() { c.run(); finished <- struct{}{} }()
	}
	go func() {
		for range committerLanes {
			<-finished
		}
		close(c.done)
	}()
	return c
}

// commit submits one batch and waits until it is applied or fails.
func (c *groupCommitter) commit(ops []kvOp) batchOutcome {
	p := &pendingBatch{ops: ops, done: make(chan batchOutcome, 1)}
	select {
	case c.queue <- p:
	case <-c.stop:
		return batchOutcome{err: ErrClosed}
	}
	select {
	case out := <-p.done:
		return out
	case <-c.done:
		// The lanes drain the queue before exiting, so p.done has an answer
		// unless p was enqueued after the drain.
		select {
		case out := <-p.done:
			return out
		default:
			return batchOutcome{err: ErrClosed}
		}
	}
}

func (c *groupCommitter) run() {
	group := make([]*pendingBatch, 0, c.maxBatches)
	for {
		select {
		case p := <-c.queue:
			group = append(group[:0], p)
		case <-c.stop:
			c.failQueued()
			return
		}
	gather:
		for len(group) < c.maxBatches {
			select {
			case p := <-c.queue:
				group = append(group, p)
			default:
				break gather
			}
		}
		c.apply(group)
	}
}

func (c *groupCommitter) apply(group []*pendingBatch) {
	batches := make([][]kvOp, len(group))
	for i, p := range group {
		batches[i] = p.ops
	}
	start := time.Now()
	future := c.raft.Apply(appendEntry(nil, batches), c.timeout)
	err := future.Error()
	if c.observe != nil && err == nil {
		c.observe(time.Since(start), len(group))
	}
	var res applyResult
	if err == nil {
		res, _ = future.Response().(applyResult)
		err = res.err
	}
	err = retryableRaftError(err)
	for i, p := range group {
		out := batchOutcome{err: err}
		if err == nil && i < len(res.gets) {
			out.gets = res.gets[i]
		}
		p.done <- out
	}
}

func (c *groupCommitter) failQueued() {
	for {
		select {
		case p := <-c.queue:
			p.done <- batchOutcome{err: ErrClosed}
		default:
			return
		}
	}
}

// close stops the lanes; batches still queued fail with ErrClosed.
func (c *groupCommitter) close() {
	close(c.stop)
	<-c.done
	c.failQueued()
}

// retryableRaftError maps raft's leadership errors to ErrNotLeader (the
// caller retries elsewhere) and shutdown to ErrClosed.
func retryableRaftError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrLeadershipLost),
		errors.Is(err, raft.ErrLeadershipTransferInProgress):
		return errors.Join(ErrNotLeader, err)
	case errors.Is(err, raft.ErrRaftShutdown):
		return errors.Join(ErrClosed, err)
	}
	return err
}
