package fusionmetricsconnector

import (
	"strings"
	"sync"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otelfusion/otelfusion/connector/fusionmetricsconnector/internal/metadata"
)

// Dimension keys of the derived series.
const (
	dimService  = "service.name"
	dimSpanName = "span.name"
	dimSpanKind = "span.kind"
	dimStatus   = "status.code"
	dimSeverity = "log.severity"
)

// Names of span kinds and status codes, indexed by their value: an array
// read is cheaper than a map lookup on the per-span path.
var (
	spanKindNames = [...]string{
		ptrace.SpanKindUnspecified: "SPAN_KIND_UNSPECIFIED",
		ptrace.SpanKindInternal:    "SPAN_KIND_INTERNAL",
		ptrace.SpanKindServer:      "SPAN_KIND_SERVER",
		ptrace.SpanKindClient:      "SPAN_KIND_CLIENT",
		ptrace.SpanKindProducer:    "SPAN_KIND_PRODUCER",
		ptrace.SpanKindConsumer:    "SPAN_KIND_CONSUMER",
	}
	statusCodeNames = [...]string{
		ptrace.StatusCodeUnset: "STATUS_CODE_UNSET",
		ptrace.StatusCodeOk:    "STATUS_CODE_OK",
		ptrace.StatusCodeError: "STATUS_CODE_ERROR",
	}
)

// nameOf returns names[i], or "" for a value the table does not know.
func nameOf[T ~int32](names []string, i T) string {
	if i < 0 || int(i) >= len(names) {
		return ""
	}
	return names[i]
}

// severityName buckets a log's severity into the six OTel ranges; a record
// without a number falls back to its severity text.
func severityName(lr plog.LogRecord) string {
	n := lr.SeverityNumber()
	switch {
	case n >= 21:
		return "FATAL"
	case n >= 17:
		return "ERROR"
	case n >= 13:
		return "WARN"
	case n >= 9:
		return "INFO"
	case n >= 5:
		return "DEBUG"
	case n >= 1:
		return "TRACE"
	}
	if t := lr.SeverityText(); t != "" {
		return strings.ToUpper(t)
	}
	return "UNSPECIFIED"
}

// derivedMetrics computes the RED metrics and log counts, with their rollup
// tiers, and writes them out at each flush.
type derivedMetrics struct {
	spanTables []*metricTable // the full table first, then one per rollup
	logTables  []*metricTable
	dimensions []string
	tenant     string
	unit       string
	nsPerUnit  float64
	cumulative bool

	flushMu   sync.Mutex
	lastFlush int64
}

// newDerivedMetrics makes the tables of spans (RED metrics), of logs (record
// counts), or both, each with its rollup tiers.
func newDerivedMetrics(cfg *Config, tb *metadata.TelemetryBuilder, now int64, spans, logs bool) *derivedMetrics {
	m := cfg
	d := &derivedMetrics{
		dimensions: m.Dimensions,
		tenant:     cfg.Attributes.Tenant,
		unit:       m.Histogram.Unit,
		nsPerUnit:  1e6,
		cumulative: m.Temporality == TemporalityCumulative,
		lastFlush:  now,
	}
	if d.unit == "s" {
		d.nsPerUnit = 1e9
	}
	tiers := []*RollupConfig{nil}
	for i := range m.Rollups {
		tiers = append(tiers, &m.Rollups[i])
	}
	for _, r := range tiers {
		if spans {
			d.spanTables = append(d.spanTables, newMetricTable(spanTable, m, r, tb))
		}
		if logs {
			d.logTables = append(d.logTables, newMetricTable(logTable, m, r, tb))
		}
	}
	return d
}

// recorder is one batch's scratch space for recording measurements.
type recorder struct {
	dims    []dimension
	key     []byte
	project []dimension
	// The shard of the last service seen: a batch's spans come grouped by
	// resource, so the service rarely changes from one record to the next.
	lastService string
	lastShard   int
	shardKnown  bool
}

// shardOf returns serviceShard(service), hashing only when it changed.
func (r *recorder) shardOf(service string) int {
	if !r.shardKnown || service != r.lastService {
		r.lastService, r.lastShard, r.shardKnown = service, serviceShard(service), true
	}
	return r.lastShard
}

// appendExtraDimensions adds the tenant, read from the resource only (where
// the receiver wrote what the server decided; a record attribute is the
// sender's word), and the configured dimensions, read from the record's
// attributes first, then its resource's.
func (d *derivedMetrics) appendExtraDimensions(dims []dimension, attrs, resource pcommon.Map) []dimension {
	get := func(k string) (string, bool) {
		if v, ok := attrs.Get(k); ok {
			return v.AsString(), true
		}
		if v, ok := resource.Get(k); ok {
			return v.AsString(), true
		}
		return "", false
	}
	if d.tenant != "" {
		if v, ok := resource.Get(d.tenant); ok {
			dims = append(dims, dimension{key: d.tenant, value: v.AsString()})
		}
	}
	for _, k := range d.dimensions {
		if v, ok := get(k); ok {
			dims = append(dims, dimension{key: k, value: v})
		}
	}
	return dims
}

func (d *derivedMetrics) recordSpan(r *recorder, now int64, service string, resource pcommon.Map, span ptrace.Span) {
	if len(d.spanTables) == 0 {
		return
	}
	status := span.Status().Code()
	r.dims = append(r.dims[:0],
		dimension{key: dimService, value: service},
		dimension{key: dimSpanName, value: span.Name()},
		dimension{key: dimSpanKind, value: nameOf(spanKindNames[:], span.Kind())},
		dimension{key: dimStatus, value: nameOf(statusCodeNames[:], status)})
	r.dims = d.appendExtraDimensions(r.dims, span.Attributes(), resource)
	var durationNs float64
	if end, start := span.EndTimestamp(), span.StartTimestamp(); end > start {
		durationNs = float64(end - start)
	}
	m := measurement{
		dims:     r.dims,
		service:  service,
		shard:    r.shardOf(service),
		value:    durationNs / d.nsPerUnit,
		isError:  status == ptrace.StatusCodeError,
		traceID:  span.TraceID(),
		spanID:   span.SpanID(),
		at:       int64(span.EndTimestamp()),
		now:      now,
		withHist: true,
	}
	for _, t := range d.spanTables {
		r.key, r.project = t.record(&m, r.key, r.project)
	}
}

func (d *derivedMetrics) recordLog(r *recorder, now int64, service string, resource pcommon.Map, lr plog.LogRecord) {
	if len(d.logTables) == 0 {
		return
	}
	r.dims = append(r.dims[:0],
		dimension{key: dimService, value: service},
		dimension{key: dimSeverity, value: severityName(lr)})
	r.dims = d.appendExtraDimensions(r.dims, lr.Attributes(), resource)
	at := int64(lr.Timestamp())
	if at == 0 {
		at = int64(lr.ObservedTimestamp())
	}
	m := measurement{dims: r.dims, service: service, shard: r.shardOf(service), traceID: lr.TraceID(), spanID: lr.SpanID(), at: at, now: now}
	for _, t := range d.logTables {
		r.key, r.project = t.record(&m, r.key, r.project)
	}
}

// flush returns everything aggregated since the last flush (delta) or since
// the series began (cumulative), as one scope under one resource per tenant:
// the tenant dimension is also the resource's tenant attribute, so the store
// and quotas downstream file derived points under the tenant of their spans
// and logs. Points without a tenant (overflow series) stay on a resource of
// their own.
func (d *derivedMetrics) flush(now int64) pmetric.Metrics {
	d.flushMu.Lock()
	defer d.flushMu.Unlock()
	md := pmetric.NewMetrics()
	sm := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty()
	sm.Scope().SetName(metadata.ScopeName)
	for _, t := range d.spanTables {
		t.flush(sm, d.unit, d.cumulative, d.lastFlush, now)
	}
	for _, t := range d.logTables {
		t.flush(sm, d.unit, d.cumulative, d.lastFlush, now)
	}
	d.lastFlush = now
	if d.tenant != "" {
		splitByTenant(md, d.tenant)
	}
	return md
}
