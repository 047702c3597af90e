package otlpgo

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
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
