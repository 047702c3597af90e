package otlpgo

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/require"
)

// Frames written by hand from docs/protocol.md, with no help from the
// package's encoder, so that attacks and limit boundaries are exactly the
// bytes the document allows. frameWithBody, appendSection, dictPayload and
// streamsPayload (malformed_test.go) write the header, sections, dictionary
// and streams.

// handLogs writes a logs section: one resource and one scope, whose empty
// attribute maps define and reuse shape 1, then the log records.
type handLogs struct {
	streams [numStreams][]byte
}

func newHandLogs(records int) *handLogs {
	l := &handLogs{}
	l.uvarint(streamStruct, 1, 0, 0) // n_resources; attributes: new shape of 0 keys (shape 1)
	l.uvarint(streamStruct, 0)       // dropped_attributes_count
	l.uvarint(streamStrings, 0)      // schema_url
	l.uvarint(streamStruct, 1)       // n_scopes
	l.uvarint(streamStrings, 0, 0)   // name, version
	l.uvarint(streamStruct, 1, 0)    // attributes: shape 1; dropped_attributes_count
	l.uvarint(streamStrings, 0)      // schema_url
	l.uvarint(streamStruct, uint64(records))
	return l
}

func (l *handLogs) uvarint(stream int, values ...uint64) {
	for _, v := range values {
		l.streams[stream] = binary.AppendUvarint(l.streams[stream], v)
	}
}

// record writes a log record with zero times and no ids; body and attrs
// write its body value and attribute map.
func (l *handLogs) record(body, attrs func(l *handLogs)) {
	l.uvarint(streamTimes, 3, 3)  // time, observed_time lag: zero deltas
	l.uvarint(streamStruct, 0)    // severity_number
	l.uvarint(streamStrings, 0)   // severity_text
	body(l)                       // tag [struct] · payload
	attrs(l)                      // shape_ref [struct] · (shape) · values
	l.uvarint(streamStruct, 0, 0) // dropped_attributes_count, flags
	l.uvarint(streamStruct, 0)    // presence: no trace or span id
	l.uvarint(streamStrings, 0)   // event_name
}

func emptyBody(l *handLogs) { l.uvarint(streamStruct, uint64(valueEmpty), 0) }
func noAttrs(l *handLogs)   { l.uvarint(streamStruct, 1) } // shape 1: no keys

func (l *handLogs) section() []byte {
	s := l.streams
	return streamsPayload(s[streamStruct], s[streamStrings], s[streamRaw], s[streamTimes], s[streamInts], s[streamDoubles])
}

// handFrame wraps a dictionary and a logs section in a frame, compressed
// with zstd (as one frame, content size in its header) if compress is set.
func handFrame(t testing.TB, dict []string, logs *handLogs, compress bool) []byte {
	t.Helper()
	body := appendSection(nil, sectionDict, dictPayload(dict...))
	body = appendSection(body, sectionLogs, logs.section())
	if !compress {
		return frameWithBody(0, body, -1)
	}
	enc, err := zstd.NewWriter(nil)
	require.NoError(t, err)
	defer enc.Close()
	return frameWithBody(flagZstd, enc.EncodeAll(body, nil), len(body))
}

// zstdStreamFrame compresses body as a zstd stream whose header has no
// content size, and declares rawLen; the stream alone tells the body's
// length.
func zstdStreamFrame(t testing.TB, body []byte, rawLen int) []byte {
	t.Helper()
	var compressed bytes.Buffer
	enc, err := zstdWriter(&compressed, zstd.MinWindowSize)
	require.NoError(t, err)
	_, err = enc.Write(body)
	require.NoError(t, err)
	require.NoError(t, enc.Close())
	return frameWithBody(flagZstd, compressed.Bytes(), rawLen)
}

// zstdWriter compresses a stream of unknown length with a window of window
// bytes.
func zstdWriter(w io.Writer, window int) (*zstd.Encoder, error) {
	return zstd.NewWriter(w, zstd.WithWindowSize(window))
}

// rawBlockZstd writes data as a zstd frame by hand (RFC 8878): a header
// with a window of 2^windowLog bytes and no content size, and raw blocks.
func rawBlockZstd(windowLog int, data []byte) []byte {
	f := []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, byte(windowLog-10) << 3}
	for {
		n := min(len(data), 128<<10)
		last := uint32(0)
		if n == len(data) {
			last = 1
		}
		bh := uint32(n)<<3 | last // block type 0: raw
		f = append(f, byte(bh), byte(bh>>8), byte(bh>>16))
		f = append(f, data[:n]...)
		data = data[n:]
		if last == 1 {
			return f
		}
	}
}

// dictRefsFrame: one dictionary string of strLen bytes, the body of each of
// records log records.
func dictRefsFrame(t testing.TB, strLen, records int, compress bool) []byte {
	l := newHandLogs(records)
	for range records {
		l.record(func(l *handLogs) {
			l.uvarint(streamStruct, uint64(valueStr))
			l.uvarint(streamStrings, 1)
		}, noAttrs)
	}
	return handFrame(t, []string{strings.Repeat("x", strLen)}, l, compress)
}

// keyNames are the dictionary entries k0 … k(n-1), strrefs 1 … n.
func keyNames(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("k%d", i)
	}
	return keys
}

// wideMapsFrame: records log records whose attributes have the same keys
// (shape 2, defined by the first), each value an int of one byte.
func wideMapsFrame(t testing.TB, records, keys int, tag valueTag, compress bool) []byte {
	l := newHandLogs(records)
	for i := range records {
		l.record(emptyBody, func(l *handLogs) {
			if i == 0 {
				l.uvarint(streamStruct, 0, uint64(keys)) // new shape (2)
				for k := range keys {
					l.uvarint(streamStrings, uint64(k+1))
					l.uvarint(streamStruct, tag)
				}
			} else {
				l.uvarint(streamStruct, 2)
			}
			for range keys {
				switch tag {
				case valueInt:
					l.uvarint(streamInts, 0)
				case valueTraceIDHex:
					// A back reference to the last trace id of the frame;
					// the first value of the frame brings the id itself.
					if l.streams[streamRaw] == nil {
						l.uvarint(streamStruct, 0)
						l.streams[streamRaw] = bytes.Repeat([]byte{0xab}, 16)
					} else {
						l.uvarint(streamStruct, 1)
					}
				default:
					panic("wideMapsFrame: unsupported tag")
				}
			}
		})
	}
	return handFrame(t, keyNames(keys), l, compress)
}

// arrayBodiesFrame: records log records whose body is an array of n ints.
func arrayBodiesFrame(t testing.TB, records, n int) []byte {
	l := newHandLogs(records)
	for range records {
		l.record(func(l *handLogs) {
			l.uvarint(streamStruct, uint64(valueSlice), uint64(n))
			for range n {
				l.uvarint(streamStruct, uint64(valueInt))
				l.uvarint(streamInts, 0)
			}
		}, noAttrs)
	}
	return handFrame(t, nil, l, false)
}

// deepBodyFrame: one log record whose body is levels maps, each the value
// of key "m" of the one around it.
func deepBodyFrame(t testing.TB, levels int) []byte {
	l := newHandLogs(1)
	l.record(func(l *handLogs) {
		l.uvarint(streamStruct, uint64(valueMap))
		for level := range levels - 1 {
			if level == 0 {
				l.uvarint(streamStruct, 0, 1, uint64(valueMap)) // new shape (2): "m" → map
				l.uvarint(streamStrings, 1)
			} else {
				l.uvarint(streamStruct, 2)
			}
		}
		l.uvarint(streamStruct, 1) // the innermost map: shape 1, no keys
	}, noAttrs)
	return handFrame(t, []string{"m"}, l, false)
}

// TestHandFramesDecode checks the hand-written frames against the decoder
// under limits that let them through.
func TestHandFramesDecode(t *testing.T) {
	tests := []struct {
		name  string
		frame []byte
		check func(t *testing.T, req Request)
	}{
		{"dict refs", dictRefsFrame(t, 5, 3, true), func(t *testing.T, req Request) {
			records := req.Logs.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
			require.Equal(t, 3, records.Len())
			require.Equal(t, "xxxxx", records.At(2).Body().Str())
		}},
		{"wide maps", wideMapsFrame(t, 3, 4, valueInt, false), func(t *testing.T, req Request) {
			attrs := req.Logs.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(2).Attributes()
			require.Equal(t, map[string]any{"k0": int64(0), "k1": int64(0), "k2": int64(0), "k3": int64(0)}, attrs.AsRaw())
		}},
		{"hex refs", wideMapsFrame(t, 2, 2, valueTraceIDHex, true), func(t *testing.T, req Request) {
			attrs := req.Logs.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(1).Attributes()
			v, ok := attrs.Get("k1")
			require.True(t, ok)
			require.Equal(t, strings.Repeat("ab", 16), v.Str())
		}},
		{"array bodies", arrayBodiesFrame(t, 2, 3), func(t *testing.T, req Request) {
			require.Equal(t, 3, req.Logs.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(1).Body().Slice().Len())
		}},
		{"deep body", deepBodyFrame(t, 3), func(t *testing.T, req Request) {
			body := req.Logs.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Body()
			require.Equal(t, map[string]any{"m": map[string]any{"m": map[string]any{}}}, body.AsRaw())
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := Decode(tc.frame, Limits{})
			require.NoError(t, err)
			tc.check(t, req)
		})
	}
}
