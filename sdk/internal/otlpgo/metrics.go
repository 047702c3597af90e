package otlpgo

import (
	"math"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// The metrics section; layout in docs/protocol.md, "Metrics section".

// AddMetrics adds rm to the metrics section of the frame as one resource
// entry. rm is read, not kept: the SDK reuses it for the next collection.
// It returns the number of data points added.
func (b *Builder) AddMetrics(rm *metricdata.ResourceMetrics) int {
	w := &b.sections[Metrics]
	before := w.items
	w.resourceEntry(rm.Resource, len(rm.ScopeMetrics))
	for _, sm := range rm.ScopeMetrics {
		w.scopeEntry(sm.Scope, len(sm.Metrics)) // the items of a metrics scope are its metrics
		for i := range sm.Metrics {
			w.metric(&sm.Metrics[i])
		}
	}
	return w.items - before
}

// pointValues is the delta coding state of one metric's values.
type pointValues struct {
	prevInt        int64
	prevDoubleBits uint64
}

func (w *sectionWriter) metric(m *metricdata.Metrics) {
	w.str(m.Name)
	w.str(m.Description)
	w.str(m.Unit)
	w.attrs(nil) // metadata: the SDK has none
	switch data := m.Data.(type) {
	case metricdata.Gauge[int64]:
		w.uvarint(metricGauge)
		numberPoints(w, data.DataPoints, false)
	case metricdata.Gauge[float64]:
		w.uvarint(metricGauge)
		numberPoints(w, data.DataPoints, false)
	case metricdata.Sum[int64]:
		w.uvarint(metricSum)
		delta := w.temporality(data.Temporality)
		w.flag(data.IsMonotonic)
		numberPoints(w, data.DataPoints, delta)
	case metricdata.Sum[float64]:
		w.uvarint(metricSum)
		delta := w.temporality(data.Temporality)
		w.flag(data.IsMonotonic)
		numberPoints(w, data.DataPoints, delta)
	case metricdata.Histogram[int64]:
		w.uvarint(metricHistogram)
		delta := w.temporality(data.Temporality)
		histogramPoints(w, data.DataPoints, delta)
	case metricdata.Histogram[float64]:
		w.uvarint(metricHistogram)
		delta := w.temporality(data.Temporality)
		histogramPoints(w, data.DataPoints, delta)
	case metricdata.ExponentialHistogram[int64]:
		w.uvarint(metricExpHistogram)
		delta := w.temporality(data.Temporality)
		expHistogramPoints(w, data.DataPoints, delta)
	case metricdata.ExponentialHistogram[float64]:
		w.uvarint(metricExpHistogram)
		delta := w.temporality(data.Temporality)
		expHistogramPoints(w, data.DataPoints, delta)
	case metricdata.Summary:
		w.uvarint(metricSummary)
		w.count(len(data.DataPoints))
		for _, p := range data.DataPoints {
			w.pointHead(p.Attributes, p.StartTime, p.Time, false)
			w.uintValue(p.Count)
			w.double(p.Sum)
			w.count(len(p.QuantileValues))
			for _, q := range p.QuantileValues {
				w.double(q.Quantile)
				w.double(q.Value)
			}
		}
		w.items += len(data.DataPoints)
	default:
		w.uvarint(metricEmpty)
	}
}

// temporality writes t as OTLP numbers it and reports whether it is delta.
func (w *sectionWriter) temporality(t metricdata.Temporality) bool {
	switch t {
	case metricdata.DeltaTemporality:
		w.varint(temporalityDelta)
		return true
	case metricdata.CumulativeTemporality:
		w.varint(temporalityCumulative)
	default:
		w.varint(0)
	}
	return false
}

// pointHead writes the attributes, time, start time and flags of a point;
// start is written against time for delta temporality.
func (w *sectionWriter) pointHead(attrs attribute.Set, start, t time.Time, delta bool) {
	w.attrSet(attrs)
	tn, sn := unixNano(t), unixNano(start)
	w.timeDelta(&w.prevPtTime, tn)
	if delta {
		w.timeFrom(tn, sn)
		w.prevPtStart = sn
	} else {
		w.timeDelta(&w.prevPtStart, sn)
	}
	w.uvarint(0) // flags: the SDK sets none
}

func numberPoints[N int64 | float64](w *sectionWriter, points []metricdata.DataPoint[N], delta bool) {
	var values pointValues
	w.count(len(points))
	for _, p := range points {
		w.pointHead(p.Attributes, p.StartTime, p.Time, delta)
		switch v := any(p.Value).(type) {
		case int64:
			w.uvarint(numberInt)
			w.intValue(v - values.prevInt)
			values.prevInt = v
		case float64:
			w.uvarint(numberDouble)
			bits := math.Float64bits(v)
			w.doubleBits(bits ^ values.prevDoubleBits)
			values.prevDoubleBits = bits
		}
		exemplars(w, p.Exemplars, unixNano(p.Time))
	}
	w.items += len(points)
}

func exemplars[N int64 | float64](w *sectionWriter, es []metricdata.Exemplar[N], pointTime uint64) {
	w.count(len(es))
	for _, e := range es {
		w.attrs(e.FilteredAttributes)
		w.timeFrom(pointTime, unixNano(e.Time))
		switch v := any(e.Value).(type) {
		case int64:
			w.uvarint(numberInt)
			w.intValue(v)
		case float64:
			w.uvarint(numberDouble)
			w.double(v)
		}
		var traceID [16]byte
		var spanID [8]byte
		var presence uint64
		if len(e.TraceID) == 16 && [16]byte(e.TraceID) != traceID {
			presence |= hasTraceID
			traceID = [16]byte(e.TraceID)
		}
		if len(e.SpanID) == 8 && [8]byte(e.SpanID) != spanID {
			presence |= hasSpanID
			spanID = [8]byte(e.SpanID)
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
func optionalDoubles[N int64 | float64](w *sectionWriter, sum N, mn, mx metricdata.Extrema[N], hasSumValue bool) {
	var presence uint64
	if hasSumValue {
		presence |= hasSum
	}
	minV, hasMinV := mn.Value()
	maxV, hasMaxV := mx.Value()
	if hasMinV {
		presence |= hasMin
	}
	if hasMaxV {
		presence |= hasMax
	}
	w.uvarint(presence)
	if hasSumValue {
		w.double(float64(sum))
	}
	if hasMinV {
		w.double(float64(minV))
	}
	if hasMaxV {
		w.double(float64(maxV))
	}
}

func histogramPoints[N int64 | float64](w *sectionWriter, points []metricdata.HistogramDataPoint[N], delta bool) {
	w.count(len(points))
	for _, p := range points {
		w.pointHead(p.Attributes, p.StartTime, p.Time, delta)
		w.uintValue(p.Count)
		optionalDoubles(w, p.Sum, p.Min, p.Max, true)
		w.count(len(p.BucketCounts))
		for _, c := range p.BucketCounts {
			w.uintValue(c)
		}
		w.count(len(p.Bounds))
		for _, b := range p.Bounds {
			w.double(b)
		}
		exemplars(w, p.Exemplars, unixNano(p.Time))
	}
	w.items += len(points)
}

func expHistogramPoints[N int64 | float64](w *sectionWriter, points []metricdata.ExponentialHistogramDataPoint[N], delta bool) {
	w.count(len(points))
	for _, p := range points {
		w.pointHead(p.Attributes, p.StartTime, p.Time, delta)
		w.uintValue(p.Count)
		optionalDoubles(w, p.Sum, p.Min, p.Max, true)
		w.intValue(int64(p.Scale))
		w.uintValue(p.ZeroCount)
		w.double(p.ZeroThreshold)
		for _, b := range []metricdata.ExponentialBucket{p.PositiveBucket, p.NegativeBucket} {
			w.intValue(int64(b.Offset))
			w.count(len(b.Counts))
			for _, c := range b.Counts {
				w.uintValue(c)
			}
		}
		exemplars(w, p.Exemplars, unixNano(p.Time))
	}
	w.items += len(points)
}
