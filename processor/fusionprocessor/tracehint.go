package fusionprocessor

import (
	"encoding/binary"
	"encoding/hex"
	"strconv"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// hintError says why a trace-context attribute was not used. The zero value
// means the hint parsed.
type hintError uint8

const (
	hintOK hintError = iota
	hintBadHex
	hintWrongLength
	hintAllZeros
	hintBadFormat
)

// String returns the reason label used in the invalid-hints metric.
func (e hintError) String() string {
	switch e {
	case hintBadHex:
		return "bad_hex"
	case hintWrongLength:
		return "wrong_length"
	case hintAllZeros:
		return "all_zeros"
	case hintBadFormat:
		return "bad_format"
	}
	return "ok"
}

// parseHexID decodes exactly len(dst)*2 hex digits into dst and rejects an
// all-zero id, which W3C and OTLP both define as invalid.
func parseHexID(dst []byte, s string) hintError {
	if len(s) != 2*len(dst) {
		return hintWrongLength
	}
	if _, err := hex.Decode(dst, []byte(s)); err != nil {
		return hintBadHex
	}
	for _, b := range dst {
		if b != 0 {
			return hintOK
		}
	}
	return hintAllZeros
}

func parseTraceID(s string) (pcommon.TraceID, hintError) {
	var id pcommon.TraceID
	return id, parseHexID(id[:], s)
}

func parseSpanID(s string) (pcommon.SpanID, hintError) {
	var id pcommon.SpanID
	return id, parseHexID(id[:], s)
}

// parseTraceparent reads a W3C traceparent: version-traceid-spanid-flags,
// "00-" + 32 hex + "-" + 16 hex + "-" + 2 hex. Later versions may append
// fields after another "-", which are ignored; version ff is invalid.
func parseTraceparent(s string) (pcommon.TraceID, pcommon.SpanID, hintError) {
	var tid pcommon.TraceID
	var sid pcommon.SpanID
	if len(s) < 55 || s[2] != '-' || s[35] != '-' || s[52] != '-' || (len(s) > 55 && s[55] != '-') {
		return tid, sid, hintBadFormat
	}
	var version [1]byte
	if _, err := hex.Decode(version[:], []byte(s[:2])); err != nil || version[0] == 0xff {
		return tid, sid, hintBadFormat
	}
	if version[0] == 0 && len(s) != 55 {
		return tid, sid, hintBadFormat
	}
	var flags [1]byte
	if _, err := hex.Decode(flags[:], []byte(s[53:55])); err != nil {
		return tid, sid, hintBadHex
	}
	if e := parseHexID(tid[:], s[3:35]); e != hintOK {
		return tid, sid, e
	}
	if e := parseHexID(sid[:], s[36:52]); e != hintOK {
		return tid, sid, e
	}
	return tid, sid, hintOK
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

// parseDatadogTraceID reads a Datadog trace id. All digits means decimal,
// the lower 64 bits of the trace id (the upper half is left zero and filled
// from the span index when the span is found); otherwise 16 hex digits (the
// lower half) or 32 (the whole id).
func parseDatadogTraceID(s string) (pcommon.TraceID, hintError) {
	var id pcommon.TraceID
	if isDecimal(s) {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return id, hintWrongLength // more than 64 bits
		}
		if v == 0 {
			return id, hintAllZeros
		}
		binary.BigEndian.PutUint64(id[8:], v)
		return id, hintOK
	}
	if len(s) == 16 {
		return id, parseHexID(id[8:], s)
	}
	return id, parseHexID(id[:], s)
}

// parseDatadogSpanID reads a Datadog span id: decimal or 16 hex digits.
func parseDatadogSpanID(s string) (pcommon.SpanID, hintError) {
	var id pcommon.SpanID
	if isDecimal(s) {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return id, hintWrongLength
		}
		if v == 0 {
			return id, hintAllZeros
		}
		binary.BigEndian.PutUint64(id[:], v)
		return id, hintOK
	}
	return id, parseHexID(id[:], s)
}

// hintReader finds trace context in log attributes.
type hintReader struct {
	traceID, spanID, traceparent, ddTraceID, ddSpanID []string
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

// read returns the trace and span id hinted by attrs. Invalid hints are
// reported to bad and skipped; a later format may still supply the id.
func (h *hintReader) read(attrs pcommon.Map, bad func(hintError)) (tid pcommon.TraceID, sid pcommon.SpanID) {
	if attrs.Len() == 0 {
		return tid, sid
	}
	if s, ok := firstString(attrs, h.traceID); ok {
		if id, e := parseTraceID(s); e == hintOK {
			tid = id
		} else {
			bad(e)
		}
	}
	if s, ok := firstString(attrs, h.spanID); ok {
		if id, e := parseSpanID(s); e == hintOK {
			sid = id
		} else {
			bad(e)
		}
	}
	if tid.IsEmpty() || sid.IsEmpty() {
		if s, ok := firstString(attrs, h.traceparent); ok {
			if t, sp, e := parseTraceparent(s); e == hintOK {
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
		if s, ok := firstString(attrs, h.ddTraceID); ok {
			if id, e := parseDatadogTraceID(s); e == hintOK {
				tid = id
			} else {
				bad(e)
			}
		}
	}
	if sid.IsEmpty() {
		if s, ok := firstString(attrs, h.ddSpanID); ok {
			if id, e := parseDatadogSpanID(s); e == hintOK {
				sid = id
			} else {
				bad(e)
			}
		}
	}
	return tid, sid
}
