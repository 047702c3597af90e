package fusionprocessor

import (
	"encoding/binary"
	"strings"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

const (
	// maxIndexShards bounds the shards of the span index; each shard has its
	// own lock so concurrent batches rarely meet.
	maxIndexShards = 64
	// maxInterned bounds the table of shared service and operation strings;
	// the table is cleared when it fills.
	maxInterned = 8192
)

// spanKey identifies a span by the lower 64 bits of its trace id and its span
// id. Dropping the upper half lets a Datadog-style 64-bit trace id find the
// span; the upper half is kept in spanInfo.
type spanKey struct {
	traceLow uint64
	spanID   uint64
}

func newSpanKey(tid pcommon.TraceID, sid pcommon.SpanID) spanKey {
	return spanKey{traceLow: binary.BigEndian.Uint64(tid[8:]), spanID: binary.BigEndian.Uint64(sid[:])}
}

// shard picks the key's shard. The ids are mixed first so that ids that are
// not random (counters, Datadog decimals) still spread over every shard.
func (k spanKey) shard(n int) int {
	h := (k.spanID ^ k.traceLow) * 0x9e3779b97f4a7c15
	return int((h >> 32) % uint64(n))
}

// spanInfo is what a log learns from its span.
type spanInfo struct {
	service   string
	operation string
	traceHigh [8]byte
	status    ptrace.StatusCode
}

type ringSlot struct {
	key     spanKey
	expires int64
}

type indexEntry struct {
	info    spanInfo
	expires int64 // unix nanoseconds
}

// pendingLog is one log record waiting in the late-span buffer, as a
// plog.Logs of one resource, one scope and one record, with the next
// consumer of the pipeline it came from.
type pendingLog struct {
	key      spanKey
	deadline int64
	logs     plog.Logs
	next     consumer.Logs
	// client is the client info of the request the log came in, shared by
	// the logs of one batch.
	client *client.Info

	info  spanInfo
	found bool

	// prev and after link the shard's buffer in arrival order (which is
	// deadline order, the delay being fixed); sameSpan chains the logs
	// waiting for one span.
	prev, after *pendingLog
	sameSpan    *pendingLog
}

// indexShard holds a slice of the span index and the logs waiting for spans
// in that slice, under one lock: a span and a log looking for it always
// meet, whichever comes first.
type indexShard struct {
	mu      sync.Mutex
	entries map[spanKey]indexEntry
	// ring holds the keys in insertion order with their first expiry, so
	// eviction needs no map lookup; the oldest is evicted first (a re-sent
	// span keeps its first slot).
	ring       []ringSlot
	head, size int

	pending        map[spanKey]*pendingLog
	oldest, newest *pendingLog

	_ [64]byte // keep neighbouring shards' locks off one cache line
}

// spanIndex is the bounded, sharded index of recently seen spans together
// with the late-span buffer.
type spanIndex struct {
	shards      []indexShard
	ttl         int64
	maxBuffered int64
	buffered    atomic.Int64 // logs waiting or released but not yet forwarded
	stopping    atomic.Bool  // set by Shutdown: logs no longer wait
}

func newSpanIndex(maxEntries int, ttl int64, maxBuffered int) *spanIndex {
	n := min(maxIndexShards, maxEntries)
	perShard := maxEntries / n
	idx := &spanIndex{shards: make([]indexShard, n), ttl: ttl, maxBuffered: int64(maxBuffered)}
	for i := range idx.shards {
		s := &idx.shards[i]
		s.entries = make(map[spanKey]indexEntry)
		s.ring = make([]ringSlot, perShard)
		s.pending = make(map[spanKey]*pendingLog)
	}
	return idx
}

// len returns the number of indexed spans.
func (idx *spanIndex) len() int {
	n := 0
	for i := range idx.shards {
		s := &idx.shards[i]
		s.mu.Lock()
		n += len(s.entries)
		s.mu.Unlock()
	}
	return n
}

// interner shares equal service and operation names among the index's
// entries: the index holds one copy of each name instead of pinning the
// strings of every request it saw. One table for the whole index stays in
// cache; lookups take the read lock only.
type interner struct {
	mu    sync.RWMutex
	table map[string]string
}

func newInterner() *interner { return &interner{table: make(map[string]string)} }

// intern returns the shared copy of v, adding one when v is new.
func (n *interner) intern(v string) string {
	n.mu.RLock()
	c, ok := n.table[v]
	n.mu.RUnlock()
	if ok {
		return c
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if c, ok := n.table[v]; ok {
		return c
	}
	if len(n.table) >= maxInterned {
		clear(n.table)
	}
	c = strings.Clone(v)
	n.table[c] = c
	return c
}

// put indexes a span, whose info's strings the caller interned, and returns
// the chain of logs that were waiting for it, now marked found; the caller
// forwards them.
func (idx *spanIndex) put(key spanKey, info spanInfo, now int64) *pendingLog {
	s := &idx.shards[key.shard(len(idx.shards))]
	s.mu.Lock()
	defer s.mu.Unlock()
	entry := indexEntry{info: info, expires: now + idx.ttl}
	// One map operation tells a new key from a re-sent one: the map grows
	// only for a new key. A key is in the ring exactly while it is in the
	// map, so evicting from the head below never removes the key just put.
	held := len(s.entries)
	s.entries[key] = entry
	if len(s.entries) > held {
		// Expired entries at the head go first, then the oldest if full.
		for s.size > 0 {
			oldest := &s.ring[s.head]
			if oldest.expires > now && s.size < len(s.ring) {
				break
			}
			delete(s.entries, oldest.key)
			s.head++
			if s.head == len(s.ring) {
				s.head = 0
			}
			s.size--
		}
		s.ring[(s.head+s.size)%len(s.ring)] = ringSlot{key: key, expires: entry.expires}
		s.size++
	}

	waiting := s.pending[key]
	if waiting == nil {
		return nil
	}
	delete(s.pending, key)
	for p := waiting; p != nil; p = p.sameSpan {
		p.info, p.found = info, true
		s.unlink(p)
	}
	return waiting
}

// lookupOrWait returns the span's info when it is indexed and not expired.
// Otherwise, when wait is not nil and the buffer has room, it buffers the
// log wait makes until deadline and reports waiting; full reports a buffer
// with no room.
func (idx *spanIndex) lookupOrWait(key spanKey, now, deadline int64, wait func() *pendingLog) (info spanInfo, found, waiting, full bool) {
	s := &idx.shards[key.shard(len(idx.shards))]
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.entries[key]; ok && e.expires > now {
		return e.info, true, false, false
	}
	if wait == nil || idx.stopping.Load() {
		return info, false, false, false
	}
	if idx.buffered.Add(1) > idx.maxBuffered {
		idx.buffered.Add(-1)
		return info, false, false, true
	}
	p := wait()
	p.key, p.deadline = key, deadline
	if head := s.pending[key]; head == nil {
		s.pending[key] = p
	} else {
		last := head
		for last.sameSpan != nil {
			last = last.sameSpan
		}
		last.sameSpan = p
	}
	p.prev = s.newest
	if s.newest != nil {
		s.newest.after = p
	} else {
		s.oldest = p
	}
	s.newest = p
	return info, false, true, false
}

// unlink takes p out of the shard's arrival-order list.
func (s *indexShard) unlink(p *pendingLog) {
	if p.prev != nil {
		p.prev.after = p.after
	} else {
		s.oldest = p.after
	}
	if p.after != nil {
		p.after.prev = p.prev
	} else {
		s.newest = p.prev
	}
	p.prev, p.after = nil, nil
}

// removePending takes p out of its span's chain and the arrival list.
func (s *indexShard) removePending(p *pendingLog) {
	head := s.pending[p.key]
	if head == p {
		if p.sameSpan != nil {
			s.pending[p.key] = p.sameSpan
		} else {
			delete(s.pending, p.key)
		}
	} else {
		for q := head; q != nil; q = q.sameSpan {
			if q.sameSpan == p {
				q.sameSpan = p.sameSpan
				break
			}
		}
	}
	p.sameSpan = nil
	s.unlink(p)
}

// expired removes and returns the logs whose deadline is at or before now
// (all of them when now is maxInt64), in arrival order per shard.
func (idx *spanIndex) expired(now int64, out []*pendingLog) []*pendingLog {
	for i := range idx.shards {
		s := &idx.shards[i]
		s.mu.Lock()
		for s.oldest != nil && s.oldest.deadline <= now {
			p := s.oldest
			s.removePending(p)
			out = append(out, p)
		}
		s.mu.Unlock()
	}
	return out
}
