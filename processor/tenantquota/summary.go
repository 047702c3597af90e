package tenantquota

import (
	"maps"
	"math"
	"slices"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otelfusion/otelfusion/processor/tenantquota/internal/metadata"
)

// Names of the summary metrics.
const (
	metricSpanCount     = "otelfusion.tenant.summary.span.count"
	metricSpanErrorRate = "otelfusion.tenant.summary.span.error_rate"
	metricSpanP50       = "otelfusion.tenant.summary.span.duration.p50"
	metricSpanP99       = "otelfusion.tenant.summary.span.duration.p99"
	metricLogCount      = "otelfusion.tenant.summary.log.count"
	metricLogErrorRate  = "otelfusion.tenant.summary.log.error_rate"

	// overflowKey collects series past summary::max_series.
	overflowKey = "_overflow"
)

// sketchGamma is the bucket growth of the latency sketch: a quantile is off
// by at most (gamma-1)/2 of its value, here 1%.
const sketchGamma = 1.02

var sketchLogGamma = math.Log(sketchGamma)

// latencySketch is a log-bucketed histogram of durations in milliseconds,
// small and mergeable, with a bounded relative error on quantiles.
type latencySketch struct {
	buckets map[int]uint64
	zeros   uint64
	count   uint64
}

func (s *latencySketch) add(ms float64) {
	s.count++
	if ms <= 0 {
		s.zeros++
		return
	}
	if s.buckets == nil {
		s.buckets = map[int]uint64{}
	}
	s.buckets[int(math.Ceil(math.Log(ms)/sketchLogGamma))]++
}

// quantile returns the value at q in [0, 1]; 0 for an empty sketch.
func (s *latencySketch) quantile(q float64) float64 {
	if s.count == 0 {
		return 0
	}
	rank := uint64(q * float64(s.count-1))
	if rank < s.zeros {
		return 0
	}
	seen := s.zeros
	for _, k := range slices.Sorted(maps.Keys(s.buckets)) {
		seen += s.buckets[k]
		if seen > rank {
			// The bucket (gamma^(k-1), gamma^k] is represented by its
			// midpoint in relative terms.
			return 2 * math.Pow(sketchGamma, float64(k)) / (sketchGamma + 1)
		}
	}
	return 0
}

// spanSeriesKey is one service and operation.
type spanSeriesKey struct {
	service, operation string
}

type spanSeries struct {
	count, errors uint64
	latency       latencySketch
}

type logSeries struct {
	count, errors uint64
}

// summaryTable is what one tenant offered since the last flush. Not safe for
// concurrent use.
type summaryTable struct {
	maxSeries int
	spans     map[spanSeriesKey]*spanSeries
	logs      map[string]*logSeries
}

func newSummaryTable(maxSeries int) *summaryTable {
	return &summaryTable{maxSeries: maxSeries, spans: map[spanSeriesKey]*spanSeries{}, logs: map[string]*logSeries{}}
}

func (t *summaryTable) empty() bool { return len(t.spans) == 0 && len(t.logs) == 0 }

// addSpans counts every span of rs.
func (t *summaryTable) addSpans(rs ptrace.ResourceSpans) {
	service := serviceName(rs.Resource())
	for _, ss := range rs.ScopeSpans().All() {
		for _, span := range ss.Spans().All() {
			key := spanSeriesKey{service: service, operation: span.Name()}
			s, ok := t.spans[key]
			if !ok {
				if len(t.spans) >= t.maxSeries {
					key = spanSeriesKey{service: overflowKey, operation: overflowKey}
					s = t.spans[key]
				}
				if s == nil {
					s = &spanSeries{}
					t.spans[key] = s
				}
			}
			s.count++
			if span.Status().Code() == ptrace.StatusCodeError {
				s.errors++
			}
			d := float64(span.EndTimestamp()-span.StartTimestamp()) / float64(time.Millisecond)
			if span.EndTimestamp() < span.StartTimestamp() {
				d = 0
			}
			s.latency.add(d)
		}
	}
}

// addLogs counts every log record of rl.
func (t *summaryTable) addLogs(rl plog.ResourceLogs) {
	service := serviceName(rl.Resource())
	for _, sl := range rl.ScopeLogs().All() {
		for _, lr := range sl.LogRecords().All() {
			key := service
			s, ok := t.logs[key]
			if !ok {
				if len(t.logs) >= t.maxSeries {
					key = overflowKey
					s = t.logs[key]
				}
				if s == nil {
					s = &logSeries{}
					t.logs[key] = s
				}
			}
			s.count++
			if lr.SeverityNumber() >= plog.SeverityNumberError {
				s.errors++
			}
		}
	}
}

func serviceName(res pcommon.Resource) string {
	if v, ok := res.Attributes().Get("service.name"); ok {
		return v.AsString()
	}
	return "unknown_service"
}

// appendTo writes the table as one ResourceMetrics of the tenant into md.
func (t *summaryTable) appendTo(md pmetric.Metrics, tenantAttr, tenantID string, start, now pcommon.Timestamp) {
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr(tenantAttr, tenantID)
	sm := rm.ScopeMetrics().AppendEmpty()
	sm.Scope().SetName(metadata.ScopeName)

	newSum := func(name, unit, desc string) pmetric.NumberDataPointSlice {
		m := sm.Metrics().AppendEmpty()
		m.SetName(name)
		m.SetUnit(unit)
		m.SetDescription(desc)
		sum := m.SetEmptySum()
		sum.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
		sum.SetIsMonotonic(true)
		return sum.DataPoints()
	}
	newGauge := func(name, unit, desc string) pmetric.NumberDataPointSlice {
		m := sm.Metrics().AppendEmpty()
		m.SetName(name)
		m.SetUnit(unit)
		m.SetDescription(desc)
		return m.SetEmptyGauge().DataPoints()
	}
	point := func(dps pmetric.NumberDataPointSlice, attrs ...string) pmetric.NumberDataPoint {
		dp := dps.AppendEmpty()
		dp.SetStartTimestamp(start)
		dp.SetTimestamp(now)
		for i := 0; i+1 < len(attrs); i += 2 {
			dp.Attributes().PutStr(attrs[i], attrs[i+1])
		}
		return dp
	}

	if len(t.spans) > 0 {
		counts := newSum(metricSpanCount, "{spans}", "Spans offered, before sampling.")
		errRates := newGauge(metricSpanErrorRate, "1", "Share of offered spans with status error.")
		p50s := newGauge(metricSpanP50, "ms", "Median duration of offered spans.")
		p99s := newGauge(metricSpanP99, "ms", "99th percentile duration of offered spans.")
		for key, s := range t.spans {
			attrs := []string{"service.name", key.service, "span.name", key.operation}
			point(counts, attrs...).SetIntValue(int64(s.count))
			point(errRates, attrs...).SetDoubleValue(float64(s.errors) / float64(s.count))
			point(p50s, attrs...).SetDoubleValue(s.latency.quantile(0.5))
			point(p99s, attrs...).SetDoubleValue(s.latency.quantile(0.99))
		}
	}
	if len(t.logs) > 0 {
		counts := newSum(metricLogCount, "{records}", "Log records offered, before sampling.")
		errRates := newGauge(metricLogErrorRate, "1", "Share of offered log records of severity ERROR or above.")
		for service, s := range t.logs {
			point(counts, "service.name", service).SetIntValue(int64(s.count))
			point(errRates, "service.name", service).SetDoubleValue(float64(s.errors) / float64(s.count))
		}
	}
}
