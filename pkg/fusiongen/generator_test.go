package fusiongen

import (
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

func TestCountsAreExact(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 100, 1000} {
		g := New(1)
		assert.Equal(t, n, g.Traces(n).SpanCount(), "spans for %d", n)
		assert.Equal(t, n, g.Logs(n).LogRecordCount(), "logs for %d", n)
		assert.Equal(t, n, g.Metrics(n).DataPointCount(), "points for %d", n)
	}
}

func TestSameSeedSameData(t *testing.T) {
	a, b := New(7), New(7)
	tm, lm, mm := ptrace.ProtoMarshaler{}, plog.ProtoMarshaler{}, pmetric.ProtoMarshaler{}
	ta, _ := tm.MarshalTraces(a.Traces(300))
	tb, _ := tm.MarshalTraces(b.Traces(300))
	assert.Equal(t, ta, tb)
	la, _ := lm.MarshalLogs(a.Logs(300))
	lb, _ := lm.MarshalLogs(b.Logs(300))
	assert.Equal(t, la, lb)
	ma, _ := mm.MarshalMetrics(a.Metrics(300))
	mb, _ := mm.MarshalMetrics(b.Metrics(300))
	assert.Equal(t, ma, mb)

	other, _ := tm.MarshalTraces(New(8).Traces(300))
	assert.NotEqual(t, ta, other)
}

func TestLogsCarryTraceContext(t *testing.T) {
	g := New(3)
	td := g.Traces(3000)
	spanIDs := map[string]bool{}
	for i := range td.ResourceSpans().Len() {
		spans := td.ResourceSpans().At(i).ScopeSpans().At(0).Spans()
		for j := range spans.Len() {
			id := spans.At(j).SpanID()
			spanIDs[hex.EncodeToString(id[:])] = true
		}
	}
	ld := g.Logs(1000)
	var inFields, inAttrs int
	for i := range ld.ResourceLogs().Len() {
		records := ld.ResourceLogs().At(i).ScopeLogs().At(0).LogRecords()
		for j := range records.Len() {
			lr := records.At(j)
			if !lr.SpanID().IsEmpty() {
				id := lr.SpanID()
				require.True(t, spanIDs[hex.EncodeToString(id[:])], "log points at an unknown span")
				inFields++
				continue
			}
			v, ok := lr.Attributes().Get("span_id")
			require.True(t, ok, "every log made after spans is linked")
			require.True(t, spanIDs[v.Str()], "log attribute points at an unknown span")
			inAttrs++
		}
	}
	assert.Equal(t, 1000, inFields+inAttrs)
	// One in four links is carried only in attributes; allow wide sampling slack.
	assert.InDelta(t, 250, inAttrs, 60)
}

func TestMetricsCoverAllTypes(t *testing.T) {
	md := New(5).Metrics(500)
	seen := map[pmetric.MetricType]int{}
	for i := range md.ResourceMetrics().Len() {
		ms := md.ResourceMetrics().At(i).ScopeMetrics().At(0).Metrics()
		for j := range ms.Len() {
			seen[ms.At(j).Type()]++
		}
	}
	for _, typ := range []pmetric.MetricType{pmetric.MetricTypeGauge, pmetric.MetricTypeSum, pmetric.MetricTypeHistogram, pmetric.MetricTypeExponentialHistogram, pmetric.MetricTypeSummary} {
		assert.Positive(t, seen[typ], typ.String())
	}
}

func TestFullDataIsComplete(t *testing.T) {
	td := FullTraces()
	assert.Equal(t, 2, td.ResourceSpans().Len())
	assert.Equal(t, 8, td.SpanCount())
	ld := FullLogs()
	assert.Equal(t, 9, ld.LogRecordCount())
	md := FullMetrics()
	types := map[pmetric.MetricType]bool{}
	ms := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
	for i := range ms.Len() {
		types[ms.At(i).Type()] = true
	}
	assert.Len(t, types, 6, "five data types plus an empty metric")
}
