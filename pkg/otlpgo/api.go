// Package otlpgo implements the fused OTLP-GO wire protocol v1: one frame that
// carries any mix of traces, logs and metrics, lossless for every OTLP field.
// The byte layout is specified in docs/protocol.md; names here follow it.
package otlpgo

import (
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// ContentType is the media type of a fused frame in an HTTP request body.
const ContentType = "application/x-otlpgo"

// HTTPPath is the path that fused frames are POSTed to.
const HTTPPath = "/v1/fused"

// Request is the content of one fused frame. A signal with no resources is
// absent from the frame; decoding always returns all three initialised.
type Request struct {
	Traces  ptrace.Traces
	Logs    plog.Logs
	Metrics pmetric.Metrics
}

// NewRequest returns a Request whose three signals are empty and usable.
func NewRequest() Request {
	return Request{Traces: ptrace.NewTraces(), Logs: plog.NewLogs(), Metrics: pmetric.NewMetrics()}
}

// Compression selects how a frame body is compressed on the wire.
type Compression uint8

const (
	// CompressionNone leaves the body as it is.
	CompressionNone Compression = iota
	// CompressionZstd compresses the body with zstd (header flag bit 0).
	CompressionZstd
)

// String returns the name used in configuration.
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

// EncodeOptions controls how a frame is written.
type EncodeOptions struct {
	// Compression of the frame body.
	Compression Compression
}

// Limits bound what a decoder accepts. A frame that exceeds any of them is
// rejected with ErrLimitExceeded (ErrTooDeep for MaxDepth) before the memory
// for it is allocated. A zero field takes its value from DefaultLimits.
type Limits struct {
	// MaxFrameBytes bounds the encoded frame, header included.
	MaxFrameBytes int
	// MaxBodyBytes bounds the body after decompression.
	MaxBodyBytes int
	// MaxItems bounds spans + log records + metric data points in one frame.
	MaxItems int
	// MaxDictEntries bounds the number of strings in the frame dictionary.
	MaxDictEntries int
	// MaxStringBytes bounds the length of any one string or bytes value.
	MaxStringBytes int
	// MaxDepth bounds the nesting of map and array attribute values.
	MaxDepth int
	// MaxMapEntries bounds the keys of one map (attributes and map values).
	// pdata checks every inserted key against the ones before it, so the
	// decode time of a map grows with the square of its size.
	MaxMapEntries int
}

// DefaultLimits returns the limits used when none are configured.
func DefaultLimits() Limits {
	return Limits{
		MaxFrameBytes:  64 << 20,
		MaxBodyBytes:   256 << 20,
		MaxItems:       1 << 20,
		MaxDictEntries: 1 << 20,
		MaxStringBytes: 4 << 20,
		MaxDepth:       32,
		MaxMapEntries:  1024,
	}
}
