package fusionstore

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/metrics"
	"strconv"
	"sync"
	"time"
)

// memoryGuardInterval is how often a running query checks native memory.
// DuckDB's untracked aggregate states grow by about 1 GB/s on one core, so
// a query passes its limit by tens of MiB at most before it is interrupted.
const memoryGuardInterval = 10 * time.Millisecond

// memoryGuardHeadroom is what DuckDB holds beside a full buffer manager
// when idle (catalog, allocator caches); the guard allows it on top of
// memory_limit so a full buffer pool alone does not stop queries.
const memoryGuardHeadroom = 64 << 20

// nativeMemory returns the anonymous resident memory of the process that the
// Go runtime does not hold: DuckDB's. DuckDB keeps what its buffer manager
// tracks under memory_limit itself, but some query state (QUANTILE's value
// lists, for one) is allocated beside it, unaccounted; this sees both.
func nativeMemory() (int64, error) {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	anon := int64(-1)
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		if kb, ok := bytes.CutPrefix(sc.Bytes(), []byte("RssAnon:")); ok {
			n, err := strconv.ParseInt(string(bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSpace(kb), []byte("kB")))), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("reading RssAnon: %w", err)
			}
			anon = n << 10
		}
	}
	if anon < 0 {
		return 0, errors.New("no RssAnon in /proc/self/status")
	}
	samples := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(samples)
	goResident := int64(samples[0].Value.Uint64()) - int64(samples[1].Value.Uint64())
	return anon - goResident, nil
}

// queryMemory is the native memory of the store when its running queries
// began: the guard's baseline, taken when the first of them starts (the
// table data and allocator caches are there before any query, and are not
// the queries' to give back).
type queryMemory struct {
	mu       sync.Mutex
	running  int
	baseline int64
	known    bool
}

// enter counts a starting query and returns the baseline; ok is false when
// native memory cannot be read (the query then runs unwatched).
func (m *queryMemory) enter(native func() (int64, error)) (baseline int64, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.running == 0 {
		used, err := native()
		m.baseline, m.known = used, err == nil
	}
	m.running++
	return m.baseline, m.known
}

// leave counts a finished query.
func (m *queryMemory) leave() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.running--
}

// guardMemory interrupts a query (cancel with ErrMemoryLimit) when native
// memory passes baseline + memoryLimit + memoryGuardHeadroom while it runs; the returned stop ends the watch. Every
// query running at that moment is interrupted: each watches for itself.
// Where native memory cannot be read the query runs unwatched.
func guardMemory(ctx context.Context, cancel context.CancelCauseFunc, baseline, memoryLimit int64, native func() (int64, error)) (stop func()) {
	limit := baseline + memoryLimit + memoryGuardHeadroom
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		ticker := time.NewTicker(memoryGuardInterval)
		defer ticker.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-ticker.C:
				used, err := native()
				if err != nil {
					return
				}
				if used > limit {
					cancel(fmt.Errorf("%w: running queries took the store's native memory from %d MiB to %d MiB, past the limit (%d MiB) + %d MiB",
						ErrMemoryLimit, baseline>>20, used>>20, memoryLimit>>20, memoryGuardHeadroom>>20))
					return
				}
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}
