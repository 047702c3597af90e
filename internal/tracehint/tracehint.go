// Package tracehint reads trace context that a log record carries only in
// its attributes: a trace id, a span id, a W3C traceparent, Datadog ids.
// The fusion processor links logs to spans with it and the fused exporter's
// routing sends a log to the gateway of its trace with it, so both read a
// hint the same way.
package tracehint

import (
	"encoding/binary"
	"encoding/hex"
	"strconv"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// Error says why a trace-context attribute was not used. The zero value
// means the hint parsed.
type Error uint8

const (
	// OK: the hint parsed.
	OK Error = iota
	// BadHex: a character is not a hex digit.
	BadHex
	// WrongLength: the id has the wrong number of digits, or a decimal id
	// needs more than 64 bits.
	WrongLength
	// AllZeros: the id is all zeros, which W3C and OTLP define as invalid.
	AllZeros
	// BadFormat: a traceparent is not version-traceid-spanid-flags.
	BadFormat
)

// String returns the reason label used in the invalid-hints metric.
func (e Error) String() string {
	switch e {
	case BadHex:
		return "bad_hex"
	case WrongLength:
		return "wrong_length"
	case AllZeros:
		return "all_zeros"
	case BadFormat:
		return "bad_format"
	}
	return "ok"
}

// parseHexID decodes exactly len(dst)*2 hex digits into dst and rejects an
// all-zero id, which W3C and OTLP both define as invalid.
func parseHexID(dst []byte, s string) Error {
	if len(s) != 2*len(dst) {
		return WrongLength
	}
	if _, err := hex.Decode(dst, []byte(s)); err != nil {
		return BadHex
	}
	for _, b := range dst {
		if b != 0 {
			return OK
		}
	}
	return AllZeros
}

func ParseTraceID(s string) (pcommon.TraceID, Error) {
	var id pcommon.TraceID
	return id, parseHexID(id[:], s)
}

func ParseSpanID(s string) (pcommon.SpanID, Error) {
	var id pcommon.SpanID
	return id, parseHexID(id[:], s)
}

// ParseTraceparent reads a W3C traceparent: version-traceid-spanid-flags,
// "00-" + 32 hex + "-" + 16 hex + "-" + 2 hex. Later versions may append
// fields after another "-", which are ignored; version ff is invalid.
func ParseTraceparent(s string) (pcommon.TraceID, pcommon.SpanID, Error) {
	var tid pcommon.TraceID
	var sid pcommon.SpanID
	if len(s) < 55 || s[2] != '-' || s[35] != '-' || s[52] != '-' || (len(s) > 55 && s[55] != '-') {
		return tid, sid, BadFormat
	}
	var version [1]byte
	if _, err := hex.Decode(version[:], []byte(s[:2])); err != nil || version[0] == 0xff {
		return tid, sid, BadFormat
	}
	if version[0] == 0 && len(s) != 55 {
		return tid, sid, BadFormat
	}
	var flags [1]byte
	if _, err := hex.Decode(flags[:], []byte(s[53:55])); err != nil {
		return tid, sid, BadHex
	}
	if e := parseHexID(tid[:], s[3:35]); e != OK {
		return tid, sid, e
	}
	if e := parseHexID(sid[:], s[36:52]); e != OK {
		return tid, sid, e
	}
	return tid, sid, OK
}

// isDecimal reports whether s is a non-empty run of ASCII digits.
func isDecimal(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ParseDatadogTraceID reads a Datadog trace id. All digits means decimal,
// the lower 64 bits of the trace id (the upper half is left zero and filled
// from the span index when the span is found); otherwise 16 hex digits (the
// lower half) or 32 (the whole id).
func ParseDatadogTraceID(s string) (pcommon.TraceID, Error) {
	var id pcommon.TraceID
	if isDecimal(s) {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return id, WrongLength // more than 64 bits
		}
		if v == 0 {
			return id, AllZeros
		}
		binary.BigEndian.PutUint64(id[8:], v)
		return id, OK
	}
	if len(s) == 16 {
		return id, parseHexID(id[8:], s)
	}
	return id, parseHexID(id[:], s)
}

// ParseDatadogSpanID reads a Datadog span id: decimal or 16 hex digits.
func ParseDatadogSpanID(s string) (pcommon.SpanID, Error) {
	var id pcommon.SpanID
	if isDecimal(s) {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return id, WrongLength
		}
		if v == 0 {
			return id, AllZeros
		}
		binary.BigEndian.PutUint64(id[:], v)
		return id, OK
	}
	return id, parseHexID(id[:], s)
}

// Reader finds trace context in log attributes. Each list names the
// attributes tried in order; the first one present is used. A Reader is
// read-only once built and safe for concurrent use.
type Reader struct {
	// TraceID lists attributes holding a 32-hex-digit trace id.
	TraceID []string
	// SpanID lists attributes holding a 16-hex-digit span id.
	SpanID []string
	// Traceparent lists attributes holding a W3C traceparent header.
	Traceparent []string
	// DatadogTraceID lists attributes holding a Datadog trace id: decimal
	// (the lower 64 bits only) or 16/32 hex digits.
	DatadogTraceID []string
	// DatadogSpanID lists attributes holding a Datadog span id.
	DatadogSpanID []string
}

// DefaultReader returns the Reader of the attribute names in common use; it
// is the default of the fusion processor and of the fused exporter's routing.
func DefaultReader() Reader {
	return Reader{
		TraceID:        []string{"trace_id", "traceId", "trace.id"},
		SpanID:         []string{"span_id", "spanId", "span.id"},
		Traceparent:    []string{"traceparent"},
		DatadogTraceID: []string{"dd.trace_id"},
		DatadogSpanID:  []string{"dd.span_id"},
	}
}

// firstString returns the first of keys present in attrs, as a string.
func firstString(attrs pcommon.Map, keys []string) (string, bool) {
	for _, k := range keys {
		if v, ok := attrs.Get(k); ok {
			if v.Type() == pcommon.ValueTypeStr {
				return v.Str(), true
			}
			return v.AsString(), true
		}
	}
	return "", false
}

// Read returns the trace and span id hinted by attrs; either is zero when
// no valid hint names it. A Datadog decimal trace id fills only the lower 8
// bytes. Invalid hints are reported to bad (which may be nil) and skipped;
// a later format may still supply the id.
func (h *Reader) Read(attrs pcommon.Map, bad func(Error)) (tid pcommon.TraceID, sid pcommon.SpanID) {
	if attrs.Len() == 0 {
		return tid, sid
	}
	if bad == nil {
		bad = func(Error) {}
	}
	if s, ok := firstString(attrs, h.TraceID); ok {
		if id, e := ParseTraceID(s); e == OK {
			tid = id
		} else {
			bad(e)
		}
	}
	if s, ok := firstString(attrs, h.SpanID); ok {
		if id, e := ParseSpanID(s); e == OK {
			sid = id
		} else {
			bad(e)
		}
	}
	if tid.IsEmpty() || sid.IsEmpty() {
		if s, ok := firstString(attrs, h.Traceparent); ok {
			if t, sp, e := ParseTraceparent(s); e == OK {
				if tid.IsEmpty() {
					tid = t
				}
				if sid.IsEmpty() {
					sid = sp
				}
			} else {
				bad(e)
			}
		}
	}
	if tid.IsEmpty() {
		if s, ok := firstString(attrs, h.DatadogTraceID); ok {
			if id, e := ParseDatadogTraceID(s); e == OK {
				tid = id
			} else {
				bad(e)
			}
		}
	}
	if sid.IsEmpty() {
		if s, ok := firstString(attrs, h.DatadogSpanID); ok {
			if id, e := ParseDatadogSpanID(s); e == OK {
				sid = id
			} else {
				bad(e)
			}
		}
	}
	return tid, sid
}
