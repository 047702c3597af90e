package fusiongen

import (
	"fmt"
	"math/rand/v2"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Source makes batches of one data shape: Generator (a service mesh),
// Telemetrygen (the load generator's shape) and HighCardinality (thousands
// of pods). Each call continues the data of the call before, like the
// batches of one sender.
type Source interface {
	Traces(spans int) ptrace.Traces
	Logs(records int) plog.Logs
	Metrics(points int) pmetric.Metrics
}

var (
	_ Source = (*Generator)(nil)
	_ Source = (*Telemetrygen)(nil)
	_ Source = (*HighCardinality)(nil)
)

// Telemetrygen makes data shaped like what contrib's telemetrygen sends:
// one resource, one scope, fixed names and attributes, timestamps taken from
// a nanosecond clock (random gaps), random trace and span ids, log records
// with no observed time and no trace context, and metrics of one data point
// each.
type Telemetrygen struct {
	rng *rand.Rand
	now uint64 // ns
	ctr int64  // the counter the sum metrics report
}

// NewTelemetrygen returns a Telemetrygen whose data depends only on seed.
func NewTelemetrygen(seed int64) *Telemetrygen {
	return &Telemetrygen{rng: rand.New(rand.NewPCG(uint64(seed), 7)), now: uint64(BaseTime.UnixNano())}
}

// tick moves the clock by a random 1 to 50 µs, to the nanosecond.
func (g *Telemetrygen) tick() pcommon.Timestamp {
	g.now += 1_000 + g.rng.Uint64N(49_000)
	return pcommon.Timestamp(g.now)
}

func (g *Telemetrygen) resource(r pcommon.Resource) {
	r.Attributes().PutStr("service.name", "telemetrygen")
}

// Traces returns spans in pairs, a server span "lets-go" and its child
// "okey-dokey-0", each pair a new trace (an odd count ends with a lone root).
func (g *Telemetrygen) Traces(spans int) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	g.resource(rs.Resource())
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName("telemetrygen")
	var parent ptrace.Span
	for i := range spans {
		s := ss.Spans().AppendEmpty()
		start := g.tick()
		s.SetStartTimestamp(start)
		s.SetEndTimestamp(start + pcommon.Timestamp(123_000+g.rng.Uint64N(1_000)))
		var sid pcommon.SpanID
		putRandom(g.rng, sid[:])
		s.SetSpanID(sid)
		if i%2 == 0 {
			var tid pcommon.TraceID
			putRandom(g.rng, tid[:])
			s.SetTraceID(tid)
			s.SetName("lets-go")
			s.SetKind(ptrace.SpanKindClient)
			s.Attributes().PutStr("network.peer.address", "1.2.3.4")
			s.Attributes().PutStr("peer.service", "telemetrygen-server")
			parent = s
			continue
		}
		s.SetTraceID(parent.TraceID())
		s.SetParentSpanID(parent.SpanID())
		s.SetName("okey-dokey-0")
		s.SetKind(ptrace.SpanKindServer)
		s.Attributes().PutStr("network.peer.address", "1.2.3.4")
		s.Attributes().PutStr("peer.service", "telemetrygen-client")
	}
	return td
}

// Logs returns records with body "the message", severity Info and an
// attribute, timestamped to the nanosecond, observed time unset.
func (g *Telemetrygen) Logs(records int) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	g.resource(rl.Resource())
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName("telemetrygen")
	for range records {
		lr := sl.LogRecords().AppendEmpty()
		lr.SetTimestamp(g.tick())
		lr.SetSeverityNumber(plog.SeverityNumberInfo)
		lr.SetSeverityText("Info")
		lr.Body().SetStr("the message")
		lr.Attributes().PutStr("app", "server")
	}
	return ld
}

// Metrics returns one cumulative sum metric "gen" per data point, each with
// its own nanosecond timestamp and the next value of a counter.
func (g *Telemetrygen) Metrics(points int) pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	g.resource(rm.Resource())
	sm := rm.ScopeMetrics().AppendEmpty()
	sm.Scope().SetName("telemetrygen")
	start := pcommon.Timestamp(BaseTime.UnixNano())
	for range points {
		m := sm.Metrics().AppendEmpty()
		m.SetName("gen")
		sum := m.SetEmptySum()
		sum.SetIsMonotonic(true)
		sum.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
		p := sum.DataPoints().AppendEmpty()
		p.SetStartTimestamp(start)
		p.SetTimestamp(g.tick())
		g.ctr += 1 + g.rng.Int64N(10)
		p.SetIntValue(g.ctr)
	}
	return md
}

func putRandom(rng *rand.Rand, b []byte) {
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
}

// HighCardinality makes data from Pods pods of a Kubernetes cluster: every
// resource carries some twenty attributes, the pod's, which repeat from
// batch to batch in a random order; items carry attributes with many values
// (user ids, request ids, status codes). Metrics are scraped per pod: a
// dozen series each, one point per scrape.
type HighCardinality struct {
	rng  *rand.Rand
	now  uint64
	pods []podInfo
	// scrape is the next scrape of each pod's counters.
	counters map[int]*podCounters
}

// Pods is how many pods HighCardinality draws from.
const Pods = 5000

type podInfo struct {
	name, uid, namespace, node, deployment, container, image, ip, zone string
	service                                                            string
}

type podCounters struct {
	rx, tx, cpu int64
}

// NewHighCardinality returns a HighCardinality whose data depends only on seed.
func NewHighCardinality(seed int64) *HighCardinality {
	rng := rand.New(rand.NewPCG(uint64(seed), 11))
	g := &HighCardinality{rng: rng, now: uint64(BaseTime.UnixNano()), counters: map[int]*podCounters{}}
	for i := range Pods {
		svc := Services[i%len(Services)]
		var uid [16]byte
		putRandom(rng, uid[:])
		g.pods = append(g.pods, podInfo{
			name:       fmt.Sprintf("%s-%08x-%05x", svc, rng.Uint32(), rng.Uint32()&0xfffff),
			uid:        fmt.Sprintf("%x-%x-%x-%x-%x", uid[0:4], uid[4:6], uid[6:8], uid[8:10], uid[10:16]),
			namespace:  fmt.Sprintf("team-%d", i%40),
			node:       fmt.Sprintf("ip-10-%d-%d-%d.ec2.internal", i%8, (i/8)%256, rng.IntN(256)),
			deployment: svc,
			container:  fmt.Sprintf("%064x", rng.Uint64()),
			image:      fmt.Sprintf("registry.example.com/%s:1.%d.%d", svc, i%7, i%13),
			ip:         fmt.Sprintf("10.%d.%d.%d", 100+i%20, (i/20)%256, rng.IntN(256)),
			zone:       fmt.Sprintf("us-east-1%c", 'a'+rune(i%3)),
			service:    svc,
		})
	}
	return g
}

func (g *HighCardinality) resource(r pcommon.Resource, pod int) {
	p := g.pods[pod]
	a := r.Attributes()
	a.PutStr("service.name", p.service)
	a.PutStr("service.namespace", p.namespace)
	a.PutStr("service.instance.id", p.uid)
	a.PutStr("service.version", p.image[len(p.image)-5:])
	a.PutStr("k8s.pod.name", p.name)
	a.PutStr("k8s.pod.uid", p.uid)
	a.PutStr("k8s.pod.ip", p.ip)
	a.PutStr("k8s.namespace.name", p.namespace)
	a.PutStr("k8s.node.name", p.node)
	a.PutStr("k8s.deployment.name", p.deployment)
	a.PutStr("k8s.cluster.name", "prod-us-east-1")
	a.PutStr("container.id", p.container)
	a.PutStr("container.image.name", p.image)
	a.PutStr("host.name", p.node)
	a.PutStr("cloud.provider", "aws")
	a.PutStr("cloud.region", "us-east-1")
	a.PutStr("cloud.availability_zone", p.zone)
	a.PutStr("telemetry.sdk.language", "go")
	a.PutStr("telemetry.sdk.version", "1.38.0")
	a.PutStr("deployment.environment.name", "production")
}

// tick moves the clock by a random 0 to 200 µs, in µs.
func (g *HighCardinality) tick() pcommon.Timestamp {
	g.now += 1_000 * g.rng.Uint64N(200)
	return pcommon.Timestamp(g.now)
}

// perResource is how many items one resource (pod) holds in a batch.
const perResource = 10

// Traces returns spans of random pods, perResource a pod, each span with
// a user id and a request id.
func (g *HighCardinality) Traces(spans int) ptrace.Traces {
	td := ptrace.NewTraces()
	var ss ptrace.ScopeSpans
	for i := range spans {
		if i%perResource == 0 {
			rs := td.ResourceSpans().AppendEmpty()
			g.resource(rs.Resource(), g.rng.IntN(Pods))
			ss = rs.ScopeSpans().AppendEmpty()
			ss.Scope().SetName("go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp")
			ss.Scope().SetVersion("0.63.0")
		}
		s := ss.Spans().AppendEmpty()
		var tid pcommon.TraceID
		var sid pcommon.SpanID
		putRandom(g.rng, tid[:])
		putRandom(g.rng, sid[:])
		s.SetTraceID(tid)
		s.SetSpanID(sid)
		route := httpRoutes[g.rng.IntN(len(httpRoutes))]
		s.SetName(httpMethods[i%len(httpMethods)] + " " + route)
		s.SetKind(ptrace.SpanKindServer)
		start := g.tick()
		s.SetStartTimestamp(start)
		s.SetEndTimestamp(start + pcommon.Timestamp(g.rng.Uint64N(50_000_000)))
		a := s.Attributes()
		a.PutStr("http.request.method", httpMethods[i%len(httpMethods)])
		a.PutStr("http.route", route)
		a.PutInt("http.response.status_code", []int64{200, 200, 200, 201, 404, 500}[g.rng.IntN(6)])
		a.PutStr("user.id", fmt.Sprintf("u-%06d", g.rng.IntN(100_000)))
		a.PutStr("request.id", fmt.Sprintf("%016x", g.rng.Uint64()))
		a.PutStr("client.address", fmt.Sprintf("10.%d.%d.%d", g.rng.IntN(256), g.rng.IntN(256), g.rng.IntN(256)))
	}
	return td
}

// Logs returns records of random pods with templated bodies that carry
// ids, an observed time a little after the time, and attributes of many
// values.
func (g *HighCardinality) Logs(records int) plog.Logs {
	ld := plog.NewLogs()
	var sl plog.ScopeLogs
	for i := range records {
		if i%perResource == 0 {
			rl := ld.ResourceLogs().AppendEmpty()
			g.resource(rl.Resource(), g.rng.IntN(Pods))
			sl = rl.ScopeLogs().AppendEmpty()
			sl.Scope().SetName("k8s.container.log")
		}
		lr := sl.LogRecords().AppendEmpty()
		t := g.tick()
		lr.SetTimestamp(t)
		lr.SetObservedTimestamp(t + pcommon.Timestamp(g.rng.Uint64N(5_000)*1_000))
		sev := []plog.SeverityNumber{plog.SeverityNumberInfo, plog.SeverityNumberInfo, plog.SeverityNumberWarn, plog.SeverityNumberError}[g.rng.IntN(4)]
		lr.SetSeverityNumber(sev)
		lr.SetSeverityText(sev.String())
		user := g.rng.IntN(100_000)
		lr.Body().SetStr(fmt.Sprintf("%s for user u-%06d took %d ms (request %016x)",
			logBodies[g.rng.IntN(len(logBodies))], user, g.rng.IntN(2_000), g.rng.Uint64()))
		a := lr.Attributes()
		a.PutStr("log.iostream", "stdout")
		a.PutStr("user.id", fmt.Sprintf("u-%06d", user))
		a.PutInt("thread.id", int64(g.rng.IntN(64)))
	}
	return ld
}

// podMetrics is how many points one scrape of a pod gives.
const podMetrics = 12

// Metrics returns scrapes of random pods: CPU and memory gauges, network
// and CPU-time counters by direction and interface, one point per metric,
// all of a scrape at one millisecond timestamp.
func (g *HighCardinality) Metrics(points int) pmetric.Metrics {
	md := pmetric.NewMetrics()
	var ms pmetric.MetricSlice
	var ts, start pcommon.Timestamp
	var ctr *podCounters
	for i := range points {
		if i%podMetrics == 0 {
			pod := g.rng.IntN(Pods)
			rm := md.ResourceMetrics().AppendEmpty()
			g.resource(rm.Resource(), pod)
			sm := rm.ScopeMetrics().AppendEmpty()
			sm.Scope().SetName("github.com/open-telemetry/opentelemetry-collector-contrib/receiver/kubeletstatsreceiver")
			sm.Scope().SetVersion("0.165.0")
			ms = sm.Metrics()
			g.now += 1_000_000 * g.rng.Uint64N(20)
			ts = pcommon.Timestamp(g.now / 1_000_000 * 1_000_000)
			start = pcommon.Timestamp(BaseTime.UnixNano())
			if ctr = g.counters[pod]; ctr == nil {
				ctr = &podCounters{}
				g.counters[pod] = ctr
			}
		}
		m := ms.AppendEmpty()
		switch k := i % podMetrics; {
		case k < 2:
			m.SetName([]string{"k8s.pod.cpu.usage", "k8s.pod.memory.working_set"}[k])
			m.SetUnit([]string{"{cpu}", "By"}[k])
			p := m.SetEmptyGauge().DataPoints().AppendEmpty()
			p.SetTimestamp(ts)
			if k == 0 {
				p.SetDoubleValue(float64(g.rng.IntN(4000)) / 1000)
			} else {
				p.SetIntValue(int64(64+g.rng.IntN(2048)) << 20)
			}
		default:
			iface := []string{"eth0", "eth1", "lo", "eth2", "eth3"}[(k-2)/2]
			dir := []string{"receive", "transmit"}[k%2]
			m.SetName("k8s.pod.network.io")
			m.SetUnit("By")
			sum := m.SetEmptySum()
			sum.SetIsMonotonic(true)
			sum.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
			p := sum.DataPoints().AppendEmpty()
			p.SetStartTimestamp(start)
			p.SetTimestamp(ts)
			p.Attributes().PutStr("interface", iface)
			p.Attributes().PutStr("direction", dir)
			if k%2 == 0 {
				ctr.rx += int64(g.rng.IntN(1 << 20))
				p.SetIntValue(ctr.rx)
			} else {
				ctr.tx += int64(g.rng.IntN(1 << 20))
				p.SetIntValue(ctr.tx)
			}
		}
	}
	return md
}
