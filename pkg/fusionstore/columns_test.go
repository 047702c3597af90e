package fusionstore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otelfusion/otelfusion/pkg/fusiongen"
)

func TestAppendMapJSON(t *testing.T) {
	tests := []struct {
		name  string
		build func(m pcommon.Map)
		want  string
	}{
		{"empty", func(pcommon.Map) {}, `{}`},
		{"strings and other types", func(m pcommon.Map) {
			m.PutStr("s", "v")
			m.PutInt("i", -7)
			m.PutBool("b", true)
			m.PutDouble("d", 1.5)
			m.PutEmptySlice("l").AppendEmpty().SetStr("x")
		}, `{"s":"v","i":"-7","b":"true","d":"1.5","l":"[\"x\"]"}`},
		{"escapes", func(m pcommon.Map) {
			m.PutStr(`k"\`, "line\nbreak\ttab\x01é")
		}, `{"k\"\\":"line\u000abreak\u0009tab\u0001é"}`},
		{"invalid UTF-8 becomes U+FFFD", func(m pcommon.Map) {
			m.PutStr("k\xff", "a\xc3b")
		}, "{\"k\uFFFD\":\"a\uFFFDb\"}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := pcommon.NewMap()
			tt.build(m)
			got := appendMapJSON(nil, m)
			assert.Equal(t, tt.want, string(got))
			assert.True(t, json.Valid(got))
		})
	}
}

// A map with a key twice (pdata's Put replaces, but a decoded export keeps
// what the wire had) keeps the key once, at its first place, with its last
// value: a DuckDB map built from a JSON object would keep both.
func TestAppendMapJSONRepeatedKeys(t *testing.T) {
	for _, n := range []int{3, 40, 200} {
		m := mapWithRepeatedKey(t, n)
		require.Equal(t, n+2, m.Len())
		got := appendMapJSON(nil, m)
		var decoded map[string]string
		require.NoError(t, json.Unmarshal(got, &decoded))
		assert.Len(t, decoded, n+1, "n=%d", n)
		assert.Equal(t, "last", decoded["dup"])
		assert.True(t, strings.HasPrefix(string(got), `{"dup":"last",`), string(got[:20]))
	}
}

// mapWithRepeatedKey is a map of "dup": "first", n distinct keys, then
// "dup": "last", made the way one reaches the store: decoded from the wire.
func mapWithRepeatedKey(t *testing.T, n int) pcommon.Map {
	t.Helper()
	td := ptrace.NewTraces()
	attrs := td.ResourceSpans().AppendEmpty().Resource().Attributes()
	attrs.PutStr("dup", "first")
	for i := range n {
		attrs.PutStr(fmt.Sprintf("key-%04d", i), "v")
	}
	attrs.PutStr("DUP", "last") // renamed on the wire below: same length
	b, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
	require.NoError(t, err)
	b = bytes.Replace(b, []byte("DUP"), []byte("dup"), 1)
	decoded, err := (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(b)
	require.NoError(t, err)
	return decoded.ResourceSpans().At(0).Resource().Attributes()
}

// An export of more rows than one DuckDB chunk (2048) is read chunk by
// chunk; every row arrives, values in the right rows.
func TestIngestSpansAcrossChunks(t *testing.T) {
	s := newTestStore(t, &testClock{t: fusiongen.BaseTime}, nil)
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "svc")
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	const n = 5000
	for i := range n {
		sp := spans.AppendEmpty()
		sp.SetTraceID(pcommon.TraceID{byte(i >> 8), byte(i)})
		sp.SetSpanID(pcommon.SpanID{byte(i >> 8), byte(i)})
		sp.SetStartTimestamp(pcommon.Timestamp(i))
		sp.SetEndTimestamp(pcommon.Timestamp(2 * i))
		sp.Attributes().PutInt("i", int64(i))
		if i%3 == 0 {
			sp.SetParentSpanID(pcommon.SpanID{1})
		}
	}
	require.NoError(t, s.AppendTraces(context.Background(), td))
	rows := sqlRows(t, s, `SELECT count(*), count(parent_span_id), CAST(sum(duration_ns) AS BIGINT),
		count(*) FILTER (WHERE attributes['i'] = CAST(start_time AS VARCHAR)),
		count(*) FILTER (WHERE span_id = format('{:04x}', start_time) || '000000000000')
		FROM traces`)
	assert.Equal(t, []any{int64(n), int64((n + 2) / 3), int64(n * (n - 1) / 2), int64(n), int64(n - 1)}, rows[0], "span 0 has the empty id: NULL")
}

// A value that is not valid UTF-8 is stored with U+FFFD in its place; the
// export's other rows are stored too.
func TestIngestInvalidUTF8(t *testing.T) {
	s := newTestStore(t, &testClock{t: fusiongen.BaseTime}, nil)
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "bad\xffservice")
	lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
	lrs.AppendEmpty().Body().SetStr("ok")
	bad := lrs.AppendEmpty()
	bad.Body().SetStr("broken \xc3 body")
	bad.Attributes().PutStr("k", "\xfe")
	require.NoError(t, s.AppendLogs(context.Background(), ld))
	assert.Equal(t, [][]any{
		{"bad\uFFFDservice", "broken \uFFFD body", orderedMap("k", "\uFFFD")},
		{"bad\uFFFDservice", "ok", orderedMap()},
	}, sqlRows(t, s, "SELECT service_name, body, attributes FROM logs ORDER BY body"))
}

// FuzzAppendJSONString checks that any string, valid UTF-8 or not, becomes a
// JSON string that decodes to the string with U+FFFD for each bad byte.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", `q"b\`, "ctl\x00\x1f", "bad\xff\xc3", "é€𝄞"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := appendJSONString(nil, s)
		var back string
		require.NoError(t, json.Unmarshal(out, &back), "%q", out)
		assert.Equal(t, string(appendValidUTF8(nil, s)), back)
		assert.Equal(t, validUTF8(s), back)
	})
}
