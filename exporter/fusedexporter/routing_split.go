package fusedexporter

import (
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otelfusion/otelfusion/internal/tracehint"
)

// The split functions cut a push into one part per endpoint. route maps a
// ring key to its endpoint. When every item goes to one endpoint the push
// is returned as it is, uncopied: the common case of a push from one
// service's SDK batch of one trace, and of a one-gateway fleet. With take,
// the caller gives the push up and items are moved into the parts rather
// than copied; without, the push is left as it was (a queued push that
// may be retried).

// splitTraces routes each span by its trace id.
func splitTraces(td ptrace.Traces, route func(uint64) string, take bool) map[string]ptrace.Traces {
	var only string
	uniform := true
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len() && uniform; i++ {
		sss := rss.At(i).ScopeSpans()
		for j := 0; j < sss.Len() && uniform; j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				ep := route(traceKey(spans.At(k).TraceID()))
				if only == "" {
					only = ep
				} else if ep != only {
					uniform = false
					break
				}
			}
		}
	}
	if uniform {
		if only == "" {
			return nil
		}
		return map[string]ptrace.Traces{only: td}
	}
	parts := map[string]ptrace.Traces{}
	for i := range rss.Len() {
		rs := rss.At(i)
		// The resource and scope are copied once per endpoint they reach.
		resOf := map[string]ptrace.ResourceSpans{}
		for j := range rs.ScopeSpans().Len() {
			ss := rs.ScopeSpans().At(j)
			scopeOf := map[string]ptrace.ScopeSpans{}
			for k := range ss.Spans().Len() {
				span := ss.Spans().At(k)
				ep := route(traceKey(span.TraceID()))
				dst, ok := scopeOf[ep]
				if !ok {
					res, ok := resOf[ep]
					if !ok {
						part, ok := parts[ep]
						if !ok {
							part = ptrace.NewTraces()
							parts[ep] = part
						}
						res = part.ResourceSpans().AppendEmpty()
						rs.Resource().CopyTo(res.Resource())
						res.SetSchemaUrl(rs.SchemaUrl())
						resOf[ep] = res
					}
					dst = res.ScopeSpans().AppendEmpty()
					ss.Scope().CopyTo(dst.Scope())
					dst.SetSchemaUrl(ss.SchemaUrl())
					scopeOf[ep] = dst
				}
				if take {
					span.MoveTo(dst.Spans().AppendEmpty())
				} else {
					span.CopyTo(dst.Spans().AppendEmpty())
				}
			}
		}
	}
	return parts
}

// logKey is a log record's ring key: its trace id, else the trace id its
// attributes hint at, else its resource's.
func logKey(lr plog.LogRecord, hints *tracehint.Reader, resKey uint64) uint64 {
	if tid := lr.TraceID(); !tid.IsEmpty() {
		return traceKey(tid)
	}
	if tid, _ := hints.Read(lr.Attributes(), nil); !tid.IsEmpty() {
		return traceKey(tid)
	}
	return resKey
}

// splitLogs routes each log record by logKey.
func splitLogs(ld plog.Logs, hints *tracehint.Reader, route func(uint64) string, take bool) map[string]plog.Logs {
	var only string
	uniform := true
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len() && uniform; i++ {
		resKey := resourceKey(rls.At(i).Resource())
		sls := rls.At(i).ScopeLogs()
		for j := 0; j < sls.Len() && uniform; j++ {
			records := sls.At(j).LogRecords()
			for k := 0; k < records.Len(); k++ {
				ep := route(logKey(records.At(k), hints, resKey))
				if only == "" {
					only = ep
				} else if ep != only {
					uniform = false
					break
				}
			}
		}
	}
	if uniform {
		if only == "" {
			return nil
		}
		return map[string]plog.Logs{only: ld}
	}
	parts := map[string]plog.Logs{}
	for i := range rls.Len() {
		rl := rls.At(i)
		resKey := resourceKey(rl.Resource())
		resOf := map[string]plog.ResourceLogs{}
		for j := range rl.ScopeLogs().Len() {
			sl := rl.ScopeLogs().At(j)
			scopeOf := map[string]plog.ScopeLogs{}
			for k := range sl.LogRecords().Len() {
				lr := sl.LogRecords().At(k)
				ep := route(logKey(lr, hints, resKey))
				dst, ok := scopeOf[ep]
				if !ok {
					res, ok := resOf[ep]
					if !ok {
						part, ok := parts[ep]
						if !ok {
							part = plog.NewLogs()
							parts[ep] = part
						}
						res = part.ResourceLogs().AppendEmpty()
						rl.Resource().CopyTo(res.Resource())
						res.SetSchemaUrl(rl.SchemaUrl())
						resOf[ep] = res
					}
					dst = res.ScopeLogs().AppendEmpty()
					sl.Scope().CopyTo(dst.Scope())
					dst.SetSchemaUrl(sl.SchemaUrl())
					scopeOf[ep] = dst
				}
				if take {
					lr.MoveTo(dst.LogRecords().AppendEmpty())
				} else {
					lr.CopyTo(dst.LogRecords().AppendEmpty())
				}
			}
		}
	}
	return parts
}

// splitMetrics routes each resource's metrics by resourceKey, so a
// service's series stay on one gateway.
func splitMetrics(md pmetric.Metrics, route func(uint64) string, take bool) map[string]pmetric.Metrics {
	rms := md.ResourceMetrics()
	eps := make([]string, rms.Len())
	uniform := true
	for i := range rms.Len() {
		eps[i] = route(resourceKey(rms.At(i).Resource()))
		uniform = uniform && eps[i] == eps[0]
	}
	if len(eps) == 0 || eps[0] == "" {
		return nil
	}
	if uniform {
		return map[string]pmetric.Metrics{eps[0]: md}
	}
	parts := map[string]pmetric.Metrics{}
	for i := range rms.Len() {
		part, ok := parts[eps[i]]
		if !ok {
			part = pmetric.NewMetrics()
			parts[eps[i]] = part
		}
		if take {
			rms.At(i).MoveTo(part.ResourceMetrics().AppendEmpty())
		} else {
			rms.At(i).CopyTo(part.ResourceMetrics().AppendEmpty())
		}
	}
	return parts
}
