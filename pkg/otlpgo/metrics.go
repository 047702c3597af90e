package otlpgo

import (
	"math"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// The metrics section; layout in docs/protocol.md, "Metrics section".

// pointTimes carries the running start and time of data points across a
// section, and the previous value within one metric, for delta coding.
type pointTimes struct {
	start, time uint64
	// startFromTime says start_time is written against time, not against
	// the previous start: for delta temporality, where start is time less
	// the collection interval.
	startFromTime bool
}

type pointValues struct {
	prevInt        int64
	prevDoubleBits uint64
}

func (w *sectionWriter) metrics(md pmetric.Metrics) {
	var times pointTimes
	rms := md.ResourceMetrics()
	w.count(rms.Len())
	for i := range rms.Len() {
		rm := rms.At(i)
		w.resource(rm.Resource(), rm.SchemaUrl())
		sms := rm.ScopeMetrics()
		w.count(sms.Len())
		for j := range sms.Len() {
			sm := sms.At(j)
			w.scope(sm.Scope(), sm.SchemaUrl())
			ms := sm.Metrics()
			w.count(ms.Len())
			for k := range ms.Len() {
				w.metric(ms.At(k), &times)
			}
		}
	}
}

func (w *sectionWriter) metric(m pmetric.Metric, times *pointTimes) {
	w.str(m.Name())
	w.str(m.Description())
	w.str(m.Unit())
	w.attrs(m.Metadata())
	var values pointValues
	// v2: the int chain of a metric starts where the last metric of the same
	// name in the section left it: a counter sent as one point per metric
	// then costs its increments, not its value.
	typ := m.Type()
	chained := typ == pmetric.MetricTypeGauge || typ == pmetric.MetricTypeSum
	if chained {
		values.prevInt = w.lastInt[m.Name()]
		defer func() { w.lastInt[m.Name()] = values.prevInt }()
	}
	times.startFromTime = false
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		w.uvarint(metricGauge)
		w.numberPoints(m.Gauge().DataPoints(), times, &values)
	case pmetric.MetricTypeSum:
		sum := m.Sum()
		w.uvarint(metricSum)
		w.varint(int64(sum.AggregationTemporality()))
		times.startFromTime = sum.AggregationTemporality() == pmetric.AggregationTemporalityDelta
		if sum.IsMonotonic() {
			w.uvarint(1)
		} else {
			w.uvarint(0)
		}
		w.numberPoints(sum.DataPoints(), times, &values)
	case pmetric.MetricTypeHistogram:
		h := m.Histogram()
		w.uvarint(metricHistogram)
		w.varint(int64(h.AggregationTemporality()))
		times.startFromTime = h.AggregationTemporality() == pmetric.AggregationTemporalityDelta
		points := h.DataPoints()
		w.count(points.Len())
		for i := range points.Len() {
			w.histogramPoint(points.At(i), times)
		}
	case pmetric.MetricTypeExponentialHistogram:
		h := m.ExponentialHistogram()
		w.uvarint(metricExpHistogram)
		w.varint(int64(h.AggregationTemporality()))
		times.startFromTime = h.AggregationTemporality() == pmetric.AggregationTemporalityDelta
		points := h.DataPoints()
		w.count(points.Len())
		for i := range points.Len() {
			w.expHistogramPoint(points.At(i), times)
		}
	case pmetric.MetricTypeSummary:
		points := m.Summary().DataPoints()
		w.uvarint(metricSummary)
		w.count(points.Len())
		for i := range points.Len() {
			w.summaryPoint(points.At(i), times)
		}
	default:
		w.uvarint(metricEmpty)
	}
}

func (w *sectionWriter) pointHead(attrs pcommon.Map, start, t pcommon.Timestamp, flags pmetric.DataPointFlags, times *pointTimes) {
	w.attrs(attrs)
	w.timeDelta(&times.time, uint64(t))
	if times.startFromTime {
		w.timeFrom(uint64(t), uint64(start))
		times.start = uint64(start)
	} else {
		w.timeDelta(&times.start, uint64(start))
	}
	w.uvarint(uint64(flags))
}

func (w *sectionWriter) numberPoints(points pmetric.NumberDataPointSlice, times *pointTimes, values *pointValues) {
	w.count(points.Len())
	for i := range points.Len() {
		p := points.At(i)
		w.pointHead(p.Attributes(), p.StartTimestamp(), p.Timestamp(), p.Flags(), times)
		switch p.ValueType() {
		case pmetric.NumberDataPointValueTypeInt:
			w.uvarint(numberInt)
			v := p.IntValue()
			w.intValue(v - values.prevInt)
			values.prevInt = v
		case pmetric.NumberDataPointValueTypeDouble:
			w.uvarint(numberDouble)
			w.double(p.DoubleValue()) // xf64 chains it to the double before
		default:
			w.uvarint(numberEmpty)
		}
		w.exemplars(p.Exemplars(), uint64(p.Timestamp()))
	}
}

func (w *sectionWriter) exemplars(es pmetric.ExemplarSlice, pointTime uint64) {
	w.count(es.Len())
	for i := range es.Len() {
		e := es.At(i)
		w.attrs(e.FilteredAttributes())
		w.timeFrom(pointTime, uint64(e.Timestamp()))
		switch e.ValueType() {
		case pmetric.ExemplarValueTypeInt:
			w.uvarint(numberInt)
			w.intValue(e.IntValue())
		case pmetric.ExemplarValueTypeDouble:
			w.uvarint(numberDouble)
			w.double(e.DoubleValue())
		default:
			w.uvarint(numberEmpty)
		}
		traceID, spanID := e.TraceID(), e.SpanID()
		var presence uint64
		if !traceID.IsEmpty() {
			presence |= hasTraceID
		}
		if !spanID.IsEmpty() {
			presence |= hasSpanID
		}
		w.uvarint(presence)
		if presence&hasTraceID != 0 {
			w.traceID(traceID)
		}
		if presence&hasSpanID != 0 {
			w.spanIDRef(spanID)
		}
	}
}

// optionalDoubles writes the presence bits of sum, min and max, then those set.
func (w *sectionWriter) optionalDoubles(hasS, hasMn, hasMx bool, sum, mn, mx float64) {
	var presence uint64
	if hasS {
		presence |= hasSum
	}
	if hasMn {
		presence |= hasMin
	}
	if hasMx {
		presence |= hasMax
	}
	w.uvarint(presence)
	if hasS {
		w.double(sum)
	}
	if hasMn {
		w.double(mn)
	}
	if hasMx {
		w.double(mx)
	}
}

func (w *sectionWriter) histogramPoint(p pmetric.HistogramDataPoint, times *pointTimes) {
	w.pointHead(p.Attributes(), p.StartTimestamp(), p.Timestamp(), p.Flags(), times)
	w.uintValue(p.Count())
	w.optionalDoubles(p.HasSum(), p.HasMin(), p.HasMax(), p.Sum(), p.Min(), p.Max())
	counts := p.BucketCounts()
	w.count(counts.Len())
	for i := range counts.Len() {
		w.uintValue(counts.At(i))
	}
	bounds := p.ExplicitBounds()
	w.count(bounds.Len())
	for i := range bounds.Len() {
		w.double(bounds.At(i))
	}
	w.exemplars(p.Exemplars(), uint64(p.Timestamp()))
}

func (w *sectionWriter) buckets(b pmetric.ExponentialHistogramDataPointBuckets) {
	w.intValue(int64(b.Offset()))
	counts := b.BucketCounts()
	w.count(counts.Len())
	for i := range counts.Len() {
		w.uintValue(counts.At(i))
	}
}

func (w *sectionWriter) expHistogramPoint(p pmetric.ExponentialHistogramDataPoint, times *pointTimes) {
	w.pointHead(p.Attributes(), p.StartTimestamp(), p.Timestamp(), p.Flags(), times)
	w.uintValue(p.Count())
	w.optionalDoubles(p.HasSum(), p.HasMin(), p.HasMax(), p.Sum(), p.Min(), p.Max())
	w.intValue(int64(p.Scale()))
	w.uintValue(p.ZeroCount())
	w.double(p.ZeroThreshold())
	w.buckets(p.Positive())
	w.buckets(p.Negative())
	w.exemplars(p.Exemplars(), uint64(p.Timestamp()))
}

func (w *sectionWriter) summaryPoint(p pmetric.SummaryDataPoint, times *pointTimes) {
	w.pointHead(p.Attributes(), p.StartTimestamp(), p.Timestamp(), p.Flags(), times)
	w.uintValue(p.Count())
	w.double(p.Sum())
	qs := p.QuantileValues()
	w.count(qs.Len())
	for i := range qs.Len() {
		q := qs.At(i)
		w.double(q.Quantile())
		w.double(q.Value())
	}
}

func (r *sectionReader) metrics(md pmetric.Metrics) {
	var times pointTimes
	rms := md.ResourceMetrics()
	n := r.count(streamStruct, 1, "resources")
	if r.spend(int64(n) * costResource); r.err != nil {
		return
	}
	rms.EnsureCapacity(n)
	for range n {
		if r.err != nil {
			return
		}
		rm := rms.AppendEmpty()
		rm.SetSchemaUrl(r.resource(rm.Resource()))
		sms := rm.ScopeMetrics()
		ns := r.count(streamStrings, 3, "scopes")
		if r.spend(int64(ns) * costScope); r.err != nil {
			return
		}
		sms.EnsureCapacity(ns)
		for range ns {
			if r.err != nil {
				return
			}
			sm := sms.AppendEmpty()
			sm.SetSchemaUrl(r.scope(sm.Scope()))
			ms := sm.Metrics()
			nm := r.count(streamStrings, 3, "metrics")
			r.spend(int64(nm) * costMetric)
			if r.err != nil {
				return
			}
			ms.EnsureCapacity(nm)
			for range nm {
				if r.err != nil {
					return
				}
				r.metric(ms.AppendEmpty(), &times)
			}
		}
	}
}

// pointCount reads a count of data points that cost cost each; every point
// takes at least two bytes of the times stream (start and time). It is 0
// once the section has failed.
func (r *sectionReader) pointCount(cost int64) int {
	n := r.count(streamTimes, 2, "data points")
	r.items(n, cost)
	if r.err != nil {
		return 0
	}
	return n
}

func (r *sectionReader) metric(m pmetric.Metric, times *pointTimes) {
	name := r.str()
	m.SetName(name)
	m.SetDescription(r.str())
	m.SetUnit(r.str())
	r.attrs(m.Metadata(), 0)
	var values pointValues
	times.startFromTime = false
	tag := r.uvarint()
	if r.st.version != versionV1 && (tag == metricGauge || tag == metricSum) {
		if r.lastInt == nil {
			r.lastInt = make(map[string]int64)
		}
		values.prevInt = r.lastInt[name]
		defer func() { r.lastInt[name] = values.prevInt }()
	}
	switch tag {
	case metricEmpty:
	case metricGauge:
		r.numberPoints(m.SetEmptyGauge().DataPoints(), times, &values)
	case metricSum:
		sum := m.SetEmptySum()
		sum.SetAggregationTemporality(pmetric.AggregationTemporality(r.int32Value(streamStruct, "aggregation temporality")))
		times.startFromTime = sum.AggregationTemporality() == pmetric.AggregationTemporalityDelta
		switch mono := r.uvarint(); mono {
		case 0, 1:
			sum.SetIsMonotonic(mono == 1)
		default:
			r.fail(&r.streams[streamStruct], ErrMalformed, "monotonic flag %d, want 0 or 1", mono)
		}
		r.numberPoints(sum.DataPoints(), times, &values)
	case metricHistogram:
		h := m.SetEmptyHistogram()
		h.SetAggregationTemporality(pmetric.AggregationTemporality(r.int32Value(streamStruct, "aggregation temporality")))
		times.startFromTime = h.AggregationTemporality() == pmetric.AggregationTemporalityDelta
		points := h.DataPoints()
		n := r.pointCount(costHistogramPoint)
		points.EnsureCapacity(n)
		for range n {
			if r.err != nil {
				return
			}
			r.histogramPoint(points.AppendEmpty(), times)
		}
	case metricExpHistogram:
		h := m.SetEmptyExponentialHistogram()
		h.SetAggregationTemporality(pmetric.AggregationTemporality(r.int32Value(streamStruct, "aggregation temporality")))
		times.startFromTime = h.AggregationTemporality() == pmetric.AggregationTemporalityDelta
		points := h.DataPoints()
		n := r.pointCount(costExpHistogramPoint)
		points.EnsureCapacity(n)
		for range n {
			if r.err != nil {
				return
			}
			r.expHistogramPoint(points.AppendEmpty(), times)
		}
	case metricSummary:
		points := m.SetEmptySummary().DataPoints()
		n := r.pointCount(costSummaryPoint)
		points.EnsureCapacity(n)
		for range n {
			if r.err != nil {
				return
			}
			r.summaryPoint(points.AppendEmpty(), times)
		}
	default:
		r.fail(&r.streams[streamStruct], ErrMalformed, "unknown metric type %d", tag)
	}
}

func (r *sectionReader) pointHead(attrs pcommon.Map, times *pointTimes) (start, t pcommon.Timestamp, flags pmetric.DataPointFlags) {
	r.attrs(attrs, 0)
	t = r.timeDelta(&times.time)
	if times.startFromTime {
		start = r.timeFrom(uint64(t))
		times.start = uint64(start)
	} else {
		start = r.timeDelta(&times.start)
	}
	flags = pmetric.DataPointFlags(r.uint32Value("data point flags"))
	return start, t, flags
}

func (r *sectionReader) numberPoints(points pmetric.NumberDataPointSlice, times *pointTimes, values *pointValues) {
	n := r.pointCount(costNumberPoint)
	points.EnsureCapacity(n)
	for range n {
		if r.err != nil {
			return
		}
		p := points.AppendEmpty()
		start, t, flags := r.pointHead(p.Attributes(), times)
		p.SetStartTimestamp(start)
		p.SetTimestamp(t)
		p.SetFlags(flags)
		switch kind := r.uvarint(); kind {
		case numberEmpty:
		case numberInt:
			values.prevInt += r.intValue()
			p.SetIntValue(values.prevInt)
		case numberDouble:
			if r.st.version == versionV1 { // v1 chains the values of a metric
				values.prevDoubleBits ^= r.doubleBits()
				p.SetDoubleValue(math.Float64frombits(values.prevDoubleBits))
			} else {
				p.SetDoubleValue(r.double())
			}
		default:
			r.fail(&r.streams[streamStruct], ErrMalformed, "unknown number kind %d", kind)
		}
		r.exemplars(p.Exemplars(), uint64(t))
	}
}

func (r *sectionReader) exemplars(es pmetric.ExemplarSlice, pointTime uint64) {
	n := r.count(streamTimes, 1, "exemplars")
	if n == 0 {
		return
	}
	r.spend(int64(n) * costExemplar)
	if r.err != nil {
		return
	}
	es.EnsureCapacity(n)
	for range n {
		if r.err != nil {
			return
		}
		e := es.AppendEmpty()
		r.attrs(e.FilteredAttributes(), 0)
		e.SetTimestamp(r.timeFrom(pointTime))
		switch kind := r.uvarint(); kind {
		case numberEmpty:
		case numberInt:
			e.SetIntValue(r.intValue())
		case numberDouble:
			e.SetDoubleValue(r.double())
		default:
			r.fail(&r.streams[streamStruct], ErrMalformed, "unknown exemplar kind %d", kind)
		}
		presence := r.uvarint()
		if presence&^(hasTraceID|hasSpanID) != 0 {
			r.fail(&r.streams[streamStruct], ErrMalformed, "unknown exemplar presence bits %#x", presence)
			return
		}
		if presence&hasTraceID != 0 {
			e.SetTraceID(r.traceIDRef())
		}
		if presence&hasSpanID != 0 {
			e.SetSpanID(r.spanIDRef())
		}
	}
}

func (r *sectionReader) optionalDoubles() (presence uint64, sum, mn, mx float64) {
	presence = r.uvarint()
	if presence&^(hasSum|hasMin|hasMax) != 0 {
		r.fail(&r.streams[streamStruct], ErrMalformed, "unknown sum/min/max presence bits %#x", presence)
		return 0, 0, 0, 0
	}
	if presence&hasSum != 0 {
		sum = r.double()
	}
	if presence&hasMin != 0 {
		mn = r.double()
	}
	if presence&hasMax != 0 {
		mx = r.double()
	}
	return presence, sum, mn, mx
}

func (r *sectionReader) uint64s(dst pcommon.UInt64Slice) {
	n := r.count(streamInts, 1, "bucket counts")
	if n == 0 {
		return
	}
	// FromRaw copies, so one scratch slice serves every point.
	r.spend(int64(n) * costBucket)
	r.uint64Scratch = reserve(r, r.uint64Scratch[:0], n)
	if r.err != nil {
		return
	}
	counts := r.uint64Scratch[:0]
	for range n {
		counts = append(counts, r.uintValue())
	}
	r.uint64Scratch = counts
	dst.FromRaw(counts)
}

func (r *sectionReader) histogramPoint(p pmetric.HistogramDataPoint, times *pointTimes) {
	start, t, flags := r.pointHead(p.Attributes(), times)
	p.SetStartTimestamp(start)
	p.SetTimestamp(t)
	p.SetFlags(flags)
	p.SetCount(r.uintValue())
	presence, sum, mn, mx := r.optionalDoubles()
	if presence&hasSum != 0 {
		p.SetSum(sum)
	}
	if presence&hasMin != 0 {
		p.SetMin(mn)
	}
	if presence&hasMax != 0 {
		p.SetMax(mx)
	}
	r.uint64s(p.BucketCounts())
	if n := r.count(streamDoubles, r.doubleBytes(), "explicit bounds"); n > 0 {
		r.spend(int64(n) * costBucket)
		if r.float64Scratch = reserve(r, r.float64Scratch[:0], n); r.err != nil {
			return
		}
		bounds := r.float64Scratch[:0]
		for range n {
			bounds = append(bounds, r.double())
		}
		r.float64Scratch = bounds
		p.ExplicitBounds().FromRaw(bounds)
	}
	r.exemplars(p.Exemplars(), uint64(t))
}

func (r *sectionReader) buckets(b pmetric.ExponentialHistogramDataPointBuckets) {
	b.SetOffset(r.int32Value(streamInts, "bucket offset"))
	r.uint64s(b.BucketCounts())
}

func (r *sectionReader) expHistogramPoint(p pmetric.ExponentialHistogramDataPoint, times *pointTimes) {
	start, t, flags := r.pointHead(p.Attributes(), times)
	p.SetStartTimestamp(start)
	p.SetTimestamp(t)
	p.SetFlags(flags)
	p.SetCount(r.uintValue())
	presence, sum, mn, mx := r.optionalDoubles()
	if presence&hasSum != 0 {
		p.SetSum(sum)
	}
	if presence&hasMin != 0 {
		p.SetMin(mn)
	}
	if presence&hasMax != 0 {
		p.SetMax(mx)
	}
	p.SetScale(r.int32Value(streamInts, "scale"))
	p.SetZeroCount(r.uintValue())
	p.SetZeroThreshold(r.double())
	r.buckets(p.Positive())
	r.buckets(p.Negative())
	r.exemplars(p.Exemplars(), uint64(t))
}

func (r *sectionReader) summaryPoint(p pmetric.SummaryDataPoint, times *pointTimes) {
	start, t, flags := r.pointHead(p.Attributes(), times)
	p.SetStartTimestamp(start)
	p.SetTimestamp(t)
	p.SetFlags(flags)
	p.SetCount(r.uintValue())
	p.SetSum(r.double())
	n := r.count(streamDoubles, 2*r.doubleBytes(), "quantiles")
	if n == 0 {
		return
	}
	r.spend(int64(n) * costQuantile)
	if r.err != nil {
		return
	}
	qs := p.QuantileValues()
	qs.EnsureCapacity(n)
	for range n {
		if r.err != nil {
			return
		}
		q := qs.AppendEmpty()
		q.SetQuantile(r.double())
		q.SetValue(r.double())
	}
}
