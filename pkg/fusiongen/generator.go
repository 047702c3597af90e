// Package fusiongen generates realistic, deterministic telemetry for tests and
// benchmarks: about twenty services calling each other over HTTP, a database
// and RPC, with semantic-convention attributes; logs that carry trace context
// (some only as attributes); and metrics of all five types.
package fusiongen

import (
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// BaseTime is where generated timestamps start unless SetStart moves it.
var BaseTime = time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)

// Services are the generated service names.
var Services = []string{
	"frontend", "checkout", "cart", "payment", "shipping", "email", "currency",
	"recommendation", "ad", "product-catalog", "quote", "accounting", "fraud-detection",
	"inventory", "auth", "search", "review", "notification", "pricing", "user-profile",
}

var (
	httpRoutes  = []string{"/api/cart", "/api/checkout", "/api/products/{id}", "/api/users/{id}", "/api/search", "/health"}
	httpMethods = []string{"GET", "GET", "GET", "POST", "PUT", "DELETE"}
	dbOps       = []string{"SELECT", "INSERT", "UPDATE"}
	dbTables    = []string{"orders", "carts", "products", "users", "payments"}
	rpcMethods  = []string{"GetQuote", "Charge", "ShipOrder", "Convert", "ListRecommendations"}
	logBodies   = []string{
		"request completed", "cache miss, loading from database", "retrying upstream call",
		"payment authorised", "order placed", "user not found", "upstream timeout",
	}
	hosts = []string{"node-a1", "node-a2", "node-b1", "node-b2", "node-c1"}
)

// Generator makes telemetry from a seeded source: the same seed and the same
// calls give the same data. It is not safe for concurrent use.
type Generator struct {
	rng   *rand.Rand
	now   time.Time
	spans []spanRef // recently generated spans that logs and exemplars point at
}

type spanRef struct {
	traceID   pcommon.TraceID
	spanID    pcommon.SpanID
	service   int
	operation string
	start     time.Time
}

// New returns a Generator seeded with seed.
func New(seed int64) *Generator {
	return &Generator{rng: rand.New(rand.NewPCG(uint64(seed), 0x6f74656c66757369)), now: BaseTime}
}

// SetStart moves the clock the generator stamps data with.
func (g *Generator) SetStart(t time.Time) { g.now = t }

func (g *Generator) traceID() pcommon.TraceID {
	var id pcommon.TraceID
	for i := range id {
		id[i] = byte(g.rng.UintN(256))
	}
	id[0] |= 1 // never all zeros
	return id
}

func (g *Generator) spanID() pcommon.SpanID {
	var id pcommon.SpanID
	for i := range id {
		id[i] = byte(g.rng.UintN(256))
	}
	id[0] |= 1
	return id
}

func fillResource(res pcommon.Resource, service int) {
	attrs := res.Attributes()
	attrs.EnsureCapacity(7)
	attrs.PutStr("service.name", Services[service])
	attrs.PutStr("service.namespace", "shop")
	attrs.PutStr("service.version", fmt.Sprintf("1.%d.0", service%4))
	attrs.PutStr("deployment.environment.name", "production")
	attrs.PutStr("host.name", hosts[service%len(hosts)])
	attrs.PutStr("telemetry.sdk.language", "go")
	attrs.PutStr("telemetry.sdk.name", "opentelemetry")
}

// Traces returns exactly spans spans: each trace is an HTTP server span with
// a database and an RPC client child, grouped by service into resources.
func (g *Generator) Traces(spans int) ptrace.Traces {
	td := ptrace.NewTraces()
	byService := map[int]ptrace.SpanSlice{}
	slice := func(service int) ptrace.SpanSlice {
		if ss, ok := byService[service]; ok {
			return ss
		}
		rs := td.ResourceSpans().AppendEmpty()
		rs.SetSchemaUrl("https://opentelemetry.io/schemas/1.26.0")
		fillResource(rs.Resource(), service)
		sc := rs.ScopeSpans().AppendEmpty()
		sc.Scope().SetName("go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp")
		sc.Scope().SetVersion("0.72.0")
		byService[service] = sc.Spans()
		return sc.Spans()
	}
	for made := 0; made < spans; {
		service := g.rng.IntN(len(Services))
		traceID := g.traceID()
		start := g.now.Add(time.Duration(g.rng.IntN(1000)) * time.Microsecond)
		g.now = start
		route := g.rng.IntN(len(httpRoutes))
		dur := time.Duration(2+g.rng.IntN(300)) * time.Millisecond
		failed := g.rng.IntN(20) == 0

		root := slice(service).AppendEmpty()
		rootID := g.spanID()
		root.SetTraceID(traceID)
		root.SetSpanID(rootID)
		root.SetName(httpMethods[route] + " " + httpRoutes[route])
		root.SetKind(ptrace.SpanKindServer)
		root.SetFlags(1)
		root.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
		root.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(dur)))
		a := root.Attributes()
		a.EnsureCapacity(7)
		a.PutStr("http.request.method", httpMethods[route])
		a.PutStr("http.route", httpRoutes[route])
		a.PutStr("url.scheme", "https")
		a.PutStr("server.address", Services[service]+".shop.svc")
		a.PutInt("server.port", 8080)
		a.PutStr("user_agent.original", "Mozilla/5.0 (X11; Linux x86_64)")
		if failed {
			a.PutInt("http.response.status_code", 500)
			root.Status().SetCode(ptrace.StatusCodeError)
			root.Status().SetMessage("internal server error")
			ev := root.Events().AppendEmpty()
			ev.SetName("exception")
			ev.SetTimestamp(pcommon.NewTimestampFromTime(start.Add(dur - time.Millisecond)))
			ev.Attributes().PutStr("exception.type", "UpstreamTimeout")
			ev.Attributes().PutStr("exception.message", "context deadline exceeded")
		} else {
			a.PutInt("http.response.status_code", 200)
			root.Status().SetCode(ptrace.StatusCodeUnset)
		}
		g.remember(spanRef{traceID: traceID, spanID: rootID, service: service, operation: root.Name(), start: start})
		made++
		if made >= spans {
			break
		}

		db := slice(service).AppendEmpty()
		dbID := g.spanID()
		op, table := dbOps[g.rng.IntN(len(dbOps))], dbTables[g.rng.IntN(len(dbTables))]
		dbStart := start.Add(time.Millisecond)
		db.SetTraceID(traceID)
		db.SetSpanID(dbID)
		db.SetParentSpanID(rootID)
		db.SetName(op + " " + table)
		db.SetKind(ptrace.SpanKindClient)
		db.SetFlags(1)
		db.SetStartTimestamp(pcommon.NewTimestampFromTime(dbStart))
		db.SetEndTimestamp(pcommon.NewTimestampFromTime(dbStart.Add(dur / 3)))
		da := db.Attributes()
		da.EnsureCapacity(4)
		da.PutStr("db.system.name", "postgresql")
		da.PutStr("db.operation.name", op)
		da.PutStr("db.collection.name", table)
		da.PutStr("db.query.text", op+" * FROM "+table+" WHERE id = $1")
		g.remember(spanRef{traceID: traceID, spanID: dbID, service: service, operation: db.Name(), start: dbStart})
		made++
		if made >= spans {
			break
		}

		callee := (service + 1 + g.rng.IntN(len(Services)-1)) % len(Services)
		method := rpcMethods[g.rng.IntN(len(rpcMethods))]
		rpcStart := start.Add(dur / 2)
		rpc := slice(callee).AppendEmpty()
		rpcID := g.spanID()
		rpc.SetTraceID(traceID)
		rpc.SetSpanID(rpcID)
		rpc.SetParentSpanID(rootID)
		rpc.SetName("shop." + Services[callee] + "/" + method)
		rpc.SetKind(ptrace.SpanKindServer)
		rpc.SetFlags(1)
		rpc.TraceState().FromRaw("shop=1")
		rpc.SetStartTimestamp(pcommon.NewTimestampFromTime(rpcStart))
		rpc.SetEndTimestamp(pcommon.NewTimestampFromTime(rpcStart.Add(dur / 4)))
		ra := rpc.Attributes()
		ra.EnsureCapacity(4)
		ra.PutStr("rpc.system", "grpc")
		ra.PutStr("rpc.service", "shop."+Services[callee])
		ra.PutStr("rpc.method", method)
		ra.PutInt("rpc.grpc.status_code", 0)
		g.remember(spanRef{traceID: traceID, spanID: rpcID, service: callee, operation: rpc.Name(), start: rpcStart})
		made++
	}
	return td
}

const rememberedSpans = 4096

func (g *Generator) remember(s spanRef) {
	if len(g.spans) < rememberedSpans {
		g.spans = append(g.spans, s)
		return
	}
	g.spans[g.rng.IntN(rememberedSpans)] = s
}

func (g *Generator) recentSpan() (spanRef, bool) {
	if len(g.spans) == 0 {
		return spanRef{}, false
	}
	return g.spans[g.rng.IntN(len(g.spans))], true
}

// Logs returns exactly records log records grouped by service. Most carry the
// trace context of a span made earlier by Traces: in TraceID/SpanID, or (one
// in four) only as the attributes trace_id and span_id in hex.
func (g *Generator) Logs(records int) plog.Logs {
	ld := plog.NewLogs()
	byService := map[int]plog.LogRecordSlice{}
	slice := func(service int) plog.LogRecordSlice {
		if ls, ok := byService[service]; ok {
			return ls
		}
		rl := ld.ResourceLogs().AppendEmpty()
		rl.SetSchemaUrl("https://opentelemetry.io/schemas/1.26.0")
		fillResource(rl.Resource(), service)
		sl := rl.ScopeLogs().AppendEmpty()
		sl.Scope().SetName("go.opentelemetry.io/contrib/bridges/otelslog")
		sl.Scope().SetVersion("0.17.0")
		byService[service] = sl.LogRecords()
		return sl.LogRecords()
	}
	for range records {
		ref, linked := g.recentSpan()
		service := ref.service
		if !linked {
			service = g.rng.IntN(len(Services))
		}
		g.now = g.now.Add(time.Duration(g.rng.IntN(500)) * time.Microsecond)
		lr := slice(service).AppendEmpty()
		ts := g.now
		if linked {
			ts = ref.start.Add(time.Duration(g.rng.IntN(2000)) * time.Microsecond)
		}
		lr.SetTimestamp(pcommon.NewTimestampFromTime(ts))
		lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(ts.Add(150 * time.Microsecond)))
		body := g.rng.IntN(len(logBodies))
		switch {
		case body >= 5:
			lr.SetSeverityNumber(plog.SeverityNumberError)
			lr.SetSeverityText("ERROR")
		case body == 2:
			lr.SetSeverityNumber(plog.SeverityNumberWarn)
			lr.SetSeverityText("WARN")
		default:
			lr.SetSeverityNumber(plog.SeverityNumberInfo)
			lr.SetSeverityText("INFO")
		}
		lr.Body().SetStr(logBodies[body])
		a := lr.Attributes()
		a.EnsureCapacity(4)
		a.PutStr("code.function.name", "handle"+fmt.Sprint(body))
		a.PutStr("thread.name", fmt.Sprintf("worker-%d", g.rng.IntN(8)))
		if linked {
			if g.rng.IntN(4) == 0 {
				a.PutStr("trace_id", hex.EncodeToString(ref.traceID[:]))
				a.PutStr("span_id", hex.EncodeToString(ref.spanID[:]))
			} else {
				lr.SetTraceID(ref.traceID)
				lr.SetSpanID(ref.spanID)
				lr.SetFlags(plog.DefaultLogRecordFlags.WithIsSampled(true))
			}
		}
	}
	return ld
}

// Metrics returns exactly points data points: per service a request counter
// (sum), an in-flight gauge, a latency histogram, an exponential histogram
// and a GC pause summary, repeated with advancing timestamps.
func (g *Generator) Metrics(points int) pmetric.Metrics {
	md := pmetric.NewMetrics()
	type serviceMetrics struct {
		requests, inflight, latency, expLatency, gcPause pmetric.Metric
	}
	byService := map[int]serviceMetrics{}
	get := func(service int) serviceMetrics {
		if sm, ok := byService[service]; ok {
			return sm
		}
		rm := md.ResourceMetrics().AppendEmpty()
		rm.SetSchemaUrl("https://opentelemetry.io/schemas/1.26.0")
		fillResource(rm.Resource(), service)
		sm := rm.ScopeMetrics().AppendEmpty()
		sm.Scope().SetName("go.opentelemetry.io/otel/sdk/metric")
		sm.Scope().SetVersion("1.47.0")
		ms := sm.Metrics()
		out := serviceMetrics{ms.AppendEmpty(), ms.AppendEmpty(), ms.AppendEmpty(), ms.AppendEmpty(), ms.AppendEmpty()}
		out.requests.SetName("http.server.request.count")
		out.requests.SetUnit("{request}")
		out.requests.SetDescription("Number of HTTP requests served.")
		out.requests.SetEmptySum().SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
		out.requests.Sum().SetIsMonotonic(true)
		out.inflight.SetName("http.server.active_requests")
		out.inflight.SetUnit("{request}")
		out.inflight.SetEmptyGauge()
		out.latency.SetName("http.server.request.duration")
		out.latency.SetUnit("s")
		out.latency.SetDescription("Duration of HTTP server requests.")
		out.latency.SetEmptyHistogram().SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
		out.expLatency.SetName("rpc.server.duration")
		out.expLatency.SetUnit("ms")
		out.expLatency.SetEmptyExponentialHistogram().SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
		out.gcPause.SetName("go.gc.pause")
		out.gcPause.SetUnit("s")
		out.gcPause.SetEmptySummary()
		byService[service] = out
		return out
	}
	bounds := []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}
	start := pcommon.NewTimestampFromTime(BaseTime)
	for made := 0; made < points; made++ {
		service := g.rng.IntN(len(Services))
		route := g.rng.IntN(len(httpRoutes))
		g.now = g.now.Add(10 * time.Second)
		ts := pcommon.NewTimestampFromTime(g.now)
		sm := get(service)
		switch made % 5 {
		case 0:
			dp := sm.requests.Sum().DataPoints().AppendEmpty()
			dp.SetStartTimestamp(start)
			dp.SetTimestamp(ts)
			dp.SetIntValue(int64(1000 + made*7 + g.rng.IntN(50)))
			dp.Attributes().PutStr("http.request.method", httpMethods[route])
			dp.Attributes().PutStr("http.route", httpRoutes[route])
			dp.Attributes().PutInt("http.response.status_code", 200)
		case 1:
			dp := sm.inflight.Gauge().DataPoints().AppendEmpty()
			dp.SetTimestamp(ts)
			dp.SetDoubleValue(float64(g.rng.IntN(40)) + 0.5)
			dp.Attributes().PutStr("http.route", httpRoutes[route])
		case 2:
			dp := sm.latency.Histogram().DataPoints().AppendEmpty()
			dp.SetStartTimestamp(ts - pcommon.Timestamp(10*time.Second))
			dp.SetTimestamp(ts)
			dp.ExplicitBounds().FromRaw(bounds)
			counts := make([]uint64, len(bounds)+1)
			var total uint64
			for i := range counts {
				counts[i] = uint64(g.rng.IntN(30))
				total += counts[i]
			}
			dp.BucketCounts().FromRaw(counts)
			dp.SetCount(total)
			dp.SetSum(float64(total) * 0.042)
			dp.SetMin(0.001)
			dp.SetMax(4.2)
			dp.Attributes().PutStr("http.request.method", httpMethods[route])
			dp.Attributes().PutStr("http.route", httpRoutes[route])
			if ref, ok := g.recentSpan(); ok {
				ex := dp.Exemplars().AppendEmpty()
				ex.SetTimestamp(ts - pcommon.Timestamp(time.Second))
				ex.SetDoubleValue(0.2)
				ex.SetTraceID(ref.traceID)
				ex.SetSpanID(ref.spanID)
			}
		case 3:
			dp := sm.expLatency.ExponentialHistogram().DataPoints().AppendEmpty()
			dp.SetStartTimestamp(ts - pcommon.Timestamp(10*time.Second))
			dp.SetTimestamp(ts)
			dp.SetScale(3)
			dp.SetZeroThreshold(0)
			dp.SetZeroCount(uint64(g.rng.IntN(3)))
			dp.Positive().SetOffset(int32(4 + g.rng.IntN(4)))
			counts := make([]uint64, 12)
			total := dp.ZeroCount()
			for i := range counts {
				counts[i] = uint64(g.rng.IntN(20))
				total += counts[i]
			}
			dp.Positive().BucketCounts().FromRaw(counts)
			dp.SetCount(total)
			dp.SetSum(float64(total) * 12.5)
			dp.SetMin(0.4)
			dp.SetMax(380)
			dp.Attributes().PutStr("rpc.method", rpcMethods[g.rng.IntN(len(rpcMethods))])
		case 4:
			dp := sm.gcPause.Summary().DataPoints().AppendEmpty()
			dp.SetStartTimestamp(start)
			dp.SetTimestamp(ts)
			dp.SetCount(uint64(100 + made))
			dp.SetSum(float64(100+made) * 0.0003)
			for _, q := range []float64{0.5, 0.9, 0.99} {
				qv := dp.QuantileValues().AppendEmpty()
				qv.SetQuantile(q)
				qv.SetValue(q * 0.001)
			}
		}
	}
	return md
}
