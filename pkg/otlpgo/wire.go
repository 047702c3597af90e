package otlpgo

// Names and numbers of the wire format; docs/protocol.md uses the same names.

const (
	// magic opens every frame.
	magic = "OTGO"
	// versionMajor changes only when an older reader could not read the
	// frame: 2 for stream mode and the v2 codings (docs/protocol.md,
	// "Version 2"). Readers still read versionV1 frames.
	versionMajor = 2
	versionV1    = 1
	// versionMinor grows when a change keeps readers of the major working (new sections).
	versionMinor = 0
	// headerSize is the fixed size of the frame header.
	headerSize = 16

	// flagZstd says the body is one zstd frame.
	flagZstd = 1 << 0
	// flagStream (v2) says the frame reads and extends the stream state.
	flagStream = 1 << 1
	// flagReset (v2, with flagStream) clears the stream state before the frame.
	flagReset = 1 << 2
	// knownFlagsV1 and knownFlags are the header flags v1 and v2 define.
	knownFlagsV1 = flagZstd
	knownFlags   = flagZstd | flagStream | flagReset
)

// sectionTag identifies a section in the body.
type sectionTag uint64

const (
	sectionDict    sectionTag = 1
	sectionTraces  sectionTag = 2
	sectionLogs    sectionTag = 3
	sectionMetrics sectionTag = 4
	// sectionStream (v2) opens a stream frame: its sequence number.
	sectionStream sectionTag = 5
)

// String returns the section name used in errors and docs.
func (t sectionTag) String() string {
	switch t {
	case sectionDict:
		return "dict"
	case sectionTraces:
		return "traces"
	case sectionLogs:
		return "logs"
	case sectionMetrics:
		return "metrics"
	case sectionStream:
		return "stream"
	default:
		return "unknown"
	}
}

// Streams of a signal section. Every field goes to the stream of its kind so
// that like bytes sit together, which is what zstd and varints feed on.
const (
	streamStruct  = iota // counts, tags, enums, flags, dropped counts: uvarint/zigzag
	streamStrings        // string references into the dictionary: uvarint
	streamRaw            // trace and span ids, bytes values: raw bytes
	streamTimes          // timestamp deltas: zigzag varint
	streamInts           // integer values, counts of histograms: zigzag/uvarint
	streamDoubles        // float64 values: 8 bytes little endian
	numStreams
)

var streamNames = [numStreams]string{"struct", "strings", "raw", "times", "ints", "doubles"}

// valueTag is the type of an AnyValue on the wire (struct stream). Every
// payload takes at least one byte, so a map shape used by a one-byte
// reference cannot make many values out of few bytes.
type valueTag = uint64

const (
	valueEmpty      valueTag = iota // payload: 0x00 [struct]
	valueStr                        // strref [strings]
	valueInt                        // varint [ints]
	valueDouble                     // f64 [doubles]
	valueBool                       // 0 or 1 [struct]
	valueBytes                      // n [struct], n bytes [raw]
	valueMap                        // map [struct...]
	valueSlice                      // n [struct], (tag, payload) × n
	valueTraceIDHex                 // string, lowercase hex of 16 bytes: trace id reference [struct (+raw)]
	valueSpanIDHex                  // string, lowercase hex of 8 bytes: span id reference [struct (+raw)]
	maxValueTag     = valueSpanIDHex
)

// metricTag is the type of a Metric's data on the wire.
const (
	metricEmpty = iota
	metricGauge
	metricSum
	metricHistogram
	metricExpHistogram
	metricSummary
)

// numberTag is the value kind of a number data point or exemplar.
const (
	numberEmpty = iota
	numberInt
	numberDouble
)

// Parent span id of a span (struct stream): none, 8 raw bytes, or
// parentInSection + zigzag(distance to the span in this section that has it).
const (
	parentNone      = 0
	parentRaw       = 1
	parentInSection = 2
)

// Presence bits (struct stream) for optional fixed-width fields.
const (
	hasTraceID = 1 << 0 // log record, exemplar
	hasSpanID  = 1 << 1

	hasSum = 1 << 0 // histogram, exponential histogram
	hasMin = 1 << 1
	hasMax = 1 << 2
)

// maxDedupLen: strings up to this length are looked up in the dictionary
// before being added; longer ones are added as they come (v1) or are local
// entries of the frame (v2), never kept in a stream's state.
const maxDedupLen = 256

// String references of v2: 0 is the empty string, refLocal the next local
// entry of the frame, refNew the next entry new to the dictionary (its first
// use), k >= refFirstEntry dictionary entry k-2.
const (
	refLocal      = 1
	refNew        = 2
	refFirstEntry = 3
)

// Stream state costs (docs/protocol.md, "Stream mode"): what a reader and a
// writer count against max_stream_state_bytes.
const (
	stateCostDictEntry = 24 // + the entry's length
	stateCostShape     = 32
	stateCostShapeKey  = 16
)

// Observed time of a log record in v2 (struct stream).
const (
	observedUnset  = 0
	observedEqual  = 1
	observedDelta  = 2
	maxObservedTag = observedDelta
)
