package otlpgo

import (
	"sync"

	"github.com/klauspost/compress/zstd"
)

// zstdLevel is the level of compressed frames; benchmarks compress OTLP with
// the same level.
const zstdLevel = zstd.SpeedDefault

// zstdEncoder is shared by all Encoders: EncodeAll is safe for concurrent use.
var zstdEncoder = sync.OnceValue(func() *zstd.Encoder {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstdLevel))
	if err != nil {
		panic(err) // only on invalid options, which are constant here
	}
	return enc
})

// zstdDecoder is shared by all decoders: DecodeAll is safe for concurrent use
// and, with the cap limit, never writes past cap(dst), which bounds the output
// by the declared raw_len.
var zstdDecoder = sync.OnceValue(func() *zstd.Decoder {
	dec, err := zstd.NewReader(nil, zstd.WithDecodeAllCapLimit(true), zstd.WithDecoderConcurrency(0))
	if err != nil {
		panic(err)
	}
	return dec
})

// ZstdEncoder returns the shared zstd encoder frames are compressed with, so
// that comparisons (benchmarks, OTLP+zstd baselines) use the same settings.
// It is safe for concurrent use; do not Close it.
func ZstdEncoder() *zstd.Encoder { return zstdEncoder() }

// ZstdDecoder returns the shared zstd decoder. It is safe for concurrent use
// and limits DecodeAll to cap(dst); do not Close it.
func ZstdDecoder() *zstd.Decoder { return zstdDecoder() }
