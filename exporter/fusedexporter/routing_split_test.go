package fusedexporter

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelfusion/otelfusion/internal/tracehint"
)

// A push whose items all go to one endpoint is passed on uncopied; one that
// spans endpoints is cut with every resource and scope kept.
func TestSplitPassesUniformPushUncopied(t *testing.T) {
	hints := tracehint.DefaultReader()
	one := func(uint64) string { return "http://a:4319" }
	td := fleetTraces(1, seq(0, 50))
	parts := splitTraces(td, one, false)
	require.Len(t, parts, 1)
	assert.Equal(t, td, parts["http://a:4319"], "the same Traces, not a copy")
	ld := fleetLogs(1, seq(0, 50))
	assert.Equal(t, ld, splitLogs(ld, &hints, one, false)["http://a:4319"])
	md := fleetMetrics("cart", "payment")
	assert.Equal(t, md, splitMetrics(md, one, false)["http://a:4319"])

	none := func(uint64) string { return "" }
	assert.Nil(t, splitTraces(td, none, false), "an empty ring routes nothing")
	assert.Nil(t, splitLogs(ld, &hints, none, false))
	assert.Nil(t, splitMetrics(md, none, false))
}

func TestSplitKeepsResourceAndScope(t *testing.T) {
	hints := tracehint.DefaultReader()
	ring := newHashRing([]string{"http://a:4319", "http://b:4319"})
	td := fleetTraces(1, seq(0, 100))
	parts := splitTraces(td, ring.lookup, false)
	require.Len(t, parts, 2)
	total := 0
	for ep, part := range parts {
		total += part.SpanCount()
		for i := range part.ResourceSpans().Len() {
			rs := part.ResourceSpans().At(i)
			_, ok := rs.Resource().Attributes().Get("service.name")
			assert.True(t, ok, "resource kept")
			ss := rs.ScopeSpans().At(0)
			assert.Equal(t, "shop", ss.Scope().Name(), "scope kept")
			for k := range ss.Spans().Len() {
				assert.Equal(t, ep, ring.lookup(traceKey(ss.Spans().At(k).TraceID())))
			}
		}
	}
	assert.Equal(t, 200, total)

	// Logs: record trace id first, then hints, then the resource.
	ld := fleetLogs(1, seq(0, 100))
	withID := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().AppendEmpty()
	withID.SetTraceID(fleetTraceID(1, 7))
	withID.Attributes().PutStr("trace_id", fleetTraceID(1, 8).String())
	logParts := splitLogs(ld, &hints, ring.lookup, false)
	logs := 0
	for ep, part := range logParts {
		logs += part.LogRecordCount()
		records := part.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
		for k := range records.Len() {
			lr := records.At(k)
			var want string
			switch tid, _ := hints.Read(lr.Attributes(), nil); {
			case !lr.TraceID().IsEmpty():
				want = ring.lookup(traceKey(lr.TraceID()))
			case !tid.IsEmpty():
				want = ring.lookup(traceKey(tid))
			default:
				want = ring.lookup(resourceKey(ld.ResourceLogs().At(0).Resource()))
			}
			assert.Equal(t, want, ep)
		}
	}
	assert.Equal(t, 202, logs)
}

// Taking a push moves its items: the parts hold the same data as a copy.
func TestSplitTakeEqualsCopy(t *testing.T) {
	hints := tracehint.DefaultReader()
	ring := newHashRing(gatewayURLs(3))
	td := fleetTraces(1, seq(0, 100))
	copied := splitTraces(td, ring.lookup, false)
	taken := splitTraces(td, ring.lookup, true)
	require.Len(t, taken, 3)
	for ep, part := range copied {
		assertTracesEqual(t, part, taken[ep])
	}
	ld := fleetLogs(1, seq(0, 100))
	copiedLogs := splitLogs(ld, &hints, ring.lookup, false)
	takenLogs := splitLogs(ld, &hints, ring.lookup, true)
	for ep, part := range copiedLogs {
		assertLogsEqual(t, part, takenLogs[ep])
	}
}
