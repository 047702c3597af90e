package fusiongen

import (
	"math"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// The Full* functions return data with every field that pdata exposes set to
// a non-default value somewhere, and the optional ones both set and unset, so
// a codec that drops or confuses any field fails a round trip on them.

var (
	fullTraceID = pcommon.TraceID{0x5b, 0x8e, 0xff, 0xf7, 0x98, 0x03, 0x81, 0x03, 0xd2, 0x69, 0xb6, 0x33, 0x81, 0x3f, 0xc6, 0x0c}
	fullSpanID  = pcommon.SpanID{0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x74}
	fullParent  = pcommon.SpanID{0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x73}
	fullT0      = pcommon.NewTimestampFromTime(BaseTime)
)

// fillAllValues puts one attribute of every value type into m, nested maps
// and arrays included, down to the given depth.
func fillAllValues(m pcommon.Map, depth int) {
	m.PutStr("str", "value")
	m.PutStr("empty.str", "")
	m.PutStr("unicode", "héllo wörld ✓")
	m.PutInt("int", -42)
	m.PutInt("int.max", 1<<63-1)
	m.PutInt("int.min", -1<<63)
	m.PutDouble("double", 3.14159)
	m.PutDouble("double.neg.zero", math.Copysign(0, -1))
	m.PutDouble("double.nan", math.NaN())
	m.PutDouble("double.inf", math.Inf(-1))
	m.PutBool("bool.true", true)
	m.PutBool("bool.false", false)
	m.PutEmptyBytes("bytes").FromRaw([]byte{0, 1, 2, 0xff})
	m.PutEmptyBytes("bytes.empty")
	m.PutEmpty("empty")
	arr := m.PutEmptySlice("array")
	arr.AppendEmpty().SetStr("a")
	arr.AppendEmpty().SetInt(7)
	arr.AppendEmpty().SetDouble(-1.5)
	arr.AppendEmpty().SetBool(true)
	arr.AppendEmpty().SetEmptyBytes().FromRaw([]byte("raw"))
	arr.AppendEmpty() // empty value inside an array
	m.PutEmptySlice("array.empty")
	m.PutEmptyMap("map.empty")
	if depth > 0 {
		fillAllValues(m.PutEmptyMap("nested"), depth-1)
		fillAllValues(arr.AppendEmpty().SetEmptyMap(), depth-1)
		inner := arr.AppendEmpty().SetEmptySlice()
		inner.AppendEmpty().SetStr("deep")
	}
}

func fullResource(r pcommon.Resource) {
	fillAllValues(r.Attributes(), 2)
	r.Attributes().PutStr("service.name", "full-service")
	r.SetDroppedAttributesCount(3)
}

func fullScope(s pcommon.InstrumentationScope) {
	s.SetName("full/scope")
	s.SetVersion("v9.9.9")
	s.Attributes().PutStr("scope.attr", "x")
	s.Attributes().PutInt("scope.int", 5)
	s.SetDroppedAttributesCount(2)
}

// FullTraces returns traces with every span field set: two resources (one
// with no scopes), scopes with and without spans, events, links, trace state,
// flags, dropped counts and every status code and span kind.
func FullTraces() ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.SetSchemaUrl("https://opentelemetry.io/schemas/1.26.0")
	fullResource(rs.Resource())
	ss := rs.ScopeSpans().AppendEmpty()
	ss.SetSchemaUrl("https://opentelemetry.io/schemas/1.25.0")
	fullScope(ss.Scope())
	kinds := []ptrace.SpanKind{ptrace.SpanKindUnspecified, ptrace.SpanKindInternal, ptrace.SpanKindServer, ptrace.SpanKindClient, ptrace.SpanKindProducer, ptrace.SpanKindConsumer}
	codes := []ptrace.StatusCode{ptrace.StatusCodeUnset, ptrace.StatusCodeOk, ptrace.StatusCodeError}
	for i, kind := range kinds {
		sp := ss.Spans().AppendEmpty()
		sp.SetTraceID(fullTraceID)
		id := fullSpanID
		id[7] += byte(i)
		sp.SetSpanID(id)
		if i > 0 {
			sp.SetParentSpanID(fullParent)
		}
		sp.TraceState().FromRaw("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE")
		sp.SetFlags(uint32(0x101 + i))
		sp.SetName("span-" + kind.String())
		sp.SetKind(kind)
		sp.SetStartTimestamp(fullT0 + pcommon.Timestamp(i*1000))
		sp.SetEndTimestamp(fullT0 + pcommon.Timestamp(i*1000+123456789))
		fillAllValues(sp.Attributes(), 1)
		sp.SetDroppedAttributesCount(uint32(i))
		sp.SetDroppedEventsCount(uint32(i + 1))
		sp.SetDroppedLinksCount(uint32(i + 2))
		sp.Status().SetCode(codes[i%len(codes)])
		if codes[i%len(codes)] == ptrace.StatusCodeError {
			sp.Status().SetMessage("boom")
		}
		ev := sp.Events().AppendEmpty()
		ev.SetName("exception")
		ev.SetTimestamp(fullT0 + 500)
		ev.Attributes().PutStr("exception.message", "bad thing")
		ev.SetDroppedAttributesCount(1)
		sp.Events().AppendEmpty() // an event with nothing set
		ln := sp.Links().AppendEmpty()
		ln.SetTraceID(pcommon.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
		ln.SetSpanID(pcommon.SpanID{1, 2, 3, 4, 5, 6, 7, 8})
		ln.TraceState().FromRaw("k=v")
		ln.SetFlags(0x301)
		ln.Attributes().PutBool("link.sampled", true)
		ln.SetDroppedAttributesCount(4)
		sp.Links().AppendEmpty()
	}
	// A span whose timestamps run backwards and sit at the extremes.
	odd := ss.Spans().AppendEmpty()
	odd.SetStartTimestamp(pcommon.Timestamp(1<<64 - 1))
	odd.SetEndTimestamp(1)
	ss.Spans().AppendEmpty()         // a span with nothing set
	rs.ScopeSpans().AppendEmpty()    // a scope with no spans
	td.ResourceSpans().AppendEmpty() // a resource with no scopes
	return td
}

// FullLogs returns logs with every record field set and a body of every type.
func FullLogs() plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.SetSchemaUrl("https://opentelemetry.io/schemas/1.26.0")
	fullResource(rl.Resource())
	sl := rl.ScopeLogs().AppendEmpty()
	sl.SetSchemaUrl("https://opentelemetry.io/schemas/1.25.0")
	fullScope(sl.Scope())
	bodies := []func(pcommon.Value){
		func(v pcommon.Value) { v.SetStr("plain text body") },
		func(v pcommon.Value) { v.SetInt(-7) },
		func(v pcommon.Value) { v.SetDouble(2.5) },
		func(v pcommon.Value) { v.SetBool(true) },
		func(v pcommon.Value) { v.SetEmptyBytes().FromRaw([]byte{9, 8, 7}) },
		func(v pcommon.Value) { fillAllValues(v.SetEmptyMap(), 2) },
		func(v pcommon.Value) { v.SetEmptySlice().AppendEmpty().SetStr("in array") },
		func(pcommon.Value) {}, // empty body
	}
	for i, setBody := range bodies {
		lr := sl.LogRecords().AppendEmpty()
		lr.SetTimestamp(fullT0 + pcommon.Timestamp(i*1000))
		lr.SetObservedTimestamp(fullT0 + pcommon.Timestamp(i*1000+7))
		lr.SetSeverityNumber(plog.SeverityNumber(1 + i*3))
		lr.SetSeverityText(plog.SeverityNumber(1 + i*3).String())
		setBody(lr.Body())
		fillAllValues(lr.Attributes(), 1)
		lr.SetDroppedAttributesCount(uint32(i))
		lr.SetFlags(plog.LogRecordFlags(i % 2))
		if i%3 != 2 {
			lr.SetTraceID(fullTraceID)
			lr.SetSpanID(fullSpanID)
		}
		if i%2 == 0 {
			lr.SetEventName("app.event.full")
		}
	}
	sl.LogRecords().AppendEmpty() // a record with nothing set
	rl.ScopeLogs().AppendEmpty()
	ld.ResourceLogs().AppendEmpty()
	return ld
}

func fullExemplars(es pmetric.ExemplarSlice, t pcommon.Timestamp) {
	e := es.AppendEmpty()
	e.SetTimestamp(t)
	e.SetDoubleValue(0.25)
	e.SetTraceID(fullTraceID)
	e.SetSpanID(fullSpanID)
	e.FilteredAttributes().PutStr("user.id", "u-1")
	e2 := es.AppendEmpty()
	e2.SetTimestamp(t + 1)
	e2.SetIntValue(-3)
	es.AppendEmpty() // an exemplar with nothing set
}

// FullMetrics returns one metric of each of the five types with every data
// point field set, optional fields both present and absent, int and double
// number points, both temporalities and both monotonicities.
func FullMetrics() pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.SetSchemaUrl("https://opentelemetry.io/schemas/1.26.0")
	fullResource(rm.Resource())
	sm := rm.ScopeMetrics().AppendEmpty()
	sm.SetSchemaUrl("https://opentelemetry.io/schemas/1.25.0")
	fullScope(sm.Scope())
	ms := sm.Metrics()
	t := fullT0 + 1_000_000_000

	g := ms.AppendEmpty()
	g.SetName("full.gauge")
	g.SetDescription("a gauge")
	g.SetUnit("1")
	g.Metadata().PutStr("prometheus.type", "gauge")
	gp := g.SetEmptyGauge().DataPoints()
	for i := range 3 {
		dp := gp.AppendEmpty()
		dp.SetStartTimestamp(fullT0)
		dp.SetTimestamp(t + pcommon.Timestamp(i))
		if i%2 == 0 {
			dp.SetDoubleValue(1.5 * float64(i+1))
		} else {
			dp.SetIntValue(int64(-i))
		}
		dp.SetFlags(pmetric.DefaultDataPointFlags.WithNoRecordedValue(i == 2))
		fillAllValues(dp.Attributes(), 0)
		fullExemplars(dp.Exemplars(), t)
	}
	gp.AppendEmpty().SetDoubleValue(math.Inf(1))
	gp.AppendEmpty() // a point with no value set

	for i, temporality := range []pmetric.AggregationTemporality{pmetric.AggregationTemporalityCumulative, pmetric.AggregationTemporalityDelta, pmetric.AggregationTemporalityUnspecified} {
		s := ms.AppendEmpty()
		s.SetName("full.sum." + temporality.String())
		s.SetUnit("By")
		sum := s.SetEmptySum()
		sum.SetAggregationTemporality(temporality)
		sum.SetIsMonotonic(i == 0)
		dp := sum.DataPoints().AppendEmpty()
		dp.SetStartTimestamp(fullT0)
		dp.SetTimestamp(t)
		dp.SetIntValue(1 << 40)
		dp.Attributes().PutStr("k", "v")
		fullExemplars(dp.Exemplars(), t)
		dp2 := sum.DataPoints().AppendEmpty()
		dp2.SetTimestamp(t + 10)
		dp2.SetDoubleValue(-0.125)
	}

	h := ms.AppendEmpty()
	h.SetName("full.histogram")
	h.SetUnit("ms")
	hist := h.SetEmptyHistogram()
	hist.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
	hp := hist.DataPoints().AppendEmpty()
	hp.SetStartTimestamp(fullT0)
	hp.SetTimestamp(t)
	hp.SetCount(17)
	hp.SetSum(123.5)
	hp.SetMin(0.5)
	hp.SetMax(99)
	hp.ExplicitBounds().FromRaw([]float64{1, 5, 10, 50})
	hp.BucketCounts().FromRaw([]uint64{2, 3, 5, 6, 1})
	hp.SetFlags(pmetric.DefaultDataPointFlags.WithNoRecordedValue(true))
	fillAllValues(hp.Attributes(), 0)
	fullExemplars(hp.Exemplars(), t)
	bare := hist.DataPoints().AppendEmpty() // no sum, min or max
	bare.SetTimestamp(t)
	bare.SetCount(0)

	e := ms.AppendEmpty()
	e.SetName("full.exponential_histogram")
	exp := e.SetEmptyExponentialHistogram()
	exp.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	ep := exp.DataPoints().AppendEmpty()
	ep.SetStartTimestamp(fullT0)
	ep.SetTimestamp(t)
	ep.SetCount(30)
	ep.SetSum(412.25)
	ep.SetMin(-4)
	ep.SetMax(200)
	ep.SetScale(-2)
	ep.SetZeroCount(3)
	ep.SetZeroThreshold(1e-9)
	ep.Positive().SetOffset(-3)
	ep.Positive().BucketCounts().FromRaw([]uint64{1, 0, 4, 9})
	ep.Negative().SetOffset(2)
	ep.Negative().BucketCounts().FromRaw([]uint64{5, 8})
	ep.SetFlags(1)
	ep.Attributes().PutStr("k", "v")
	fullExemplars(ep.Exemplars(), t)
	exp.DataPoints().AppendEmpty()

	su := ms.AppendEmpty()
	su.SetName("full.summary")
	su.SetDescription("a summary")
	sp := su.SetEmptySummary().DataPoints().AppendEmpty()
	sp.SetStartTimestamp(fullT0)
	sp.SetTimestamp(t)
	sp.SetCount(1000)
	sp.SetSum(31.5)
	sp.SetFlags(1)
	sp.Attributes().PutStr("k", "v")
	for _, q := range []float64{0, 0.5, 0.99, 1} {
		qv := sp.QuantileValues().AppendEmpty()
		qv.SetQuantile(q)
		qv.SetValue(q * 10)
	}
	su.Summary().DataPoints().AppendEmpty()

	ms.AppendEmpty().SetName("full.empty_metric") // no data type at all
	sm2 := rm.ScopeMetrics().AppendEmpty()
	sm2.Scope().SetName("second")
	md.ResourceMetrics().AppendEmpty()
	return md
}
