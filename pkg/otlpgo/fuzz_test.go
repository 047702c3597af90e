package otlpgo

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// fuzzLimits keep the fuzzer's allocations small.
var fuzzLimits = Limits{
	MaxFrameBytes:  1 << 20,
	MaxBodyBytes:   4 << 20,
	MaxItems:       1 << 12,
	MaxDictEntries: 1 << 12,
	MaxStringBytes: 1 << 16,
	MaxDepth:       16,
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
