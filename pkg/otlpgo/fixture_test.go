package otlpgo

import (
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// fixtureRequest covers corners that fusiongen's Full* data may not: empty
// containers at every level, metrics without data, empty number values,
// unknown enum values, timestamps that go backwards, and strings that look
// like ids in hex (valueTraceIDHex, valueSpanIDHex) or nearly do.
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
	putHexCorners(s.Attributes())

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
	body := lr.Body().SetEmptySlice()
	body.AppendEmpty().SetEmptyMap().PutEmptyMap("k").PutEmptySlice("v")
	body.AppendEmpty().SetStr("0123456789abcdef0123456789abcdef")
	body.AppendEmpty().SetStr("0123456789abcdef")
	putHexCorners(lr.Attributes())
	putHexCorners(body.AppendEmpty().SetEmptyMap())

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
	putHexCorners(ex.FilteredAttributes())
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

// putHexCorners puts strings that are, or are nearly, trace and span ids in
// lowercase hex: only the exact ones may travel as ids.
func putHexCorners(m pcommon.Map) {
	m.PutStr("trace_id", "5b8efff798038103d269b633813fc60c")
	m.PutStr("span_id", "eee19b7ec3c1b174")
	m.PutStr("zero trace_id", "00000000000000000000000000000000")
	m.PutStr("zero span_id", "0000000000000000")
	m.PutStr("upper", "5B8EFFF798038103D269B633813FC60C")
	m.PutStr("upper span", "EEE19B7EC3C1B174")
	m.PutStr("short", "5b8efff798038103d269b633813fc60")
	m.PutStr("long", "5b8efff798038103d269b633813fc60cc")
	m.PutStr("not hex", "5b8efff798038103d269b633813fc60g")
	m.PutStr("not hex span", "eee19b7ec3c1b17:")
	m.PutStr("repeat", "5b8efff798038103d269b633813fc60c")
}
