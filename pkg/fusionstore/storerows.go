package fusionstore

import (
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// logOperationAttribute is where the fusion processor puts the operation of
// the span a log record belongs to.
const logOperationAttribute = "fusion.operation"

// The row builders below write values in the column order of
// fusionql.Schema (TestRowsFollowSchema keeps them in step).

// resourceContext is what every row of one resource shares.
type resourceContext struct {
	tenant  string
	service *string // nil without service.name
}

// resourceOf reads the tenant, service and retention override of a
// resource; a valid override is added to overrides.
func (s *Store) resourceOf(res pcommon.Resource, overrides *map[string]time.Duration) resourceContext {
	attrs := res.Attributes()
	rc := resourceContext{}
	if v, ok := attrs.Get(s.cfg.TenantAttribute); ok {
		rc.tenant = v.AsString()
	}
	if v, ok := attrs.Get("service.name"); ok {
		service := v.AsString()
		rc.service = &service
	}
	if s.cfg.RetentionAttribute != "" {
		if v, ok := attrs.Get(s.cfg.RetentionAttribute); ok {
			if d, err := time.ParseDuration(v.AsString()); err == nil && d > 0 {
				if *overrides == nil {
					*overrides = map[string]time.Duration{}
				}
				(*overrides)[rc.tenant] = d
			}
		}
	}
	return rc
}

// spanKindName is the OTLP enum name without its prefix: SERVER, CLIENT, …
func spanKindName(k ptrace.SpanKind) string {
	switch k {
	case ptrace.SpanKindInternal:
		return "INTERNAL"
	case ptrace.SpanKindServer:
		return "SERVER"
	case ptrace.SpanKindClient:
		return "CLIENT"
	case ptrace.SpanKindProducer:
		return "PRODUCER"
	case ptrace.SpanKindConsumer:
		return "CONSUMER"
	default:
		return "UNSPECIFIED"
	}
}

// statusCodeName is UNSET, OK or ERROR.
func statusCodeName(c ptrace.StatusCode) string {
	switch c {
	case ptrace.StatusCodeOk:
		return "OK"
	case ptrace.StatusCodeError:
		return "ERROR"
	default:
		return "UNSET"
	}
}

// spanBatch is the traces table's columns, in fusionql.Schema's order.
type spanBatch struct {
	tenant, service, operation, kind, status textColumn
	traceID, spanID, parentSpanID            bytesColumn
	start, end, duration, timestamp          int64Column
	attributes, resource                     bytesColumn
}

func (b *spanBatch) columns() []column {
	return []column{&b.tenant, &b.traceID, &b.spanID, &b.parentSpanID, &b.service, &b.operation, &b.kind,
		&b.status, &b.start, &b.end, &b.duration, &b.timestamp, &b.attributes, &b.resource}
}

// fill makes the batch td's spans, one row each, and returns the retention
// overrides its resources carry.
func (b *spanBatch) fill(s *Store, td ptrace.Traces) (rows int, overrides map[string]time.Duration) {
	for _, rs := range td.ResourceSpans().All() {
		rc := s.resourceOf(rs.Resource(), &overrides)
		resFrom, resTo := int32(-1), int32(-1)
		for _, ss := range rs.ScopeSpans().All() {
			for _, span := range ss.Spans().All() {
				start, end := int64(span.StartTimestamp()), int64(span.EndTimestamp())
				b.tenant.add(rc.tenant)
				b.traceID.addTraceID(span.TraceID())
				b.spanID.addSpanID(span.SpanID())
				b.parentSpanID.addSpanID(span.ParentSpanID())
				b.service.addOptional(rc.service)
				b.operation.add(span.Name())
				b.kind.add(spanKindName(span.Kind()))
				b.status.add(statusCodeName(span.Status().Code()))
				b.start.add(start)
				b.end.add(end)
				b.duration.add(end - start)
				b.timestamp.add(start)
				b.attributes.addMap(span.Attributes())
				if resFrom < 0 {
					resFrom, resTo = b.resource.addMap(rs.Resource().Attributes())
				} else {
					b.resource.again(resFrom, resTo)
				}
				rows++
			}
		}
	}
	return rows, overrides
}

// logLevel is the record's severity text in upper case, or the level its
// severity number falls in when there is no text; "" when neither is set.
func logLevel(lr plog.LogRecord) string {
	if text := lr.SeverityText(); text != "" {
		return strings.ToUpper(text)
	}
	n := lr.SeverityNumber()
	switch {
	case n >= plog.SeverityNumberFatal:
		return "FATAL"
	case n >= plog.SeverityNumberError:
		return "ERROR"
	case n >= plog.SeverityNumberWarn:
		return "WARN"
	case n >= plog.SeverityNumberInfo:
		return "INFO"
	case n >= plog.SeverityNumberDebug:
		return "DEBUG"
	case n >= plog.SeverityNumberTrace:
		return "TRACE"
	default:
		return ""
	}
}

// logBatch is the logs table's columns, in fusionql.Schema's order.
type logBatch struct {
	tenant, service, operation, level, body textColumn
	timestamp, severity                     int64Column
	traceID, spanID                         bytesColumn
	attributes, resource                    bytesColumn
}

func (b *logBatch) columns() []column {
	return []column{&b.tenant, &b.timestamp, &b.traceID, &b.spanID, &b.service, &b.operation, &b.level,
		&b.severity, &b.body, &b.attributes, &b.resource}
}

// fill makes the batch ld's log records, one row each.
func (b *logBatch) fill(s *Store, ld plog.Logs) (rows int, overrides map[string]time.Duration) {
	for _, rl := range ld.ResourceLogs().All() {
		rc := s.resourceOf(rl.Resource(), &overrides)
		resFrom, resTo := int32(-1), int32(-1)
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				ts := lr.Timestamp()
				if ts == 0 {
					ts = lr.ObservedTimestamp()
				}
				b.tenant.add(rc.tenant)
				b.timestamp.add(int64(ts))
				b.traceID.addTraceID(lr.TraceID())
				b.spanID.addSpanID(lr.SpanID())
				b.service.addOptional(rc.service)
				if v, ok := lr.Attributes().Get(logOperationAttribute); ok {
					b.operation.add(v.AsString())
				} else {
					b.operation.addNull()
				}
				b.level.add(logLevel(lr))
				b.severity.add(int64(lr.SeverityNumber()))
				if lr.Body().Type() == pcommon.ValueTypeStr {
					b.body.add(lr.Body().Str())
				} else {
					b.body.add(lr.Body().AsString())
				}
				b.attributes.addMap(lr.Attributes())
				if resFrom < 0 {
					resFrom, resTo = b.resource.addMap(rl.Resource().Attributes())
				} else {
					b.resource.again(resFrom, resTo)
				}
				rows++
			}
		}
	}
	return rows, overrides
}

// pointValues are the type-specific columns of one data point.
type pointValues struct {
	value, sum       float64
	hasValue, hasSum bool
	count            uint64
	hasCount         bool
	buckets          []uint64 // nil without buckets
}

// summarised is a histogram-like point: value is its mean, NULL when empty.
func summarised(count uint64, sum float64, hasSum bool, buckets []uint64) pointValues {
	pv := pointValues{count: count, hasCount: true, buckets: buckets}
	if hasSum {
		pv.sum, pv.hasSum = sum, true
		if count > 0 {
			pv.value, pv.hasValue = sum/float64(count), true
		}
	}
	return pv
}

func numberValue(dp pmetric.NumberDataPoint) pointValues {
	switch dp.ValueType() {
	case pmetric.NumberDataPointValueTypeInt:
		return pointValues{value: float64(dp.IntValue()), hasValue: true}
	case pmetric.NumberDataPointValueTypeDouble:
		return pointValues{value: dp.DoubleValue(), hasValue: true}
	default:
		return pointValues{}
	}
}

// metricTypeName is gauge, sum, histogram, exponential_histogram or summary.
func metricTypeName(t pmetric.MetricType) string {
	switch t {
	case pmetric.MetricTypeGauge:
		return "gauge"
	case pmetric.MetricTypeSum:
		return "sum"
	case pmetric.MetricTypeHistogram:
		return "histogram"
	case pmetric.MetricTypeExponentialHistogram:
		return "exponential_histogram"
	case pmetric.MetricTypeSummary:
		return "summary"
	default:
		return "empty"
	}
}

// pointBatch is the metrics table's columns, in fusionql.Schema's order.
type pointBatch struct {
	tenant, service, name, kind     textColumn
	timestamp, count                int64Column
	value, sum                      float64Column
	attributes, resource            bytesColumn
	exemplarTraceID, exemplarSpanID bytesColumn
	buckets                         bytesColumn
}

func (b *pointBatch) columns() []column {
	return []column{&b.tenant, &b.timestamp, &b.service, &b.name, &b.kind, &b.value, &b.attributes,
		&b.resource, &b.exemplarTraceID, &b.exemplarSpanID, &b.count, &b.sum, &b.buckets}
}

// fill makes the batch md's data points, one row each.
func (b *pointBatch) fill(s *Store, md pmetric.Metrics) (rows int, overrides map[string]time.Duration) {
	for _, rm := range md.ResourceMetrics().All() {
		rc := s.resourceOf(rm.Resource(), &overrides)
		resFrom, resTo := int32(-1), int32(-1)
		for _, sm := range rm.ScopeMetrics().All() {
			for _, m := range sm.Metrics().All() {
				row := func(ts pcommon.Timestamp, attrs pcommon.Map, exemplars pmetric.ExemplarSlice, pv pointValues) {
					b.tenant.add(rc.tenant)
					b.timestamp.add(int64(ts))
					b.service.addOptional(rc.service)
					b.name.add(m.Name())
					b.kind.add(metricTypeName(m.Type()))
					if pv.hasValue {
						b.value.add(pv.value)
					} else {
						b.value.addNull()
					}
					b.attributes.addMap(attrs)
					if resFrom < 0 {
						resFrom, resTo = b.resource.addMap(rm.Resource().Attributes())
					} else {
						b.resource.again(resFrom, resTo)
					}
					if exemplars.Len() > 0 {
						b.exemplarTraceID.addTraceID(exemplars.At(0).TraceID())
						b.exemplarSpanID.addSpanID(exemplars.At(0).SpanID())
					} else {
						b.exemplarTraceID.addNull()
						b.exemplarSpanID.addNull()
					}
					if pv.hasCount {
						b.count.add(int64(pv.count))
					} else {
						b.count.addNull()
					}
					if pv.hasSum {
						b.sum.add(pv.sum)
					} else {
						b.sum.addNull()
					}
					b.buckets.addCounts(pv.buckets)
					rows++
				}
				switch m.Type() {
				case pmetric.MetricTypeGauge:
					for _, dp := range m.Gauge().DataPoints().All() {
						row(dp.Timestamp(), dp.Attributes(), dp.Exemplars(), numberValue(dp))
					}
				case pmetric.MetricTypeSum:
					for _, dp := range m.Sum().DataPoints().All() {
						row(dp.Timestamp(), dp.Attributes(), dp.Exemplars(), numberValue(dp))
					}
				case pmetric.MetricTypeHistogram:
					for _, dp := range m.Histogram().DataPoints().All() {
						row(dp.Timestamp(), dp.Attributes(), dp.Exemplars(),
							summarised(dp.Count(), dp.Sum(), dp.HasSum(), dp.BucketCounts().AsRaw()))
					}
				case pmetric.MetricTypeExponentialHistogram:
					for _, dp := range m.ExponentialHistogram().DataPoints().All() {
						row(dp.Timestamp(), dp.Attributes(), dp.Exemplars(),
							summarised(dp.Count(), dp.Sum(), dp.HasSum(), dp.Positive().BucketCounts().AsRaw()))
					}
				case pmetric.MetricTypeSummary:
					for _, dp := range m.Summary().DataPoints().All() {
						row(dp.Timestamp(), dp.Attributes(), pmetric.NewExemplarSlice(),
							summarised(dp.Count(), dp.Sum(), true, nil))
					}
				}
			}
		}
	}
	return rows, overrides
}
