package otlpgo

import (
	"math/bits"
	"unsafe"
)

// shapeCache finds the shape of a map by the addresses of its key strings:
// maps made by one piece of code share their key strings (literals, or
// strings decoded from one dictionary), so most maps are found without a
// dictionary lookup per key or hashing the shape's bytes. A map whose keys
// are new strings misses and takes the slow path in sectionWriter.attrs.
// Addresses are unique for the frame: the request holds its strings until
// AppendFrame returns, and the cache is reset with every section. Not safe
// for concurrent use.
type shapeCache struct {
	slots []shapeSlot // open addressing; ref 0 marks a free slot
	sigs  []keySig    // the signatures of the cached maps, back to back
	n     int
}

// keySig is one entry of a map as the cache sees it.
type keySig struct {
	data uintptr // address of the key's bytes
	len  int
	tag  valueTag
}

type shapeSlot struct {
	hash       uint64
	start, end uint32 // the map's keySigs in sigs
	ref        uint64
}

const minShapeCache = 64

func (c *shapeCache) reset() {
	clear(c.slots)
	c.sigs = c.sigs[:0]
	c.n = 0
}

func sigOf(k string, tag valueTag) keySig {
	return keySig{data: uintptr(unsafe.Pointer(unsafe.StringData(k))), len: len(k), tag: tag}
}

// hashSigs mixes the signatures of one map into 64 bits.
func hashSigs(sigs []keySig) uint64 {
	h := uint64(len(sigs))
	for _, s := range sigs {
		hi, lo := bits.Mul64(h^uint64(s.data), 0x9E3779B97F4A7C15)
		h = hi ^ lo ^ uint64(s.len)<<8 ^ s.tag
	}
	hi, lo := bits.Mul64(h, 0xBF58476D1CE4E5B9)
	return hi ^ lo
}

func sameSigs(a, b []keySig) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// get returns the shape ref cached for sigs, or 0.
func (c *shapeCache) get(sigs []keySig, h uint64) uint64 {
	if c.n == 0 {
		return 0
	}
	mask := uint64(len(c.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := &c.slots[i]
		if s.ref == 0 {
			return 0
		}
		if s.hash == h && sameSigs(c.sigs[s.start:s.end], sigs) {
			return s.ref
		}
	}
}

// add caches ref for sigs, which get did not find.
func (c *shapeCache) add(sigs []keySig, h uint64, ref uint64) {
	if 2*(c.n+1) > len(c.slots) {
		c.grow()
	}
	start := uint32(len(c.sigs))
	c.sigs = append(c.sigs, sigs...)
	c.insert(shapeSlot{hash: h, start: start, end: uint32(len(c.sigs)), ref: ref})
	c.n++
}

func (c *shapeCache) insert(slot shapeSlot) {
	mask := uint64(len(c.slots) - 1)
	i := slot.hash & mask
	for c.slots[i].ref != 0 {
		i = (i + 1) & mask
	}
	c.slots[i] = slot
}

func (c *shapeCache) grow() {
	old := c.slots
	c.slots = make([]shapeSlot, max(minShapeCache, 2*len(old)))
	for _, s := range old {
		if s.ref != 0 {
			c.insert(s)
		}
	}
}
