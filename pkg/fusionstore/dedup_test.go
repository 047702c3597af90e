package fusionstore

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otelfusion/otelfusion/pkg/fusiongen"
)

// spansOf is one resource of tenant holding a span per id: trace {id},
// span {id}; id 0 leaves both ids empty.
func spansOf(td ptrace.Traces, tenant string, ids ...byte) ptrace.Traces {
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "svc")
	rs.Resource().Attributes().PutStr("tenant.id", tenant)
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	for _, id := range ids {
		sp := spans.AppendEmpty()
		if id != 0 {
			sp.SetTraceID(pcommon.TraceID{id})
			sp.SetSpanID(pcommon.SpanID{id})
		}
		sp.SetName("op")
		sp.SetStartTimestamp(pcommon.NewTimestampFromTime(fusiongen.BaseTime))
		sp.SetEndTimestamp(pcommon.NewTimestampFromTime(fusiongen.BaseTime.Add(time.Millisecond)))
	}
	return td
}

func TestDedupSpans(t *testing.T) {
	tests := []struct {
		name    string
		dedup   bool
		exports []ptrace.Traces
		// want is the stored spans per tenant.
		want map[string]int64
	}{
		{
			name:    "same export twice is stored once",
			dedup:   true,
			exports: []ptrace.Traces{spansOf(ptrace.NewTraces(), "a", 1, 2, 3), spansOf(ptrace.NewTraces(), "a", 1, 2, 3)},
			want:    map[string]int64{"a": 3},
		},
		{
			name:    "a duplicate inside one export is stored once",
			dedup:   true,
			exports: []ptrace.Traces{spansOf(spansOf(ptrace.NewTraces(), "a", 1, 2, 2), "a", 1)},
			want:    map[string]int64{"a": 2},
		},
		{
			name:    "a resent span among new ones",
			dedup:   true,
			exports: []ptrace.Traces{spansOf(ptrace.NewTraces(), "a", 1, 2), spansOf(ptrace.NewTraces(), "a", 2, 3, 4)},
			want:    map[string]int64{"a": 4},
		},
		{
			name:    "two tenants with the same ids are both kept",
			dedup:   true,
			exports: []ptrace.Traces{spansOf(spansOf(ptrace.NewTraces(), "a", 1, 2), "b", 1, 2), spansOf(ptrace.NewTraces(), "b", 1)},
			want:    map[string]int64{"a": 2, "b": 2},
		},
		{
			name:    "spans without ids are always kept",
			dedup:   true,
			exports: []ptrace.Traces{spansOf(ptrace.NewTraces(), "a", 0, 0), spansOf(ptrace.NewTraces(), "a", 0)},
			want:    map[string]int64{"a": 3},
		},
		{
			name:    "off stores every copy",
			dedup:   false,
			exports: []ptrace.Traces{spansOf(ptrace.NewTraces(), "a", 1, 2, 2), spansOf(ptrace.NewTraces(), "a", 1, 2, 2)},
			want:    map[string]int64{"a": 6},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestStore(t, &testClock{t: fusiongen.BaseTime}, func(c *Config) { c.DedupSpans = tt.dedup })
			for _, td := range tt.exports {
				require.NoError(t, s.AppendTraces(context.Background(), td))
			}
			got := map[string]int64{}
			for _, row := range sqlRows(t, s, "SELECT tenant, count(*) FROM traces GROUP BY tenant") {
				got[row[0].(string)] = row[1].(int64)
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestDedupSpansStoresSameRows checks that the de-duplicating appender puts
// every value in the column the plain one does.
func TestDedupSpansStoresSameRows(t *testing.T) {
	td := fusiongen.New(1).Traces(200)
	rows := map[bool][][]any{}
	for _, dedup := range []bool{false, true} {
		s := newTestStore(t, &testClock{t: fusiongen.BaseTime}, func(c *Config) { c.DedupSpans = dedup })
		require.NoError(t, s.AppendTraces(context.Background(), td))
		require.NoError(t, s.AppendTraces(context.Background(), td))
		rows[dedup] = sqlRows(t, s, "SELECT DISTINCT * FROM traces ORDER BY ALL")
		if dedup {
			assert.Equal(t, [][]any{{int64(td.SpanCount())}}, sqlRows(t, s, "SELECT count(*) FROM traces"))
		}
	}
	require.Len(t, rows[true], td.SpanCount())
	assert.Equal(t, rows[false], rows[true])
}

// TestDedupSpansLeavesLogsAlone: only spans are de-duplicated.
func TestDedupSpansLeavesLogsAlone(t *testing.T) {
	s := newTestStore(t, &testClock{t: fusiongen.BaseTime}, func(c *Config) { c.DedupSpans = true })
	ld := tenantLogs("a", fusiongen.BaseTime)
	require.NoError(t, s.AppendLogs(context.Background(), ld))
	require.NoError(t, s.AppendLogs(context.Background(), ld))
	assert.Equal(t, [][]any{{int64(2 * ld.LogRecordCount())}}, sqlRows(t, s, "SELECT count(*) FROM logs"))
}
