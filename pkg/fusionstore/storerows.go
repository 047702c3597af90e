package fusionstore

import (
	"database/sql/driver"
	"encoding/hex"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"
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
	service any // string, or nil without service.name
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
		rc.service = v.AsString()
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

// attributesMap is an attribute map as the store keeps it, a
// MAP(VARCHAR, VARCHAR) of each value's OTLP string form (AnyValue.AsString:
// numbers and booleans as text, maps and lists as JSON, bytes as base64).
// A key the sender repeated keeps its last value, as a DuckDB map must.
func attributesMap(m pcommon.Map) duckdb.OrderedMap {
	var out duckdb.OrderedMap
	for k, v := range m.All() {
		out.Set(k, v.AsString())
	}
	return out
}

// traceIDValue is the lowercase hex id, or NULL for the empty id.
func traceIDValue(id pcommon.TraceID) any {
	if id.IsEmpty() {
		return nil
	}
	return hex.EncodeToString(id[:])
}

func spanIDValue(id pcommon.SpanID) any {
	if id.IsEmpty() {
		return nil
	}
	return hex.EncodeToString(id[:])
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

func (s *Store) spanRows(td ptrace.Traces) ([][]driver.Value, map[string]time.Duration) {
	var overrides map[string]time.Duration
	rows := make([][]driver.Value, 0, td.SpanCount())
	for _, rs := range td.ResourceSpans().All() {
		rc := s.resourceOf(rs.Resource(), &overrides)
		resource := attributesMap(rs.Resource().Attributes())
		for _, ss := range rs.ScopeSpans().All() {
			for _, span := range ss.Spans().All() {
				start, end := int64(span.StartTimestamp()), int64(span.EndTimestamp())
				rows = append(rows, []driver.Value{
					rc.tenant,
					traceIDValue(span.TraceID()),
					spanIDValue(span.SpanID()),
					spanIDValue(span.ParentSpanID()),
					rc.service,
					span.Name(),
					spanKindName(span.Kind()),
					statusCodeName(span.Status().Code()),
					start,
					end,
					end - start,
					start,
					attributesMap(span.Attributes()),
					resource,
				})
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

func (s *Store) logRows(ld plog.Logs) ([][]driver.Value, map[string]time.Duration) {
	var overrides map[string]time.Duration
	rows := make([][]driver.Value, 0, ld.LogRecordCount())
	for _, rl := range ld.ResourceLogs().All() {
		rc := s.resourceOf(rl.Resource(), &overrides)
		resource := attributesMap(rl.Resource().Attributes())
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				ts := lr.Timestamp()
				if ts == 0 {
					ts = lr.ObservedTimestamp()
				}
				var operation any
				if v, ok := lr.Attributes().Get(logOperationAttribute); ok {
					operation = v.AsString()
				}
				rows = append(rows, []driver.Value{
					rc.tenant,
					int64(ts),
					traceIDValue(lr.TraceID()),
					spanIDValue(lr.SpanID()),
					rc.service,
					operation,
					logLevel(lr),
					int64(lr.SeverityNumber()),
					lr.Body().AsString(),
					attributesMap(lr.Attributes()),
					resource,
				})
			}
		}
	}
	return rows, overrides
}

// pointValues are the type-specific columns of one data point.
type pointValues struct {
	value   any // float64 or nil
	count   any // int64 or nil
	sum     any // float64 or nil
	buckets any // []int64 or nil
}

// summarised is a histogram-like point: value is its mean, NULL when empty.
func summarised(count uint64, sum float64, hasSum bool, buckets []uint64) pointValues {
	pv := pointValues{count: int64(count)}
	if hasSum {
		pv.sum = sum
		if count > 0 {
			pv.value = sum / float64(count)
		}
	}
	if buckets != nil {
		b := make([]int64, len(buckets))
		for i, c := range buckets {
			b[i] = int64(c)
		}
		pv.buckets = b
	}
	return pv
}

func numberValue(dp pmetric.NumberDataPoint) any {
	switch dp.ValueType() {
	case pmetric.NumberDataPointValueTypeInt:
		return float64(dp.IntValue())
	case pmetric.NumberDataPointValueTypeDouble:
		return dp.DoubleValue()
	default:
		return nil
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

func (s *Store) metricRows(md pmetric.Metrics) ([][]driver.Value, map[string]time.Duration) {
	var overrides map[string]time.Duration
	rows := make([][]driver.Value, 0, md.DataPointCount())
	for _, rm := range md.ResourceMetrics().All() {
		rc := s.resourceOf(rm.Resource(), &overrides)
		resource := attributesMap(rm.Resource().Attributes())
		for _, sm := range rm.ScopeMetrics().All() {
			for _, m := range sm.Metrics().All() {
				row := func(ts pcommon.Timestamp, attrs pcommon.Map, exemplars pmetric.ExemplarSlice, pv pointValues) {
					var exTrace, exSpan any
					if exemplars.Len() > 0 {
						exTrace = traceIDValue(exemplars.At(0).TraceID())
						exSpan = spanIDValue(exemplars.At(0).SpanID())
					}
					rows = append(rows, []driver.Value{
						rc.tenant, int64(ts), rc.service, m.Name(), metricTypeName(m.Type()), pv.value,
						attributesMap(attrs), resource, exTrace, exSpan, pv.count, pv.sum, pv.buckets,
					})
				}
				switch m.Type() {
				case pmetric.MetricTypeGauge:
					for _, dp := range m.Gauge().DataPoints().All() {
						row(dp.Timestamp(), dp.Attributes(), dp.Exemplars(), pointValues{value: numberValue(dp)})
					}
				case pmetric.MetricTypeSum:
					for _, dp := range m.Sum().DataPoints().All() {
						row(dp.Timestamp(), dp.Attributes(), dp.Exemplars(), pointValues{value: numberValue(dp)})
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
