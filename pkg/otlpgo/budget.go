package otlpgo

import (
	"fmt"
	"unsafe"
)

// The decoded-size budget of a frame; docs/protocol.md, "Limits".
//
// The decoder adds up an estimate of the memory the decoded request takes
// and stops as soon as it would pass the frame's budget, before allocating:
// each element costs what pdata allocates for it, and each string reference
// the length of its string, shared with the dictionary or not, so that the
// estimate is also the size of the request as the next protocol writes it.

// Costs of decoded elements in bytes: what pdata v1.71 allocates for each on
// 64-bit Go, slot in its parent's slice included (TestDecodedSizeCosts
// measures them again).
const (
	costResource          = 136 // ResourceSpans, ResourceLogs or ResourceMetrics with its Resource
	costScope             = 120 // ScopeSpans, ScopeLogs or ScopeMetrics with its scope
	costSpan              = 216
	costSpanEvent         = 72
	costSpanLink          = 88
	costLogRecord         = 136 // its body included
	costMetric            = 144 // with its gauge, sum, histogram, ... header
	costNumberPoint       = 112
	costHistogramPoint    = 168
	costExpHistogramPoint = 200
	costSummaryPoint      = 104
	costQuantile          = 24
	costExemplar          = 80
	costBucket            = 8  // a bucket count or explicit bound
	costMapEntry          = 40 // a key/value of a map, plus the value's cost
	costArrayValue        = 16 // an element of an array value, plus the value's cost

	// What the reader itself keeps.
	costDictEntry   = 24 // a dictionary entry: its string header and end offset
	costShapeKey    = 24 // a key of a map shape and its value tag
	costShapeKeySet = 64 // a key in the set that finds repeated keys of a large shape
)

// valueCosts are the costs of a value by tag, besides the entry or element
// that holds it: the type's boxed payload in pdata, and the string of a hex
// id value. A string value adds the length of its string, a bytes value its
// length, a map or array value its entries or elements.
var valueCosts = [maxValueTag + 1]int64{
	valueEmpty:      0,
	valueStr:        16,
	valueInt:        8,
	valueDouble:     8,
	valueBool:       8,
	valueBytes:      32,
	valueMap:        32,
	valueSlice:      32,
	valueTraceIDHex: 16 + 32,
	valueSpanIDHex:  16 + 16,
}

// minExpansionBudget is the floor of the MaxExpansion budget: a frame of one
// small item decodes to a few times more than its few hundred bytes.
const minExpansionBudget = 64 << 10

// defaultMaxExpansion is over twice the largest decoded size / raw_len
// measured on fusiongen data, 20.9 for 10 000 spans with zstd
// (TestDefaultExpansionCoversFusiongen).
const defaultMaxExpansion = 48

// decodeOverhead covers what a decode allocates besides the budgeted
// estimate: the Request's three signals, the section readers, the unused
// tail of each section's hex string arena (4 KiB), the state of a new zstd
// decoder (24 KiB), error values. DecodeCost adds it to the budget.
const decodeOverhead = 64 << 10

// budget is the decoded-size budget of one frame.
type budget struct {
	bytes  int64
	limit  string // the config key that sets it: max_decoded_bytes or max_expansion
	rawLen uint64
	ratio  int
}

// decodedBudget is min(MaxDecodedBytes, max(minExpansionBudget, MaxExpansion × rawLen)).
func (l Limits) decodedBudget(rawLen uint64) budget {
	decoded := int64(l.MaxDecodedBytes)
	if rawLen > 0 && int64(l.MaxExpansion) > decoded/int64(rawLen) {
		return budget{bytes: decoded, limit: "max_decoded_bytes"}
	}
	expansion := max(minExpansionBudget, int64(l.MaxExpansion)*int64(rawLen))
	if decoded <= expansion {
		return budget{bytes: decoded, limit: "max_decoded_bytes"}
	}
	return budget{bytes: expansion, limit: "max_expansion", rawLen: rawLen, ratio: l.MaxExpansion}
}

// exceeded explains a decoded size over b.
func (b budget) exceeded() string {
	if b.limit == "max_expansion" {
		return fmt.Sprintf("decoded size would exceed %d bytes, max(%d, %d × raw_len %d) (max_expansion)",
			b.bytes, minExpansionBudget, b.ratio, b.rawLen)
	}
	return fmt.Sprintf("decoded size would exceed %d bytes (max_decoded_bytes)", b.bytes)
}

// limitError is the error for a limit (config key key) that the frame
// exceeds; detail is followed by the key.
func limitError(section string, offset int, key string, format string, args ...any) *DecodeError {
	return &DecodeError{Section: section, Offset: offset, Err: ErrLimitExceeded, Limit: key,
		Detail: fmt.Sprintf(format, args...) + " (" + key + ")"}
}

// spend adds n bytes to the decoded size of the frame and reports whether
// it is still within budget.
func (st *decodeState) spend(n int64) bool {
	st.decoded += n
	return st.decoded <= st.budget.bytes
}

// overBudget is the error for a decoded size over budget at offset.
func (st *decodeState) overBudget(section string, offset int) *DecodeError {
	return &DecodeError{Section: section, Offset: offset, Err: ErrLimitExceeded, Limit: st.budget.limit,
		Detail: st.budget.exceeded()}
}

// spend adds n bytes to the decoded size of the frame, failing the section
// if that is over budget. Callers spend before they allocate.
func (r *sectionReader) spend(n int64) {
	r.st.decoded += n
	if r.st.decoded > r.st.budget.bytes {
		r.failBudget()
	}
}

func (r *sectionReader) failBudget() {
	if r.err == nil {
		r.err = r.st.overBudget(r.section, r.streams[streamStruct].offset())
		r.stop()
	}
}

// failLimit fails the section for the limit with config key key.
func (r *sectionReader) failLimit(c *cursor, sentinel error, key string, format string, args ...any) {
	if r.err != nil {
		return
	}
	r.fail(c, sentinel, format, args...)
	r.err.Limit = key
	r.err.Detail += " (" + key + ")"
}

// attributes counts n entries of attribute maps against MaxAttributes.
func (r *sectionReader) attributes(n int) {
	r.st.attributes += n
	if r.st.attributes > r.st.limits.MaxAttributes {
		r.failLimit(&r.streams[streamStruct], ErrLimitExceeded, "max_attributes",
			"%d attributes, limit is %d", r.st.attributes, r.st.limits.MaxAttributes)
	}
}

// nestedValues counts n entries of map values or elements of array values
// against MaxNestedValues.
func (r *sectionReader) nestedValues(n int) {
	r.st.nested += n
	if r.st.nested > r.st.limits.MaxNestedValues {
		r.failLimit(&r.streams[streamStruct], ErrLimitExceeded, "max_nested_values",
			"%d nested values, limit is %d", r.st.nested, r.st.limits.MaxNestedValues)
	}
}

// reserve makes room for n more elements in s, spending the new backing
// array first; the reader's own lists (spans, ids, shapes) grow through it.
// On a budget overrun it returns s as it is, and the section has failed.
func reserve[T any](r *sectionReader, s []T, n int) []T {
	if n <= cap(s)-len(s) {
		return s
	}
	newCap := max(len(s)+n, 2*cap(s), 8)
	var elem T
	r.spend(int64(newCap) * int64(unsafe.Sizeof(elem)))
	if r.err != nil {
		return s
	}
	grown := make([]T, len(s), newCap)
	copy(grown, s)
	return grown
}
