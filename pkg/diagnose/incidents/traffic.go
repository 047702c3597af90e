package incidents

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// baseVersion is every pod's service.version unless a fault rolls out another.
const baseVersion = "1.4.2"

// traffic sends every tenant's requests over both windows: a Poisson
// process per tenant, the incident's rates moved by up to 10% either way.
func (g *generator) traffic(routes []route) {
	drift := g.uniform(0.9, 1.1)
	perTenant := g.rate / float64(len(Tenants))
	for _, tenant := range Tenants {
		for _, window := range [][2]time.Time{{g.start, g.incident}, {g.incident, g.end}} {
			incident := window[0].Equal(g.incident)
			rate := perTenant
			if incident {
				rate *= drift
			}
			if g.fault.rate != nil {
				rate *= g.fault.rate(tenant, incident)
			}
			for t := window[0]; ; {
				t = t.Add(time.Duration(g.rng.ExpFloat64() / rate * float64(time.Minute)))
				if !t.Before(window[1]) {
					break
				}
				g.request(routes[g.rng.IntN(len(routes))], tenant, t)
			}
		}
	}
}

// request is one trace through the shop.
func (g *generator) request(r route, tenant string, start time.Time) {
	traceID := g.traceID()
	s := &spanState{c: r.root, pod: g.rng.IntN(podsPerService), incident: !start.Before(g.incident), tenant: tenant}
	g.serve(s, traceID, pcommon.SpanID{}, start, map[string]string{"http.route": r.route, "app.tenant": tenant})
}

func ms(x float64) time.Duration { return time.Duration(x * float64(time.Millisecond)) }

func (g *generator) traceID() pcommon.TraceID {
	var id pcommon.TraceID
	g.idSeq++
	for i := range 8 {
		id[i] = byte(g.idSeq >> (8 * (7 - i)))
	}
	for i := 8; i < 16; i++ {
		id[i] = byte(g.rng.UintN(256))
	}
	return id
}

func (g *generator) spanID() pcommon.SpanID {
	var id pcommon.SpanID
	for i := range id {
		id[i] = byte(g.rng.UintN(256))
	}
	id[0] |= 1
	return id
}

// serve generates the span of s (a SERVER span, or a CLIENT span of a
// database or outside call) and the calls it makes, one after the other. It
// returns the span's end, whether it failed, and whether its caller handles
// that failure (a background error).
func (g *generator) serve(s *spanState, traceID pcommon.TraceID, parent pcommon.SpanID, start time.Time, attrs map[string]string) (end time.Time, failed, handled bool) {
	id := g.spanID()
	work := math.Max(0.5, s.c.workMs+g.rng.NormFloat64()*s.c.spreadMs)
	if s.incident && sameOp(s.c, g.distractor) {
		work += g.distractorMs * g.uniform(0.5, 1.5)
	}
	if g.fault.extraMs != nil {
		work += g.fault.extraMs(g, s)
	}
	ownFailure := g.fault.fails != nil && g.fault.fails(g, s)
	// Handled background errors: pricing fails on 1.5% of calls in both
	// windows, and orders falls back to the list price.
	handled = !ownFailure && s.c.service == "pricing" && s.c.server && g.rng.Float64() < 0.015
	failed = ownFailure || handled
	if failed {
		work = g.uniform(1, 3)
	}
	t := start.Add(ms(work / 2))
	if !failed {
		for _, child := range s.c.children {
			var childFailed bool
			t, childFailed = g.callChild(s, child, traceID, id, t.Add(ms(0.2)))
			if childFailed {
				failed = true
				break
			}
		}
	}
	end = t.Add(ms(work / 2))

	span := g.newSpan(s.c.service, s.pod, s.incident)
	span.SetTraceID(traceID)
	span.SetSpanID(id)
	span.SetParentSpanID(parent)
	span.SetName(s.c.operation)
	span.SetKind(ptrace.SpanKindClient)
	if s.c.server {
		span.SetKind(ptrace.SpanKindServer)
	}
	span.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
	span.SetEndTimestamp(pcommon.NewTimestampFromTime(end))
	for _, k := range slices.Sorted(maps.Keys(attrs)) {
		span.Attributes().PutStr(k, attrs[k])
	}
	if s.c.statement != "" {
		span.Attributes().PutStr("db.system", "postgresql")
		span.Attributes().PutStr("db.statement", s.c.statement)
	}
	if failed {
		span.Status().SetCode(ptrace.StatusCodeError)
	}

	at := start.Add(ms(work / 4))
	switch {
	case handled:
		g.log(s, traceID, id, at, "ERROR", fmt.Sprintf("price lookup failed for sku %d: cache timeout after %d ms", 1000+g.rng.IntN(9000), 200+g.rng.IntN(100)))
	case s.c.service == "inventory" && s.c.server && g.rng.Float64() < 0.05:
		g.log(s, traceID, id, at, "WARN", fmt.Sprintf("stock for sku %d below reorder threshold (%d left)", 1000+g.rng.IntN(9000), g.rng.IntN(5)))
	case s.c.service == "users" && s.c.server && g.rng.Float64() < map[bool]float64{false: 0.02, true: 0.08}[s.incident]:
		// A distractor: this warning grows in every incident.
		g.log(s, traceID, id, at, "WARN", fmt.Sprintf("profile cache refresh took %d ms", 20+g.rng.IntN(60)))
	}
	if s.c.service == EntryService && s.c.server && attrs["app.tenant"] != "" {
		g.log(s, traceID, id, at, "INFO", fmt.Sprintf("order %d accepted for tenant %s", 10000+g.rng.IntN(90000), attrs["app.tenant"]))
	}
	if g.fault.log != nil && (g.fault.fails == nil || ownFailure) {
		if level, body := g.fault.log(g, s); body != "" {
			g.log(s, traceID, id, at, level, body)
		}
	}
	return end, failed, handled
}

// callChild makes the call of child from the span of s: a call to another
// service is a CLIENT span of s's service with the callee's SERVER span
// under it; a database or outside call is a CLIENT span of s's service. It
// returns the call's end and whether the caller fails with it.
func (g *generator) callChild(s *spanState, child *call, traceID pcommon.TraceID, parent pcommon.SpanID, start time.Time) (time.Time, bool) {
	if !child.server {
		end, failed, handled := g.serve(&spanState{c: child, pod: s.pod, incident: s.incident, tenant: s.tenant}, traceID, parent, start, nil)
		return end, failed && !handled
	}
	clientID := g.spanID()
	callee := &spanState{c: child, pod: g.rng.IntN(podsPerService), incident: s.incident, tenant: s.tenant}
	serverEnd, failed, handled := g.serve(callee, traceID, clientID, start.Add(ms(0.3)), nil)
	end := serverEnd.Add(ms(0.3))
	span := g.newSpan(s.c.service, s.pod, s.incident)
	span.SetTraceID(traceID)
	span.SetSpanID(clientID)
	span.SetParentSpanID(parent)
	span.SetName(child.operation)
	span.SetKind(ptrace.SpanKindClient)
	span.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
	span.SetEndTimestamp(pcommon.NewTimestampFromTime(end))
	span.Attributes().PutStr("server.address", child.service)
	if failed {
		span.Status().SetCode(ptrace.StatusCodeError)
	}
	return end, failed && !handled
}

// version is a pod's service.version in a window.
func (g *generator) version(service string, pod int, incident bool) string {
	if g.fault.version != nil {
		if v := g.fault.version(service, pod, incident); v != "" {
			return v
		}
	}
	return baseVersion
}

// fillResource writes the resource of a pod of service.
func (g *generator) fillResource(res pcommon.Resource, service string, pod int, incident bool) {
	attrs := res.Attributes()
	attrs.PutStr("tenant.id", g.tenant)
	attrs.PutStr("service.name", service)
	attrs.PutStr("service.version", g.version(service, pod, incident))
	attrs.PutStr("k8s.pod.name", podName(service, pod))
	attrs.PutStr("host.name", hostName(pod))
}

// resourceKey names the resource of a pod in a window.
func (g *generator) resourceKey(service string, pod int, incident bool) string {
	return fmt.Sprintf("%s/%d/%s", service, pod, g.version(service, pod, incident))
}

func (g *generator) newSpan(service string, pod int, incident bool) ptrace.Span {
	key := g.resourceKey(service, pod, incident)
	spans, ok := g.spans[key]
	if !ok {
		rs := g.traces.ResourceSpans().AppendEmpty()
		g.fillResource(rs.Resource(), service, pod, incident)
		spans = rs.ScopeSpans().AppendEmpty().Spans()
		g.spans[key] = spans
	}
	return spans.AppendEmpty()
}

// log writes a record of s's service in the span id.
func (g *generator) log(s *spanState, traceID pcommon.TraceID, spanID pcommon.SpanID, at time.Time, level, body string) {
	key := g.resourceKey(s.c.service, s.pod, s.incident)
	records, ok := g.records[key]
	if !ok {
		rl := g.logs.ResourceLogs().AppendEmpty()
		g.fillResource(rl.Resource(), s.c.service, s.pod, s.incident)
		records = rl.ScopeLogs().AppendEmpty().LogRecords()
		g.records[key] = records
	}
	lr := records.AppendEmpty()
	lr.SetTimestamp(pcommon.NewTimestampFromTime(at))
	lr.SetTraceID(traceID)
	lr.SetSpanID(spanID)
	lr.SetSeverityText(level)
	lr.Body().SetStr(body)
}
