package otlpgo

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"unsafe"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/xpdata"
)

// sectionReader reads one signal section from its six streams. Its error is
// sticky: after the first failure every read returns a zero value, so the
// signal decoders read straight through and finish checks once.
type sectionReader struct {
	section string
	streams [numStreams]cursor
	st      *decodeState
	err     *DecodeError

	prevDouble uint64           // bits of the last double read (xf64)
	lastInt    map[string]int64 // v2: the last int value of each metric name

	spans   []ptrace.Span // spans of a traces section, by index
	parents []parentRef   // parents written as distances, set at the end
	shapes  []*shape      // map shapes in order of first use

	// builders build the maps being read, by nesting depth (attrs).
	builders []*xpdata.MapBuilder

	noSpanIDRefs bool   // a traces section: value tag valueSpanIDHex is malformed
	hexArena     []byte // backs the strings made by hexString

	// Scratch for slices that pdata copies in FromRaw.
	uint64Scratch  []uint64
	float64Scratch []float64
}

// parentRef says that span child has the span id of span parent as parent.
type parentRef struct {
	child  int
	parent int64
}

func (st *decodeState) newSectionReader(tag sectionTag, c cursor) (*sectionReader, error) {
	r := &sectionReader{section: tag.String(), st: st, noSpanIDRefs: tag == sectionTraces}
	var lens [numStreams]uint64
	total := uint64(0)
	for i := range lens {
		l, ok := c.uvarint()
		if !ok {
			return nil, c.fail(r.section, streamNames[i]+" stream length")
		}
		lens[i] = l
		total += min(l, math.MaxUint32) // sum without overflow; each is bounded below
	}
	if total > uint64(c.left()) {
		return nil, &DecodeError{Section: r.section, Offset: c.offset(), Err: ErrTruncated,
			Detail: fmt.Sprintf("streams declare %d bytes, %d left", total, c.left())}
	}
	if total < uint64(c.left()) {
		return nil, &DecodeError{Section: r.section, Offset: c.offset() + int(total), Err: ErrTrailingBytes,
			Detail: fmt.Sprintf("%d bytes after the last stream", uint64(c.left())-total)}
	}
	for i, l := range lens {
		r.streams[i] = cursor{buf: c.buf[c.pos : c.pos+int(l)], base: c.offset()}
		c.pos += int(l)
	}
	return r, nil
}

// finish returns the sticky error, or ErrTrailingBytes if a stream has bytes
// that nothing read.
func (r *sectionReader) finish() error {
	if r.err != nil {
		return r.err
	}
	for i := range r.streams {
		if c := &r.streams[i]; c.left() > 0 {
			return &DecodeError{Section: r.section, Offset: c.offset(), Err: ErrTrailingBytes,
				Detail: fmt.Sprintf("%d bytes left in the %s stream", c.left(), streamNames[i])}
		}
	}
	return nil
}

func (r *sectionReader) fail(c *cursor, sentinel error, format string, args ...any) {
	if r.err != nil {
		return
	}
	r.err = &DecodeError{Section: r.section, Offset: c.offset(), Err: sentinel, Detail: fmt.Sprintf(format, args...)}
	r.stop()
}

// stop makes every later read see an empty stream.
func (r *sectionReader) stop() {
	for i := range r.streams {
		r.streams[i].buf = r.streams[i].buf[:r.streams[i].pos]
	}
}

func (r *sectionReader) uvarintFrom(stream int) uint64 {
	c := &r.streams[stream]
	if c.pos < len(c.buf) && c.buf[c.pos] < 0x80 {
		v := uint64(c.buf[c.pos])
		c.pos++
		return v
	}
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(c.buf[c.pos:])
	if n <= 0 {
		if n == 0 {
			r.fail(c, ErrTruncated, "%s stream ends inside a varint", streamNames[stream])
		} else {
			r.fail(c, ErrMalformed, "varint overflows 64 bits in the %s stream", streamNames[stream])
		}
		return 0
	}
	c.pos += n
	return v
}

func (r *sectionReader) varintFrom(stream int) int64 {
	u := r.uvarintFrom(stream)
	return int64(u>>1) ^ -int64(u&1)
}

func (r *sectionReader) uvarint() uint64 { return r.uvarintFrom(streamStruct) }
func (r *sectionReader) varint() int64   { return r.varintFrom(streamStruct) }

// uint32Value reads a uvarint that pdata holds in 32 bits.
func (r *sectionReader) uint32Value(what string) uint32 {
	v := r.uvarint()
	if v > math.MaxUint32 {
		r.fail(&r.streams[streamStruct], ErrMalformed, "%s %d does not fit in 32 bits", what, v)
		return 0
	}
	return uint32(v)
}

// int32Value reads a zigzag varint that pdata holds in 32 bits (enums).
func (r *sectionReader) int32Value(stream int, what string) int32 {
	v := r.varintFrom(stream)
	if v < math.MinInt32 || v > math.MaxInt32 {
		r.fail(&r.streams[stream], ErrMalformed, "%s %d does not fit in 32 bits", what, v)
		return 0
	}
	return int32(v)
}

// count reads a count of items each taking at least minBytes of stream, and
// fails unless the stream still holds that many bytes. Only then may the
// caller allocate for the items.
func (r *sectionReader) count(stream, minBytes int, what string) int {
	at := r.streams[streamStruct].offset()
	n := r.uvarint()
	c := &r.streams[stream]
	if n > uint64(c.left()/minBytes) {
		r.fail(c, ErrTruncated, "%d %s at offset %d need at least %d bytes of the %s stream, %d left",
			n, what, at, n*uint64(minBytes), streamNames[stream], c.left())
		return 0
	}
	return int(n)
}

// items counts n spans, log records or data points against Limits.MaxItems
// and spends their cost.
func (r *sectionReader) items(n int, cost int64) {
	r.st.items += n
	if r.st.items > r.st.limits.MaxItems {
		r.failLimit(&r.streams[streamStruct], ErrLimitExceeded, "max_items", "%d items, limit is %d", r.st.items, r.st.limits.MaxItems)
		return
	}
	r.spend(int64(n) * cost)
}

// bytesLeft is what all streams of the section have left.
func (r *sectionReader) bytesLeft() int {
	n := 0
	for i := range r.streams {
		n += r.streams[i].left()
	}
	return n
}

// str reads a string reference and spends the string's length.
func (r *sectionReader) str() string {
	ref := r.uvarintFrom(streamStrings)
	if ref == 0 {
		return ""
	}
	first := uint64(1) // v1: entry k is reference k
	if r.st.version != versionV1 {
		if ref == refLocal {
			if r.st.nextLocal >= len(r.st.local) {
				c := &r.streams[streamStrings]
				c.pos--
				r.fail(c, ErrDictIndex, "local string %d out of range (frame has %d)", r.st.nextLocal+1, len(r.st.local))
				return ""
			}
			s := r.st.local[r.st.nextLocal]
			r.st.nextLocal++
			r.spend(int64(len(s)))
			return s
		}
		if ref == refNew {
			if r.st.introduced >= len(r.st.dict) {
				c := &r.streams[streamStrings]
				c.pos--
				r.fail(c, ErrDictIndex, "new string %d out of range (dict has %d)", r.st.introduced+1, len(r.st.dict))
				return ""
			}
			s := r.st.dict[r.st.introduced]
			r.st.introduced++
			r.spend(int64(len(s)))
			return s
		}
		first = refFirstEntry
	}
	if ref-first >= uint64(len(r.st.dict)) {
		r.failDictIndex(ref)
		return ""
	}
	s := r.st.dict[ref-first]
	r.spend(int64(len(s)))
	return s
}

func (r *sectionReader) failDictIndex(ref uint64) {
	c := &r.streams[streamStrings]
	c.pos-- // point at the reference, not after it
	r.fail(c, ErrDictIndex, "string index %d out of range (dict has %d)", ref, len(r.st.dict))
}

// raw returns the next n bytes of the raw stream, aliasing the body.
func (r *sectionReader) raw(n int) []byte {
	c := &r.streams[streamRaw]
	if n > c.left() {
		r.fail(c, ErrTruncated, "%d raw bytes wanted, %d left", n, c.left())
		return nil
	}
	b := c.buf[c.pos : c.pos+n]
	c.pos += n
	return b
}

func (r *sectionReader) traceID() pcommon.TraceID {
	var id pcommon.TraceID
	copy(id[:], r.raw(16))
	return id
}

func (r *sectionReader) spanID() pcommon.SpanID {
	var id pcommon.SpanID
	copy(id[:], r.raw(8))
	return id
}

// timeDelta reads a delta against *prev and moves *prev to the result.
func (r *sectionReader) timeDelta(prev *uint64) pcommon.Timestamp {
	*prev += uint64(r.timeDeltaValue())
	return pcommon.Timestamp(*prev)
}

// timeFrom reads a delta against base.
func (r *sectionReader) timeFrom(base uint64) pcommon.Timestamp {
	return pcommon.Timestamp(base + uint64(r.timeDeltaValue()))
}

// timeUnits are the units of time delta unit codes 0 to 3.
var timeUnits = [4]int64{1, 1_000, 1_000_000, 1_000_000_000}

// timeDeltaValue reads what appendTimeDelta wrote; the multiplication wraps
// like the subtraction that made the delta.
func (r *sectionReader) timeDeltaValue() int64 {
	u := r.uvarintFrom(streamTimes)
	if u == 0 { // escape: a full 64-bit zigzag delta in ns follows
		return r.varintFrom(streamTimes)
	}
	z := u >> 2
	return (int64(z>>1) ^ -int64(z&1)) * timeUnits[u&3]
}

func (r *sectionReader) intValue() int64   { return r.varintFrom(streamInts) }
func (r *sectionReader) uintValue() uint64 { return r.uvarintFrom(streamInts) }

// doubleBits reads the bits of a double: 8 bytes in v1, an xf64 in v2.
func (r *sectionReader) doubleBits() uint64 {
	c := &r.streams[streamDoubles]
	if r.st.version != versionV1 {
		r.prevDouble ^= r.xf64(c)
		return r.prevDouble
	}
	if c.left() < 8 {
		r.fail(c, ErrTruncated, "double wanted, %d bytes left", c.left())
		return 0
	}
	v := binary.LittleEndian.Uint64(c.buf[c.pos:])
	c.pos += 8
	return v
}

// xf64 reads what appendXF64 wrote.
func (r *sectionReader) xf64(c *cursor) uint64 {
	if c.left() < 1 {
		r.fail(c, ErrTruncated, "double wanted, the doubles stream has ended")
		return 0
	}
	ctl := c.buf[c.pos]
	lz, tz := int(ctl>>4), int(ctl&0xf)
	if lz+tz > 8 {
		r.fail(c, ErrMalformed, "double control byte %#02x: %d leading and %d trailing zero bytes", ctl, lz, tz)
		return 0
	}
	n := 8 - lz - tz
	if c.left() < 1+n {
		r.fail(c, ErrTruncated, "double wants %d bytes, %d left", 1+n, c.left()-1)
		return 0
	}
	x := uint64(0)
	for _, b := range c.buf[c.pos+1 : c.pos+1+n] {
		x = x<<8 | uint64(b)
	}
	c.pos += 1 + n
	return x << (8 * tz)
}

// doubleBytes is the least a double takes of the doubles stream.
func (r *sectionReader) doubleBytes() int {
	if r.st.version == versionV1 {
		return 8
	}
	return 1
}

func (r *sectionReader) double() float64 { return math.Float64frombits(r.doubleBits()) }

// shape is the keys and value tags of a map; see sectionWriter.attrs.
type shape struct {
	keys []string
	tags []valueTag
	// useCost is what each map of the shape spends up front: its entries,
	// their keys and the values' own costs.
	useCost int64
	// For a shape that repeats keys: the distinct keys in order of first
	// appearance, and for each key of keys the index of its distinct key,
	// or -1 when a later key of the shape replaces its value.
	distinct []string
	slots    []int32
}

// smallShape is the size up to which repeated keys are found by comparing
// every pair of keys; a larger shape uses a set.
const smallShape = 8

// readShape reads a shape reference, and the shape itself if it is new.
func (r *sectionReader) readShape() *shape {
	ref := r.uvarint()
	if ref > 0 {
		if ref > uint64(len(r.shapes)) {
			r.fail(&r.streams[streamStruct], ErrMalformed, "map shape %d out of range (section has %d so far)", ref, len(r.shapes))
			return &shape{}
		}
		return r.shapes[ref-1]
	}
	at := r.streams[streamStruct].offset()
	n := r.count(streamStrings, 1, "attributes")
	if n > r.st.limits.MaxMapEntries {
		r.failLimit(&r.streams[streamStruct], ErrLimitExceeded, "max_map_entries", "map at offset %d has %d keys, limit is %d", at, n, r.st.limits.MaxMapEntries)
		return &shape{}
	}
	r.spend(int64(n) * costShapeKey)
	if err := r.st.addState(r.section, at, stateCostShape+stateCostShapeKey*int64(n)); err != nil && r.err == nil {
		r.err = err.(*DecodeError)
		r.stop()
	}
	r.shapes = reserve(r, r.shapes, 1)
	if r.err != nil {
		return &shape{}
	}
	sh := &shape{keys: make([]string, n), tags: make([]valueTag, n)}
	for i := range n {
		sh.keys[i] = r.str()
		tag := r.uvarint()
		if tag > maxValueTag {
			c := &r.streams[streamStruct]
			c.pos--
			r.fail(c, ErrMalformed, "unknown value tag %d", tag)
			return &shape{}
		}
		if tag == valueSpanIDHex && r.noSpanIDRefs {
			r.failSpanIDHex()
		}
		sh.tags[i] = tag
		sh.useCost += costMapEntry + int64(len(sh.keys[i])) + valueCosts[tag]
	}
	r.findRepeatedKeys(sh)
	if r.err != nil {
		return &shape{}
	}
	r.shapes = append(r.shapes, sh)
	return sh
}

// findRepeatedKeys sets the distinct keys and slots of a shape that repeats
// a key, in time linear in its keys. pdata's API cannot make such a map, but
// a hand-made frame can: the key keeps its first position and its last value.
func (r *sectionReader) findRepeatedKeys(sh *shape) {
	n := len(sh.keys)
	// index[i] is the position of key i among the distinct keys, found by
	// comparing with the keys before it in a small shape, in a set otherwise.
	var small [smallShape]int32
	var index []int32
	var set map[string]int32
	if n <= smallShape {
		index = small[:n]
	} else {
		r.spend(int64(n) * (costShapeKeySet + 4))
		if r.err != nil {
			return
		}
		index = make([]int32, n)
		set = make(map[string]int32, n)
	}
	distinct := int32(0)
	for i, k := range sh.keys {
		j, seen := int32(0), false
		if set != nil {
			j, seen = set[k]
		} else {
			for before := range i {
				if sh.keys[before] == k {
					j, seen = index[before], true
					break
				}
			}
		}
		if !seen {
			j = distinct
			distinct++
			if set != nil {
				set[k] = j
			}
		}
		index[i] = j
	}
	if int(distinct) == n {
		return
	}
	// slots: the distinct key of each key, -1 for all but its last use.
	r.spend(int64(n)*4 + int64(distinct)*(16+8))
	if r.err != nil {
		return
	}
	sh.slots = make([]int32, n)
	sh.distinct = make([]string, 0, distinct)
	lastUse := make([]int, distinct)
	for i, j := range index {
		if int(j) == len(sh.distinct) {
			sh.distinct = append(sh.distinct, sh.keys[i])
		}
		lastUse[j] = i
	}
	for i, j := range index {
		sh.slots[i] = j
		if lastUse[j] != i {
			sh.slots[i] = -1
		}
	}
	// A map of the shape also holds a value per distinct key and a value
	// that the replaced ones are read into.
	sh.useCost += int64(distinct)*16 + 32
}

// attrs reads a map at nesting depth into m, which must be empty. The map
// is built without pdata's Put*, which look every key up and so make a map
// cost time in the square of its size: the shape's keys are distinct, or
// mapped to their distinct key, once when the shape is read.
func (r *sectionReader) attrs(m pcommon.Map, depth int) {
	sh := r.readShape()
	if len(sh.keys) == 0 {
		return
	}
	// Each value takes at least one byte of some stream.
	if left := r.bytesLeft(); len(sh.keys) > left {
		r.fail(&r.streams[streamStruct], ErrTruncated, "map of %d values, %d bytes left in the section", len(sh.keys), left)
		return
	}
	if depth == 0 {
		r.attributes(len(sh.keys))
	} else {
		r.nestedValues(len(sh.keys))
	}
	r.spend(sh.useCost)
	if r.err != nil {
		return
	}
	b := r.mapBuilder(depth)
	if sh.slots == nil {
		b.EnsureCapacity(len(sh.keys))
		for i, k := range sh.keys {
			if r.err != nil {
				break
			}
			v := b.AppendEmpty(k)
			switch tag := sh.tags[i]; tag { // the common ones without a call
			case valueStr:
				v.SetStr(r.str())
			case valueInt:
				v.SetInt(r.intValue())
			case valueDouble:
				v.SetDouble(r.double())
			default:
				r.valueTagged(v, tag, depth)
			}
		}
	} else {
		b.EnsureCapacity(len(sh.distinct))
		values := make([]pcommon.Value, len(sh.distinct))
		for j, k := range sh.distinct {
			values[j] = b.AppendEmpty(k)
		}
		replaced := pcommon.NewValueEmpty()
		for i, j := range sh.slots {
			if r.err != nil {
				break
			}
			v := replaced
			if j >= 0 {
				v = values[j]
			}
			r.valueTagged(v, sh.tags[i], depth)
		}
	}
	b.UnsafeIntoMap(m)
}

// mapBuilder returns the builder for maps at depth, which is free: the
// builder of a map holds its entries until the map is complete, and maps
// nested in it are one level deeper.
func (r *sectionReader) mapBuilder(depth int) *xpdata.MapBuilder {
	for len(r.builders) <= depth {
		r.builders = append(r.builders, new(xpdata.MapBuilder))
	}
	return r.builders[depth]
}

func (r *sectionReader) boolValue() bool {
	b := r.uvarint()
	if b > 1 {
		r.fail(&r.streams[streamStruct], ErrMalformed, "bool value %d, want 0 or 1", b)
	}
	return b == 1
}

// value reads one AnyValue into v, which must be empty, and spends its cost.
func (r *sectionReader) value(v pcommon.Value, depth int) {
	tag := r.uvarint()
	if tag <= maxValueTag {
		r.spend(valueCosts[tag])
	}
	r.valueTagged(v, tag, depth)
}

func (r *sectionReader) valueTagged(v pcommon.Value, tag uint64, depth int) {
	switch tag {
	case valueEmpty:
		if b := r.uvarint(); b != 0 {
			r.fail(&r.streams[streamStruct], ErrMalformed, "empty value payload %d, want 0", b)
		}
	case valueStr:
		v.SetStr(r.str())
	case valueInt:
		v.SetInt(r.intValue())
	case valueDouble:
		v.SetDouble(r.double())
	case valueBool:
		v.SetBool(r.boolValue())
	case valueTraceIDHex:
		id := r.traceIDRef()
		v.SetStr(r.hexString(id[:]))
	case valueSpanIDHex:
		if r.noSpanIDRefs {
			r.failSpanIDHex()
			return
		}
		id := r.spanIDRef()
		v.SetStr(r.hexString(id[:]))
	case valueBytes:
		at := r.streams[streamStruct].offset()
		n := r.uvarint()
		if n > uint64(r.st.limits.MaxStringBytes) {
			r.failLimit(&r.streams[streamStruct], ErrLimitExceeded, "max_string_bytes", "bytes value at offset %d is %d bytes, limit is %d", at, n, r.st.limits.MaxStringBytes)
			return
		}
		r.spend(int64(n))
		b := r.raw(int(n))
		if r.err == nil {
			v.SetEmptyBytes().Append(b...)
		}
	case valueMap, valueSlice:
		if depth >= r.st.limits.MaxDepth {
			r.failLimit(&r.streams[streamStruct], ErrTooDeep, "max_depth", "value nested deeper than %d", r.st.limits.MaxDepth)
			return
		}
		if tag == valueMap {
			r.attrs(v.SetEmptyMap(), depth+1)
			return
		}
		n := r.count(streamStruct, 1, "array values")
		r.nestedValues(n)
		r.spend(int64(n) * costArrayValue)
		if r.err != nil {
			return
		}
		s := v.SetEmptySlice()
		s.EnsureCapacity(n)
		for range n {
			if r.err != nil {
				return
			}
			r.value(s.AppendEmpty(), depth+1)
		}
	default:
		c := &r.streams[streamStruct]
		c.pos--
		r.fail(c, ErrMalformed, "unknown value tag %d", tag)
	}
}

// failSpanIDHex rejects the value tag just read: the span id list of a
// traces section is numbered by span index, so span id references may not
// appear in it.
func (r *sectionReader) failSpanIDHex() {
	c := &r.streams[streamStruct]
	c.pos--
	r.fail(c, ErrMalformed, "value tag %d (span id in hex) in a traces section", valueSpanIDHex)
}

// hexString returns id in lowercase hex. The strings of a section share
// chunks of hexArena, which is only ever appended to: one allocation per
// chunk rather than one per string.
func (r *sectionReader) hexString(id []byte) string {
	n := hex.EncodedLen(len(id))
	if cap(r.hexArena)-len(r.hexArena) < n {
		r.hexArena = make([]byte, 0, hexArenaChunk)
	}
	start := len(r.hexArena)
	r.hexArena = hex.AppendEncode(r.hexArena, id)
	return unsafe.String(&r.hexArena[start], n)
}

const hexArenaChunk = 4096

func (r *sectionReader) resource(res pcommon.Resource) (schemaURL string) {
	r.attrs(res.Attributes(), 0)
	res.SetDroppedAttributesCount(r.uint32Value("dropped attributes count"))
	return r.str()
}

func (r *sectionReader) scope(s pcommon.InstrumentationScope) (schemaURL string) {
	s.SetName(r.str())
	s.SetVersion(r.str())
	r.attrs(s.Attributes(), 0)
	s.SetDroppedAttributesCount(r.uint32Value("dropped attributes count"))
	return r.str()
}
