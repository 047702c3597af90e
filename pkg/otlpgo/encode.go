package otlpgo

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"math/bits"
	"sync"
	"unsafe"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Encoder writes frames, reusing its buffers and dictionary from one frame to
// the next. An Encoder is not safe for concurrent use: one goroutine at a time
// may call AppendFrame, which makes it fit for a sync.Pool. The zstd encoder
// behind it is shared by all Encoders and is safe for concurrent use.
type Encoder struct {
	opts     EncodeOptions
	dict     dictWriter
	ids      idWriter
	sections [3]sectionWriter // traces, logs, metrics
	body     []byte           // the body before compression
	// stream is the stream state of a StreamEncoder, nil for stateless frames.
	stream *encoderStream
}

// NewEncoder returns an Encoder that writes frames with opts.
func NewEncoder(opts EncodeOptions) *Encoder {
	e := &Encoder{opts: opts}
	e.dict.seed = maphash.MakeSeed()
	for i := range e.sections {
		e.sections[i].dict = &e.dict
		e.sections[i].ids = &e.ids
	}
	return e
}

var encoderPools [2]sync.Pool // by Compression

// maxPooledEncoderBytes keeps one huge frame from pinning its buffers in the pool.
const maxPooledEncoderBytes = 16 << 20

// retained is the buffer memory e holds on to between frames.
func (e *Encoder) retained() int {
	n := cap(e.body) + cap(e.dict.data) + 4*cap(e.dict.ends) + 8*cap(e.dict.table) + 24*cap(e.dict.short.slots) +
		cap(e.dict.localData) + 4*cap(e.dict.localEnds)
	for i := range e.sections {
		for _, s := range e.sections[i].streams {
			n += cap(s)
		}
	}
	return n
}

// AppendFrame appends one frame holding req to dst and returns the extended
// buffer. It uses a pooled Encoder and is safe for concurrent use.
func AppendFrame(dst []byte, req Request, opts EncodeOptions) ([]byte, error) {
	if opts.Compression > CompressionZstd {
		return dst, fmt.Errorf("otlpgo: unknown compression %d", opts.Compression)
	}
	pool := &encoderPools[opts.Compression]
	e, _ := pool.Get().(*Encoder)
	if e == nil {
		e = NewEncoder(opts)
	}
	dst, err := e.AppendFrame(dst, req)
	if e.retained() <= maxPooledEncoderBytes {
		pool.Put(e)
	}
	return dst, err
}

// AppendFrame appends one frame holding req to dst and returns the extended
// buffer. Signals that are zero values or have no resources are left out.
func (e *Encoder) AppendFrame(dst []byte, req Request) ([]byte, error) {
	compress := e.opts.Compression == CompressionZstd
	if !compress && e.opts.Compression != CompressionNone {
		return dst, fmt.Errorf("otlpgo: unknown compression %d", e.opts.Compression)
	}
	keep := e.stream != nil && !e.stream.reset
	if !keep {
		e.dict.reset()
		for i := range e.sections {
			e.sections[i].resetShapes()
		}
	}
	e.dict.newFrame()
	e.ids.reset()
	present := [3]bool{}
	if req.Traces != (ptrace.Traces{}) && req.Traces.ResourceSpans().Len() > 0 {
		present[0] = true
		e.sections[0].reset()
		e.sections[0].traces(req.Traces)
	}
	if req.Logs != (plog.Logs{}) && req.Logs.ResourceLogs().Len() > 0 {
		present[1] = true
		e.sections[1].reset()
		e.sections[1].spanHex = true
		e.sections[1].logs(req.Logs)
	}
	if req.Metrics != (pmetric.Metrics{}) && req.Metrics.ResourceMetrics().Len() > 0 {
		present[2] = true
		e.sections[2].reset()
		e.sections[2].spanHex = true
		e.sections[2].metrics(req.Metrics)
	}

	var flags byte
	if compress {
		flags |= flagZstd
	}
	if e.stream != nil {
		flags |= flagStream
		if e.stream.reset {
			flags |= flagReset
		}
	}

	start := len(dst)
	dst = append(dst, magic...)
	dst = append(dst, versionMajor, versionMinor, flags, 0)
	dst = append(dst, 0, 0, 0, 0, 0, 0, 0, 0) // body_len, raw_len: patched below

	body := dst
	if compress {
		body = e.body[:0]
	}
	bodyStart := len(body)
	if e.stream != nil {
		body = e.stream.appendSection(body)
	}
	if e.dict.pending() {
		body = e.dict.appendSection(body)
	}
	tags := [3]sectionTag{sectionTraces, sectionLogs, sectionMetrics}
	for i, ok := range present {
		if ok {
			body = e.sections[i].appendSection(body, tags[i])
		}
	}
	rawLen := len(body) - bodyStart
	if uint64(rawLen) > math.MaxUint32 {
		return dst[:start], errors.New("otlpgo: frame body over 4 GiB")
	}
	if compress {
		e.body = body
		dst = zstdEncoder().EncodeAll(body, dst)
	} else {
		dst = body
	}
	bodyLen := len(dst) - start - headerSize
	if uint64(bodyLen) > math.MaxUint32 {
		return dst[:start], errors.New("otlpgo: frame body over 4 GiB")
	}
	binary.LittleEndian.PutUint32(dst[start+8:], uint32(bodyLen))
	binary.LittleEndian.PutUint32(dst[start+12:], uint32(rawLen))
	return dst, nil
}

// dictWriter collects the strings of a frame. Reference 0 is the empty
// string; reference k >= 1 is the k-th entry.
type dictWriter struct {
	// data holds the entries back to back and ends[k-1] where entry k ends:
	// the dict section in the making. Comparisons read this one hot buffer
	// instead of strings scattered over the caller's heap.
	data []byte
	ends []uint32
	// table is an open-addressing hash set over the entries: each slot holds
	// ref<<32 | the high 32 bits of the string's hash, 0 when free: one
	// maphash and a short probe, cheaper than a map[string]uint64.
	table []uint64
	seed  maphash.Seed
	// recent remembers references by string address: equal strings in pdata
	// often share memory (literals, or strings decoded from one dictionary),
	// and comparing an address is far cheaper than hashing the bytes.
	recent [recentSize]recentRef
	frame  uint32 // entries of recent from another frame are stale
	// short indexes the strings of up to maxShortLen bytes in place of
	// table, for those that recent misses.
	short shortIndex
	// sent is how many entries earlier frames of a stream have written.
	sent int
	// localData and localEnds hold the local entries of the frame: strings
	// over maxDedupLen, used once each (strref refLocal).
	localData []byte
	localEnds []uint32
	// stateBytes is the stream state cost of the entries (wire.go).
	stateBytes int64
	// introduced is how many entries have had their first use written:
	// entries are added in order of first use, so the next one is refNew.
	introduced int
}

const (
	recentBits = 10
	recentSize = 1 << recentBits
)

type recentRef struct {
	data  uintptr
	len   int
	ref   uint64
	frame uint32
}

// reset empties the dictionary: every frame of a stateless Encoder, and
// the reset frames of a stream.
func (d *dictWriter) reset() {
	clear(d.table)
	d.short.reset()
	d.data = d.data[:0]
	d.ends = d.ends[:0]
	d.sent = 0
	d.stateBytes = 0
	d.introduced = 0
}

// wire is the reference to write for r, which ref or key returned: refNew
// at the first use of an entry.
func (d *dictWriter) wire(r uint64) uint64 {
	if r < refFirstEntry {
		return r
	}
	if int(r-refFirstEntry) == d.introduced {
		d.introduced++
		return refNew
	}
	return r
}

// newFrame starts a frame: no local entries yet, and the string addresses
// that recent remembers expire.
func (d *dictWriter) newFrame() {
	d.localData = d.localData[:0]
	d.localEnds = d.localEnds[:0]
	d.frame++
	if d.frame == 0 { // wrapped: old stamps could look current
		clear(d.recent[:])
		d.frame = 1
	}
}

func (d *dictWriter) len() int { return len(d.ends) }

// pending says whether the frame has entries to write.
func (d *dictWriter) pending() bool { return d.len() > d.sent || len(d.localEnds) > 0 }

// entry returns the entry that string reference k (>= refFirstEntry) names.
func (d *dictWriter) entry(k uint64) []byte {
	i := k - refFirstEntry
	start := uint32(0)
	if i > 0 {
		start = d.ends[i-1]
	}
	return d.data[start:d.ends[i]]
}

// add appends an entry and returns its string reference.
func (d *dictWriter) add(s string) uint64 {
	d.data = append(d.data, s...)
	d.ends = append(d.ends, uint32(len(d.data)))
	d.stateBytes += stateCostDictEntry + int64(len(s))
	return uint64(len(d.ends)) + refFirstEntry - 1
}

// key returns the reference of a map key, which is always an entry.
func (d *dictWriter) key(s string) uint64 {
	if len(s) > maxDedupLen {
		return d.lookupOrAdd(s)
	}
	return d.ref(s)
}

func (d *dictWriter) ref(s string) uint64 {
	if s == "" {
		return 0
	}
	if len(s) > maxDedupLen {
		d.localData = append(d.localData, s...)
		d.localEnds = append(d.localEnds, uint32(len(d.localData)))
		return refLocal
	}
	// Addresses are unique for the frame: the request holds its strings
	// until AppendFrame returns, and stamps expire older entries.
	data := uintptr(unsafe.Pointer(unsafe.StringData(s)))
	slot := &d.recent[(uint64(data)*0x9E3779B97F4A7C15)>>(64-recentBits)] // Fibonacci hashing
	if slot.data == data && slot.len == len(s) && slot.frame == d.frame {
		return slot.ref
	}
	var r uint64
	if len(s) <= maxShortLen {
		short := d.short.lookup(s)
		if short.ref == 0 {
			d.short.added(short, d.add(s))
		}
		r = uint64(short.ref)
	} else {
		r = d.lookupOrAdd(s)
	}
	*slot = recentRef{data: data, len: len(s), ref: r, frame: d.frame}
	return r
}

const minDictTable = 1024

func (d *dictWriter) lookupOrAdd(s string) uint64 {
	if len(d.table) == 0 {
		d.table = make([]uint64, minDictTable)
	}
	h := maphash.String(d.seed, s)
	tag := h >> 32
	mask := uint64(len(d.table) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		slot := d.table[i]
		if slot == 0 {
			r := d.add(s)
			d.table[i] = r<<32 | tag
			if d.len()*2 > len(d.table) {
				d.grow()
			}
			return r
		}
		if slot&0xffffffff == tag && string(d.entry(slot>>32)) == s {
			return slot >> 32
		}
	}
}

// grow doubles the table and puts the deduplicated entries back.
func (d *dictWriter) grow() {
	old := d.table
	d.table = make([]uint64, 2*len(old))
	mask := uint64(len(d.table) - 1)
	for _, slot := range old {
		if slot == 0 {
			continue
		}
		h := maphash.Bytes(d.seed, d.entry(slot>>32))
		i := h & mask
		for d.table[i] != 0 {
			i = (i + 1) & mask
		}
		d.table[i] = slot
	}
}

// appendSection writes the dict section (v2): the counts of the entries
// new to the stream (all of them in a stateless frame) and of the local
// entries, all lengths, then all bytes. The new entries count as sent.
func (d *dictWriter) appendSection(dst []byte) []byte {
	ends := d.ends[d.sent:]
	first := uint32(0)
	if d.sent > 0 {
		first = d.ends[d.sent-1]
	}
	data := d.data[first:]
	size := uvarintLen(uint64(len(ends))) + uvarintLen(uint64(len(d.localEnds))) + len(data) + len(d.localData)
	start := first
	for _, end := range ends {
		size += uvarintLen(uint64(end - start))
		start = end
	}
	start = 0
	for _, end := range d.localEnds {
		size += uvarintLen(uint64(end - start))
		start = end
	}
	dst = binary.AppendUvarint(dst, uint64(sectionDict))
	dst = binary.AppendUvarint(dst, uint64(size))
	dst = binary.AppendUvarint(dst, uint64(len(ends)))
	dst = binary.AppendUvarint(dst, uint64(len(d.localEnds)))
	start = first
	for _, end := range ends {
		dst = binary.AppendUvarint(dst, uint64(end-start))
		start = end
	}
	start = 0
	for _, end := range d.localEnds {
		dst = binary.AppendUvarint(dst, uint64(end-start))
		start = end
	}
	dst = append(dst, data...)
	d.sent = d.len()
	return append(dst, d.localData...)
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// sectionWriter writes one signal section as six streams (see wire.go).
type sectionWriter struct {
	dict    *dictWriter
	streams [numStreams][]byte
	ids     *idWriter
	// spanStarts are the start times of the spans written so far, by index.
	spanStarts []uint64
	// shapes numbers the map shapes of the section from 1 (see attrs);
	// shapeKey is scratch for building a shape's lookup key.
	shapes     map[string]uint64
	shapeKey   []byte
	shapeCache shapeCache
	// sigScratch holds the keys and tags of the maps being written,
	// innermost last.
	sigScratch []keySig
	// spanHex allows valueSpanIDHex: not in the traces section, where span
	// ids are numbered by span index, ahead of writing.
	spanHex bool
	// prevDouble is the bits of the last double written (xf64).
	prevDouble uint64
	// lastInt is the last int value of each metric name (v2).
	lastInt map[string]int64
	// shapeStateBytes is the stream state cost of the shapes (wire.go).
	shapeStateBytes int64
}

// reset starts a section. The shapes stay: a stream keeps them.
func (w *sectionWriter) reset() {
	for i := range w.streams {
		w.streams[i] = w.streams[i][:0]
	}
	if w.shapes == nil {
		w.shapes = make(map[string]uint64)
	}
	w.shapeCache.reset()
	w.spanStarts = w.spanStarts[:0]
	w.prevDouble = 0
	if w.lastInt == nil {
		w.lastInt = make(map[string]int64)
	}
	clear(w.lastInt)
}

// resetShapes forgets the shapes: every frame of a stateless Encoder, and
// the reset frames of a stream.
func (w *sectionWriter) resetShapes() {
	clear(w.shapes)
	w.shapeStateBytes = 0
}

// appendSection writes tag, length, the six stream lengths and the streams.
func (w *sectionWriter) appendSection(dst []byte, tag sectionTag) []byte {
	size := 0
	for _, s := range w.streams {
		size += uvarintLen(uint64(len(s))) + len(s)
	}
	dst = binary.AppendUvarint(dst, uint64(tag))
	dst = binary.AppendUvarint(dst, uint64(size))
	for _, s := range w.streams {
		dst = binary.AppendUvarint(dst, uint64(len(s)))
	}
	for _, s := range w.streams {
		dst = append(dst, s...)
	}
	return dst
}

func (w *sectionWriter) count(n int) {
	w.streams[streamStruct] = binary.AppendUvarint(w.streams[streamStruct], uint64(n))
}

func (w *sectionWriter) uvarint(v uint64) {
	w.streams[streamStruct] = binary.AppendUvarint(w.streams[streamStruct], v)
}

func (w *sectionWriter) varint(v int64) {
	w.streams[streamStruct] = binary.AppendVarint(w.streams[streamStruct], v)
}

func (w *sectionWriter) str(s string) {
	w.streams[streamStrings] = binary.AppendUvarint(w.streams[streamStrings], w.dict.wire(w.dict.ref(s)))
}

func (w *sectionWriter) raw(b []byte) {
	w.streams[streamRaw] = append(w.streams[streamRaw], b...)
}

// timeDelta writes t - *prev (wrapping) and makes t the new *prev.
func (w *sectionWriter) timeDelta(prev *uint64, t uint64) {
	w.timeFrom(*prev, t)
	*prev = t
}

// timeFrom writes t - base (wrapping) as a scaled time delta (see
// appendTimeDelta) without moving a base.
func (w *sectionWriter) timeFrom(base, t uint64) {
	w.streams[streamTimes] = appendTimeDelta(w.streams[streamTimes], int64(t-base))
}

// appendTimeDelta writes d as uvarint(zigzag(d / unit) << 2 | unitCode) with
// the coarsest unit (s, ms, µs, ns) that divides d: clocks that tick in µs or
// ms then cost 10 or 20 bits less per delta. A delta in ns that does not fit
// in 62 bits is written as 0 (which no other delta produces: 0 has code 3)
// followed by uvarint(zigzag(d)).
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

func (w *sectionWriter) intValue(v int64) {
	w.streams[streamInts] = binary.AppendVarint(w.streams[streamInts], v)
}

func (w *sectionWriter) uintValue(v uint64) {
	w.streams[streamInts] = binary.AppendUvarint(w.streams[streamInts], v)
}

func (w *sectionWriter) double(f float64) {
	b := math.Float64bits(f)
	w.streams[streamDoubles] = appendXF64(w.streams[streamDoubles], b^w.prevDouble)
	w.prevDouble = b
}

// appendXF64 writes x, the XOR of a double with the one before it, as a
// control byte lz<<4 | tz (its leading and trailing zero bytes) and the
// bytes between, high to low: x = 0 is the one byte 0x80.
func appendXF64(dst []byte, x uint64) []byte {
	if x == 0 {
		return append(dst, 0x80)
	}
	lz := bits.LeadingZeros64(x) / 8
	tz := bits.TrailingZeros64(x) / 8
	dst = append(dst, byte(lz<<4|tz))
	for i := 7 - lz; i >= tz; i-- {
		dst = append(dst, byte(x>>(8*i)))
	}
	return dst
}

// attrs writes a map as a shape reference and then the values alone. A shape
// is the list of keys and value tags; maps of one kind (the attributes of
// all HTTP server spans, say) share it, so their keys are written once.
func (w *sectionWriter) attrs(m pcommon.Map) {
	// Pass 1: the keys and tags of m, to look its shape up. They stay in
	// sigScratch for pass 2; nested maps extend and truncate it behind us.
	mark := len(w.sigScratch)
	for k, v := range m.All() {
		w.sigScratch = append(w.sigScratch, sigOf(k, w.tagOf(v)))
	}
	sigs := w.sigScratch[mark:]
	h := hashSigs(sigs)
	if ref := w.shapeCache.get(sigs, h); ref != 0 {
		w.uvarint(ref)
	} else {
		w.shapeCache.add(sigs, h, w.shapeRef(m, sigs))
	}
	// Pass 2: the values.
	i := mark
	for _, v := range m.All() {
		w.valuePayload(v, w.sigScratch[i].tag)
		i++
	}
	w.sigScratch = w.sigScratch[:mark]
}

// shapeRef writes the shape reference of m, whose keys shapeCache does not
// know and whose tags are in sigs, defining the shape if it is new to the
// section, and returns it.
func (w *sectionWriter) shapeRef(m pcommon.Map, sigs []keySig) uint64 {
	w.shapeKey = w.shapeKey[:0]
	i := 0
	for k := range m.All() {
		w.shapeKey = binary.AppendUvarint(w.shapeKey, w.dict.key(k))
		w.shapeKey = append(w.shapeKey, byte(sigs[i].tag))
		i++
	}
	if ref, ok := w.shapes[string(w.shapeKey)]; ok {
		w.uvarint(ref)
		return ref
	}
	ref := uint64(len(w.shapes)) + 1
	w.shapes[string(w.shapeKey)] = ref
	w.shapeStateBytes += stateCostShape + stateCostShapeKey*int64(len(sigs))
	w.uvarint(0)
	w.count(len(sigs))
	for key := w.shapeKey; len(key) > 0; { // the key refs and tags just built
		k, n := binary.Uvarint(key)
		w.streams[streamStrings] = binary.AppendUvarint(w.streams[streamStrings], w.dict.wire(k))
		w.uvarint(uint64(key[n]))
		key = key[n+1:]
	}
	return ref
}

func (w *sectionWriter) tagOf(v pcommon.Value) valueTag {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return strTag(v.Str(), w.spanHex)
	case pcommon.ValueTypeInt:
		return valueInt
	case pcommon.ValueTypeDouble:
		return valueDouble
	case pcommon.ValueTypeBool:
		return valueBool
	case pcommon.ValueTypeBytes:
		return valueBytes
	case pcommon.ValueTypeMap:
		return valueMap
	case pcommon.ValueTypeSlice:
		return valueSlice
	default:
		return valueEmpty
	}
}

// strTag is the tag of string s: trace and span ids that logs carry as
// attributes in lowercase hex become id references, half the size and
// shared with the ids of the frame. spanHex is false in the traces section,
// whose span id list is not in writing order.
func strTag(s string, spanHex bool) valueTag {
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

// hexNibble maps '0'-'9' and 'a'-'f' to their value and every other byte to
// 0xff: uppercase hex stays a string, so decoding gives back the same text.
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

// decodeLowerHex fills dst from s, which isLowerHex accepted and which is
// 2*len(dst) long.
func decodeLowerHex(dst []byte, s string) {
	for i := range dst {
		dst[i] = hexNibble[s[2*i]]<<4 | hexNibble[s[2*i+1]]
	}
}

// value writes a tag and the payload of v.
func (w *sectionWriter) value(v pcommon.Value) {
	tag := w.tagOf(v)
	w.uvarint(tag)
	w.valuePayload(v, tag)
}

// valuePayload writes v, whose tag is tag, without the tag.
func (w *sectionWriter) valuePayload(v pcommon.Value, tag valueTag) {
	switch tag {
	case valueStr:
		w.str(v.Str())
	case valueTraceIDHex:
		var id pcommon.TraceID
		decodeLowerHex(id[:], v.Str())
		w.traceID(id)
	case valueSpanIDHex:
		var id pcommon.SpanID
		decodeLowerHex(id[:], v.Str())
		w.spanIDRef(id)
	case valueInt:
		w.intValue(v.Int())
	case valueDouble:
		w.double(v.Double())
	case valueBool:
		if v.Bool() {
			w.uvarint(1)
		} else {
			w.uvarint(0)
		}
	case valueBytes:
		b := v.Bytes()
		w.count(b.Len())
		w.raw(b.AsRaw())
	case valueMap:
		w.attrs(v.Map())
	case valueSlice:
		s := v.Slice()
		w.count(s.Len())
		for i := range s.Len() {
			w.value(s.At(i))
		}
	default: // empty: a byte all the same, see valueTag
		w.uvarint(0)
	}
}

func (w *sectionWriter) resource(r pcommon.Resource, schemaURL string) {
	w.attrs(r.Attributes())
	w.uvarint(uint64(r.DroppedAttributesCount()))
	w.str(schemaURL)
}

func (w *sectionWriter) scope(s pcommon.InstrumentationScope, schemaURL string) {
	w.str(s.Name())
	w.str(s.Version())
	w.attrs(s.Attributes())
	w.uvarint(uint64(s.DroppedAttributesCount()))
	w.str(schemaURL)
}
