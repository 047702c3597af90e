package otlpgo

import "github.com/klauspost/compress/zstd"

// ZstdEncoder returns the shared zstd encoder frames are compressed with, so
// that comparisons (benchmarks, OTLP+zstd baselines) use the same settings.
// It is safe for concurrent use; do not Close it.
func ZstdEncoder() *zstd.Encoder { return zstdEncoder() }

// ZstdDecoder returns the shared zstd decoder. It is safe for concurrent use
// and limits DecodeAll to cap(dst); do not Close it.
func ZstdDecoder() *zstd.Decoder { return zstdDecoder() }
