package e2e

import (
	"context"
	"encoding/binary"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// The routing fleet: one agent (OTLP in, the fused exporter routing by
// trace id over a file resolver) in front of gateways on the default
// config's pipelines (fusion processor, fusionstore), each with a store of
// its own. Traces are sent in rounds; a trace's id holds its round.
const (
	routingTracesPerCall = 25
	routingRoundTraces   = 1000 // rounds 1 and 2
	routingKillLoad      = 4 * time.Second
	routingPage          = 5000
)

// routingTraceID is trace i of round: the round in the upper half (the
// store is queried by round), i spread over the lower half (the ring key).
func routingTraceID(round byte, i int) pcommon.TraceID {
	var id pcommon.TraceID
	id[0], id[1] = 0xe1, round
	binary.BigEndian.PutUint64(id[8:], uint64(i+1)*0x9e3779b97f4a7c15)
	return id
}

// routingSpanID is span k of trace i of round; its operation name is
// routingOperation of it, so a log linked to it says which span it met.
func routingSpanID(round byte, i, k int) pcommon.SpanID {
	var id pcommon.SpanID
	id[0] = round
	binary.BigEndian.PutUint32(id[2:6], uint32(i))
	id[7] = byte(k + 1)
	return id
}

func routingOperation(spanIDHex string) string { return "op-" + spanIDHex }

// routingTraces: spans k and k+1 of each trace, from two services.
func routingTraces(round byte, traces []int, k int) ptrace.Traces {
	td := ptrace.NewTraces()
	now := time.Now()
	for n, svc := range []string{"cart", "payment"} {
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", svc)
		spans := rs.ScopeSpans().AppendEmpty().Spans()
		for _, i := range traces {
			s := spans.AppendEmpty()
			s.SetTraceID(routingTraceID(round, i))
			sid := routingSpanID(round, i, k+n)
			s.SetSpanID(sid)
			s.SetName(routingOperation(sid.String()))
			s.SetStartTimestamp(pcommon.NewTimestampFromTime(now.Add(-time.Millisecond)))
			s.SetEndTimestamp(pcommon.NewTimestampFromTime(now))
		}
	}
	return td
}

// routingLogs: two logs per trace pointing at span k, their trace context
// only in attributes: one as trace_id/span_id, one as a W3C traceparent.
func routingLogs(round byte, traces []int, k int) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "cart")
	records := rl.ScopeLogs().AppendEmpty().LogRecords()
	now := pcommon.NewTimestampFromTime(time.Now())
	for _, i := range traces {
		tid, sid := routingTraceID(round, i), routingSpanID(round, i, k)
		a := records.AppendEmpty()
		a.SetTimestamp(now)
		a.Body().SetStr("charged")
		a.Attributes().PutStr("trace_id", tid.String())
		a.Attributes().PutStr("span_id", sid.String())
		b := records.AppendEmpty()
		b.SetTimestamp(now)
		b.Body().SetStr("receipt sent")
		b.Attributes().PutStr("traceparent", "00-"+tid.String()+"-"+sid.String()+"-01")
	}
	return ld
}

// routingClient sends spans then their logs, one call each, to the agent.
type routingClient struct {
	traces ptraceotlp.GRPCClient
	logs   plogotlp.GRPCClient
}

func newRoutingClient(t *testing.T, endpoint string) *routingClient {
	t.Helper()
	conn, err := grpc.NewClient(endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return &routingClient{traces: ptraceotlp.NewGRPCClient(conn), logs: plogotlp.NewGRPCClient(conn)}
}

// send sends the spans (k, k+1) and logs (of span k) of traces; it reports
// whether each call was acknowledged.
func (c *routingClient) send(round byte, traces []int, k int) (spansOK, logsOK bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := c.traces.Export(ctx, ptraceotlp.NewExportRequestFromTraces(routingTraces(round, traces, k)))
	spansOK = err == nil
	_, err = c.logs.Export(ctx, plogotlp.NewExportRequestFromLogs(routingLogs(round, traces, k)))
	return spansOK, err == nil
}

// routingGateway is one gateway of the fleet.
type routingGateway struct {
	proc     *collectorProcess
	fusedURL string
	queryURL string
	metrics  string
}

func startRoutingGateway(t *testing.T, name string) *routingGateway {
	t.Helper()
	dataDir := t.TempDir()
	yaml, ports := defaultConfig(t, func(text string) string {
		// The agent decided each item's tenant; the gateway keeps it.
		text = strings.Replace(text, "receivers:\n  otlpgo:\n", "receivers:\n  otlpgo:\n    tenant: {sources: [resource]}\n", 1)
		return strings.ReplaceAll(text, "${env:OTELFUSION_DATA_DIR:-./data}", filepath.ToSlash(dataDir))
	})
	m := regexp.MustCompile(`fused:\n\s+endpoint: (127\.0\.0\.1:\d+)`).FindStringSubmatch(yaml)
	require.NotNil(t, m, "the default config's fused receiver endpoint")
	return &routingGateway{
		proc:     startCollector(t, name, writeConfig(t, name, yaml), ports.health),
		fusedURL: "http://" + m[1],
		queryURL: fmt.Sprintf("http://127.0.0.1:%d/v1/query", ports.query),
		metrics:  fmt.Sprintf("http://127.0.0.1:%d/metrics", ports.metrics),
	}
}

// pageByTrace runs "SELECT columns FROM table WHERE <trace> >= x AND
// <trace> < y ORDER BY <trace> LIMIT routingPage" page by page over the
// traces of round: a full page is cut before its last trace, and the next
// page starts at that trace, so no trace is split or skipped.
func (g *routingGateway) pageByTrace(t *testing.T, table, traceColumn, columns string, round byte) [][]any {
	t.Helper()
	var out [][]any
	from, to := fmt.Sprintf("e1%02x", round), fmt.Sprintf("e1%02x", round+1)
	for page := 0; ; page++ {
		require.Less(t, page, 200, "pages of %s", table)
		status, _, rows := queryStore(t, g.queryURL, "default", fmt.Sprintf(
			"SELECT %s FROM %s WHERE %s >= '%s' AND %s < '%s' ORDER BY %s LIMIT %d",
			columns, table, traceColumn, from, traceColumn, to, traceColumn, routingPage))
		require.Equal(t, http.StatusOK, status, "listing the gateway's %s", table)
		if len(rows) < routingPage {
			return append(out, rows...)
		}
		last := rows[len(rows)-1][0].(string)
		require.NotEqual(t, from, last, "one trace fills a page of %s", table)
		for _, row := range rows {
			if row[0].(string) != last {
				out = append(out, row)
			}
		}
		from = last
	}
}

// spansByTrace lists the span ids the gateway stored for round, by trace.
func (g *routingGateway) spansByTrace(t *testing.T, round byte) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, row := range g.pageByTrace(t, "traces", "trace_id", "trace_id, span_id", round) {
		tid := row[0].(string)
		out[tid] = append(out[tid], row[1].(string))
	}
	return out
}

// storedLog is one log as a gateway stored it: the span it points at and
// the operation the fusion processor linked it to ("" when not linked).
type storedLog struct{ traceID, spanID, operation string }

func (g *routingGateway) logsOf(t *testing.T, round byte) []storedLog {
	t.Helper()
	rows := g.pageByTrace(t, "logs", "log.trace_id", "log.trace_id, log.span_id, log.attributes['fusion.operation']", round)
	out := make([]storedLog, 0, len(rows))
	for _, row := range rows {
		out = append(out, toStoredLog(row))
	}
	return out
}

func toStoredLog(row []any) storedLog {
	l := storedLog{traceID: row[0].(string), spanID: row[1].(string)}
	if op, ok := row[2].(string); ok {
		l.operation = op
	}
	return l
}

// routingFleet is the agent and its gateways.
type routingFleet struct {
	gateways     []*routingGateway
	endpoints    string // the agent's endpoints file
	agentGRPC    string
	agentMetrics string
}

func (f *routingFleet) setEndpoints(t *testing.T, gateways ...*routingGateway) {
	t.Helper()
	var b strings.Builder
	b.WriteString("# the gateways the agent routes to\n")
	for _, g := range gateways {
		b.WriteString(g.fusedURL + "\n")
	}
	// Written beside and renamed, so the agent never reads half a file.
	require.NoError(t, os.WriteFile(f.endpoints+".tmp", []byte(b.String()), 0o600))
	require.NoError(t, os.Rename(f.endpoints+".tmp", f.endpoints))
}

func startRoutingFleet(t *testing.T, gateways int) *routingFleet {
	t.Helper()
	f := &routingFleet{endpoints: filepath.Join(t.TempDir(), "gateways.txt")}
	for i := range gateways {
		f.gateways = append(f.gateways, startRoutingGateway(t, fmt.Sprintf("gateway-%d", i)))
	}
	f.setEndpoints(t, f.gateways[:3]...)
	agentGRPC, agentHealth, agentMetrics := freePort(t), freePort(t), freePort(t)
	f.agentGRPC = fmt.Sprintf("127.0.0.1:%d", agentGRPC)
	f.agentMetrics = fmt.Sprintf("http://127.0.0.1:%d/metrics", agentMetrics)
	agent := fmt.Sprintf(`
extensions:
  health_check: {endpoint: 127.0.0.1:%d}
  file_storage: {directory: %s}
receivers:
  otlpgo:
    protocols:
      grpc: {endpoint: 127.0.0.1:%d}
    fused: {endpoint: 127.0.0.1:%d}
exporters:
  fused:
    routing:
      resolver:
        file: {path: %s, interval: 200ms}
      on_endpoint_failure: reroute
      down_for: 3s
    flush: {timeout: 100ms}
    timeout: 5s
    sending_queue: {enabled: true, storage: file_storage, queue_size: 1000000, sizer: items}
    retry_on_failure: {enabled: true, initial_interval: 100ms, max_interval: 1s, max_elapsed_time: 0}
service:
  extensions: [health_check, file_storage]
  pipelines:
    traces: {receivers: [otlpgo], exporters: [fused]}
    logs: {receivers: [otlpgo], exporters: [fused]}%s
`, agentHealth, filepath.ToSlash(t.TempDir()), agentGRPC, freePort(t), filepath.ToSlash(f.endpoints), telemetry(agentMetrics))
	startCollector(t, "agent", writeConfig(t, "agent", agent), agentHealth)
	return f
}

// waitSettled waits until the agent's queues are empty and the gateways'
// stores hold want spans of round in all, and their counts stop moving.
func (f *routingFleet) waitSettled(t *testing.T, round byte, want func(stored int) bool) {
	t.Helper()
	last, same := -1, 0
	waitFor(t, 120*time.Second, fmt.Sprintf("round %d to settle in the gateways' stores", round), func() bool {
		queued := scrapeMetric(t, f.agentMetrics, "otelcol_exporter_queue_size")
		stored := 0
		for _, g := range f.gateways {
			if g.proc.cmd == nil {
				continue
			}
			queued += scrapeMetric(t, g.metrics, "otelcol_exporter_queue_size", `exporter="fusionstore"`)
			for _, spans := range g.spansByTrace(t, round) {
				stored += len(spans)
			}
		}
		if queued == 0 && want(stored) && stored == last {
			same++
		} else {
			same = 0
		}
		last = stored
		time.Sleep(500 * time.Millisecond)
		return same >= 2
	})
}

// owners maps each trace of round to the gateways holding its spans.
func (f *routingFleet) owners(t *testing.T, round byte) (owners map[string][]int, spans map[string]map[string]int) {
	t.Helper()
	owners, spans = map[string][]int{}, map[string]map[string]int{}
	for n, g := range f.gateways {
		for tid, ids := range g.spansByTrace(t, round) {
			owners[tid] = append(owners[tid], n)
			if spans[tid] == nil {
				spans[tid] = map[string]int{}
			}
			for _, sid := range ids {
				spans[tid][sid]++
			}
		}
	}
	return owners, spans
}

// linked counts the logs of round over the gateways, and those the fusion
// processor linked to the very span they name.
func (f *routingFleet) linked(t *testing.T, round byte) (logs, linked int) {
	t.Helper()
	for _, g := range f.gateways {
		for _, l := range g.logsOf(t, round) {
			logs++
			if l.operation == routingOperation(l.spanID) {
				linked++
			}
		}
	}
	return logs, linked
}

// TestRoutingFleet: an agent routes OTLP traffic over 3 gateways by trace
// id. Logs whose trace context is only in attributes meet their spans
// (>= 99% linked); a 4th gateway added to the agent's endpoints file while
// it runs takes at most 1/3 of the traces; a gateway killed -9 under load
// loses nothing the agent acknowledged.
func TestRoutingFleet(t *testing.T) {
	f := startRoutingFleet(t, 4)
	client := newRoutingClient(t, f.agentGRPC)
	waitFor(t, 30*time.Second, "the agent to route over 3 gateways", func() bool {
		return scrapeMetric(t, f.agentMetrics, "otelcol_exporter_fused_routing_endpoints") == 3
	})

	// Round 1: 1000 traces over 3 gateways.
	sendRound := func(round byte, k int) {
		for first := 0; first < routingRoundTraces; first += routingTracesPerCall {
			spansOK, logsOK := client.send(round, seq(first, first+routingTracesPerCall), k)
			require.True(t, spansOK && logsOK, "round %d call at trace %d acknowledged", round, first)
		}
	}
	sendRound(1, 0)
	f.waitSettled(t, 1, func(stored int) bool { return stored == 2*routingRoundTraces })
	owners1, spans1 := f.owners(t, 1)
	require.Len(t, owners1, routingRoundTraces, "round 1 traces stored")
	perGateway := make([]int, len(f.gateways))
	for tid, at := range owners1 {
		require.Len(t, at, 1, "trace %s on one gateway", tid)
		require.Len(t, spans1[tid], 2, "trace %s's spans", tid)
		perGateway[at[0]]++
	}
	t.Logf("round 1: %d traces, per gateway %v", len(owners1), perGateway)
	assert.Zero(t, perGateway[3], "the 4th gateway is not in the fleet yet")

	// Round 2: the 4th gateway joins through the endpoints file; then the
	// traces of round 1 go on (their later spans and logs) and fresh traces
	// of round 2 start.
	f.setEndpoints(t, f.gateways...)
	waitFor(t, 30*time.Second, "the agent to route over 4 gateways", func() bool {
		return scrapeMetric(t, f.agentMetrics, "otelcol_exporter_fused_routing_endpoints") == 4
	})
	for first := 0; first < routingRoundTraces; first += routingTracesPerCall {
		spansOK, logsOK := client.send(1, seq(first, first+routingTracesPerCall), 2)
		require.True(t, spansOK && logsOK, "round 1 continuation acknowledged")
	}
	sendRound(2, 0)
	f.waitSettled(t, 1, func(stored int) bool { return stored == 4*routingRoundTraces })
	f.waitSettled(t, 2, func(stored int) bool { return stored == 2*routingRoundTraces })
	owners1, spans1 = f.owners(t, 1)
	moved, movedElsewhere := 0, 0
	for tid, at := range owners1 {
		require.Len(t, spans1[tid], 4, "trace %s's spans after the continuation", tid)
		if len(at) > 1 {
			moved++
			if !(len(at) == 2 && at[1] == 3) {
				movedElsewhere++
			}
		}
	}
	owners2, _ := f.owners(t, 2)
	require.Len(t, owners2, routingRoundTraces, "round 2 traces stored")
	perGateway = make([]int, len(f.gateways))
	for tid, at := range owners2 {
		require.Len(t, at, 1, "trace %s on one gateway", tid)
		perGateway[at[0]]++
	}
	movedShare := float64(moved) / routingRoundTraces
	t.Logf("4th gateway added: %d of %d running traces (%.1f%%) moved off their gateway, %d of them elsewhere than the new one; "+
		"new traces per gateway %v (new gateway %.1f%%)",
		moved, routingRoundTraces, 100*movedShare, movedElsewhere, perGateway, 100*float64(perGateway[3])/routingRoundTraces)
	assert.LessOrEqual(t, movedShare, 1.0/3, "share of traces moved by adding a 4th gateway")
	assert.Zero(t, movedElsewhere, "traces moved to a gateway that did not join")
	assert.LessOrEqual(t, float64(perGateway[3])/routingRoundTraces, 1.0/3, "the new gateway's share of new traces")

	for _, round := range []byte{1, 2} {
		logs, linked := f.linked(t, round)
		want := 2 * routingRoundTraces
		if round == 1 {
			want *= 2 // the continuation's logs too
		}
		t.Logf("round %d: %d logs with trace context only in attributes, %d linked to the span they name (%.2f%%)",
			round, logs, linked, 100*float64(linked)/float64(max(logs, 1)))
		assert.Equal(t, want, logs, "round %d logs stored", round)
		assert.GreaterOrEqual(t, float64(linked), 0.99*float64(want), "round %d logs linked", round)
	}

	// Round 3: load while gateway 1 is killed -9; it stays down for a
	// while (the agent reroutes its share), then restarts on its data.
	var (
		stop       atomic.Bool
		mu         sync.Mutex
		ackedSpans = map[int]bool{}
		ackedLogs  = map[int]bool{}
		calls      int
		wg         sync.WaitGroup
	)
	wg.Go(func() {
		for first := 0; !stop.Load() && first < 200_000; first += routingTracesPerCall {
			traces := seq(first, first+routingTracesPerCall)
			spansOK, logsOK := client.send(3, traces, 0)
			mu.Lock()
			calls++
			for _, i := range traces {
				if spansOK {
					ackedSpans[i] = true
				}
				if logsOK {
					ackedLogs[i] = true
				}
			}
			mu.Unlock()
			time.Sleep(20 * time.Millisecond)
		}
	})
	time.Sleep(routingKillLoad / 2)
	killed := f.gateways[1]
	atKill := underLoad(t, killed.metrics)
	killed.proc.kill()
	time.Sleep(routingKillLoad)
	stop.Store(true)
	wg.Wait()
	rerouted := scrapeMetric(t, f.agentMetrics, "otelcol_exporter_fused_rerouted_items")
	killed.proc.start()
	f.waitSettled(t, 3, func(stored int) bool { return stored >= 2*len(ackedSpans) })

	_, spans3 := f.owners(t, 3)
	lostSpans, dupSpans, storedSpans := 0, 0, 0
	for i := range ackedSpans {
		got := spans3[routingTraceID(3, i).String()]
		for k := range 2 {
			if got[routingSpanID(3, i, k).String()] == 0 {
				lostSpans++
			}
		}
	}
	for _, ids := range spans3 {
		for _, c := range ids {
			storedSpans += c
			dupSpans += c - 1
		}
	}
	logsPerTrace := map[string]int{}
	storedLogs := 0
	for _, g := range f.gateways {
		for _, l := range g.logsOf(t, 3) {
			logsPerTrace[l.traceID]++
			storedLogs++
		}
	}
	lostLogs := 0
	for i := range ackedLogs {
		if n := logsPerTrace[routingTraceID(3, i).String()]; n < 2 {
			lostLogs += 2 - n
		}
	}
	t.Logf("gateway kill: %d calls, %d spans and %d logs acknowledged; at the kill %s; agent rerouted %.0f items; "+
		"stored %d spans and %d logs; lost %d spans and %d logs; %d duplicate spans (at-least-once)",
		calls, 2*len(ackedSpans), 2*len(ackedLogs), atKill, rerouted, storedSpans, storedLogs, lostSpans, lostLogs, dupSpans)
	assert.Positive(t, rerouted, "the killed gateway's share was rerouted")
	assert.Zero(t, lostSpans, "acknowledged spans lost")
	assert.Zero(t, lostLogs, "acknowledged logs lost")
}

func seq(from, to int) []int {
	out := make([]int, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}
