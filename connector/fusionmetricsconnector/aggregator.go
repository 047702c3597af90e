package fusionmetricsconnector

import (
	"context"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/otelfusion/otelfusion/connector/fusionmetricsconnector/internal/metadata"
)

const (
	// tableShards splits each table by service so batches of different
	// services do not share a lock.
	tableShards = 16

	// overflowAttribute marks a series that collects what the cardinality
	// limits turned away.
	overflowAttribute = "otel.metric.overflow"

	metricCalls      = "fusion.span.calls"
	metricErrors     = "fusion.span.errors"
	metricDuration   = "fusion.span.duration"
	metricLogRecords = "fusion.log.records"
)

// dimension is one attribute of a derived series; values are strings.
type dimension struct {
	key, value string
}

// exemplar links a data point to one span or log.
type exemplar struct {
	traceID pcommon.TraceID
	spanID  pcommon.SpanID
	value   float64
	at      int64
}

// measurement is one span or log record as the tables see it.
type measurement struct {
	dims     []dimension // service.name first when known
	service  string
	shard    int     // serviceShard(service)
	value    float64 // duration in the histogram's unit (spans)
	isError  bool
	traceID  pcommon.TraceID
	spanID   pcommon.SpanID
	at       int64 // the record's own time, for exemplars
	now      int64 // processing time, the start of a new series
	withHist bool
}

// series is one aggregated combination of dimensions.
type series struct {
	dims      []dimension
	overflow  bool
	start     int64
	count     uint64 // calls, or log records
	errors    uint64
	explicit  *explicitHistogram
	expo      *exponentialHistogram
	exemplars []exemplar
}

// tableKind says which metrics a table emits.
type tableKind uint8

const (
	spanTable tableKind = iota
	logTable
)

// String returns the telemetry label of the kind.
func (k tableKind) String() string {
	if k == logTable {
		return "logs"
	}
	return "spans"
}

type tableShard struct {
	mu         sync.Mutex
	series     map[string]*series
	perService map[string]int
	_          [64]byte
}

// metricTable aggregates one set of derived metrics (the spans' RED metrics
// or the log counts) at one level of dimensions: the full one or a rollup.
type metricTable struct {
	kind   tableKind
	suffix string // "" or "." + rollup name
	// project reduces the full dimensions to this table's; nil keeps all.
	project func(dimension) bool

	limit, maxServices int
	maxExemplars       int
	bounds             []float64
	expoMaxSize        int

	shards   [tableShards]tableShard
	services atomic.Int64

	overflowMu sync.Mutex
	overflow   *series // the series of services beyond maxServices

	seriesGauge metric.Int64UpDownCounter
	overflows   metric.Int64Counter
	label       metric.MeasurementOption
}

func attributeSet(key, value string) attribute.Set {
	return attribute.NewSet(attribute.String(key, value))
}

func newMetricTable(kind tableKind, cfg *Config, rollup *RollupConfig, tb *metadata.TelemetryBuilder) *metricTable {
	t := &metricTable{
		kind:         kind,
		limit:        cfg.CardinalityLimit,
		maxServices:  cfg.MaxServices,
		maxExemplars: cfg.Exemplars.MaxPerDataPoint,
		bounds:       cfg.Histogram.Explicit,
		expoMaxSize:  cfg.Histogram.ExponentialMaxSize,
		seriesGauge:  tb.MetricSeries,
		overflows:    tb.MetricOverflows,
	}
	name := kind.String()
	if rollup != nil {
		t.suffix = "." + rollup.Name
		name += "." + rollup.Name
		t.project = projection(rollup)
	}
	t.label = metric.WithAttributeSet(attributeSet("table", name))
	for i := range t.shards {
		t.shards[i].series = make(map[string]*series)
		t.shards[i].perService = make(map[string]int)
	}
	return t
}

// projection returns the filter of a rollup's keep or drop list.
func projection(r *RollupConfig) func(dimension) bool {
	set := map[string]bool{}
	keep := len(r.Keep) > 0
	for _, k := range append(r.Keep, r.Drop...) {
		set[k] = true
	}
	return func(d dimension) bool { return set[d.key] == keep }
}

func serviceShard(service string) int {
	h := uint32(2166136261)
	for i := 0; i < len(service); i++ {
		h = (h ^ uint32(service[i])) * 16777619
	}
	return int(h % tableShards)
}

// appendSeriesKey encodes dims as a map key.
func appendSeriesKey(dst []byte, dims []dimension) []byte {
	for _, d := range dims {
		dst = append(dst, d.key...)
		dst = append(dst, 0)
		dst = append(dst, d.value...)
		dst = append(dst, 1)
	}
	return dst
}

// record adds one measurement. scratch is the caller's reusable buffer,
// returned grown.
func (t *metricTable) record(m *measurement, scratch []byte, dimScratch []dimension) ([]byte, []dimension) {
	dims, service := m.dims, m.service
	if t.project != nil {
		dimScratch = dimScratch[:0]
		for _, d := range m.dims {
			if t.project(d) {
				dimScratch = append(dimScratch, d)
			}
		}
		dims = dimScratch
		if len(dims) == 0 || dims[0].key != m.dims[0].key {
			service = "" // the tier drops the service
		}
	}
	scratch = appendSeriesKey(scratch[:0], dims)
	shard := m.shard
	if service != m.service {
		shard = serviceShard(service)
	}
	sh := &t.shards[shard]
	sh.mu.Lock()
	s := sh.series[string(scratch)]
	if s == nil {
		var global bool
		s, global = t.newSeriesLocked(sh, scratch, dims, service, m.now)
		if global {
			sh.mu.Unlock()
			t.addToOverflow(m)
			return scratch, dimScratch
		}
	}
	t.add(s, m)
	sh.mu.Unlock()
	return scratch, dimScratch
}

// newSeriesLocked finds or makes the series for a new key, applying the
// service and series limits; global reports that the measurement belongs to
// the table-wide overflow series, which the caller adds to with
// addToOverflow after releasing the shard lock.
func (t *metricTable) newSeriesLocked(sh *tableShard, key []byte, dims []dimension, service string, at int64) (*series, bool) {
	n, known := sh.perService[service]
	if !known {
		if t.services.Add(1) > int64(t.maxServices) {
			t.services.Add(-1)
			t.overflows.Add(context.Background(), 1, t.label)
			return nil, true
		}
	}
	if n >= t.limit {
		t.overflows.Add(context.Background(), 1, t.label)
		overflowKey := "\xff" + service
		s := sh.series[overflowKey]
		if s == nil {
			s = t.newSeries([]dimension{{key: "service.name", value: service}}, at)
			s.overflow = true
			sh.series[overflowKey] = s
			t.seriesGauge.Add(context.Background(), 1, t.label)
		}
		return s, false
	}
	s := t.newSeries(append([]dimension(nil), dims...), at)
	sh.series[string(key)] = s
	sh.perService[service] = n + 1
	t.seriesGauge.Add(context.Background(), 1, t.label)
	return s, false
}

// addToOverflow adds m to the table-wide overflow series, making it when a
// flush has just dropped it: creation and use share one critical section, so
// a delta flush between the shard lock and this one cannot leave it nil.
func (t *metricTable) addToOverflow(m *measurement) {
	t.overflowMu.Lock()
	defer t.overflowMu.Unlock()
	if t.overflow == nil {
		t.overflow = t.newSeries([]dimension{{key: overflowAttribute}}, m.now)
		t.overflow.overflow = true
		t.seriesGauge.Add(context.Background(), 1, t.label)
	}
	t.add(t.overflow, m)
}

func (t *metricTable) newSeries(dims []dimension, at int64) *series {
	s := &series{dims: dims, start: at}
	if t.kind == spanTable {
		if t.expoMaxSize > 0 {
			s.expo = newExponentialHistogram(t.expoMaxSize)
		} else {
			s.explicit = newExplicitHistogram(t.bounds)
		}
	}
	return s
}

func (t *metricTable) add(s *series, m *measurement) {
	s.count++
	if m.isError {
		s.errors++
	}
	if m.withHist {
		if s.expo != nil {
			s.expo.record(m.value)
		} else if s.explicit != nil {
			s.explicit.record(m.value)
		}
	}
	if len(s.exemplars) < t.maxExemplars && !m.traceID.IsEmpty() {
		s.exemplars = append(s.exemplars, exemplar{traceID: m.traceID, spanID: m.spanID, value: m.value, at: m.at})
	}
}

// len returns the number of series held, overflow series included.
func (t *metricTable) len() int {
	n := 0
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		n += len(sh.series)
		sh.mu.Unlock()
	}
	t.overflowMu.Lock()
	if t.overflow != nil {
		n++
	}
	t.overflowMu.Unlock()
	return n
}

// tableOutput holds the metrics one table writes in one flush.
type tableOutput struct {
	sm                       pmetric.ScopeMetrics
	calls, errors, histogram pmetric.Metric
	records                  pmetric.Metric
	unit                     string
	cumulative               bool
}

func (o *tableOutput) sum(m *pmetric.Metric, name, suffix, unit, desc string) pmetric.NumberDataPointSlice {
	if *m == (pmetric.Metric{}) {
		*m = o.sm.Metrics().AppendEmpty()
		m.SetName(name + suffix)
		m.SetUnit(unit)
		m.SetDescription(desc)
		s := m.SetEmptySum()
		s.SetIsMonotonic(true)
		s.SetAggregationTemporality(o.temporality())
	}
	return m.Sum().DataPoints()
}

func (o *tableOutput) temporality() pmetric.AggregationTemporality {
	if o.cumulative {
		return pmetric.AggregationTemporalityCumulative
	}
	return pmetric.AggregationTemporalityDelta
}

// flush writes the table's series into sm. Delta tables start afresh;
// cumulative ones keep their counts and drop only the exemplars.
func (t *metricTable) flush(sm pmetric.ScopeMetrics, unit string, cumulative bool, intervalStart, now int64) {
	out := tableOutput{sm: sm, unit: unit, cumulative: cumulative}
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		held := sh.series
		if !cumulative {
			sh.series = make(map[string]*series, len(held))
			t.services.Add(-int64(len(sh.perService)))
			clear(sh.perService)
		}
		for _, s := range held {
			t.write(&out, s, intervalStart, now)
			s.exemplars = s.exemplars[:0]
		}
		sh.mu.Unlock()
		if !cumulative {
			t.seriesGauge.Add(context.Background(), -int64(len(held)), t.label)
		}
	}
	t.overflowMu.Lock()
	if s := t.overflow; s != nil {
		t.write(&out, s, intervalStart, now)
		s.exemplars = s.exemplars[:0]
		if !cumulative {
			t.overflow = nil
			t.seriesGauge.Add(context.Background(), -1, t.label)
		}
	}
	t.overflowMu.Unlock()
}

func (t *metricTable) write(out *tableOutput, s *series, intervalStart, now int64) {
	start := intervalStart
	if out.cumulative {
		start = s.start
	}
	point := func(dps pmetric.NumberDataPointSlice, v uint64) pmetric.NumberDataPoint {
		dp := dps.AppendEmpty()
		dp.SetStartTimestamp(pcommon.Timestamp(start))
		dp.SetTimestamp(pcommon.Timestamp(now))
		dp.SetIntValue(int64(v))
		s.putAttributes(dp.Attributes())
		return dp
	}
	if t.kind == logTable {
		dp := point(out.sum(&out.records, metricLogRecords, t.suffix, "{records}", "Log records by service and severity."), s.count)
		s.putExemplars(dp.Exemplars(), false)
		return
	}
	point(out.sum(&out.calls, metricCalls, t.suffix, "{calls}", "Spans by service, operation, kind and status."), s.count)
	if s.errors > 0 {
		point(out.sum(&out.errors, metricErrors, t.suffix, "{calls}", "Spans with status code ERROR."), s.errors)
	}
	if out.histogram == (pmetric.Metric{}) {
		out.histogram = out.sm.Metrics().AppendEmpty()
		out.histogram.SetName(metricDuration + t.suffix)
		out.histogram.SetUnit(out.unit)
		out.histogram.SetDescription("Span durations.")
		if t.expoMaxSize > 0 {
			out.histogram.SetEmptyExponentialHistogram().SetAggregationTemporality(out.temporality())
		} else {
			out.histogram.SetEmptyHistogram().SetAggregationTemporality(out.temporality())
		}
	}
	if s.expo != nil {
		dp := out.histogram.ExponentialHistogram().DataPoints().AppendEmpty()
		dp.SetStartTimestamp(pcommon.Timestamp(start))
		dp.SetTimestamp(pcommon.Timestamp(now))
		s.putAttributes(dp.Attributes())
		s.expo.fill(dp)
		s.putExemplars(dp.Exemplars(), true)
	} else if s.explicit != nil {
		dp := out.histogram.Histogram().DataPoints().AppendEmpty()
		dp.SetStartTimestamp(pcommon.Timestamp(start))
		dp.SetTimestamp(pcommon.Timestamp(now))
		s.putAttributes(dp.Attributes())
		s.explicit.fill(dp)
		s.putExemplars(dp.Exemplars(), true)
	}
}

func (s *series) putAttributes(attrs pcommon.Map) {
	attrs.EnsureCapacity(len(s.dims) + 1)
	for _, d := range s.dims {
		if d.key == overflowAttribute {
			continue
		}
		attrs.PutStr(d.key, d.value)
	}
	if s.overflow {
		attrs.PutBool(overflowAttribute, true)
	}
}

func (s *series) putExemplars(dst pmetric.ExemplarSlice, withValue bool) {
	dst.EnsureCapacity(len(s.exemplars))
	for _, e := range s.exemplars {
		ex := dst.AppendEmpty()
		ex.SetTraceID(e.traceID)
		ex.SetSpanID(e.spanID)
		ex.SetTimestamp(pcommon.Timestamp(e.at))
		if withValue {
			ex.SetDoubleValue(e.value)
		} else {
			ex.SetIntValue(1)
		}
	}
}
