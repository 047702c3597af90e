package otlpgo

import (
	"encoding/binary"
	"fmt"
	"math"
	"sync"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/xpdata"
)

// Decoder reads frames within its Limits, reusing a decompression buffer
// from one frame to the next. A Decoder is not safe for concurrent use; the
// package-level Decode is.
type Decoder struct {
	limits  Limits
	scratch []byte      // decompressed body; nothing decoded points into it
	zstd    *zstdStream // made on the first compressed frame
	lists   readerLists // the readers' own lists, kept for the next frame
}

// readerLists are the lists a frame's readers build for themselves: spans
// by index, parent links, the frame's trace and span ids, map builders.
// Nothing decoded points into them, so a Decoder hands them from one frame
// to the next instead of allocating them per frame. A list grows through
// reserve, which spends the frame's budget on the growth: a frame still
// pays for every list longer than an earlier frame's.
type readerLists struct {
	spans    []ptrace.Span
	parents  []parentRef
	traceIDs []pcommon.TraceID
	spanIDs  []pcommon.SpanID
	builders []*xpdata.MapBuilder
}

// maxKeptListLen keeps one huge frame from pinning its lists in a pooled
// Decoder.
const maxKeptListLen = 1 << 16

// take gives the lists to a frame's decode state.
func (l *readerLists) take(st *decodeState) {
	st.traceIDs, st.spanIDs = l.traceIDs[:0], l.spanIDs[:0]
}

// keep takes the lists back after a frame: emptied, the span handles
// cleared so the lists pin no request, dropped when one frame made them
// huge.
func (l *readerLists) keep(st *decodeState) {
	l.traceIDs, l.spanIDs = keepList(st.traceIDs), keepList(st.spanIDs)
}

// keepReader takes a section reader's lists back.
func (l *readerLists) keepReader(r *sectionReader) {
	clear(r.spans)
	l.spans, l.parents, l.builders = keepList(r.spans), keepList(r.parents), r.builders
}

func keepList[T any](s []T) []T {
	if cap(s) > maxKeptListLen {
		return nil
	}
	return s[:0]
}

// NewDecoder returns a Decoder bounded by limits; zero limits take their
// default value.
func NewDecoder(limits Limits) *Decoder {
	return &Decoder{limits: limits.orDefaults()}
}

// maxPooledScratch keeps one huge frame from pinning its buffer in the pool.
const maxPooledScratch = 16 << 20

var decoderPool = sync.Pool{New: func() any { return &Decoder{} }}

// Decode reads one frame within limits (zero limits take their default).
// The returned Request has all three signals initialised and shares no
// memory with frame. Errors are *DecodeError wrapping one of the sentinels.
// It is safe for concurrent use.
func Decode(frame []byte, limits Limits) (Request, error) {
	d := decoderPool.Get().(*Decoder)
	d.limits = limits.orDefaults()
	req, err := d.Decode(frame)
	if cap(d.scratch) > maxPooledScratch {
		d.scratch = nil
	}
	decoderPool.Put(d)
	return req, err
}

// Decode reads one frame; see the package-level Decode. On error it returns
// an empty Request: a frame is used whole or not at all.
func (d *Decoder) Decode(frame []byte) (Request, error) {
	req, _, err := d.decode(frame)
	if err != nil {
		return NewRequest(), err
	}
	return req, nil
}

// decode also returns the decoded size of the frame (budget.go), as far as
// decoding got.
func (d *Decoder) decode(frame []byte) (Request, int64, error) {
	st := decodeState{limits: d.limits}
	req, err := d.decodeFrame(frame, &st)
	return req, st.decoded, err
}

func (d *Decoder) decodeFrame(frame []byte, st *decodeState) (Request, error) {
	d.lists.take(st)
	defer d.lists.keep(st)
	req := NewRequest()
	h, err := readHeader(frame, d.limits)
	if err != nil {
		return req, err
	}
	st.budget = d.limits.decodedBudget(h.rawLen)
	st.version = h.major
	if err := st.startStream(h); err != nil {
		return req, err
	}
	body := frame[headerSize:]
	if h.flags&flagZstd != 0 {
		// The body and the chunks it is staged in are spent before
		// decompression allocates them.
		if !st.spend(inflateCost(h.rawLen)) {
			return req, st.overBudget("header", 12)
		}
		if body, err = d.inflate(body, h.rawLen); err != nil {
			return req, err
		}
	}
	var seen [sectionStream + 1]bool
	c := cursor{buf: body, base: headerSize}
	if st.streamFrame {
		if err := st.readStreamSection(&c); err != nil {
			return req, err
		}
	}
	for c.pos < len(c.buf) {
		sectionStart := c.offset()
		tag, ok1 := c.uvarint()
		size, ok2 := c.uvarint()
		if !ok1 || !ok2 {
			return req, c.fail("body", "section header")
		}
		if size > uint64(c.left()) {
			return req, &DecodeError{Section: "body", Offset: sectionStart, Err: ErrTruncated,
				Detail: fmt.Sprintf("section %s declares %d bytes, %d left", sectionTag(tag), size, c.left())}
		}
		payload := cursor{buf: c.buf[c.pos : c.pos+int(size)], base: c.offset()}
		c.pos += int(size)
		t := sectionTag(tag)
		if t == sectionStream && st.version != versionV1 {
			return req, &DecodeError{Section: "stream", Offset: sectionStart, Err: ErrMalformed, Detail: "stream section not at the start of a stream frame"}
		}
		if t < sectionDict || t > sectionMetrics {
			continue // a section from a later minor version: skip it
		}
		if seen[t] {
			return req, &DecodeError{Section: t.String(), Offset: sectionStart, Err: ErrMalformed, Detail: "duplicate section"}
		}
		seen[t] = true
		if t == sectionDict {
			if seen[sectionTraces] || seen[sectionLogs] || seen[sectionMetrics] {
				return req, &DecodeError{Section: "dict", Offset: sectionStart, Err: ErrMalformed, Detail: "dict section after a signal section"}
			}
			if err := st.readDict(payload); err != nil {
				return req, err
			}
			continue
		}
		r, err := st.newSectionReader(t, payload)
		if err != nil {
			return req, err
		}
		r.spans, r.parents, r.builders = d.lists.spans[:0], d.lists.parents[:0], d.lists.builders
		if st.streamFrame {
			r.shapes = st.stream.shapes[t-sectionTraces]
		}
		switch t {
		case sectionTraces:
			r.traces(req.Traces)
		case sectionLogs:
			r.logs(req.Logs)
		case sectionMetrics:
			r.metrics(req.Metrics)
		}
		d.lists.keepReader(r)
		if err := r.finish(); err != nil {
			return req, err
		}
		if st.streamFrame {
			st.stream.shapes[t-sectionTraces] = r.shapes
		}
	}
	if st.nextLocal < len(st.local) {
		return req, &DecodeError{Section: "dict", Offset: c.offset(), Err: ErrMalformed,
			Detail: fmt.Sprintf("%d of %d local strings unused", len(st.local)-st.nextLocal, len(st.local))}
	}
	if st.streamFrame {
		st.stream.nextSeq++
	}
	return req, nil
}

// startStream checks the stream flags of a frame against the reader and
// its stream state, and clears the state for a reset frame.
func (st *decodeState) startStream(h header) error {
	if h.flags&flagStream == 0 {
		return nil
	}
	if st.stream == nil {
		return &DecodeError{Section: "header", Offset: 6, Err: ErrStreamState, Detail: "stream frame given to a stateless reader"}
	}
	st.streamFrame = true
	if h.flags&flagReset != 0 {
		st.stream.clear()
		st.stream.needReset = false
	} else if st.stream.needReset {
		return &DecodeError{Section: "header", Offset: 6, Err: ErrStreamState, Detail: "stream has no state: a reset frame must come first"}
	}
	st.dict = st.stream.dict
	st.introduced = len(st.dict)
	return nil
}

// readStreamSection reads the stream section, which opens a stream frame,
// and checks its sequence number.
func (st *decodeState) readStreamSection(c *cursor) error {
	at := c.offset()
	tag, ok1 := c.uvarint()
	size, ok2 := c.uvarint()
	if !ok1 || !ok2 {
		return c.fail("stream", "section header")
	}
	if sectionTag(tag) != sectionStream {
		return &DecodeError{Section: "stream", Offset: at, Err: ErrMalformed, Detail: fmt.Sprintf("stream frame opens with section %s, want stream", sectionTag(tag))}
	}
	if size > uint64(c.left()) {
		return &DecodeError{Section: "stream", Offset: at, Err: ErrTruncated, Detail: fmt.Sprintf("section declares %d bytes, %d left", size, c.left())}
	}
	payload := cursor{buf: c.buf[c.pos : c.pos+int(size)], base: c.offset()}
	c.pos += int(size)
	seq, ok := payload.uvarint()
	if !ok {
		return payload.fail("stream", "sequence number")
	}
	if payload.left() > 0 {
		return &DecodeError{Section: "stream", Offset: payload.offset(), Err: ErrTrailingBytes, Detail: fmt.Sprintf("%d bytes after the sequence number", payload.left())}
	}
	if seq != st.stream.nextSeq {
		return &DecodeError{Section: "stream", Offset: payload.base, Err: ErrStreamState,
			Detail: fmt.Sprintf("frame %d of the stream, the reader expects frame %d", seq, st.stream.nextSeq)}
	}
	return nil
}

// addState counts cost against max_stream_state_bytes in a stream frame.
func (st *decodeState) addState(section string, offset int, cost int64) error {
	if !st.streamFrame {
		return nil
	}
	if st.stream.bytes+cost > int64(st.limits.MaxStreamStateBytes) {
		return limitError(section, offset, "max_stream_state_bytes", "stream state would take %d bytes, limit is %d",
			st.stream.bytes+cost, st.limits.MaxStreamStateBytes)
	}
	st.stream.bytes += cost
	return nil
}

// header is what the 16-byte frame header says.
type header struct {
	major   byte
	flags   byte
	bodyLen uint64
	rawLen  uint64
}

// readHeader checks the header of frame against itself, the frame's length
// and limits (with defaults applied).
func readHeader(frame []byte, limits Limits) (header, error) {
	headerErr := func(off int, sentinel error, format string, args ...any) error {
		return &DecodeError{Section: "header", Offset: off, Err: sentinel, Detail: fmt.Sprintf(format, args...)}
	}
	if len(frame) >= len(magic) && string(frame[:len(magic)]) != magic {
		return header{}, headerErr(0, ErrBadMagic, "bad magic %q, want %q", frame[:len(magic)], magic)
	}
	if len(frame) < headerSize {
		return header{}, headerErr(len(frame), ErrTruncated, "frame is %d bytes, header needs %d", len(frame), headerSize)
	}
	if len(frame) > limits.MaxFrameBytes {
		return header{}, limitError("header", 0, "max_frame_bytes", "frame is %d bytes, limit is %d", len(frame), limits.MaxFrameBytes)
	}
	major, minor, flags, reserved := frame[4], frame[5], frame[6], frame[7]
	if major != versionMajor && major != versionV1 {
		return header{}, headerErr(4, ErrUnsupportedVersion, "version %d.%d not supported, this reader knows %d.x and %d.x", major, minor, versionV1, versionMajor)
	}
	known := byte(knownFlags)
	if major == versionV1 {
		known = knownFlagsV1
	}
	if flags&^known != 0 {
		return header{}, headerErr(6, ErrUnsupportedVersion, "unknown header flags %#02x in version %d.%d", flags&^known, major, minor)
	}
	if flags&flagReset != 0 && flags&flagStream == 0 {
		return header{}, headerErr(6, ErrMalformed, "reset flag without the stream flag")
	}
	if reserved != 0 {
		return header{}, headerErr(7, ErrMalformed, "reserved byte is %d, want 0", reserved)
	}
	h := header{
		major:   major,
		flags:   flags,
		bodyLen: uint64(binary.LittleEndian.Uint32(frame[8:])),
		rawLen:  uint64(binary.LittleEndian.Uint32(frame[12:])),
	}
	left := uint64(len(frame) - headerSize)
	switch {
	case h.bodyLen > left:
		return header{}, headerErr(8, ErrTruncated, "body_len is %d, %d bytes follow the header", h.bodyLen, left)
	case h.bodyLen < left:
		return header{}, headerErr(headerSize+int(h.bodyLen), ErrTrailingBytes, "%d bytes after the body", left-h.bodyLen)
	case h.rawLen > uint64(limits.MaxBodyBytes):
		return header{}, limitError("header", 12, "max_body_bytes", "raw_len is %d, limit is %d", h.rawLen, limits.MaxBodyBytes)
	case flags&flagZstd == 0 && h.rawLen != h.bodyLen:
		return header{}, headerErr(12, ErrMalformed, "raw_len %d differs from body_len %d in an uncompressed frame", h.rawLen, h.bodyLen)
	}
	return h, nil
}

// decodeState is what the sections of one frame share.
type decodeState struct {
	limits     Limits
	budget     budget
	decoded    int64 // decoded size so far (budget.go)
	attributes int   // entries of attribute maps so far
	nested     int   // entries of map values and elements of array values so far
	dict       []string
	local      []string // v2: the frame's local strings, used in order
	nextLocal  int
	introduced int  // v2: entries whose first use (refNew) has been read
	version    byte // major version of the frame
	// stream is the state of a StreamDecoder (nil for Decoder); streamFrame
	// says the frame uses it.
	stream      *streamState
	streamFrame bool
	items       int
	traceIDs    []pcommon.TraceID // distinct trace ids of the frame, in order (ids.go)
	spanIDs     []pcommon.SpanID  // the frame's span id list (ids.go)
}

// readDict reads the dict section into one string that all entries slice, so
// the whole dictionary costs one allocation (and lives as long as any entry).
func (st *decodeState) readDict(c cursor) error {
	n, ok := c.uvarint()
	if !ok {
		return c.fail("dict", "entry count")
	}
	nLocal := uint64(0)
	if st.version != versionV1 {
		if nLocal, ok = c.uvarint(); !ok {
			return c.fail("dict", "local entry count")
		}
		n = min(n, math.MaxUint32) + min(nLocal, math.MaxUint32)
	}
	if n > uint64(st.limits.MaxDictEntries) {
		return limitError("dict", c.base, "max_dict_entries", "%d entries, limit is %d", n, st.limits.MaxDictEntries)
	}
	if n > uint64(c.left()) { // every length takes at least one byte
		return &DecodeError{Section: "dict", Offset: c.base, Err: ErrTruncated,
			Detail: fmt.Sprintf("%d entries need at least %d bytes, %d left", n, n, c.left())}
	}
	if !st.spend(int64(n) * costDictEntry) {
		return st.overBudget("dict", c.base)
	}
	ends := make([]int, n)
	total := 0
	for i := range ends {
		at := c.offset()
		l, ok := c.uvarint()
		if !ok {
			return c.fail("dict", "entry length")
		}
		if l > uint64(st.limits.MaxStringBytes) {
			return limitError("dict", at, "max_string_bytes", "entry %d is %d bytes, limit is %d", i+1, l, st.limits.MaxStringBytes)
		}
		if l > uint64(c.left()-total) {
			return &DecodeError{Section: "dict", Offset: at, Err: ErrTruncated,
				Detail: fmt.Sprintf("entry %d is %d bytes, %d left", i+1, l, c.left()-total)}
		}
		total += int(l)
		ends[i] = total
	}
	if total != c.left() {
		return &DecodeError{Section: "dict", Offset: c.offset() + total, Err: ErrTrailingBytes,
			Detail: fmt.Sprintf("%d bytes after the last entry", c.left()-total)}
	}
	if !st.spend(int64(total)) {
		return st.overBudget("dict", c.offset())
	}
	entries := len(ends) - int(nLocal)
	entryBytes := 0
	if entries > 0 {
		entryBytes = ends[entries-1]
	}
	if st.streamFrame {
		if err := st.addState("dict", c.base, int64(entries)*stateCostDictEntry+int64(entryBytes)); err != nil {
			return err
		}
	}
	// The entries and the local strings are two strings, so that a stream's
	// state never holds on to the local ones.
	strs := make([]string, len(ends))
	all := string(c.buf[c.pos : c.pos+entryBytes])
	local := string(c.buf[c.pos+entryBytes:])
	prev := 0
	for i, end := range ends {
		if i < entries {
			strs[i] = all[prev:end]
		} else {
			strs[i] = local[prev-entryBytes : end-entryBytes]
		}
		prev = end
	}
	if len(st.dict) == 0 {
		st.dict = strs[:entries:entries]
	} else {
		st.dict = append(st.dict, strs[:entries]...)
	}
	st.local = strs[entries:]
	if st.streamFrame {
		st.stream.dict = st.dict
	}
	return nil
}

// cursor reads a byte slice front to back. base is the frame offset of buf[0].
type cursor struct {
	buf  []byte
	pos  int
	base int
}

func (c *cursor) left() int   { return len(c.buf) - c.pos }
func (c *cursor) offset() int { return c.base + c.pos }

func (c *cursor) uvarint() (uint64, bool) {
	if c.pos < len(c.buf) && c.buf[c.pos] < 0x80 {
		v := uint64(c.buf[c.pos])
		c.pos++
		return v, true
	}
	v, n := binary.Uvarint(c.buf[c.pos:])
	if n <= 0 {
		return 0, false
	}
	c.pos += n
	return v, true
}

// fail explains why the last uvarint read failed.
func (c *cursor) fail(section, what string) error {
	_, n := binary.Uvarint(c.buf[c.pos:])
	if n == 0 {
		return &DecodeError{Section: section, Offset: c.offset(), Err: ErrTruncated, Detail: what + " truncated"}
	}
	return &DecodeError{Section: section, Offset: c.offset(), Err: ErrMalformed, Detail: what + " varint overflows 64 bits"}
}
