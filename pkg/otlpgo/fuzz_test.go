package otlpgo

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/otelfusion/otelfusion/pkg/fusiongen"
)

// fuzzLimits keep the fuzzer's allocations small: the decoded size of a
// frame, which bounds them, is at most 16 MiB. raw_len may still take the
// attack seeds (testdata/fuzz/FuzzDecode/seed_attack_*) past decompression.
var fuzzLimits = Limits{
	MaxFrameBytes:   1 << 20,
	MaxBodyBytes:    16 << 20,
	MaxDecodedBytes: 16 << 20,
	MaxItems:        1 << 12,
	MaxAttributes:   1 << 14,
	MaxNestedValues: 1 << 14,
	MaxDictEntries:  1 << 12,
	MaxStringBytes:  4 << 20,
	MaxDepth:        16,
}

// FuzzDecode feeds arbitrary bytes to Decode: it must not panic, must return
// a *DecodeError or a usable Request, and what decodes must encode again.
// Seeds live in testdata/fuzz/FuzzDecode (TestFuzzSeeds -update).
func FuzzDecode(f *testing.F) {
	f.Add(encodeFrame(f, goldenRequest(), CompressionNone))
	f.Add(encodeFrame(f, goldenRequest(), CompressionZstd))
	f.Fuzz(func(t *testing.T, frame []byte) {
		req, err := Decode(frame, fuzzLimits)
		if err != nil {
			var de *DecodeError
			require.ErrorAs(t, err, &de)
			if errors.Is(err, ErrLimitExceeded) || errors.Is(err, ErrTooDeep) {
				require.NotEmpty(t, de.Limit, "a limit error names its limit: %v", err)
			} else {
				require.Empty(t, de.Limit, "only a limit error names a limit: %v", err)
			}
			return
		}
		_, err = AppendFrame(nil, req, EncodeOptions{})
		require.NoError(t, err)
	})
}

// FuzzRoundTrip checks decode(encode(decode(x))) == decode(x) for every x
// that decodes, with and without zstd.
func FuzzRoundTrip(f *testing.F) {
	f.Add(encodeFrame(f, goldenRequest(), CompressionNone))
	f.Add(encodeFrame(f, fixtureRequest(), CompressionNone))
	f.Fuzz(func(t *testing.T, frame []byte) {
		req, err := Decode(frame, fuzzLimits)
		if err != nil {
			return
		}
		for _, c := range []Compression{CompressionNone, CompressionZstd} {
			again, err := AppendFrame(nil, req, EncodeOptions{Compression: c})
			require.NoError(t, err)
			got, err := Decode(again, DefaultLimits())
			require.NoError(t, err)
			requireSameRequest(t, req, got)
		}
	})
}

// splitFrames cuts data into frames by their headers' body_len; what is
// left over becomes the last frame, whole or not.
func splitFrames(data []byte) [][]byte {
	var frames [][]byte
	for len(data) >= headerSize {
		n := headerSize + int(binary.LittleEndian.Uint32(data[8:12]))
		if n > len(data) || n < headerSize {
			break
		}
		frames = append(frames, data[:n])
		data = data[n:]
	}
	if len(data) > 0 {
		frames = append(frames, data)
	}
	return frames
}

// FuzzStreamDecode feeds a sequence of frames to one StreamDecoder, so the
// stream state (dictionary, shapes, sequence) is carried from frame to
// frame: it must never panic, every error must be a *DecodeError, the state
// must stay within max_stream_state_bytes, a failed stream frame must leave
// the stream wanting a reset, and every frame that decodes must come out
// the same through a fresh stream. Seeds: testdata/fuzz/FuzzStreamDecode
// (TestFuzzSeeds -update).
func FuzzStreamDecode(f *testing.F) {
	f.Add(streamSeed(f, 3, 20))
	f.Fuzz(func(t *testing.T, data []byte) {
		limits := fuzzLimits
		limits.MaxStreamStateBytes = 256 << 10
		dec := NewStreamDecoder(limits)
		enc := NewStreamEncoder(EncodeOptions{}, 0)
		check := NewStreamDecoder(DefaultLimits())
		failed := false
		for _, frame := range splitFrames(data) {
			req, err := dec.Decode(frame)
			require.LessOrEqual(t, dec.StateBytes(), int64(limits.MaxStreamStateBytes))
			if err != nil {
				var de *DecodeError
				require.ErrorAs(t, err, &de)
				// A frame whose header is refused is not read at all.
				if h, herr := readHeader(frame, limits.orDefaults()); herr == nil && h.flags&flagStream != 0 {
					failed = true
					require.Zero(t, dec.StateBytes(), "a failed stream frame drops the state")
				}
				continue
			}
			if failed && frame[6]&flagStream != 0 {
				require.NotZero(t, frame[6]&flagReset, "after a failure only a reset frame decodes")
				failed = false
			}
			again, err := enc.AppendFrame(nil, req)
			require.NoError(t, err)
			got, err := check.Decode(again)
			require.NoError(t, err)
			requireSameRequest(t, req, got)
		}
	})
}

// streamSeed is n stream frames of fusiongen data, items each.
func streamSeed(t testing.TB, n, items int) []byte {
	enc := NewStreamEncoder(EncodeOptions{}, 0)
	gen := fusiongen.New(5)
	var out []byte
	for range n {
		var err error
		out, err = enc.AppendFrame(out, Request{Traces: gen.Traces(items), Logs: gen.Logs(items), Metrics: gen.Metrics(items)})
		require.NoError(t, err)
	}
	return out
}
