// Package otlpgo writes fused OTLP-GO frames (docs/protocol.md at the root of
// the repository) straight from the OpenTelemetry Go SDK's own data: spans
// (sdktrace.ReadOnlySpan), log records (sdklog.Record) and metrics
// (metricdata.ResourceMetrics). It is the application side of the root
// module's pkg/otlpgo, written without pdata so that an application does not
// link the collector; the root module's tests decode its frames with
// pkg/otlpgo to keep both in step.
//
// Each signal section is built on its own, as the SDK hands its exporters
// spans, records and points at different times: a section's trace and span
// id references point only at ids written in the same section (a reference
// counts back from the end of the frame's id list, so it stays valid
// wherever the section lands in the frame), and its map shapes and time
// bases are its own, as the protocol has them. Only the dictionary is shared
// by the frame.
package otlpgo

// Names and numbers of the wire format, as docs/protocol.md names them.

const (
	magic        = "OTGO"
	versionMajor = 1
	versionMinor = 0
	headerSize   = 16
	flagZstd     = 1 << 0
)

// sectionTag identifies a section in the body.
type sectionTag uint64

const (
	sectionDict    sectionTag = 1
	sectionTraces  sectionTag = 2
	sectionLogs    sectionTag = 3
	sectionMetrics sectionTag = 4
)

// Streams of a signal section, in the order they are written.
const (
	streamStruct = iota
	streamStrings
	streamRaw
	streamTimes
	streamInts
	streamDoubles
	numStreams
)

// Value tags of an any value.
const (
	valueEmpty = iota
	valueStr
	valueInt
	valueDouble
	valueBool
	valueBytes
	valueMap
	valueSlice
	valueTraceIDHex
	valueSpanIDHex
)

// Metric types.
const (
	metricEmpty = iota
	metricGauge
	metricSum
	metricHistogram
	metricExpHistogram
	metricSummary
)

// Number kinds of a data point or exemplar.
const (
	numberEmpty = iota
	numberInt
	numberDouble
)

// Parent of a span.
const (
	parentNone      = 0
	parentRaw       = 1
	parentInSection = 2
)

// Presence bits.
const (
	hasTraceID = 1 << 0
	hasSpanID  = 1 << 1

	hasSum = 1 << 0
	hasMin = 1 << 1
	hasMax = 1 << 2
)

// maxDedupLen: strings up to this length are looked up in the dictionary
// before being added; longer ones are added each time.
const maxDedupLen = 256

// Aggregation temporality as OTLP numbers it.
const (
	temporalityDelta      = 1
	temporalityCumulative = 2
)
