package otlpgo

import "math/bits"

// shortIndex maps strings of up to 16 bytes to their dictionary reference.
// Such a string is its length and two words, so the lookup hashes and
// compares integers: no hashing of bytes and no comparison against the
// dictionary. Short strings are most strings of telemetry (attribute values
// such as "GET", "200", "worker-3"), and many are made afresh for every
// item, so the address cache of dictWriter misses on them. Not safe for
// concurrent use.
type shortIndex struct {
	slots []shortSlot // open addressing; ref 0 marks a free slot
	n     int
}

type shortSlot struct {
	w0, w1 uint64
	len    uint32
	ref    uint32
}

const (
	maxShortLen   = 16
	minShortIndex = 256
)

// shortKey returns the words of s, which is 1 to 16 bytes long; together
// with the length they are s.
func shortKey(s string) (w0, w1 uint64) {
	switch {
	case len(s) >= 8:
		return le64(s), le64(s[len(s)-8:])
	case len(s) >= 4:
		return uint64(le32(s)), uint64(le32(s[len(s)-4:]))
	default:
		for i := 0; i < len(s); i++ {
			w0 = w0<<8 | uint64(s[i])
		}
		return w0, 0
	}
}

// le64 and le32 read s like binary.LittleEndian without copying s to bytes;
// the compiler merges the byte loads into one.
func le64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

func le32(s string) uint32 {
	_ = s[3]
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
}

func shortHash(w0, w1 uint64, n int) uint64 {
	hi, lo := bits.Mul64(w0^uint64(n)<<59, 0x9E3779B97F4A7C15)
	h := hi ^ lo ^ w1
	hi, lo = bits.Mul64(h, 0xBF58476D1CE4E5B9)
	return hi ^ lo
}

func (t *shortIndex) reset() {
	clear(t.slots)
	t.n = 0
}

// lookup returns the slot of s: its ref, or a free slot to put it in.
func (t *shortIndex) lookup(s string) *shortSlot {
	if len(t.slots) == 0 {
		t.slots = make([]shortSlot, minShortIndex)
	}
	w0, w1 := shortKey(s)
	mask := uint64(len(t.slots) - 1)
	for i := shortHash(w0, w1, len(s)) & mask; ; i = (i + 1) & mask {
		slot := &t.slots[i]
		if slot.ref == 0 {
			slot.w0, slot.w1, slot.len = w0, w1, uint32(len(s))
			return slot
		}
		if slot.w0 == w0 && slot.w1 == w1 && slot.len == uint32(len(s)) {
			return slot
		}
	}
}

// added records that the free slot from lookup now holds ref.
func (t *shortIndex) added(slot *shortSlot, ref uint64) {
	slot.ref = uint32(ref)
	t.n++
	if 2*t.n > len(t.slots) {
		t.grow()
	}
}

func (t *shortIndex) grow() {
	old := t.slots
	t.slots = make([]shortSlot, 2*len(old))
	mask := uint64(len(t.slots) - 1)
	for _, s := range old {
		if s.ref == 0 {
			continue
		}
		i := shortHash(s.w0, s.w1, int(s.len)) & mask
		for t.slots[i].ref != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = s
	}
}
