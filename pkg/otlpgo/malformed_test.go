package otlpgo

import (
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelfusion/otelfusion/pkg/fusiongen"
)

// frameWithBody wraps body in a header; rawLen < 0 means len(body).
func frameWithBody(flags byte, body []byte, rawLen int) []byte {
	if rawLen < 0 {
		rawLen = len(body)
	}
	f := append([]byte(magic), versionV1, versionMinor, flags, 0)
	f = binary.LittleEndian.AppendUint32(f, uint32(len(body)))
	f = binary.LittleEndian.AppendUint32(f, uint32(rawLen))
	return append(f, body...)
}

func appendSection(body []byte, tag sectionTag, payload []byte) []byte {
	body = binary.AppendUvarint(body, uint64(tag))
	body = binary.AppendUvarint(body, uint64(len(payload)))
	return append(body, payload...)
}

func dictPayload(entries ...string) []byte {
	p := binary.AppendUvarint(nil, uint64(len(entries)))
	for _, e := range entries {
		p = binary.AppendUvarint(p, uint64(len(e)))
	}
	for _, e := range entries {
		p = append(p, e...)
	}
	return p
}

// streamsPayload builds a signal section payload from the six streams.
func streamsPayload(structs, strs, raw, times, ints, doubles []byte) []byte {
	streams := [][]byte{structs, strs, raw, times, ints, doubles}
	var p []byte
	for _, s := range streams {
		p = binary.AppendUvarint(p, uint64(len(s)))
	}
	for _, s := range streams {
		p = append(p, s...)
	}
	return p
}

func encodeFrame(t testing.TB, req Request, c Compression) []byte {
	t.Helper()
	f, err := AppendFrame(nil, req, EncodeOptions{Compression: c})
	require.NoError(t, err)
	return f
}

// deepLogs has one record whose body nests maps depth levels deep.
func deepLogs(depth int) plog.Logs {
	ld := plog.NewLogs()
	lr := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	m := lr.Body().SetEmptyMap()
	for range depth {
		m = m.PutEmptyMap("m")
	}
	return ld
}

func TestDecodeMalformed(t *testing.T) {
	logs := encodeFrame(t, Request{Logs: fusiongen.FullLogs()}, CompressionNone)
	logsZstd := encodeFrame(t, Request{Logs: fusiongen.FullLogs()}, CompressionZstd)
	many := encodeFrame(t, Request{Logs: fusiongen.New(1).Logs(200)}, CompressionNone)
	patch := func(f []byte, at int, b byte) []byte {
		f = append([]byte(nil), f...)
		f[at] = b
		return f
	}
	// A logs section with one resource whose attribute key is string 5,
	// while the dictionary has one entry.
	badRef := frameWithBody(0, appendSection(appendSection(nil, sectionDict, dictPayload("k")), sectionLogs,
		streamsPayload([]byte{1, 0, 1, byte(valueStr)}, []byte{5, 1}, nil, nil, nil, nil)), -1)
	corruptZstd := append([]byte(nil), logsZstd...)
	for i := headerSize + 8; i < len(corruptZstd)-4; i += 7 {
		corruptZstd[i] ^= 0x5a
	}

	tests := []struct {
		name   string
		frame  []byte
		limits Limits
		want   error
		limit  string // expected DecodeError.Limit
		msg    string // expected Error() text, if set
	}{
		{name: "empty input", frame: nil, want: ErrTruncated},
		{name: "short header", frame: logs[:10], want: ErrTruncated},
		{name: "truncated body", frame: logs[:len(logs)-5], want: ErrTruncated},
		{name: "bad magic", frame: patch(logs, 0, 'X'), want: ErrBadMagic},
		{name: "unknown major version", frame: patch(logs, 4, 3), want: ErrUnsupportedVersion,
			msg: "otlpgo: section header at offset 4: version 3.0 not supported, this reader knows 1.x and 2.x"},
		{name: "unknown flag", frame: patch(logs, 6, 0x80), want: ErrUnsupportedVersion},
		{name: "reserved byte set", frame: patch(logs, 7, 1), want: ErrMalformed},
		{name: "trailing bytes after body", frame: append(append([]byte(nil), logs...), 0), want: ErrTrailingBytes},
		{name: "oversized section length", frame: frameWithBody(0, []byte{byte(sectionLogs), 0x80, 0x08, 1, 2}, -1), want: ErrTruncated},
		{name: "count larger than stream", frame: frameWithBody(0, appendSection(nil, sectionLogs,
			streamsPayload([]byte{0xe8, 0x07}, nil, nil, nil, nil, nil)), -1), want: ErrTruncated},
		{name: "dictionary index out of range", frame: badRef, want: ErrDictIndex,
			msg: "otlpgo: section logs at offset 33: string index 5 out of range (dict has 1)"},
		{name: "nesting too deep", frame: encodeFrame(t, Request{Logs: deepLogs(40)}, CompressionNone), want: ErrTooDeep, limit: "max_depth"},
		{name: "nesting over custom depth", frame: logs, limits: Limits{MaxDepth: 1}, want: ErrTooDeep, limit: "max_depth"},
		{name: "unread bytes in a stream", frame: frameWithBody(0, appendSection(nil, sectionLogs,
			streamsPayload([]byte{0, 9}, nil, nil, nil, nil, nil)), -1), want: ErrTrailingBytes},
		{name: "streams shorter than section", frame: frameWithBody(0, appendSection(nil, sectionLogs,
			append(streamsPayload([]byte{0}, nil, nil, nil, nil, nil), 7)), -1), want: ErrTrailingBytes},
		{name: "dictionary bytes left over", frame: frameWithBody(0, appendSection(nil, sectionDict,
			append(dictPayload("ab"), 'c')), -1), want: ErrTrailingBytes},
		{name: "items over limit", frame: many, limits: Limits{MaxItems: 10}, want: ErrLimitExceeded, limit: "max_items"},
		{name: "string over limit", frame: logs, limits: Limits{MaxStringBytes: 4}, want: ErrLimitExceeded, limit: "max_string_bytes"},
		{name: "dict entries over limit", frame: logs, limits: Limits{MaxDictEntries: 3}, want: ErrLimitExceeded, limit: "max_dict_entries"},
		{name: "frame over limit", frame: logs, limits: Limits{MaxFrameBytes: 64}, want: ErrLimitExceeded, limit: "max_frame_bytes",
			msg: "otlpgo: section header at offset 0: frame is " + fmt.Sprint(len(logs)) + " bytes, limit is 64 (max_frame_bytes)"},
		{name: "body over limit", frame: logsZstd, limits: Limits{MaxBodyBytes: 64}, want: ErrLimitExceeded, limit: "max_body_bytes"},
		{name: "decoded size over limit", frame: many, limits: Limits{MaxDecodedBytes: 10_000}, want: ErrLimitExceeded, limit: "max_decoded_bytes"},
		{name: "decoded size over expansion", frame: many, limits: Limits{MaxExpansion: 1}, want: ErrLimitExceeded, limit: "max_expansion"},
		{name: "corrupt zstd", frame: corruptZstd, want: ErrMalformed},
		{name: "zstd larger than raw_len", frame: func() []byte {
			f := append([]byte(nil), logsZstd...)
			binary.LittleEndian.PutUint32(f[12:], 10)
			return f
		}(), want: ErrMalformed},
		{name: "raw_len differs without zstd", frame: func() []byte {
			f := append([]byte(nil), logs...)
			binary.LittleEndian.PutUint32(f[12:], 1)
			return f
		}(), want: ErrMalformed},
		{name: "duplicate section", frame: frameWithBody(0, appendSection(appendSection(nil, sectionDict, dictPayload()), sectionDict, dictPayload()), -1), want: ErrMalformed},
		{name: "dict after signal", frame: frameWithBody(0, appendSection(appendSection(nil, sectionLogs,
			streamsPayload([]byte{0}, nil, nil, nil, nil, nil)), sectionDict, dictPayload()), -1), want: ErrMalformed},
		{name: "unknown value tag", frame: frameWithBody(0, appendSection(nil, sectionLogs,
			streamsPayload([]byte{1, 0, 1, 42}, []byte{0}, nil, nil, nil, nil)), -1), want: ErrMalformed},
		{name: "span id hex key in traces", frame: frameWithBody(0, appendSection(nil, sectionTraces,
			streamsPayload([]byte{1, 0, 1, byte(valueSpanIDHex)}, []byte{0}, nil, nil, nil, nil)), -1),
			want: ErrMalformed, msg: "otlpgo: section traces at offset 27: value tag 9 (span id in hex) in a traces section"},
		{name: "span id hex value in traces", frame: frameWithBody(0, appendSection(nil, sectionTraces,
			streamsPayload([]byte{1, 0, 1, byte(valueSlice), 1, byte(valueSpanIDHex)}, []byte{0}, nil, nil, nil, nil)), -1),
			want: ErrMalformed, msg: "otlpgo: section traces at offset 29: value tag 9 (span id in hex) in a traces section"},
		{name: "varint over 64 bits", frame: frameWithBody(0, appendSection(nil, sectionLogs,
			streamsPayload([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, nil, nil, nil, nil, nil)), -1), want: ErrMalformed},
		{name: "map keys over limit", frame: logs, limits: Limits{MaxMapEntries: 3}, want: ErrLimitExceeded, limit: "max_map_entries"},
		{name: "shape reused past the bytes left", frame: frameWithBody(0, appendSection(nil, sectionLogs,
			streamsPayload([]byte{1, 0, 2, 0, 0, 0, 0, 0, 1, 1}, []byte{0, 0, 0, 0, 0, 0}, nil, nil, nil, nil)), -1),
			want: ErrTruncated, msg: "otlpgo: section logs at offset 34: map of 2 values, 1 bytes left in the section"},
		{name: "span id reference out of range", frame: frameWithBody(0, appendSection(nil, sectionLogs,
			streamsPayload([]byte{1, 0, 0, 0, 1, 1, 0, 1, 0, byte(valueEmpty), 0, 1, 0, 0, hasSpanID, 5},
				[]byte{0, 0, 0, 0, 0, 0}, nil, []byte{3, 3}, nil, nil)), -1),
			want: ErrMalformed, msg: "otlpgo: section logs at offset 40: span id reference 5 back, the frame has 0 so far"},
		{name: "shape reference out of range", frame: frameWithBody(0, appendSection(nil, sectionLogs,
			streamsPayload([]byte{1, 3}, nil, nil, nil, nil, nil)), -1), want: ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := Decode(tc.frame, tc.limits)
			require.ErrorIs(t, err, tc.want)
			var de *DecodeError
			require.True(t, errors.As(err, &de), "want a *DecodeError, got %T", err)
			require.NotEmpty(t, de.Section)
			require.Equal(t, tc.limit, de.Limit)
			if tc.msg != "" {
				require.EqualError(t, err, tc.msg)
			}
			// Even on error the request is usable.
			require.Equal(t, 0, req.Traces.ResourceSpans().Len())
			require.Equal(t, 0, req.Logs.ResourceLogs().Len())
			require.Equal(t, 0, req.Metrics.ResourceMetrics().Len())
		})
	}
}

// TestDecodeSkipsUnknownSection checks that a v1 reader survives a section
// added by a later minor version, wherever it sits.
func TestDecodeSkipsUnknownSection(t *testing.T) {
	req := Request{Logs: fusiongen.FullLogs(), Metrics: fusiongen.FullMetrics()}
	frame := encodeFrame(t, req, CompressionNone)
	unknown := appendSection(nil, 99, []byte("a section from v1.7"))
	for _, at := range []string{"first", "last"} {
		t.Run(at, func(t *testing.T) {
			var body []byte
			if at == "first" {
				body = append(append(body, unknown...), frame[headerSize:]...)
			} else {
				body = append(append(body, frame[headerSize:]...), unknown...)
			}
			f := frameWithBody(0, body, -1)
			f[4] = versionMajor // the frame encodeFrame wrote
			f[5] = 7            // a newer minor version
			got, err := Decode(f, Limits{})
			require.NoError(t, err)
			requireSameRequest(t, req, got)
		})
	}
}

func TestRequestCounts(t *testing.T) {
	gen := fusiongen.New(3)
	req := Request{Traces: gen.Traces(7), Metrics: gen.Metrics(11)}
	spans, records, points := req.Counts()
	require.Equal(t, [3]int{7, 0, 11}, [3]int{spans, records, points})
}

func TestDecodeErrorMessage(t *testing.T) {
	err := &DecodeError{Section: "metrics", Offset: 9, Err: ErrTruncated}
	require.EqualError(t, err, "otlpgo: section metrics at offset 9: truncated")
	require.ErrorIs(t, err, ErrTruncated)
}
