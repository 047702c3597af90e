package otlpgo

import (
	"encoding/binary"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// allocated returns the bytes f allocates on the heap.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// requireLimitError checks that err is a *DecodeError for sentinel that
// names limit, in its Limit field and at the end of its message.
func requireLimitError(t *testing.T, err error, sentinel error, limit string) {
	t.Helper()
	require.ErrorIs(t, err, sentinel)
	var de *DecodeError
	require.True(t, errors.As(err, &de), "want a *DecodeError, got %T", err)
	require.Equal(t, limit, de.Limit)
	require.True(t, strings.HasSuffix(err.Error(), "("+limit+")"), "message %q does not name %s", err, limit)
}

// The attacks that made a few KiB of frame cost hundreds of MiB or seconds
// of CPU, built by hand as docs/protocol.md allows. Each must be refused,
// with no more allocated than DecodeCost reserves for it.
func TestDecodeRefusesAttacks(t *testing.T) {
	tests := []struct {
		name   string
		frame  []byte
		limits Limits
		want   error
		limit  string
	}{
		{
			// 4 MiB referenced 128 times: 512 MiB once written out.
			name:  "dictionary string referenced by 128 log bodies",
			frame: dictRefsFrame(t, 4<<20, 128, true),
			want:  ErrLimitExceeded, limit: "max_decoded_bytes",
		},
		{
			name:  "dictionary string referenced by 128 log bodies, uncompressed",
			frame: dictRefsFrame(t, 4<<20, 128, false),
			want:  ErrLimitExceeded, limit: "max_decoded_bytes",
		},
		{
			// 113k records × 64 values of one byte, each a 32-byte string.
			name:  "64-key shape of trace id back references in 113k records",
			frame: wideMapsFrame(t, 113_000, 64, valueTraceIDHex, true),
			want:  ErrLimitExceeded, limit: "max_decoded_bytes",
		},
		{
			// 4 MiB of one-byte values in maps of 1024 distinct keys.
			name:  "4056 maps of 1024 keys",
			frame: wideMapsFrame(t, 4056, 1024, valueInt, true),
			want:  ErrLimitExceeded, limit: "max_decoded_bytes",
		},
		{
			name:   "4056 maps of 1024 keys, over max_attributes first",
			frame:  wideMapsFrame(t, 4056, 1024, valueInt, true),
			limits: Limits{MaxDecodedBytes: 64 << 20, MaxAttributes: 100_000},
			want:   ErrLimitExceeded, limit: "max_attributes",
		},
		{
			name:   "4056 maps of 1024 keys under a small max_expansion",
			frame:  wideMapsFrame(t, 4056, 1024, valueInt, false),
			limits: Limits{MaxExpansion: 2},
			want:   ErrLimitExceeded, limit: "max_expansion",
		},
		{
			name:  "arrays of 1024 ints in 4056 log bodies",
			frame: arrayBodiesFrame(t, 4056, 1024),
			want:  ErrLimitExceeded, limit: "max_nested_values",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Logf("frame is %d bytes", len(tc.frame))
			var err error
			start := time.Now()
			alloc := allocated(func() { _, err = NewDecoder(tc.limits).Decode(tc.frame) })
			requireLimitError(t, err, tc.want, tc.limit)
			cost := tc.limits.DecodeCost(tc.frame)
			t.Logf("refused in %v, allocated %d bytes, DecodeCost %d: %v", time.Since(start), alloc, cost, err)
			require.LessOrEqual(t, alloc, costBound(cost))
			require.Less(t, alloc, uint64(48<<20))
		})
	}
}

// TestDecodeLimitBoundaries decodes a frame under each limit set to just
// what the frame needs, and refuses it one below.
func TestDecodeLimitBoundaries(t *testing.T) {
	wide := wideMapsFrame(t, 50, 100, valueInt, false)
	decoded, rawLen := decodedSize(t, wide)
	require.Greater(t, decoded, int64(2*minExpansionBudget), "the frame must be over the expansion floor")
	expansion := int((decoded + int64(rawLen) - 1) / int64(rawLen))
	dictFrame := dictRefsFrame(t, 1000, 3, false)
	zstdFrame := dictRefsFrame(t, 1<<20, 5, true)
	zstdDecoded, _ := decodedSize(t, zstdFrame)

	tests := []struct {
		name   string
		frame  []byte
		limit  string
		want   error
		limits func(v int) Limits // the limits with the one under test at v
		just   int                // the least v that decodes the frame
	}{
		{"decoded bytes", wide, "max_decoded_bytes", ErrLimitExceeded,
			func(v int) Limits { return Limits{MaxDecodedBytes: v, MaxExpansion: 1 << 20} }, int(decoded)},
		{"decoded bytes, zstd", zstdFrame, "max_decoded_bytes", ErrLimitExceeded,
			func(v int) Limits { return Limits{MaxDecodedBytes: v, MaxExpansion: 1 << 20} }, int(zstdDecoded)},
		{"expansion", wide, "max_expansion", ErrLimitExceeded,
			func(v int) Limits { return Limits{MaxExpansion: v} }, expansion},
		{"attributes", wide, "max_attributes", ErrLimitExceeded,
			func(v int) Limits { return Limits{MaxAttributes: v} }, 50 * 100},
		{"nested values", arrayBodiesFrame(t, 10, 7), "max_nested_values", ErrLimitExceeded,
			func(v int) Limits { return Limits{MaxNestedValues: v} }, 10 * 7},
		{"items", wide, "max_items", ErrLimitExceeded,
			func(v int) Limits { return Limits{MaxItems: v} }, 50},
		{"map entries", wide, "max_map_entries", ErrLimitExceeded,
			func(v int) Limits { return Limits{MaxMapEntries: v} }, 100},
		{"dict entries", wide, "max_dict_entries", ErrLimitExceeded,
			func(v int) Limits { return Limits{MaxDictEntries: v} }, 100},
		{"string bytes", dictFrame, "max_string_bytes", ErrLimitExceeded,
			func(v int) Limits { return Limits{MaxStringBytes: v} }, 1000},
		{"depth", deepBodyFrame(t, 5), "max_depth", ErrTooDeep,
			func(v int) Limits { return Limits{MaxDepth: v} }, 5},
		{"frame bytes", dictFrame, "max_frame_bytes", ErrLimitExceeded,
			func(v int) Limits { return Limits{MaxFrameBytes: v} }, len(dictFrame)},
		{"body bytes", dictFrame, "max_body_bytes", ErrLimitExceeded,
			func(v int) Limits { return Limits{MaxBodyBytes: v} }, len(dictFrame) - headerSize},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(tc.frame, tc.limits(tc.just))
			require.NoError(t, err)
			_, err = Decode(tc.frame, tc.limits(tc.just-1))
			requireLimitError(t, err, tc.want, tc.limit)
		})
	}
}

// costBound is what a decode of DecodeCost cost may allocate: cost, or
// twice that under the race detector, which gives small values more.
func costBound(cost int64) uint64 {
	if raceEnabled {
		return 2 * uint64(cost)
	}
	return uint64(cost)
}

// TestZstdBodyLength: a zstd stream must end exactly at raw_len, and what
// the decoder allocates follows the stream, never raw_len up front nor past
// it.
func TestZstdBodyLength(t *testing.T) {
	body := make([]byte, 1<<20)
	for i := range body {
		body[i] = byte(i * i >> 7)
	}
	tests := []struct {
		name     string
		frame    []byte
		msg      string
		maxAlloc uint64
	}{
		{"stream longer than raw_len", zstdStreamFrame(t, body, 256<<10),
			"otlpgo: section header at offset 12: zstd body is longer than raw_len 262144", 256<<10 + 16<<10},
		{"stream shorter than raw_len", zstdStreamFrame(t, body, 8<<20),
			"otlpgo: section header at offset 12: zstd body is 1048576 bytes, raw_len says 8388608", 2<<20 + 16<<10},
		{"content size other than raw_len", func() []byte {
			f := dictRefsFrame(t, 2000, 1, true)
			binary.LittleEndian.PutUint32(f[12:], binary.LittleEndian.Uint32(f[12:])+1)
			return f
		}(), "otlpgo: section header at offset 12: zstd frame content size is 2037, raw_len says 2038", 4 << 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDecoder(Limits{})
			// Warm the zstd decoder and its window for this raw_len, so what
			// is measured is the body.
			rawLen := uint64(binary.LittleEndian.Uint32(tc.frame[12:]))
			warm := body[:min(rawLen, uint64(len(body)))]
			_, err := d.inflate(zstdStreamFrame(t, warm, len(warm))[headerSize:], uint64(len(warm)))
			require.NoError(t, err)
			d.scratch = nil

			alloc := allocated(func() { _, err = d.Decode(tc.frame) })
			require.ErrorIs(t, err, ErrMalformed)
			require.EqualError(t, err, tc.msg)
			t.Logf("allocated %d bytes", alloc)
			require.LessOrEqual(t, alloc, tc.maxAlloc)
		})
	}
}

// TestZstdWindowBound refuses a body whose zstd window is larger than its
// raw_len can need, before decoding it.
func TestZstdWindowBound(t *testing.T) {
	body := appendSection(nil, sectionLogs, newHandLogs(0).section())
	tests := []struct {
		name   string
		window int // log2
		msg    string
	}{
		{name: "1 KiB", window: 10},
		{name: "8 MiB", window: 23,
			msg: "otlpgo: section header at offset 16: zstd window is 8388608 bytes, a body of raw_len 20 may use 2048"},
		{name: "2 KiB", window: 11},
		{name: "4 KiB", window: 12,
			msg: "otlpgo: section header at offset 16: zstd window is 4096 bytes, a body of raw_len 20 may use 2048"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(frameWithBody(flagZstd, rawBlockZstd(tc.window, body), len(body)), Limits{})
			if tc.msg == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrMalformed)
			require.EqualError(t, err, tc.msg)
		})
	}
}

// klauspost's EncodeAll writes a body of exactly 1 KiB as a frame that is
// not single-segment and declares a 2 KiB window; every body size around it
// must decode (a 1 KiB body was once refused 400).
func TestZstdBodySizesAroundTheMinimumWindow(t *testing.T) {
	for n := 900; n <= 2100; n++ {
		body := make([]byte, n)
		for i := range body {
			body[i] = byte(i * 7)
		}
		compressed := zstdEncoder().EncodeAll(body, nil)
		var d Decoder
		got, err := d.inflate(compressed, uint64(n))
		require.NoError(t, err, "body of %d bytes", n)
		require.Equal(t, body, got, "body of %d bytes", n)
	}
}

func TestDecodeCost(t *testing.T) {
	plain := dictRefsFrame(t, 1000, 3, false)
	rawLen := int64(len(plain) - headerSize)
	compressed := wideMapsFrame(t, 4056, 1024, valueInt, true)
	compressedRaw := int64(binary.LittleEndian.Uint32(compressed[12:]))
	require.Greater(t, compressedRaw, int64(4<<20))

	require.Equal(t, int64(minExpansionBudget+decodeOverhead), Limits{}.DecodeCost(plain))
	require.Equal(t, 100*rawLen+decodeOverhead, Limits{MaxExpansion: 100}.DecodeCost(plain))
	require.Equal(t, int64(32<<20+decodeOverhead+8<<20+2*(128<<10+32)), Limits{}.DecodeCost(compressed))
	require.Equal(t, int64(0), Limits{}.DecodeCost(plain[:10]), "truncated header")
	require.Equal(t, int64(0), Limits{MaxFrameBytes: 100}.DecodeCost(plain), "frame over its limit")
	require.Equal(t, int64(0), Limits{MaxBodyBytes: 1 << 20}.DecodeCost(compressed), "raw_len over its limit")

	// What decoding legit frames allocates stays within DecodeCost.
	for _, signal := range []string{"traces", "logs", "metrics", "mixed"} {
		for _, c := range []Compression{CompressionNone, CompressionZstd} {
			frame := encodeFrame(t, expansionRequest(signal, 1000), c)
			var err error
			alloc := allocated(func() { _, err = NewDecoder(Limits{}).Decode(frame) })
			require.NoError(t, err)
			require.LessOrEqual(t, alloc, costBound(Limits{}.DecodeCost(frame)), "%s %s", signal, c)
		}
	}
}

func TestLimitsValidate(t *testing.T) {
	require.NoError(t, DefaultLimits().Validate())
	require.NoError(t, Limits{}.Validate())
	require.EqualError(t, Limits{MaxDepth: -1}.Validate(), "'max_depth' must not be negative, got -1")
	require.EqualError(t, Limits{MaxExpansion: -2, MaxAttributes: -3}.Validate(),
		"'max_expansion' must not be negative, got -2\n'max_attributes' must not be negative, got -3")
	require.EqualError(t, Limits{MaxDecodedBytes: 8 << 20}.Validate(),
		"'max_body_bytes' (16777216) must not exceed 'max_decoded_bytes' (8388608)")
	require.NoError(t, Limits{MaxDecodedBytes: 8 << 20, MaxBodyBytes: 8 << 20}.Validate())
}
