package e2e

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/require"
)

// A writer of fused frames byte by byte, following docs/protocol.md rather
// than pkg/otlpgo's encoder, so that a test can write frames that encoder
// never would: a header that lies, one string referenced everywhere, shapes
// reused a hundred thousand times.

const (
	frameMagic     = "OTGO"
	frameHeaderLen = 16
	flagZstd       = 1

	sectionDict = 1
	sectionLogs = 3

	valueTagEmpty     = 0
	valueTagString    = 1
	valueTagBool      = 4
	valueTagTraceIDHx = 8

	// emptyShapeRef is the empty map shape every logs section written here
	// defines first, for the resource attributes.
	emptyShapeRef = 1
)

// Streams of a signal section, in the order their lengths are written.
const (
	streamStruct = iota
	streamStrings
	streamRaw
	streamTimes
	streamInts
	streamDoubles
	streamCount
)

// signalWriter collects the six streams of one signal section.
type signalWriter struct {
	streams [streamCount][]byte
}

// uvarint appends v to a stream.
func (w *signalWriter) uvarint(stream int, v uint64) {
	w.streams[stream] = binary.AppendUvarint(w.streams[stream], v)
}

// raw appends bytes to the raw stream.
func (w *signalWriter) raw(b []byte) {
	w.streams[streamRaw] = append(w.streams[streamRaw], b...)
}

// payload is the section payload: the six stream lengths, then the streams.
func (w *signalWriter) payload() []byte {
	var out []byte
	for _, s := range w.streams {
		out = binary.AppendUvarint(out, uint64(len(s)))
	}
	for _, s := range w.streams {
		out = append(out, s...)
	}
	return out
}

// zeroTimeDelta is the tdelta of an unchanged timestamp: uvarint(0<<2 | 3).
const zeroTimeDelta = 3

// logsSection writes one resource and one scope, both without attributes
// (their map is the empty shape, defined first), holding n log records. For
// each, body writes the body value (tag and payload) and attrs the attribute
// map; every other field is zero.
func logsSection(n int, body, attrs func(w *signalWriter, i int)) []byte {
	w := &signalWriter{}
	w.uvarint(streamStruct, 1) // n_resources
	// resource: attributes map (defines shape 1, empty), dropped, schema_url
	w.uvarint(streamStruct, 0)
	w.uvarint(streamStruct, 0)
	w.uvarint(streamStruct, 0)
	w.uvarint(streamStrings, 0)
	w.uvarint(streamStruct, 1) // n_scopes
	// scope: name, version, attributes map, dropped, schema_url
	w.uvarint(streamStrings, 0)
	w.uvarint(streamStrings, 0)
	w.uvarint(streamStruct, emptyShapeRef)
	w.uvarint(streamStruct, 0)
	w.uvarint(streamStrings, 0)
	w.uvarint(streamStruct, uint64(n)) // n_items
	for i := range n {
		w.uvarint(streamTimes, zeroTimeDelta) // time
		w.uvarint(streamTimes, zeroTimeDelta) // observed_time lag
		w.uvarint(streamStruct, 0)            // severity_number
		w.uvarint(streamStrings, 0)           // severity_text
		body(w, i)
		attrs(w, i)
		w.uvarint(streamStruct, 0)  // dropped_attributes_count
		w.uvarint(streamStruct, 0)  // flags
		w.uvarint(streamStruct, 0)  // presence: no trace_id, no span_id
		w.uvarint(streamStrings, 0) // event_name
	}
	return w.payload()
}

// emptyBody writes an empty log body: tag 0, payload 0x00.
func emptyBody(w *signalWriter, _ int) {
	w.uvarint(streamStruct, valueTagEmpty)
	w.uvarint(streamStruct, 0)
}

// noAttributes writes an empty attribute map.
func noAttributes(w *signalWriter, _ int) {
	w.uvarint(streamStruct, emptyShapeRef)
}

// dictPayload is a dictionary section payload: n, the lengths, the bytes.
func dictPayload(entries ...[]byte) []byte {
	out := binary.AppendUvarint(nil, uint64(len(entries)))
	for _, e := range entries {
		out = binary.AppendUvarint(out, uint64(len(e)))
	}
	for _, e := range entries {
		out = append(out, e...)
	}
	return out
}

// appendSection appends a section: tag, length, payload.
func appendSection(body []byte, tag uint64, payload []byte) []byte {
	body = binary.AppendUvarint(body, tag)
	body = binary.AppendUvarint(body, uint64(len(payload)))
	return append(body, payload...)
}

// frameHeader is the 16-byte header of a v1.0 frame.
func frameHeader(flags byte, bodyLen, rawLen int) []byte {
	h := make([]byte, 0, frameHeaderLen)
	h = append(h, frameMagic...)
	h = append(h, 1, 0, flags, 0)
	h = binary.LittleEndian.AppendUint32(h, uint32(bodyLen))
	return binary.LittleEndian.AppendUint32(h, uint32(rawLen))
}

// zstdFrame compresses body as hard as zstd can and declares its true size.
func zstdFrame(t *testing.T, body []byte) []byte {
	t.Helper()
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBestCompression))
	require.NoError(t, err)
	defer enc.Close()
	compressed := enc.EncodeAll(body, nil)
	return append(frameHeader(flagZstd, len(compressed), len(body)), compressed...)
}

// zstdStreamFrame compresses size zero bytes as a stream, whose zstd frame
// header does not state the content size, with a window of window bytes,
// and declares rawLen instead.
func zstdStreamFrame(t *testing.T, size, window, rawLen int) []byte {
	t.Helper()
	var compressed bytes.Buffer
	enc, err := zstd.NewWriter(&compressed, zstd.WithEncoderLevel(zstd.SpeedBestCompression), zstd.WithWindowSize(window))
	require.NoError(t, err)
	chunk := make([]byte, 1<<20)
	for written := 0; written < size; written += len(chunk) {
		_, err := enc.Write(chunk[:min(len(chunk), size-written)])
		require.NoError(t, err)
	}
	require.NoError(t, enc.Close())
	return append(frameHeader(flagZstd, compressed.Len(), rawLen), compressed.Bytes()...)
}
