// Package otlpgo implements the fused OTLP-GO wire protocol: one frame that
// carries any mix of traces, logs and metrics, lossless for every OTLP field.
// Writers write version 2, stateless (AppendFrame, Encoder) or in stream mode
// (StreamEncoder, StreamDecoder), where the frames of one stream share a
// dictionary and map shapes; readers read versions 1 and 2. The byte layout
// is specified in docs/protocol.md; names here follow it.
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

// StreamHeader names the stream a frame belongs to (docs/protocol.md,
// "HTTP binding"): the frames of one stream share their state.
const StreamHeader = "Otlpgo-Stream"

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
// for it is allocated; DecodeError.Limit then holds the limit's config key,
// given here after each field. A zero field takes its value from
// DefaultLimits. docs/protocol.md ("Limits") says what each one counts.
type Limits struct {
	// MaxFrameBytes bounds the encoded frame, header included
	// (max_frame_bytes).
	MaxFrameBytes int
	// MaxBodyBytes bounds raw_len, the body after decompression
	// (max_body_bytes). It may not exceed MaxDecodedBytes.
	MaxBodyBytes int
	// MaxDecodedBytes bounds the decoded size of a frame: an estimate of the
	// memory its decoding takes, in which every string reference counts the
	// length of its string (max_decoded_bytes).
	MaxDecodedBytes int
	// MaxExpansion bounds the decoded size of a frame to this many times its
	// raw_len, but never below 64 KiB (max_expansion).
	MaxExpansion int
	// MaxItems bounds spans + log records + metric data points in one frame
	// (max_items).
	MaxItems int
	// MaxAttributes bounds the entries of all attribute maps of a frame
	// together: resource, scope, span, event, link, log record, data point
	// and exemplar attributes and metric metadata (max_attributes).
	MaxAttributes int
	// MaxNestedValues bounds the entries of map values and elements of array
	// values, nested in attributes and log bodies, of a frame together
	// (max_nested_values).
	MaxNestedValues int
	// MaxDictEntries bounds the number of strings in the frame dictionary
	// (max_dict_entries).
	MaxDictEntries int
	// MaxStringBytes bounds the length of any one string or bytes value
	// (max_string_bytes).
	MaxStringBytes int
	// MaxDepth bounds the nesting of map and array attribute values
	// (max_depth).
	MaxDepth int
	// MaxMapEntries bounds the keys of one map, attributes or map value
	// (max_map_entries).
	MaxMapEntries int
	// MaxStreamStateBytes bounds the dictionary and map shapes that a
	// stream keeps from frame to frame (max_stream_state_bytes).
	MaxStreamStateBytes int
}

// DefaultLimits returns the limits used when none are configured.
func DefaultLimits() Limits {
	return Limits{
		MaxFrameBytes:   16 << 20,
		MaxBodyBytes:    16 << 20,
		MaxDecodedBytes: 32 << 20,
		MaxExpansion:    defaultMaxExpansion,
		MaxItems:        1 << 20,
		MaxAttributes:   1 << 20,
		MaxNestedValues: 1 << 20,
		MaxDictEntries:  1 << 20,
		MaxStringBytes:  4 << 20,
		MaxDepth:        32,
		MaxMapEntries:   1024,
		// MaxStreamStateBytes: 8 MiB holds some 100 000 strings of 60
		// bytes, the resources of thousands of pods.
		MaxStreamStateBytes: 8 << 20,
	}
}
