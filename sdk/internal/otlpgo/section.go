package otlpgo

import (
	"encoding/binary"
	"math"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
)

// sectionWriter writes one signal section as its six streams. Items are
// added in runs that share a resource and a scope; each run becomes a
// resource entry with one scope, so a section can grow one Export call at a
// time while the counts it starts with stay right. resources, the first
// count of the section, is written when the section is.
type sectionWriter struct {
	dict      *dictWriter
	streams   [numStreams][]byte
	resources int
	items     int
	// shapes numbers the map shapes of the section from 1; shapeKey is
	// scratch for building a shape's lookup key.
	shapes   map[string]uint64
	shapeKey []byte
	// The section's id lists (see the package comment): position of each
	// trace id and span id written raw, and how many there are.
	traceIDs map[[16]byte]int
	nTrace   int
	spanIDs  map[[8]byte]int
	nSpan    int
	// spanIndex maps the span ids of the traces section to their index,
	// spanStarts their start times: a parent already written is a distance.
	spanIndex  map[[8]byte]int
	spanStarts []uint64
	// Running bases of the section.
	prevStart   uint64 // traces: start of the previous span
	prevLogTime uint64 // logs: time of the previous record
	prevLogLag  uint64 // logs: observed_time - time of the previous record
	prevPtTime  uint64 // metrics: time of the previous data point
	prevPtStart uint64 // metrics: start_time of the previous data point
	// spanHex allows span ids in hex as references: not in the traces
	// section, whose span id list is numbered by span index.
	spanHex bool
}

func (w *sectionWriter) reset() {
	for i := range w.streams {
		w.streams[i] = w.streams[i][:0]
	}
	w.resources, w.items = 0, 0
	if w.shapes == nil {
		w.shapes = make(map[string]uint64)
		w.traceIDs = make(map[[16]byte]int)
		w.spanIDs = make(map[[8]byte]int)
		w.spanIndex = make(map[[8]byte]int)
	}
	clear(w.shapes)
	clear(w.traceIDs)
	clear(w.spanIDs)
	clear(w.spanIndex)
	w.nTrace, w.nSpan = 0, 0
	w.spanStarts = w.spanStarts[:0]
	w.prevStart, w.prevLogTime, w.prevLogLag, w.prevPtTime, w.prevPtStart = 0, 0, 0, 0, 0
}

// appendSection writes tag, length, the six stream lengths and the streams;
// the struct stream starts with the number of resources.
func (w *sectionWriter) appendSection(dst []byte, tag sectionTag) []byte {
	var head [binary.MaxVarintLen64]byte
	headLen := binary.PutUvarint(head[:], uint64(w.resources))
	lens := [numStreams]int{}
	size := 0
	for i, s := range w.streams {
		lens[i] = len(s)
		if i == streamStruct {
			lens[i] += headLen
		}
		size += uvarintLen(uint64(lens[i])) + lens[i]
	}
	dst = binary.AppendUvarint(dst, uint64(tag))
	dst = binary.AppendUvarint(dst, uint64(size))
	for _, n := range lens {
		dst = binary.AppendUvarint(dst, uint64(n))
	}
	dst = append(dst, head[:headLen]...)
	for _, s := range w.streams {
		dst = append(dst, s...)
	}
	return dst
}

func (w *sectionWriter) uvarint(v uint64) {
	w.streams[streamStruct] = binary.AppendUvarint(w.streams[streamStruct], v)
}

func (w *sectionWriter) count(n int) { w.uvarint(uint64(n)) }

func (w *sectionWriter) varint(v int64) {
	w.streams[streamStruct] = binary.AppendVarint(w.streams[streamStruct], v)
}

func (w *sectionWriter) str(s string) {
	w.streams[streamStrings] = binary.AppendUvarint(w.streams[streamStrings], w.dict.ref(s))
}

func (w *sectionWriter) raw(b []byte) {
	w.streams[streamRaw] = append(w.streams[streamRaw], b...)
}

func (w *sectionWriter) intValue(v int64) {
	w.streams[streamInts] = binary.AppendVarint(w.streams[streamInts], v)
}

func (w *sectionWriter) uintValue(v uint64) {
	w.streams[streamInts] = binary.AppendUvarint(w.streams[streamInts], v)
}

func (w *sectionWriter) double(f float64) {
	w.doubleBits(math.Float64bits(f))
}

func (w *sectionWriter) doubleBits(b uint64) {
	w.streams[streamDoubles] = binary.LittleEndian.AppendUint64(w.streams[streamDoubles], b)
}

func (w *sectionWriter) flag(b bool) {
	if b {
		w.uvarint(1)
	} else {
		w.uvarint(0)
	}
}

// timeFrom writes t - base (wrapping) as a time delta.
func (w *sectionWriter) timeFrom(base, t uint64) {
	w.streams[streamTimes] = appendTimeDelta(w.streams[streamTimes], int64(t-base))
}

// timeDelta writes t against *prev and makes t the new *prev.
func (w *sectionWriter) timeDelta(prev *uint64, t uint64) {
	w.timeFrom(*prev, t)
	*prev = t
}

// appendTimeDelta writes d as uvarint(zigzag(d / unit) << 2 | unit code)
// with the coarsest unit of s, ms, µs, ns that divides d, or as the escape
// byte 0 and uvarint(zigzag(d)) when that does not fit in 62 bits.
func appendTimeDelta(dst []byte, d int64) []byte {
	code := uint64(0)
	switch {
	case d%1_000_000_000 == 0:
		d, code = d/1_000_000_000, 3
	case d%1_000_000 == 0:
		d, code = d/1_000_000, 2
	case d%1_000 == 0:
		d, code = d/1_000, 1
	}
	zz := uint64(d<<1 ^ d>>63)
	if zz >= 1<<62 {
		return binary.AppendUvarint(append(dst, 0), zz)
	}
	return binary.AppendUvarint(dst, zz<<2|code)
}

// traceID writes a trace id reference: 0 and the raw id when it is new to
// the section, else how many ids back it was written.
func (w *sectionWriter) traceID(id [16]byte) {
	if pos, ok := w.traceIDs[id]; ok {
		w.uvarint(uint64(w.nTrace - pos))
		return
	}
	w.traceIDs[id] = w.nTrace
	w.nTrace++
	w.uvarint(0)
	w.raw(id[:])
}

// spanIDRef writes a span id reference (logs and metrics sections only).
func (w *sectionWriter) spanIDRef(id [8]byte) {
	if pos, ok := w.spanIDs[id]; ok {
		w.uvarint(uint64(w.nSpan - pos))
		return
	}
	w.spanIDs[id] = w.nSpan
	w.nSpan++
	w.uvarint(0)
	w.raw(id[:])
}

// shape writes the shape reference of a map whose keys and tags were
// gathered by the caller in shapeKey (see beginShape and shapeEntry),
// defining the shape if it is new to the section.
func (w *sectionWriter) shape(n int, key []byte) {
	if ref, ok := w.shapes[string(key)]; ok {
		w.uvarint(ref)
		return
	}
	ref := uint64(len(w.shapes)) + 1
	w.shapes[string(key)] = ref
	w.uvarint(0)
	w.count(n)
	for len(key) > 0 {
		k, used := binary.Uvarint(key)
		w.streams[streamStrings] = binary.AppendUvarint(w.streams[streamStrings], k)
		w.uvarint(uint64(key[used]))
		key = key[used+1:]
	}
}

// appendShapeEntry adds a key and its tag to a shape key under construction.
func (w *sectionWriter) appendShapeEntry(key []byte, name string, tag uint64) []byte {
	key = binary.AppendUvarint(key, w.dict.ref(name))
	return append(key, byte(tag))
}

// attrs writes an attribute map: its shape, then the values.
func (w *sectionWriter) attrs(kvs []attribute.KeyValue) {
	mark := len(w.shapeKey)
	for _, kv := range kvs {
		w.shapeKey = w.appendShapeEntry(w.shapeKey, string(kv.Key), w.attrTag(kv.Value))
	}
	w.shape(len(kvs), w.shapeKey[mark:])
	w.shapeKey = w.shapeKey[:mark]
	for _, kv := range kvs {
		w.attrPayload(kv.Value, w.attrTag(kv.Value))
	}
}

func (w *sectionWriter) attrSet(s attribute.Set) {
	kvs := s.ToSlice()
	w.attrs(kvs)
}

func (w *sectionWriter) attrTag(v attribute.Value) uint64 {
	switch v.Type() {
	case attribute.BOOL:
		return valueBool
	case attribute.INT64:
		return valueInt
	case attribute.FLOAT64:
		return valueDouble
	case attribute.STRING:
		return strTag(v.AsString(), w.spanHex)
	case attribute.BYTESLICE:
		return valueBytes
	case attribute.MAP:
		return valueMap
	case attribute.BOOLSLICE, attribute.INT64SLICE, attribute.FLOAT64SLICE, attribute.STRINGSLICE, attribute.SLICE:
		return valueSlice
	default:
		return valueEmpty
	}
}

func (w *sectionWriter) attrValue(v attribute.Value) {
	tag := w.attrTag(v)
	w.uvarint(tag)
	w.attrPayload(v, tag)
}

func (w *sectionWriter) attrPayload(v attribute.Value, tag uint64) {
	switch tag {
	case valueBool:
		w.flag(v.AsBool())
	case valueInt:
		w.intValue(v.AsInt64())
	case valueDouble:
		w.double(v.AsFloat64())
	case valueStr, valueTraceIDHex, valueSpanIDHex:
		w.strPayload(v.AsString(), tag)
	case valueBytes:
		b := v.AsByteSlice()
		w.count(len(b))
		w.raw(b)
	case valueMap:
		w.attrs(v.AsMap())
	case valueSlice:
		switch v.Type() {
		case attribute.BOOLSLICE:
			s := v.AsBoolSlice()
			w.count(len(s))
			for _, b := range s {
				w.uvarint(valueBool)
				w.flag(b)
			}
		case attribute.INT64SLICE:
			s := v.AsInt64Slice()
			w.count(len(s))
			for _, i := range s {
				w.uvarint(valueInt)
				w.intValue(i)
			}
		case attribute.FLOAT64SLICE:
			s := v.AsFloat64Slice()
			w.count(len(s))
			for _, f := range s {
				w.uvarint(valueDouble)
				w.double(f)
			}
		case attribute.STRINGSLICE:
			s := v.AsStringSlice()
			w.count(len(s))
			for _, str := range s {
				t := strTag(str, w.spanHex)
				w.uvarint(t)
				w.strPayload(str, t)
			}
		default:
			s := v.AsSlice()
			w.count(len(s))
			for _, e := range s {
				w.attrValue(e)
			}
		}
	default:
		w.uvarint(0)
	}
}

// strPayload writes a string whose tag is tag: a dictionary reference, or a
// trace or span id reference for lowercase hex ids.
func (w *sectionWriter) strPayload(s string, tag uint64) {
	switch tag {
	case valueTraceIDHex:
		var id [16]byte
		decodeLowerHex(id[:], s)
		w.traceID(id)
	case valueSpanIDHex:
		var id [8]byte
		decodeLowerHex(id[:], s)
		w.spanIDRef(id)
	default:
		w.str(s)
	}
}

// strTag is the tag of string s: lowercase hex trace ids (and span ids
// outside the traces section) become id references.
func strTag(s string, spanHex bool) uint64 {
	switch len(s) {
	case 32:
		if isLowerHex(s) {
			return valueTraceIDHex
		}
	case 16:
		if spanHex && isLowerHex(s) {
			return valueSpanIDHex
		}
	}
	return valueStr
}

var hexNibble = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i, c := range "0123456789abcdef" {
		t[c] = byte(i)
	}
	return t
}()

func isLowerHex(s string) bool {
	bad := byte(0)
	for i := 0; i < len(s); i++ {
		bad |= hexNibble[s[i]]
	}
	return bad&0xf0 == 0
}

func decodeLowerHex(dst []byte, s string) {
	for i := range dst {
		dst[i] = hexNibble[s[2*i]]<<4 | hexNibble[s[2*i+1]]
	}
}

// resourceEntry starts a resource entry of the section holding nScopes
// scopes.
func (w *sectionWriter) resourceEntry(r *resource.Resource, nScopes int) {
	w.resources++
	var kvs []attribute.KeyValue
	var schemaURL string
	if r != nil {
		kvs = r.Attributes()
		schemaURL = r.SchemaURL()
	}
	w.attrs(kvs)
	w.uvarint(0) // dropped_attributes_count: the SDK drops none from a resource
	w.str(schemaURL)
	w.count(nScopes)
}

// scopeEntry writes a scope and the number of items that follow it.
func (w *sectionWriter) scopeEntry(s instrumentation.Scope, nItems int) {
	w.str(s.Name)
	w.str(s.Version)
	w.attrSet(s.Attributes)
	w.uvarint(0) // dropped_attributes_count
	w.str(s.SchemaURL)
	w.count(nItems)
}

// unixNano is t as OTLP has it: 0 for the zero time and times before 1970.
func unixNano(t time.Time) uint64 {
	if t.IsZero() {
		return 0
	}
	return uint64(max(0, t.UnixNano()))
}
