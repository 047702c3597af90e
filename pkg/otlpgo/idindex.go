package otlpgo

import "math/bits"

// idIndex maps 64-bit keys (trace and span ids) to positions. It does what a
// map[uint64]int would for the encoder, without the map's hashing and
// bookkeeping, which dominated encoding traces. Not safe for concurrent use.
type idIndex struct {
	keys  []uint64
	slots []uint32 // position + 1; 0 marks a free slot
	n     int
	shift uint // 64 - log2(len(slots))
}

const minIDIndex = 256

func (t *idIndex) reset() {
	clear(t.slots)
	t.n = 0
}

func (t *idIndex) slot(key uint64) uint64 {
	return (key * 0x9E3779B97F4A7C15) >> t.shift // Fibonacci hashing
}

// get returns the position stored for key.
func (t *idIndex) get(key uint64) (int, bool) {
	if t.n == 0 {
		return 0, false
	}
	mask := uint64(len(t.slots) - 1)
	for i := t.slot(key); ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == 0 {
			return 0, false
		}
		if t.keys[i] == key {
			return int(s - 1), true
		}
	}
}

// add stores pos for key unless key is there already; the first one stays.
func (t *idIndex) add(key uint64, pos int) {
	if 2*(t.n+1) > len(t.slots) {
		t.grow()
	}
	mask := uint64(len(t.slots) - 1)
	for i := t.slot(key); ; i = (i + 1) & mask {
		if t.slots[i] == 0 {
			t.keys[i], t.slots[i] = key, uint32(pos)+1
			t.n++
			return
		}
		if t.keys[i] == key {
			return
		}
	}
}

func (t *idIndex) grow() {
	size := max(minIDIndex, 2*len(t.slots))
	oldKeys, oldSlots := t.keys, t.slots
	t.keys, t.slots = make([]uint64, size), make([]uint32, size)
	t.shift = uint(64 - bits.TrailingZeros(uint(size)))
	t.n = 0
	for i, s := range oldSlots {
		if s != 0 {
			t.add(oldKeys[i], int(s-1))
		}
	}
}
