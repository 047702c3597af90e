package otlpgo

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// Signal names one signal section of a frame.
type Signal int

const (
	// Traces is the traces section.
	Traces Signal = iota
	// Logs is the logs section.
	Logs
	// Metrics is the metrics section.
	Metrics
	numSignals
)

// String returns the signal's name as the receiver's response names it.
func (s Signal) String() string {
	switch s {
	case Traces:
		return "traces"
	case Logs:
		return "logs"
	case Metrics:
		return "metrics"
	default:
		return "unknown"
	}
}

// SignalSet is a set of signals, bit i for Signal i.
type SignalSet uint8

// AllSignals holds the three signals.
const AllSignals SignalSet = 1<<Traces | 1<<Logs | 1<<Metrics

// Has reports whether s holds sig.
func (s SignalSet) Has(sig Signal) bool { return s&(1<<sig) != 0 }

// Compression selects how a frame body is compressed.
type Compression uint8

const (
	// CompressionNone leaves the body as it is.
	CompressionNone Compression = iota
	// CompressionZstd compresses the body with zstd (header flag bit 0).
	CompressionZstd
)

// String returns the name of the compression.
func (c Compression) String() string {
	switch c {
	case CompressionNone:
		return "none"
	case CompressionZstd:
		return "zstd"
	default:
		return "unknown"
	}
}

var zstdEncoder = sync.OnceValue(func() *zstd.Encoder {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault))
	if err != nil {
		panic(fmt.Sprintf("otlpgo: zstd encoder: %v", err)) // only on invalid options, which are constant
	}
	return enc
})

// Builder collects the spans, log records and points of one frame as they
// arrive and writes the frame. A Builder is not safe for concurrent use.
type Builder struct {
	dict     dictWriter
	sections [numSignals]sectionWriter
	body     []byte
}

// NewBuilder returns an empty Builder.
func NewBuilder() *Builder {
	b := &Builder{}
	b.dict.reset()
	for i := range b.sections {
		b.sections[i].dict = &b.dict
		b.sections[i].reset()
	}
	b.sections[Logs].spanHex = true
	b.sections[Metrics].spanHex = true
	return b
}

// Reset empties b for the next frame, keeping its buffers.
func (b *Builder) Reset() {
	b.dict.reset()
	for i := range b.sections {
		b.sections[i].reset()
	}
}

// Items returns the spans, log records or data points added for sig.
func (b *Builder) Items(sig Signal) int { return b.sections[sig].items }

// Present returns the signals that hold at least one resource.
func (b *Builder) Present() SignalSet {
	var s SignalSet
	for i := range b.sections {
		if b.sections[i].resources > 0 {
			s |= 1 << i
		}
	}
	return s
}

// Size returns the bytes the body of a frame of everything added so far
// takes before compression, give or take the varint lengths.
func (b *Builder) Size() int {
	n := len(b.dict.data) + 5*len(b.dict.ends)
	for i := range b.sections {
		for _, s := range b.sections[i].streams {
			n += len(s)
		}
	}
	return n
}

// AppendFrame appends a frame holding the signals of which that were added
// to b and returns the extended buffer. b is left as it is, so a frame of
// fewer signals can be written again (a retry of the signals the receiver
// refused for now).
func (b *Builder) AppendFrame(dst []byte, which SignalSet, c Compression) ([]byte, error) {
	if c > CompressionZstd {
		return dst, fmt.Errorf("otlpgo: unknown compression %d", c)
	}
	var flags byte
	if c == CompressionZstd {
		flags |= flagZstd
	}
	start := len(dst)
	dst = append(dst, magic...)
	dst = append(dst, versionMajor, versionMinor, flags, 0)
	dst = append(dst, 0, 0, 0, 0, 0, 0, 0, 0) // body_len, raw_len: patched below

	body := dst
	if c == CompressionZstd {
		body = b.body[:0]
	}
	bodyStart := len(body)
	if b.dict.len() > 0 {
		body = b.dict.appendSection(body)
	}
	tags := [numSignals]sectionTag{sectionTraces, sectionLogs, sectionMetrics}
	for i := range b.sections {
		if which.Has(Signal(i)) && b.sections[i].resources > 0 {
			body = b.sections[i].appendSection(body, tags[i])
		}
	}
	rawLen := len(body) - bodyStart
	if uint64(rawLen) > math.MaxUint32 {
		return dst[:start], errors.New("otlpgo: frame body over 4 GiB")
	}
	if c == CompressionZstd {
		b.body = body
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

// dictWriter collects the strings of a frame: reference 0 is the empty
// string, k >= 1 the k-th entry.
type dictWriter struct {
	data []byte
	ends []uint32
	refs map[string]uint64 // strings of up to maxDedupLen bytes
}

func (d *dictWriter) reset() {
	d.data = d.data[:0]
	d.ends = d.ends[:0]
	if d.refs == nil {
		d.refs = make(map[string]uint64)
	}
	clear(d.refs)
}

func (d *dictWriter) len() int { return len(d.ends) }

func (d *dictWriter) add(s string) uint64 {
	d.data = append(d.data, s...)
	d.ends = append(d.ends, uint32(len(d.data)))
	return uint64(len(d.ends))
}

func (d *dictWriter) ref(s string) uint64 {
	if s == "" {
		return 0
	}
	if len(s) > maxDedupLen {
		return d.add(s)
	}
	if r, ok := d.refs[s]; ok {
		return r
	}
	r := d.add(s)
	// The key is a copy: the caller's string may live in a buffer it reuses.
	d.refs[string(d.data[len(d.data)-len(s):])] = r
	return r
}

// appendSection writes the dict section: count, all lengths, then all bytes.
func (d *dictWriter) appendSection(dst []byte) []byte {
	size := uvarintLen(uint64(d.len())) + len(d.data)
	prev := uint32(0)
	for _, end := range d.ends {
		size += uvarintLen(uint64(end - prev))
		prev = end
	}
	dst = binary.AppendUvarint(dst, uint64(sectionDict))
	dst = binary.AppendUvarint(dst, uint64(size))
	dst = binary.AppendUvarint(dst, uint64(d.len()))
	prev = 0
	for _, end := range d.ends {
		dst = binary.AppendUvarint(dst, uint64(end-prev))
		prev = end
	}
	return append(dst, d.data...)
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}
