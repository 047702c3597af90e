package hcmetric

import (
	"hash/maphash"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
)

// numShards splits a series table so that creating series in different
// shards touches different memory; a power of two.
const numShards = 64

// overflowAttrs mark the series that takes every update once an instrument
// holds its limit of series, as the OpenTelemetry specification names it.
var overflowAttrs = attribute.NewSet(attribute.Bool("otel.metric.overflow", true))

var seed = maphash.MakeSeed()

// table maps attribute sets to series without locks: each shard is an
// open-addressing array of pointers, read with atomic loads and filled with
// compare-and-swap. Its size is fixed when the instrument is made, from the
// series limit, so memory is bounded: a set that finds the limit reached
// (or, under an unlucky hash, its shard full) goes to the overflow series.
type table[S any] struct {
	shards   [numShards]shard[S]
	limit    int64
	count    atomic.Int64
	overflow *entry[S]
	newValue func() *S
}

type shard[S any] struct {
	slots []atomic.Pointer[entry[S]]
	mask  uint64
	_     [40]byte // keep shards' headers on their own cache lines
}

// entry is one series: its attribute set and its value.
type entry[S any] struct {
	hash  uint64
	key   attribute.Distinct
	attrs attribute.Set
	value S
}

func newTable[S any](limit int, newValue func() *S) *table[S] {
	t := &table[S]{limit: int64(limit), newValue: newValue}
	perShard := 16
	for perShard < 2*limit/numShards+16 {
		perShard <<= 1
	}
	for i := range t.shards {
		t.shards[i].slots = make([]atomic.Pointer[entry[S]], perShard)
		t.shards[i].mask = uint64(perShard - 1)
	}
	t.overflow = t.makeEntry(overflowAttrs, 0)
	return t
}

func (t *table[S]) makeEntry(attrs attribute.Set, hash uint64) *entry[S] {
	e := &entry[S]{hash: hash, key: attrs.Equivalent(), attrs: attrs}
	if t.newValue != nil {
		e.value = *t.newValue()
	}
	return e
}

// get returns the series of attrs, making it if it is new.
func (t *table[S]) get(attrs *attribute.Set) *S {
	key := attrs.Equivalent()
	h := maphash.Comparable(seed, key)
	sh := &t.shards[h>>(64-6)]
	i := h & sh.mask
	for range len(sh.slots) {
		e := sh.slots[i].Load()
		if e == nil {
			if t.count.Add(1) > t.limit {
				t.count.Add(-1)
				return &t.overflow.value
			}
			fresh := t.makeEntry(*attrs, h)
			if sh.slots[i].CompareAndSwap(nil, fresh) {
				return &fresh.value
			}
			t.count.Add(-1) // another goroutine filled the slot first
			e = sh.slots[i].Load()
		}
		if e.hash == h && e.key == key {
			return &e.value
		}
		i = (i + 1) & sh.mask
	}
	return &t.overflow.value
}

// each calls f for every series, the overflow series last if it was used.
func (t *table[S]) each(f func(attrs attribute.Set, v *S), overflowUsed func(v *S) bool) {
	for i := range t.shards {
		for j := range t.shards[i].slots {
			if e := t.shards[i].slots[j].Load(); e != nil {
				f(e.attrs, &e.value)
			}
		}
	}
	if overflowUsed(&t.overflow.value) {
		f(t.overflow.attrs, &t.overflow.value)
	}
}

// len returns the number of series, the overflow series not counted.
func (t *table[S]) len() int { return int(t.count.Load()) }
