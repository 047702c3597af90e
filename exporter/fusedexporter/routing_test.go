package fusedexporter

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelfusion/otelfusion/exporter/fusedexporter/internal/metadata"
	"github.com/otelfusion/otelfusion/internal/tracehint"
)

// fleetTraceID is trace i of round: the round in the upper half, i in the
// lower half (the ring key), so rounds never collide.
func fleetTraceID(round, i int) pcommon.TraceID {
	var id pcommon.TraceID
	binary.BigEndian.PutUint64(id[:8], uint64(round)<<32|1)
	binary.BigEndian.PutUint64(id[8:], uint64(i)*0x9e3779b97f4a7c15+1)
	return id
}

func fleetSpanID(trace, k int) pcommon.SpanID {
	var id pcommon.SpanID
	binary.BigEndian.PutUint64(id[:], uint64(trace)<<8|uint64(k)+1)
	return id
}

// fleetTraces has two spans per trace, one per service, so one push holds
// many traces across two resources.
func fleetTraces(round int, traces []int) ptrace.Traces {
	td := ptrace.NewTraces()
	for k, svc := range []string{"cart", "payment"} {
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", svc)
		ss := rs.ScopeSpans().AppendEmpty()
		ss.Scope().SetName("shop")
		for _, i := range traces {
			span := ss.Spans().AppendEmpty()
			span.SetTraceID(fleetTraceID(round, i))
			span.SetSpanID(fleetSpanID(i, k))
			span.SetName(fmt.Sprintf("%s-%d", svc, i))
		}
	}
	return td
}

// fleetLogs has two logs per trace whose trace context is only in
// attributes: one as trace_id/span_id, one as a traceparent. One more log
// per push has no trace context at all.
func fleetLogs(round int, traces []int) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "cart")
	sl := rl.ScopeLogs().AppendEmpty()
	for _, i := range traces {
		tid, sid := fleetTraceID(round, i), fleetSpanID(i, 0)
		a := sl.LogRecords().AppendEmpty()
		a.Attributes().PutStr("trace_id", tid.String())
		a.Attributes().PutStr("span_id", sid.String())
		b := sl.LogRecords().AppendEmpty()
		b.Attributes().PutStr("traceparent", "00-"+tid.String()+"-"+sid.String()+"-01")
	}
	sl.LogRecords().AppendEmpty().Body().SetStr("no trace context")
	return ld
}

func fleetMetrics(services ...string) pmetric.Metrics {
	md := pmetric.NewMetrics()
	for _, svc := range services {
		rm := md.ResourceMetrics().AppendEmpty()
		rm.Resource().Attributes().PutStr("service.name", svc)
		m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
		m.SetName("requests")
		m.SetEmptySum().DataPoints().AppendEmpty().SetIntValue(1)
	}
	return md
}

func seq(from, to int) []int {
	out := make([]int, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

// fleetView is what one fake gateway received, by trace.
type fleetView struct {
	spans, logs, points int
	spanTraces          map[pcommon.TraceID]int
	logTraces           map[pcommon.TraceID]int
	services            map[string]bool
}

func viewOf(fr *fakeReceiver) fleetView {
	v := fleetView{spanTraces: map[pcommon.TraceID]int{}, logTraces: map[pcommon.TraceID]int{}, services: map[string]bool{}}
	hints := tracehint.DefaultReader()
	for _, r := range fr.received() {
		v.spans += r.req.Traces.SpanCount()
		v.logs += r.req.Logs.LogRecordCount()
		v.points += r.req.Metrics.DataPointCount()
		for i := range r.req.Traces.ResourceSpans().Len() {
			sss := r.req.Traces.ResourceSpans().At(i).ScopeSpans()
			for j := range sss.Len() {
				for k := range sss.At(j).Spans().Len() {
					v.spanTraces[sss.At(j).Spans().At(k).TraceID()]++
				}
			}
		}
		for i := range r.req.Logs.ResourceLogs().Len() {
			sls := r.req.Logs.ResourceLogs().At(i).ScopeLogs()
			for j := range sls.Len() {
				for k := range sls.At(j).LogRecords().Len() {
					tid, _ := hints.Read(sls.At(j).LogRecords().At(k).Attributes(), nil)
					v.logTraces[tid]++
				}
			}
		}
		for i := range r.req.Metrics.ResourceMetrics().Len() {
			svc, _ := r.req.Metrics.ResourceMetrics().At(i).Resource().Attributes().Get("service.name")
			v.services[svc.Str()] = true
		}
	}
	return v
}

// routingConfig is a fast routing configuration over a static list.
func routingConfig(endpoints ...string) *Config {
	cfg := testConfig("")
	rc := defaultRoutingConfig()
	rc.Resolver.Static = configoptional.Some(StaticResolverConfig{Endpoints: endpoints})
	rc.DownFor = time.Minute
	cfg.Routing = configoptional.Some(rc)
	return cfg
}

func withMemoryQueue(cfg *Config) *Config {
	q := exporterhelper.NewDefaultQueueConfig()
	q.QueueSize = 100_000
	q.Sizer = exporterhelper.RequestSizerTypeItems
	cfg.QueueConfig = configoptional.Some(q)
	cfg.RetryConfig.MaxElapsedTime = 0
	return cfg
}

// assertFleet checks that the receivers hold exactly the traces sent, each
// trace's spans and logs on one receiver, and returns where each went.
func assertFleet(t *testing.T, receivers []*fakeReceiver, traces, logsWithoutContext int) map[pcommon.TraceID]int {
	t.Helper()
	owner := map[pcommon.TraceID]int{}
	spans, logs := 0, 0
	for n, fr := range receivers {
		v := viewOf(fr)
		spans += v.spans
		logs += v.logs
		for tid, c := range v.spanTraces {
			prev, seen := owner[tid]
			require.False(t, seen && prev != n, "trace %s on receivers %d and %d", tid, prev, n)
			owner[tid] = n
			assert.Equal(t, 2, c, "spans of trace %s at receiver %d", tid, n)
		}
		for tid, c := range v.logTraces {
			if tid.IsEmpty() {
				continue
			}
			spanAt, ok := owner[tid]
			if !ok {
				// The spans may sit on a later receiver of the loop.
				for m, other := range receivers {
					if viewOf(other).spanTraces[tid] > 0 {
						spanAt, ok = m, true
					}
				}
			}
			require.True(t, ok, "log of trace %s whose spans never came", tid)
			assert.Equal(t, spanAt, n, "logs of trace %s are not where its spans are", tid)
			assert.Equal(t, 2, c, "logs of trace %s at receiver %d", tid, n)
		}
	}
	assert.Equal(t, 2*traces, spans, "spans received")
	assert.Equal(t, 2*traces+logsWithoutContext, logs, "logs received")
	assert.Len(t, owner, traces, "traces received")
	return owner
}

// Spans go by trace id, logs by the trace id found in their attributes,
// metrics by service; every item arrives once, and each of the three
// gateways gets a share.
func TestRoutingKeepsTracesAndTheirLogsTogether(t *testing.T) {
	receivers := []*fakeReceiver{startFakeReceiver(t, "", nil), startFakeReceiver(t, "", nil), startFakeReceiver(t, "", nil)}
	cfg := routingConfig(receivers[0].endpoint(), receivers[1].endpoint(), receivers[2].endpoint())
	p := startNopPipelines(t, cfg)

	const traces = 600
	services := []string{"cart", "payment", "search", "auth", "ads", "mail"}
	for batch := range traces / 100 {
		errs := pushAll(p, fleetTraces(1, seq(batch*100, batch*100+100)), fleetLogs(1, seq(batch*100, batch*100+100)), fleetMetrics(services...))
		require.Equal(t, [signalCount]error{}, errs)
	}
	p.shutdown(t)

	owner := assertFleet(t, receivers, traces, traces/100)
	perReceiver := make([]int, len(receivers))
	for _, n := range owner {
		perReceiver[n]++
	}
	t.Logf("traces per gateway: %v", perReceiver)
	points := 0
	for n, fr := range receivers {
		assert.Greater(t, perReceiver[n], traces/6, "gateway %d's share of traces", n)
		v := viewOf(fr)
		points += v.points
		for svc := range v.services {
			for m, other := range receivers {
				if m != n {
					assert.False(t, viewOf(other).services[svc], "service %s's metrics on gateways %d and %d", svc, n, m)
				}
			}
		}
	}
	assert.Equal(t, len(services)*traces/100, points, "metric points received")
}

// With on_endpoint_failure: reroute, a gateway that cannot be reached is
// taken out of the ring and its traces go to the others: nothing is lost,
// and a trace still lands whole on one gateway.
func TestRoutingReroutesFromUnreachableEndpoint(t *testing.T) {
	receivers := []*fakeReceiver{startFakeReceiver(t, "", nil), startFakeReceiver(t, "", nil)}
	dead := "http://" + reserveAddr(t)
	cfg := withMemoryQueue(routingConfig(receivers[0].endpoint(), receivers[1].endpoint(), dead))
	cfg.Routing.Get().OnEndpointFailure = EndpointFailureReroute
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	set := exportertest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	p := startPipelines(t, cfg, componenttest.NewNopHost(), set)

	const traces = 300
	errs := pushAll(p, fleetTraces(1, seq(0, traces)), fleetLogs(1, seq(0, traces)), fleetMetrics("cart"))
	require.Equal(t, [signalCount]error{}, errs)
	require.Eventually(t, func() bool {
		return viewOf(receivers[0]).logs+viewOf(receivers[1]).logs == 2*traces+1
	}, 10*time.Second, 10*time.Millisecond, "the dead endpoint's share rerouted")
	p.shutdown(t)

	assertFleet(t, receivers, traces, 1)
	down, err := tel.GetMetric("otelcol_exporter_fused_routing_endpoints_down")
	require.NoError(t, err)
	assert.Equal(t, int64(1), down.Data.(metricdata.Sum[int64]).DataPoints[0].Value, "endpoints marked down")
	rerouted, err := tel.GetMetric("otelcol_exporter_fused_rerouted_items")
	require.NoError(t, err)
	var reroutedItems int64
	for _, dp := range rerouted.Data.(metricdata.Sum[int64]).DataPoints {
		reroutedItems += dp.Value
	}
	assert.Positive(t, reroutedItems, "the dead endpoint's share was rerouted")
}

// With on_endpoint_failure: wait (the default), a down gateway's traces wait
// in its own queue and reach it when it comes up; the other gateways are
// not held up meanwhile.
func TestRoutingWaitsForDownEndpoint(t *testing.T) {
	up := startFakeReceiver(t, "", nil)
	lateAddr := reserveAddr(t)
	cfg := withMemoryQueue(routingConfig(up.endpoint(), "http://"+lateAddr))
	p := startNopPipelines(t, cfg)

	const traces = 200
	errs := pushAll(p, fleetTraces(1, seq(0, traces)), fleetLogs(1, seq(0, traces)), fleetMetrics("cart"))
	require.Equal(t, [signalCount]error{}, errs)
	require.Eventually(t, func() bool { return viewOf(up).spans > 0 }, 10*time.Second, 10*time.Millisecond,
		"the live gateway gets its share while the other is down")
	late := startFakeReceiver(t, lateAddr, nil)
	require.Eventually(t, func() bool {
		return viewOf(up).spans+viewOf(late).spans == 2*traces && viewOf(up).logs+viewOf(late).logs == 2*traces+1
	}, 10*time.Second, 10*time.Millisecond, "the waiting share reaches the gateway once it is up")
	p.shutdown(t)

	owner := assertFleet(t, []*fakeReceiver{up, late}, traces, 1)
	ring := newHashRing([]string{up.endpoint(), "http://" + lateAddr})
	for tid, n := range owner {
		want := 0
		if ring.lookup(traceKey(tid)) != up.endpoint() {
			want = 1
		}
		require.Equal(t, want, n, "trace %s left the gateway the ring gives it", tid)
	}
}

// startRouter runs a router directly, so tests can watch its ring.
func startRouter(t *testing.T, cfg *Config, lookupHost func(context.Context, string) ([]string, error)) *router {
	t.Helper()
	require.NoError(t, cfg.Validate())
	r, err := newRouter(cfg, exportertest.NewNopSettings(metadata.Type), lookupHost)
	require.NoError(t, err)
	require.NoError(t, r.Start(context.Background(), componenttest.NewNopHost()))
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { assert.NoError(t, r.Shutdown(context.Background())) }) })
	return r
}

func (r *router) ringEndpoints() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	seen := map[string]bool{}
	var out []string
	for _, ep := range r.ring.endpoints {
		if !seen[ep] {
			seen[ep] = true
			out = append(out, ep)
		}
	}
	return out
}

// The file resolver picks up a rewritten file while running: a 4th gateway
// takes about a quarter of the traces, and no trace moves anywhere else.
func TestRoutingFileResolverAddsEndpoint(t *testing.T) {
	receivers := []*fakeReceiver{startFakeReceiver(t, "", nil), startFakeReceiver(t, "", nil), startFakeReceiver(t, "", nil), startFakeReceiver(t, "", nil)}
	path := filepath.Join(t.TempDir(), "gateways.txt")
	writeList := func(n int) {
		var b strings.Builder
		b.WriteString("# the gateways\n\n")
		for _, fr := range receivers[:n] {
			b.WriteString(fr.endpoint() + "\n")
		}
		require.NoError(t, os.WriteFile(path+".tmp", []byte(b.String()), 0o600))
		require.NoError(t, os.Rename(path+".tmp", path))
	}
	writeList(3)
	cfg := routingConfig()
	rc := cfg.Routing.Get()
	rc.Resolver.Static = configoptional.None[StaticResolverConfig]()
	rc.Resolver.File = configoptional.Some(FileResolverConfig{Path: path, Interval: 20 * time.Millisecond})
	r := startRouter(t, cfg, nil)
	require.Len(t, r.ringEndpoints(), 3)

	const traces = 2000
	ctx := context.Background()
	require.NoError(t, r.consumeTraces(ctx, fleetTraces(1, seq(0, traces))))
	before := map[pcommon.TraceID]int{}
	for n, fr := range receivers {
		for tid := range viewOf(fr).spanTraces {
			before[tid] = n
		}
	}
	require.Len(t, before, traces)

	writeList(4)
	require.Eventually(t, func() bool { return len(r.ringEndpoints()) == 4 }, 5*time.Second, 10*time.Millisecond)
	// The same traces again (their later spans): where does each go now?
	require.NoError(t, r.consumeTraces(ctx, fleetTraces(1, seq(0, traces))))
	moved := 0
	for n, fr := range receivers {
		for tid, c := range viewOf(fr).spanTraces {
			if n == before[tid] {
				continue
			}
			require.Equal(t, 3, n, "trace %s moved to a gateway that did not join", tid)
			require.Equal(t, 2, c)
			moved++
		}
	}
	frac := float64(moved) / traces
	t.Logf("after the 4th gateway joined, %d of %d traces (%.1f%%) moved", moved, traces, 100*frac)
	assert.InDelta(t, 0.25, frac, 0.06)

	// A file that does not parse keeps the fleet as it was.
	require.NoError(t, os.WriteFile(path, []byte("gateway-without-scheme:4319\n"), 0o600))
	time.Sleep(100 * time.Millisecond)
	assert.Len(t, r.ringEndpoints(), 4)
}

// The DNS resolver turns each address into an endpoint; an address that
// disappears takes its endpoint out, and the data queued for it goes to the
// endpoint that owns it now.
func TestRoutingDNSResolverFollowsAddresses(t *testing.T) {
	// One port on several loopback addresses, as a headless service has.
	port := freeLoopbackPort(t)
	var receivers []*fakeReceiver
	for _, ip := range []string{"127.0.0.1", "127.0.0.2"} {
		receivers = append(receivers, startFakeReceiver(t, fmt.Sprintf("%s:%d", ip, port), nil))
	}
	var mu sync.Mutex
	addrs := []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"} // .3 never answers
	lookup := func(_ context.Context, host string) ([]string, error) {
		assert.Equal(t, "gateways.fleet.svc", host)
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), addrs...), nil
	}
	cfg := withMemoryQueue(routingConfig())
	rc := cfg.Routing.Get()
	rc.Resolver.Static = configoptional.None[StaticResolverConfig]()
	rc.Resolver.DNS = configoptional.Some(DNSResolverConfig{Hostname: "gateways.fleet.svc", Port: port, Scheme: "http",
		Interval: 20 * time.Millisecond, Timeout: time.Second})
	r := startRouter(t, cfg, lookup)
	require.Len(t, r.ringEndpoints(), 3)

	const traces = 300
	require.NoError(t, r.consumeTraces(context.Background(), fleetTraces(1, seq(0, traces))))
	require.NoError(t, r.consumeLogs(context.Background(), fleetLogs(1, seq(0, traces))))
	require.Eventually(t, func() bool { return viewOf(receivers[0]).spans+viewOf(receivers[1]).spans > 0 }, 5*time.Second, 10*time.Millisecond)
	// .3's share waits in its queue (on_endpoint_failure: wait) until .3
	// leaves the DNS answer; then it goes where the ring puts it now.
	mu.Lock()
	addrs = addrs[:2]
	mu.Unlock()
	require.Eventually(t, func() bool { return len(r.ringEndpoints()) == 2 }, 5*time.Second, 10*time.Millisecond)
	require.Eventually(t, func() bool {
		return viewOf(receivers[0]).spans+viewOf(receivers[1]).spans == 2*traces &&
			viewOf(receivers[0]).logs+viewOf(receivers[1]).logs == 2*traces+1
	}, 10*time.Second, 10*time.Millisecond, "the departed endpoint's share rerouted")
	require.NoError(t, r.Shutdown(context.Background()))
	assertFleet(t, receivers, traces, 1)
}

// freeLoopbackPort returns a port free on 127.0.0.1 and 127.0.0.2.
func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	for range 20 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		port := ln.Addr().(*net.TCPAddr).Port
		ln2, err := net.Listen("tcp", fmt.Sprintf("127.0.0.2:%d", port))
		ln.Close()
		if err == nil {
			ln2.Close()
			return port
		}
	}
	t.Fatal("no port free on both loopback addresses")
	return 0
}

// A gateway taken out of the ring as unreachable comes back after
// 'down_for' and gets its own traces again.
func TestRoutingEndpointRejoinsAfterDownFor(t *testing.T) {
	up := startFakeReceiver(t, "", nil)
	lateAddr := reserveAddr(t)
	late := "http://" + lateAddr
	cfg := withMemoryQueue(routingConfig(up.endpoint(), late))
	cfg.Routing.Get().OnEndpointFailure = EndpointFailureReroute
	cfg.Routing.Get().DownFor = 200 * time.Millisecond
	r := startRouter(t, cfg, nil)

	const traces = 100
	ctx := context.Background()
	require.NoError(t, r.consumeTraces(ctx, fleetTraces(1, seq(0, traces))))
	require.Eventually(t, func() bool { return viewOf(up).spans == 2*traces }, 10*time.Second, 10*time.Millisecond,
		"the unreachable gateway's traces rerouted to the live one")
	lateReceiver := startFakeReceiver(t, lateAddr, nil)
	require.Eventually(t, func() bool { return len(r.ringEndpoints()) == 2 }, 5*time.Second, 10*time.Millisecond,
		"the gateway back in the ring after down_for")
	require.NoError(t, r.consumeTraces(ctx, fleetTraces(2, seq(0, traces))))
	require.Eventually(t, func() bool { return viewOf(up).spans+viewOf(lateReceiver).spans == 4*traces }, 10*time.Second, 10*time.Millisecond)
	ring := newHashRing([]string{up.endpoint(), late})
	for tid := range viewOf(lateReceiver).spanTraces {
		require.Equal(t, late, ring.lookup(traceKey(tid)), "trace %s on the gateway that came back", tid)
	}
	assert.Positive(t, viewOf(lateReceiver).spans, "the gateway that came back gets its share")
}

// Pushes keep flowing while the fleet changes under them: nothing is lost
// and no trace is split, whatever endpoint set each push met.
func TestRoutingMembershipChangesUnderLoad(t *testing.T) {
	receivers := []*fakeReceiver{startFakeReceiver(t, "", nil), startFakeReceiver(t, "", nil), startFakeReceiver(t, "", nil)}
	path := filepath.Join(t.TempDir(), "gateways.txt")
	writeList := func(frs ...*fakeReceiver) {
		var b strings.Builder
		for _, fr := range frs {
			b.WriteString(fr.endpoint() + "\n")
		}
		require.NoError(t, os.WriteFile(path+".tmp", []byte(b.String()), 0o600))
		require.NoError(t, os.Rename(path+".tmp", path))
	}
	writeList(receivers...)
	cfg := withMemoryQueue(routingConfig())
	cfg.RetryConfig.MaxInterval = 20 * time.Millisecond
	rc := cfg.Routing.Get()
	rc.Resolver.Static = configoptional.None[StaticResolverConfig]()
	rc.Resolver.File = configoptional.Some(FileResolverConfig{Path: path, Interval: 5 * time.Millisecond})
	r := startRouter(t, cfg, nil)

	const pushes, perPush = 60, 20
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range pushes {
			// Each push carries whole traces of its own.
			assert.NoError(t, r.consumeTraces(context.Background(), fleetTraces(1, seq(i*perPush, (i+1)*perPush))))
			time.Sleep(2 * time.Millisecond)
		}
	})
	for i := range 12 {
		if i%2 == 0 {
			writeList(receivers[0], receivers[2])
		} else {
			writeList(receivers...)
		}
		time.Sleep(15 * time.Millisecond)
	}
	wg.Wait()
	require.Eventually(t, func() bool {
		total := 0
		for _, fr := range receivers {
			total += viewOf(fr).spans
		}
		return total == 2*pushes*perPush
	}, 10*time.Second, 10*time.Millisecond, "every span delivered")
	for n, fr := range receivers {
		for tid, c := range viewOf(fr).spanTraces {
			assert.Equal(t, 2, c, "trace %s at receiver %d", tid, n)
		}
	}
}
