package tracehint

import (
	"encoding/hex"
	"strconv"
	"strings"
	"testing"
)

// FuzzTraceHints feeds one attribute value to every hint parser: none may
// panic, and whatever one accepts must be a non-zero id that says the same
// as the text it came from.
func FuzzTraceHints(f *testing.F) {
	for _, seed := range []string{
		hexTrace, hexSpan, "00-" + hexTrace + "-" + hexSpan + "-01",
		"01-" + hexTrace + "-" + hexSpan + "-01-extra", "ff-" + hexTrace + "-" + hexSpan + "-01",
		"12345678901234567890", "18446744073709551616", "0", "", "zz", strings.Repeat("0", 32),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if tid, e := ParseTraceID(s); e == OK {
			if tid.IsEmpty() || hex.EncodeToString(tid[:]) != strings.ToLower(s) {
				t.Fatalf("trace id %q parsed to %x", s, tid)
			}
		}
		if sid, e := ParseSpanID(s); e == OK {
			if sid.IsEmpty() || hex.EncodeToString(sid[:]) != strings.ToLower(s) {
				t.Fatalf("span id %q parsed to %x", s, sid)
			}
		}
		if tid, sid, e := ParseTraceparent(s); e == OK {
			if tid.IsEmpty() || sid.IsEmpty() ||
				hex.EncodeToString(tid[:]) != strings.ToLower(s[3:35]) || hex.EncodeToString(sid[:]) != strings.ToLower(s[36:52]) {
				t.Fatalf("traceparent %q parsed to %x-%x", s, tid, sid)
			}
		}
		if tid, e := ParseDatadogTraceID(s); e == OK {
			if tid.IsEmpty() {
				t.Fatalf("datadog trace id %q parsed to zeros", s)
			}
			if isDecimal(s) {
				v, err := strconv.ParseUint(s, 10, 64)
				if err != nil || hex.EncodeToString(tid[8:]) != leftPad16(v) {
					t.Fatalf("datadog decimal %q parsed to %x", s, tid)
				}
			}
		}
		if sid, e := ParseDatadogSpanID(s); e == OK && sid.IsEmpty() {
			t.Fatalf("datadog span id %q parsed to zeros", s)
		}
	})
}

func leftPad16(v uint64) string {
	s := strconv.FormatUint(v, 16)
	return strings.Repeat("0", 16-len(s)) + s
}
