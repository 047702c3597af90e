package raftwal

import (
	"encoding/binary"
	"fmt"
	"slices"

	"go.opentelemetry.io/collector/extension/xextension/storage"
)

// A Raft entry carries one or more client batches (group commit); each batch
// is applied whole, in order, on every replica. Layout (see README "Entry
// format"):
//
//	entry := version:u8 batchCount:uvarint batch*
//	batch := opCount:uvarint op*
//	op    := type:u8 keyLen:uvarint key [valueLen:uvarint value]   // value only for set
const entryVersion = 1

// kvOp is one operation of a batch, with the key already namespaced.
type kvOp struct {
	typ   storage.OpType
	key   string
	value []byte
}

// appendEntry encodes batches as one Raft entry, appended to dst.
// entrySize is the encoded size of batches.
func entrySize(batches [][]kvOp) int {
	n := 1 + uvarintLen(uint64(len(batches)))
	for _, batch := range batches {
		n += uvarintLen(uint64(len(batch)))
		for _, op := range batch {
			n += 1 + uvarintLen(uint64(len(op.key))) + len(op.key)
			if op.typ == storage.Set {
				n += uvarintLen(uint64(len(op.value))) + len(op.value)
			}
		}
	}
	return n
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

func appendEntry(dst []byte, batches [][]kvOp) []byte {
	// Grown once to the exact size: the values are whole queue items, and
	// appending to a slice that doubles copies them again at every step.
	dst = slices.Grow(dst, entrySize(batches))
	dst = append(dst, entryVersion)
	dst = binary.AppendUvarint(dst, uint64(len(batches)))
	for _, batch := range batches {
		dst = binary.AppendUvarint(dst, uint64(len(batch)))
		for _, op := range batch {
			dst = append(dst, byte(op.typ))
			dst = binary.AppendUvarint(dst, uint64(len(op.key)))
			dst = append(dst, op.key...)
			if op.typ == storage.Set {
				dst = binary.AppendUvarint(dst, uint64(len(op.value)))
				dst = append(dst, op.value...)
			}
		}
	}
	return dst
}

// cursor reads an entry front to back with a sticky error: check err once
// at the end.
type cursor struct {
	buf []byte
	off int
	err error
}

func (c *cursor) fail(format string, args ...any) {
	if c.err == nil {
		c.err = fmt.Errorf("%w at offset %d: %s", ErrCorruptEntry, c.off, fmt.Sprintf(format, args...))
	}
}

func (c *cursor) byte() byte {
	if c.err != nil {
		return 0
	}
	if c.off >= len(c.buf) {
		c.fail("want 1 byte, have 0")
		return 0
	}
	b := c.buf[c.off]
	c.off++
	return b
}

func (c *cursor) uvarint() uint64 {
	if c.err != nil {
		return 0
	}
	v, n := binary.Uvarint(c.buf[c.off:])
	if n <= 0 {
		c.fail("bad uvarint")
		return 0
	}
	// Only the shortest form is valid: an entry decodes to exactly one
	// encoding, so a replica can never hold other bytes for the same batch.
	if n > 1 && c.buf[c.off+n-1] == 0 {
		c.fail("uvarint at %d is not in its shortest form", c.off)
		return 0
	}
	c.off += n
	return v
}

// bytes returns the next n bytes without copying; n is checked against the
// bytes left before anything is sliced.
func (c *cursor) bytes(n uint64) []byte {
	if c.err != nil {
		return nil
	}
	if n > uint64(len(c.buf)-c.off) {
		c.fail("length %d exceeds the %d bytes left", n, len(c.buf)-c.off)
		return nil
	}
	b := c.buf[c.off : c.off+int(n)]
	c.off += int(n)
	return b
}

// count reads a count and checks that at least min bytes per element remain.
func (c *cursor) count(minPerItem int) int {
	n := c.uvarint()
	if c.err == nil && n > uint64(len(c.buf)-c.off)/uint64(minPerItem) {
		c.fail("count %d exceeds the %d bytes left", n, len(c.buf)-c.off)
		return 0
	}
	return int(n)
}

// sharedValueMin is the size from which a decoded value aliases the entry
// instead of being copied. Raft hands every entry's data to the FSM once and
// never writes to it again (the leader's is the buffer appendEntry built;
// raft-wal and the network transport decode into fresh buffers), so a queue
// item need not be copied a second time; small values (indexes) are copied,
// so they do not keep a whole entry of items alive after those are deleted.
const sharedValueMin = 4 << 10

// decodeEntry decodes an entry. Values of sharedValueMin bytes or more alias
// data, which the caller must not modify afterwards.
func decodeEntry(data []byte) ([][]kvOp, error) {
	c := &cursor{buf: data}
	if v := c.byte(); c.err == nil && v != entryVersion {
		c.fail("unknown entry version %d", v)
	}
	batches := make([][]kvOp, c.count(1))
	for i := range batches {
		ops := make([]kvOp, c.count(2))
		for j := range ops {
			op := &ops[j]
			op.typ = storage.OpType(c.byte())
			op.key = string(c.bytes(c.uvarint()))
			switch op.typ {
			case storage.Get, storage.Delete:
			case storage.Set:
				op.value = c.bytes(c.uvarint())
				if len(op.value) < sharedValueMin {
					op.value = append([]byte{}, op.value...)
				}
			default:
				c.fail("unknown op type %d", op.typ)
			}
			if c.err != nil {
				return nil, c.err
			}
		}
		batches[i] = ops
	}
	if c.err == nil && c.off != len(c.buf) {
		c.fail("%d trailing bytes", len(c.buf)-c.off)
	}
	if c.err != nil {
		return nil, c.err
	}
	return batches, nil
}
