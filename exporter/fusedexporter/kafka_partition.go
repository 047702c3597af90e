package fusedexporter

import (
	"hash/fnv"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otelfusion/otelfusion/internal/tracehint"
	"github.com/otelfusion/otelfusion/pkg/otlpgo"
)

// partitionHints finds the trace id of a log that carries it only in its
// attributes (trace_id, traceparent, dd.trace_id, …).
var partitionHints = tracehint.DefaultReader()

// maxSplitDepth bounds how often one partition's share is halved to fit
// 'kafka::max_record_bytes': 2^8 records per partition and flush at most.
const maxSplitDepth = 8

// recordGroup is the part of a flush that goes to one partition: at split
// depth d, the items whose key hash has the same low d bits above the
// partition choice.
type recordGroup struct {
	partition int32
	sub       uint64
}

// partitionKey is what an item is placed by: a span and a log by its trace id,
// so a partition holds whole traces and the logs that point into them; a
// log without trace id and a metric by its resource's service.
type partitionKey struct {
	hash uint64
	// traceID is set when the key is a trace id; it becomes the record key.
	traceID pcommon.TraceID
}

// partitionTraceKey hashes the lower 8 bytes of the trace id, as the routing
// ring does: a Datadog decimal id hinted in a log attribute carries only
// those, and must land on its trace's partition.
func partitionTraceKey(id pcommon.TraceID) partitionKey {
	h := fnv.New64a()
	_, _ = h.Write(id[8:])
	return partitionKey{hash: h.Sum64(), traceID: id}
}

func partitionResourceKey(res pcommon.Resource) partitionKey {
	h := fnv.New64a()
	if v, ok := res.Attributes().Get("service.name"); ok {
		_, _ = h.Write([]byte(v.AsString()))
	}
	return partitionKey{hash: h.Sum64()}
}

// group places a key at split depth depth among partitions partitions.
func (k partitionKey) group(partitions int32, depth int) recordGroup {
	p := int32(k.hash % uint64(partitions))
	return recordGroup{partition: p, sub: (k.hash / uint64(partitions)) & (1<<depth - 1)}
}

// splitRequest divides req into one request per group. Resources and scopes
// are copied into each group that has items of theirs; items are copied, as
// the pushed data is only lent. Each group also reports the first trace id
// it holds, for the record key.
func splitRequest(req otlpgo.Request, partitions int32, depth int) (map[recordGroup]otlpgo.Request, map[recordGroup]pcommon.TraceID) {
	groups := map[recordGroup]otlpgo.Request{}
	firstTrace := map[recordGroup]pcommon.TraceID{}
	get := func(k partitionKey) (recordGroup, otlpgo.Request) {
		g := k.group(partitions, depth)
		r, ok := groups[g]
		if !ok {
			r = otlpgo.NewRequest()
			groups[g] = r
		}
		if _, ok := firstTrace[g]; !ok && !k.traceID.IsEmpty() {
			firstTrace[g] = k.traceID
		}
		return g, r
	}

	for i := range req.Traces.ResourceSpans().Len() {
		rs := req.Traces.ResourceSpans().At(i)
		for j := range rs.ScopeSpans().Len() {
			ss := rs.ScopeSpans().At(j)
			// Each group gets one copy of this resource and scope.
			scopes := map[recordGroup]ptrace.SpanSlice{}
			for k := range ss.Spans().Len() {
				span := ss.Spans().At(k)
				g, r := get(partitionTraceKey(span.TraceID()))
				spans, ok := scopes[g]
				if !ok {
					to := r.Traces.ResourceSpans().AppendEmpty()
					rs.Resource().CopyTo(to.Resource())
					to.SetSchemaUrl(rs.SchemaUrl())
					toScope := to.ScopeSpans().AppendEmpty()
					ss.Scope().CopyTo(toScope.Scope())
					toScope.SetSchemaUrl(ss.SchemaUrl())
					spans = toScope.Spans()
					scopes[g] = spans
				}
				span.CopyTo(spans.AppendEmpty())
			}
		}
	}

	for i := range req.Logs.ResourceLogs().Len() {
		rl := req.Logs.ResourceLogs().At(i)
		byResource := partitionResourceKey(rl.Resource())
		for j := range rl.ScopeLogs().Len() {
			sl := rl.ScopeLogs().At(j)
			scopes := map[recordGroup]plog.LogRecordSlice{}
			for k := range sl.LogRecords().Len() {
				lr := sl.LogRecords().At(k)
				key := byResource
				if !lr.TraceID().IsEmpty() {
					key = partitionTraceKey(lr.TraceID())
				} else if tid, _ := partitionHints.Read(lr.Attributes(), nil); !tid.IsEmpty() {
					// Trace context only in attributes: the parser the
					// fusion processor links with finds it.
					key = partitionTraceKey(tid)
				}
				g, r := get(key)
				records, ok := scopes[g]
				if !ok {
					to := r.Logs.ResourceLogs().AppendEmpty()
					rl.Resource().CopyTo(to.Resource())
					to.SetSchemaUrl(rl.SchemaUrl())
					toScope := to.ScopeLogs().AppendEmpty()
					sl.Scope().CopyTo(toScope.Scope())
					toScope.SetSchemaUrl(sl.SchemaUrl())
					records = toScope.LogRecords()
					scopes[g] = records
				}
				lr.CopyTo(records.AppendEmpty())
			}
		}
	}

	for i := range req.Metrics.ResourceMetrics().Len() {
		rm := req.Metrics.ResourceMetrics().At(i)
		// A resource's metrics stay together: its series keep one order.
		_, r := get(partitionResourceKey(rm.Resource()))
		rm.CopyTo(r.Metrics.ResourceMetrics().AppendEmpty())
	}
	return groups, firstTrace
}

// requestItems counts spans, log records and data points of req.
func requestItems(req otlpgo.Request) int {
	return req.Traces.SpanCount() + req.Logs.LogRecordCount() + req.Metrics.DataPointCount()
}
