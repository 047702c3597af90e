package otlpgo

// Names and numbers of the wire format; docs/protocol.md uses the same names.

const (
	// magic opens every frame.
	magic = "OTGO"
	// versionMajor changes only when a v1 reader could not read the frame.
	versionMajor = 1
	// versionMinor grows when a change keeps v1 readers working (new sections).
	versionMinor = 0
	// headerSize is the fixed size of the frame header.
	headerSize = 16

	// flagZstd says the body is one zstd frame.
	flagZstd = 1 << 0
	// knownFlags are the header flags this reader understands.
	knownFlags = flagZstd
)

// sectionTag identifies a section in the body.
type sectionTag uint64

const (
	sectionDict    sectionTag = 1
	sectionTraces  sectionTag = 2
	sectionLogs    sectionTag = 3
	sectionMetrics sectionTag = 4
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
// before being added; longer ones are added as they come.
const maxDedupLen = 256
