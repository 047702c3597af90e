package otlpgo

import (
	"encoding/binary"
	"fmt"
	"sync"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// Decoder reads frames within its Limits, reusing a decompression buffer
// from one frame to the next. A Decoder is not safe for concurrent use; the
// package-level Decode is.
type Decoder struct {
	limits  Limits
	scratch []byte // decompressed body; nothing decoded points into it
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
	req, err := d.decode(frame)
	if err != nil {
		return NewRequest(), err
	}
	return req, nil
}

func (d *Decoder) decode(frame []byte) (Request, error) {
	req := NewRequest()
	body, err := d.body(frame)
	if err != nil {
		return req, err
	}
	st := decodeState{limits: d.limits}
	var seen [sectionMetrics + 1]bool
	c := cursor{buf: body, base: headerSize}
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
		switch t {
		case sectionTraces:
			r.traces(req.Traces)
		case sectionLogs:
			r.logs(req.Logs)
		case sectionMetrics:
			r.metrics(req.Metrics)
		}
		if err := r.finish(); err != nil {
			return req, err
		}
	}
	return req, nil
}

// body checks the header and returns the body, decompressed if need be.
func (d *Decoder) body(frame []byte) ([]byte, error) {
	headerErr := func(off int, sentinel error, format string, args ...any) error {
		return &DecodeError{Section: "header", Offset: off, Err: sentinel, Detail: fmt.Sprintf(format, args...)}
	}
	if len(frame) >= len(magic) && string(frame[:len(magic)]) != magic {
		return nil, headerErr(0, ErrBadMagic, "bad magic %q, want %q", frame[:len(magic)], magic)
	}
	if len(frame) < headerSize {
		return nil, headerErr(len(frame), ErrTruncated, "frame is %d bytes, header needs %d", len(frame), headerSize)
	}
	if len(frame) > d.limits.MaxFrameBytes {
		return nil, headerErr(0, ErrLimitExceeded, "frame is %d bytes, limit is %d", len(frame), d.limits.MaxFrameBytes)
	}
	major, minor, flags, reserved := frame[4], frame[5], frame[6], frame[7]
	if major != versionMajor {
		return nil, headerErr(4, ErrUnsupportedVersion, "version %d.%d not supported, this reader knows %d.x", major, minor, versionMajor)
	}
	if flags&^knownFlags != 0 {
		return nil, headerErr(6, ErrUnsupportedVersion, "unknown header flags %#02x in version %d.%d", flags&^knownFlags, major, minor)
	}
	if reserved != 0 {
		return nil, headerErr(7, ErrMalformed, "reserved byte is %d, want 0", reserved)
	}
	bodyLen := uint64(binary.LittleEndian.Uint32(frame[8:]))
	rawLen := uint64(binary.LittleEndian.Uint32(frame[12:]))
	left := uint64(len(frame) - headerSize)
	switch {
	case bodyLen > left:
		return nil, headerErr(8, ErrTruncated, "body_len is %d, %d bytes follow the header", bodyLen, left)
	case bodyLen < left:
		return nil, headerErr(headerSize+int(bodyLen), ErrTrailingBytes, "%d bytes after the body", left-bodyLen)
	case rawLen > uint64(d.limits.MaxBodyBytes):
		return nil, headerErr(12, ErrLimitExceeded, "raw_len is %d, limit is %d", rawLen, d.limits.MaxBodyBytes)
	}
	body := frame[headerSize:]
	if flags&flagZstd == 0 {
		if rawLen != bodyLen {
			return nil, headerErr(12, ErrMalformed, "raw_len %d differs from body_len %d in an uncompressed frame", rawLen, bodyLen)
		}
		return body, nil
	}
	if uint64(cap(d.scratch)) < rawLen {
		d.scratch = make([]byte, 0, rawLen)
	}
	// The cap bounds what the zstd decoder may write, whatever the data says.
	out, err := zstdDecoder().DecodeAll(body, d.scratch[:0:rawLen])
	if err != nil {
		return nil, headerErr(headerSize, ErrMalformed, "corrupt zstd body: %v", err)
	}
	if uint64(len(out)) != rawLen {
		return nil, headerErr(12, ErrMalformed, "zstd body is %d bytes, raw_len says %d", len(out), rawLen)
	}
	return out, nil
}

// decodeState is what the sections of one frame share.
type decodeState struct {
	limits   Limits
	dict     []string
	items    int
	traceIDs []pcommon.TraceID // distinct trace ids of the frame, in order (ids.go)
	spanIDs  []pcommon.SpanID  // the frame's span id list (ids.go)
}

// readDict reads the dict section into one string that all entries slice, so
// the whole dictionary costs one allocation (and lives as long as any entry).
func (st *decodeState) readDict(c cursor) error {
	n, ok := c.uvarint()
	if !ok {
		return c.fail("dict", "entry count")
	}
	if n > uint64(st.limits.MaxDictEntries) {
		return &DecodeError{Section: "dict", Offset: c.base, Err: ErrLimitExceeded,
			Detail: fmt.Sprintf("%d entries, limit is %d", n, st.limits.MaxDictEntries)}
	}
	if n > uint64(c.left()) { // every length takes at least one byte
		return &DecodeError{Section: "dict", Offset: c.base, Err: ErrTruncated,
			Detail: fmt.Sprintf("%d entries need at least %d bytes, %d left", n, n, c.left())}
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
			return &DecodeError{Section: "dict", Offset: at, Err: ErrLimitExceeded,
				Detail: fmt.Sprintf("entry %d is %d bytes, limit is %d", i+1, l, st.limits.MaxStringBytes)}
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
	all := string(c.buf[c.pos:])
	st.dict = make([]string, n)
	prev := 0
	for i, end := range ends {
		st.dict[i] = all[prev:end]
		prev = end
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
