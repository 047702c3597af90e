package tracehint

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

const (
	hexTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	hexSpan  = "00f067aa0ba902b7"
)

var (
	wantTrace = pcommon.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36}
	wantSpan  = pcommon.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7}
)

func defaultHints() *Reader {
	h := DefaultReader()
	return &h
}

func TestHintReader(t *testing.T) {
	// 12345678901234567890 = 0xab54a98ceb1f0ad2; 1311768467463790320 = 0x123456789abcdef0.
	ddLow := pcommon.TraceID{8: 0xab, 9: 0x54, 10: 0xa9, 11: 0x8c, 12: 0xeb, 13: 0x1f, 14: 0x0a, 15: 0xd2}
	ddSpan := pcommon.SpanID{0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0}
	tests := []struct {
		name      string
		attrs     map[string]any
		wantTrace pcommon.TraceID
		wantSpan  pcommon.SpanID
		wantBad   []Error
	}{
		{name: "none", attrs: map[string]any{"msg": "x"}},
		{name: "snake_case", attrs: map[string]any{"trace_id": hexTrace, "span_id": hexSpan}, wantTrace: wantTrace, wantSpan: wantSpan},
		{name: "camelCase", attrs: map[string]any{"traceId": hexTrace, "spanId": hexSpan}, wantTrace: wantTrace, wantSpan: wantSpan},
		{name: "upper-case hex", attrs: map[string]any{"trace_id": "4BF92F3577B34DA6A3CE929D0E0E4736", "span_id": "00F067AA0BA902B7"}, wantTrace: wantTrace, wantSpan: wantSpan},
		{name: "traceparent", attrs: map[string]any{"traceparent": "00-" + hexTrace + "-" + hexSpan + "-01"}, wantTrace: wantTrace, wantSpan: wantSpan},
		{name: "traceparent future version with extra field", attrs: map[string]any{"traceparent": "01-" + hexTrace + "-" + hexSpan + "-01-xyz"}, wantTrace: wantTrace, wantSpan: wantSpan},
		{name: "datadog decimal", attrs: map[string]any{"dd.trace_id": "12345678901234567890", "dd.span_id": "1311768467463790320"}, wantTrace: ddLow, wantSpan: ddSpan},
		{name: "datadog decimal as int", attrs: map[string]any{"dd.trace_id": int64(1311768467463790320), "dd.span_id": int64(1311768467463790320)},
			wantTrace: pcommon.TraceID{8: 0x12, 9: 0x34, 10: 0x56, 11: 0x78, 12: 0x9a, 13: 0xbc, 14: 0xde, 15: 0xf0}, wantSpan: ddSpan},
		{name: "datadog hex 64-bit", attrs: map[string]any{"dd.trace_id": "ab54a98ceb1f0ad2", "dd.span_id": "123456789abcdef0"}, wantTrace: ddLow, wantSpan: ddSpan},
		{name: "datadog hex 128-bit", attrs: map[string]any{"dd.trace_id": hexTrace, "dd.span_id": hexSpan}, wantTrace: wantTrace, wantSpan: wantSpan},

		{name: "trace bad hex", attrs: map[string]any{"trace_id": "zz" + hexTrace[2:], "span_id": hexSpan}, wantSpan: wantSpan, wantBad: []Error{BadHex}},
		{name: "trace too short", attrs: map[string]any{"trace_id": hexTrace[:30], "span_id": hexSpan}, wantSpan: wantSpan, wantBad: []Error{WrongLength}},
		{name: "trace too long", attrs: map[string]any{"trace_id": hexTrace + "00", "span_id": hexSpan}, wantSpan: wantSpan, wantBad: []Error{WrongLength}},
		{name: "trace all zeros", attrs: map[string]any{"trace_id": "00000000000000000000000000000000", "span_id": hexSpan}, wantSpan: wantSpan, wantBad: []Error{AllZeros}},
		{name: "span bad hex", attrs: map[string]any{"trace_id": hexTrace, "span_id": "00f067aa0ba902bg"}, wantTrace: wantTrace, wantBad: []Error{BadHex}},
		{name: "span wrong length", attrs: map[string]any{"trace_id": hexTrace, "span_id": "f067aa0ba902b7"}, wantTrace: wantTrace, wantBad: []Error{WrongLength}},
		{name: "span all zeros", attrs: map[string]any{"trace_id": hexTrace, "span_id": "0000000000000000"}, wantTrace: wantTrace, wantBad: []Error{AllZeros}},
		{name: "traceparent bad format", attrs: map[string]any{"traceparent": "00_" + hexTrace + "-" + hexSpan + "-01"}, wantBad: []Error{BadFormat}},
		{name: "traceparent version ff", attrs: map[string]any{"traceparent": "ff-" + hexTrace + "-" + hexSpan + "-01"}, wantBad: []Error{BadFormat}},
		{name: "traceparent v00 too long", attrs: map[string]any{"traceparent": "00-" + hexTrace + "-" + hexSpan + "-01-x"}, wantBad: []Error{BadFormat}},
		{name: "traceparent short", attrs: map[string]any{"traceparent": "00-" + hexTrace + "-" + hexSpan}, wantBad: []Error{BadFormat}},
		{name: "traceparent zero trace", attrs: map[string]any{"traceparent": "00-00000000000000000000000000000000-" + hexSpan + "-01"}, wantBad: []Error{AllZeros}},
		{name: "traceparent bad hex span", attrs: map[string]any{"traceparent": "00-" + hexTrace + "-00f067aa0ba902bx-01"}, wantBad: []Error{BadHex}},
		{name: "traceparent bad flags", attrs: map[string]any{"traceparent": "00-" + hexTrace + "-" + hexSpan + "-0x"}, wantBad: []Error{BadHex}},
		{name: "datadog zero", attrs: map[string]any{"dd.trace_id": "0", "dd.span_id": "0"}, wantBad: []Error{AllZeros, AllZeros}},
		{name: "datadog over 64 bits", attrs: map[string]any{"dd.trace_id": "18446744073709551616", "dd.span_id": "1311768467463790320"}, wantSpan: ddSpan, wantBad: []Error{WrongLength}},
		{name: "datadog bad hex", attrs: map[string]any{"dd.trace_id": "ab54a98ceb1f0adz", "dd.span_id": "-5"}, wantBad: []Error{BadHex, WrongLength}},
		{name: "invalid first, valid fallback", attrs: map[string]any{"trace_id": "nope", "traceparent": "00-" + hexTrace + "-" + hexSpan + "-01"},
			wantTrace: wantTrace, wantSpan: wantSpan, wantBad: []Error{WrongLength}},
	}
	h := defaultHints()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			attrs := pcommon.NewMap()
			assert.NoError(t, attrs.FromRaw(tt.attrs))
			var bad []Error
			tid, sid := h.Read(attrs, func(e Error) { bad = append(bad, e) })
			assert.Equal(t, tt.wantTrace, tid, "trace id")
			assert.Equal(t, tt.wantSpan, sid, "span id")
			assert.Equal(t, tt.wantBad, bad)
		})
	}
}

func TestHintErrorString(t *testing.T) {
	for e, want := range map[Error]string{OK: "ok", BadHex: "bad_hex", WrongLength: "wrong_length", AllZeros: "all_zeros", BadFormat: "bad_format"} {
		assert.Equal(t, want, e.String())
	}
}
