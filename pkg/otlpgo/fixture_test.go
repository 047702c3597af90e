package otlpgo

import (
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// fixtureRequest covers corners that fusiongen's Full* data may not: empty
// containers at every level, metrics without data, empty number values,
// unknown enum values, and timestamps that go backwards.
func fixtureRequest() Request {
	req := NewRequest()

	rs := req.Traces.ResourceSpans()
	rs.AppendEmpty() // resource with no scopes
	r := rs.AppendEmpty()
	r.ScopeSpans().AppendEmpty() // scope with no spans
	spans := r.ScopeSpans().AppendEmpty().Spans()
	spans.AppendEmpty() // span with nothing set
	s := spans.AppendEmpty()
	s.SetKind(ptrace.SpanKind(99))
	s.Status().SetCode(ptrace.StatusCode(-3))
	s.SetStartTimestamp(pcommon.Timestamp(1 << 62))
	s.SetEndTimestamp(pcommon.Timestamp(5)) // ends before it starts
	s.Events().AppendEmpty()
	s.Links().AppendEmpty()
	s.SetFlags(0xffffffff)

	rl := req.Logs.ResourceLogs()
	rl.AppendEmpty()
	sl := rl.AppendEmpty().ScopeLogs()
	sl.AppendEmpty()
	records := sl.AppendEmpty().LogRecords()
	records.AppendEmpty()
	lr := records.AppendEmpty()
	lr.SetSeverityNumber(plog.SeverityNumber(-7))
	lr.SetObservedTimestamp(pcommon.Timestamp(1<<64 - 1))
	lr.SetSpanID(pcommon.SpanID{1}) // span id without trace id
	lr.Body().SetEmptySlice().AppendEmpty().SetEmptyMap().PutEmptyMap("k").PutEmptySlice("v")

	rm := req.Metrics.ResourceMetrics()
	rm.AppendEmpty()
	sm := rm.AppendEmpty().ScopeMetrics()
	sm.AppendEmpty()
	ms := sm.AppendEmpty().Metrics()
	ms.AppendEmpty().SetName("no data")
	ms.AppendEmpty().SetEmptyGauge()
	ms.AppendEmpty().SetEmptyHistogram().DataPoints().AppendEmpty()
	ms.AppendEmpty().SetEmptyExponentialHistogram().DataPoints().AppendEmpty()
	ms.AppendEmpty().SetEmptySummary().DataPoints().AppendEmpty()
	sum := ms.AppendEmpty().SetEmptySum()
	sum.SetAggregationTemporality(pmetric.AggregationTemporality(42))
	points := sum.DataPoints()
	points.AppendEmpty() // no value at all
	points.AppendEmpty().SetIntValue(-5)
	points.AppendEmpty().SetDoubleValue(2.5)
	points.AppendEmpty().SetIntValue(1 << 62)
	ex := points.At(1).Exemplars().AppendEmpty() // exemplar without a value
	ex.SetTraceID(pcommon.TraceID{9})
	h := ms.AppendEmpty().SetEmptyHistogram().DataPoints()
	for i := range 3 {
		p := h.AppendEmpty()
		p.BucketCounts().FromRaw([]uint64{1, 2, 3})
		if i < 2 {
			p.ExplicitBounds().FromRaw([]float64{1, 10})
		}
	}
	return req
}
