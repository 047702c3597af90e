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
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// The durability tests send OTLP/gRPC for a while, kill -9 a collector under
// that load, restart it on the same disk and check that every span a client
// was told OK about is in the store. The figures of issue 11: 4 clients, one
// Export of 200 spans per call, the kill after 6 s, 3 rounds.
const (
	durabilityClients     = 4
	durabilitySpansPer    = 200
	durabilityLoad        = 6 * time.Second
	durabilityRounds      = 3
	durabilityCallTimeout = 10 * time.Second
	// durabilityMaxCalls bounds each client's loop in count, besides time.
	durabilityMaxCalls = 20000
	// tracePage is the rows of one page of the per-call listing, well under
	// the query API's max_rows and max_response_bytes.
	tracePage = 5000
)

// defaultConfigPath is the config `make run` starts.
const defaultConfigPath = "../distro/config.yaml"

// defaultEndpoints are the loopback ports of distro/config.yaml, each moved
// to a free port so the test runs beside `make run`.
type defaultEndpoints struct {
	grpc, query, health, metrics int
}

// defaultConfig is distro/config.yaml as `make run` starts it, with only the
// ports moved; the data directory comes from OTELFUSION_DATA_DIR, which the
// caller sets. edit, when not nil, changes the text further (a gateway's
// tenant section) and must change it.
func defaultConfig(t *testing.T, edit func(string) string) (yaml string, ports defaultEndpoints) {
	t.Helper()
	raw, err := os.ReadFile(defaultConfigPath)
	require.NoError(t, err)
	text := string(raw)
	require.Contains(t, text, "${env:OTELFUSION_DATA_DIR", "the default config's data directory follows OTELFUSION_DATA_DIR")

	ports = defaultEndpoints{grpc: freePort(t), query: freePort(t), health: freePort(t), metrics: freePort(t)}
	loopback := func(port int) string { return fmt.Sprintf("127.0.0.1:%d", port) }
	// One pass, so a new port never matches an old one (43170 after 4317).
	text = strings.NewReplacer(
		"127.0.0.1:4317", loopback(ports.grpc),
		"127.0.0.1:4318", loopback(freePort(t)),
		"127.0.0.1:4319", loopback(freePort(t)),
		"127.0.0.1:4320", loopback(ports.query),
		"127.0.0.1:13133", loopback(ports.health),
		"127.0.0.1:1777", loopback(freePort(t)),
		"127.0.0.1:55679", loopback(freePort(t)),
		"port: 8888", fmt.Sprintf("port: %d", ports.metrics),
	).Replace(text)
	left := regexp.MustCompile(`127\.0\.0\.1:(4317|4318|4319|4320|13133|1777|55679)\b|port: 8888\b`).FindString(text)
	require.Empty(t, left, "a default port the test did not move")
	if edit != nil {
		edited := edit(text)
		require.NotEqual(t, text, edited, "the edit of the default config found nothing to change")
		text = edited
	}
	return text, ports
}

// traceIDHex is the store's text of the trace id of the Export call whose
// first span counter is first, in round.
func traceIDHex(round byte, first uint64) string {
	return fmt.Sprintf("d0%02x%012x%016x", round, 0, first)
}

// durabilitySpans is the spans of one Export call: one trace whose id holds
// round and first (see traceIDHex), n spans whose ids hold round and the
// counters first, first+1, ...: unique across the test.
func durabilitySpans(round byte, first uint64, n int) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "durability")
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	spans.EnsureCapacity(n)
	now := time.Now()
	var traceID pcommon.TraceID
	traceID[0], traceID[1] = 0xd0, round
	binary.BigEndian.PutUint64(traceID[8:], first)
	for i := range n {
		var spanID pcommon.SpanID
		binary.BigEndian.PutUint64(spanID[:], first+uint64(i))
		spanID[0] = round
		s := spans.AppendEmpty()
		s.SetName("durable")
		s.SetTraceID(traceID)
		s.SetSpanID(spanID)
		s.SetStartTimestamp(pcommon.NewTimestampFromTime(now.Add(-time.Millisecond)))
		s.SetEndTimestamp(pcommon.NewTimestampFromTime(now))
	}
	return td
}

// ackedLoad is what the clients of one round sent and were told OK about.
type ackedLoad struct {
	sent       int
	ackedCalls map[uint64]bool // the first span counter of each call answered OK
}

// sendUntilKill runs durabilityClients OTLP/gRPC clients against endpoint for
// durabilityLoad, then calls kill while they are still sending, stops them and
// returns what was acknowledged. A span counts as acknowledged only when the
// Export call that carried it returned OK.
func sendUntilKill(t *testing.T, endpoint string, round byte, kill func()) ackedLoad {
	t.Helper()
	conn, err := grpc.NewClient(endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	client := ptraceotlp.NewGRPCClient(conn)

	var (
		stop     atomic.Bool
		next     atomic.Uint64
		sent     atomic.Int64
		mu       sync.Mutex
		ackFirst []uint64 // first counter of each call answered OK
		wg       sync.WaitGroup
	)
	next.Store(1)
	deadline := time.Now().Add(durabilityLoad + time.Minute)
	for range durabilityClients {
		wg.Go(func() {
			for calls := 0; calls < durabilityMaxCalls && !stop.Load() && time.Now().Before(deadline); calls++ {
				first := next.Add(durabilitySpansPer) - durabilitySpansPer
				req := ptraceotlp.NewExportRequestFromTraces(durabilitySpans(round, first, durabilitySpansPer))
				ctx, cancel := context.WithTimeout(context.Background(), durabilityCallTimeout)
				_, err := client.Export(ctx, req)
				cancel()
				sent.Add(durabilitySpansPer)
				if err != nil {
					// Refused (queue full, memory limiter) or the collector is
					// gone: not acknowledged; back off a little.
					time.Sleep(20 * time.Millisecond)
					continue
				}
				mu.Lock()
				ackFirst = append(ackFirst, first)
				mu.Unlock()
			}
		})
	}
	time.Sleep(durabilityLoad)
	kill() // SIGKILL while the clients still have calls in flight
	stop.Store(true)
	wg.Wait()

	load := ackedLoad{sent: int(sent.Load()), ackedCalls: make(map[uint64]bool, len(ackFirst))}
	for _, first := range ackFirst {
		load.ackedCalls[first] = true
	}
	return load
}

// waitStoreSettled waits until no fused or fusionstore exporter queue in queueMetrics holds
// anything and the store's span count has not changed for two polls a second
// apart; it returns that count.
func waitStoreSettled(t *testing.T, queryURL string, queueMetrics ...string) int {
	t.Helper()
	last, same := -2, 0
	waitFor(t, 90*time.Second, "the queues to drain into the store", func() bool {
		queued := 0.0
		for _, url := range queueMetrics {
			queued += scrapeMetric(t, url, "otelcol_exporter_queue_size", `exporter="fused"`) +
				scrapeMetric(t, url, "otelcol_exporter_queue_size", `exporter="fusionstore"`)
		}
		count := countRows(t, queryURL, "traces", "default")
		if queued == 0 && count >= 0 && count == last {
			same++
		} else {
			same = 0
		}
		last = count
		time.Sleep(800 * time.Millisecond)
		return same >= 2
	})
	return last
}

// underLoad tells, from the collector's own metrics just before a kill, that
// the kill falls mid-stream: rows being written, a queue not empty.
func underLoad(t *testing.T, metricsURL string) string {
	t.Helper()
	return fmt.Sprintf("the store had written %.0f span rows in this run and the fusionstore queue held %.0f spans",
		scrapeMetric(t, metricsURL, "otelcol_fusionstore_rows", `table="traces"`),
		scrapeMetric(t, metricsURL, "otelcol_exporter_queue_size", `exporter="fusionstore"`, `data_type="traces"`))
}

// callCopies is what the store holds of one Export call's spans.
type callCopies struct{ rows, distinct int }

// storedCalls lists, per Export call of round (one trace id per call), the
// rows stored and the distinct span ids among them, page by page.
func storedCalls(t *testing.T, queryURL string, round byte) map[uint64]callCopies {
	t.Helper()
	calls := map[uint64]callCopies{}
	after, end := traceIDHex(round, 0), traceIDHex(round+1, 0)
	for page := 0; ; page++ {
		require.Less(t, page, 100, "trace id pages")
		status, _, rows := queryStore(t, queryURL, "default", fmt.Sprintf(
			"SELECT trace_id, COUNT(*) AS n, COUNT(DISTINCT span_id) AS d FROM traces WHERE trace_id > '%s' AND trace_id < '%s' GROUP BY trace_id ORDER BY trace_id LIMIT %d",
			after, end, tracePage))
		require.Equal(t, http.StatusOK, status, "listing the stored calls")
		for _, row := range rows {
			id := row[0].(string)
			var first uint64
			_, err := fmt.Sscanf(id[16:], "%x", &first)
			require.NoError(t, err, "trace id %q", id)
			calls[first] = callCopies{rows: int(row[1].(float64)), distinct: int(row[2].(float64))}
			after = id
		}
		if len(rows) < tracePage {
			return calls
		}
	}
}

// roundFigures is one round's tally, logged by both tests.
type roundFigures struct {
	sent, acked, stored, storedIDs, lost, duplicates int
}

func tally(load ackedLoad, calls map[uint64]callCopies) roundFigures {
	f := roundFigures{sent: load.sent, acked: len(load.ackedCalls) * durabilitySpansPer}
	for first := range load.ackedCalls {
		f.lost += durabilitySpansPer - calls[first].distinct
	}
	for _, c := range calls {
		f.stored += c.rows
		f.storedIDs += c.distinct
		f.duplicates += c.rows - c.distinct
	}
	return f
}

func (f roundFigures) String() string {
	return fmt.Sprintf("sent %d spans, acknowledged %d, stored %d rows (%d distinct), lost %d acknowledged, duplicates %d",
		f.sent, f.acked, f.stored, f.storedIDs, f.lost, f.duplicates)
}

// TestKill9DefaultConfig: the collector on distro/config.yaml's pipelines,
// loaded by 4 OTLP/gRPC clients, killed -9 after 6 s and restarted on the
// same data directory, 3 times. Every span the collector answered OK for is
// in the store afterwards. Spans the queue had handed to the store but not
// yet marked done when the kill came are written again on restart: those
// duplicates are logged, not asserted.
func TestKill9DefaultConfig(t *testing.T) {
	kill9DefaultConfig(t, "default-kill9", nil, durabilityRounds)
}

// TestKill9DefaultConfigDedupSpans is TestKill9DefaultConfig with
// dedup_spans on in the store, over 2 rounds: the batch replayed after the
// kill adds no row, so the store holds every acknowledged span exactly once.
func TestKill9DefaultConfigDedupSpans(t *testing.T) {
	dedup := func(text string) string {
		return strings.Replace(text, "  fusionstore:\n    path: ${env:OTELFUSION_DATA_DIR:-./data}/fusion.duckdb\n",
			"  fusionstore:\n    path: ${env:OTELFUSION_DATA_DIR:-./data}/fusion.duckdb\n    dedup_spans: true\n", 1)
	}
	for round, f := range kill9DefaultConfig(t, "default-kill9-dedup", dedup, 2) {
		assert.Zero(t, f.duplicates, "round %d: duplicate spans in the store with dedup_spans", round+1)
	}
}

// kill9DefaultConfig runs rounds of load, kill -9 and restart on the default
// config changed by edit (nil: unchanged), asserts that no acknowledged
// span is lost, and returns each round's figures.
func kill9DefaultConfig(t *testing.T, name string, edit func(string) string, rounds byte) []roundFigures {
	t.Helper()
	t.Setenv("OTELFUSION_DATA_DIR", t.TempDir())
	yaml, ports := defaultConfig(t, edit)
	collector := startCollector(t, name, writeConfig(t, name, yaml), ports.health)
	queryURL := fmt.Sprintf("http://127.0.0.1:%d/v1/query", ports.query)
	metricsURL := fmt.Sprintf("http://127.0.0.1:%d/metrics", ports.metrics)
	grpcEndpoint := fmt.Sprintf("127.0.0.1:%d", ports.grpc)

	figures := make([]roundFigures, 0, rounds)
	for round := byte(1); round <= rounds; round++ {
		var atKill string
		load := sendUntilKill(t, grpcEndpoint, round, func() {
			atKill = underLoad(t, metricsURL)
			collector.kill()
		})
		require.NotEmpty(t, load.ackedCalls, "round %d: the collector acknowledged something before the kill", round)
		restarted := time.Now()
		collector.start()
		total := waitStoreSettled(t, queryURL, metricsURL)
		settled := time.Since(restarted)
		f := tally(load, storedCalls(t, queryURL, round))
		figures = append(figures, f)
		t.Logf("round %d: %v; at the kill %s; restarted and settled in %v, store holds %d spans in all",
			round, f, atKill, settled.Round(100*time.Millisecond), total)
		assert.Zero(t, f.lost, "round %d: acknowledged spans missing from the store after kill -9 and restart", round)
	}
	// A later kill takes nothing from an earlier round.
	for i, f := range figures {
		round := byte(i + 1)
		status, _, rows := queryStore(t, queryURL, "default", fmt.Sprintf(
			"SELECT COUNT(*) FROM traces WHERE trace_id > '%s' AND trace_id < '%s'", traceIDHex(round, 0), traceIDHex(round+1, 0)))
		require.Equal(t, http.StatusOK, status)
		require.Len(t, rows, 1)
		assert.GreaterOrEqual(t, int(rows[0][0].(float64)), f.stored, "round %d's rows after the later kills", round)
	}
	assert.NoError(t, collector.stop(), "a clean exit on SIGINT after the kills")
	return figures
}

// TestKill9Gateway: clients send to an agent whose fused exporter queues on
// file_storage; the agent forwards to a gateway on the default config's
// pipelines (its otlpgo receiver trusting the agent's tenant). The gateway is
// killed -9 under load and restarted on the same data directory, 3 times.
// Every span the agent acknowledged reaches the gateway's store.
func TestKill9Gateway(t *testing.T) {
	t.Setenv("OTELFUSION_DATA_DIR", t.TempDir())
	var gatewayFused int
	yaml, gw := defaultConfig(t, func(text string) string {
		// The agent decided each item's tenant; the gateway keeps it.
		return strings.Replace(text, "receivers:\n  otlpgo:\n", "receivers:\n  otlpgo:\n    tenant: {sources: [resource]}\n", 1)
	})
	m := regexp.MustCompile(`fused:\n\s+endpoint: 127\.0\.0\.1:(\d+)`).FindStringSubmatch(yaml)
	require.NotNil(t, m, "the default config's fused receiver endpoint")
	_, err := fmt.Sscanf(m[1], "%d", &gatewayFused)
	require.NoError(t, err)
	gateway := startCollector(t, "gateway-kill9", writeConfig(t, "gateway-kill9", yaml), gw.health)

	agentGRPC, agentHealth, agentMetrics := freePort(t), freePort(t), freePort(t)
	agentConfig := fmt.Sprintf(`
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
    endpoint: http://127.0.0.1:%d
    flush: {timeout: 200ms}
    sending_queue: {enabled: true, storage: file_storage, queue_size: 1000000, sizer: items}
    retry_on_failure: {enabled: true, initial_interval: 100ms, max_interval: 1s, max_elapsed_time: 0}
service:
  extensions: [health_check, file_storage]
  pipelines:
    traces: {receivers: [otlpgo], exporters: [fused]}%s
`, agentHealth, filepath.ToSlash(t.TempDir()), agentGRPC, freePort(t), gatewayFused, telemetry(agentMetrics))
	startCollector(t, "agent", writeConfig(t, "agent", agentConfig), agentHealth)

	queryURL := fmt.Sprintf("http://127.0.0.1:%d/v1/query", gw.query)
	queues := []string{
		fmt.Sprintf("http://127.0.0.1:%d/metrics", agentMetrics),
		fmt.Sprintf("http://127.0.0.1:%d/metrics", gw.metrics),
	}
	for round := byte(1); round <= durabilityRounds; round++ {
		var atKill string
		load := sendUntilKill(t, fmt.Sprintf("127.0.0.1:%d", agentGRPC), round, func() {
			atKill = underLoad(t, queues[1])
			gateway.kill()
		})
		require.NotEmpty(t, load.ackedCalls, "round %d: the agent acknowledged something", round)
		restarted := time.Now()
		gateway.start()
		total := waitStoreSettled(t, queryURL, queues...)
		settled := time.Since(restarted)
		f := tally(load, storedCalls(t, queryURL, round))
		t.Logf("round %d: %v; at the gateway's kill %s; restarted and settled in %v, gateway store holds %d spans in all",
			round, f, atKill, settled.Round(100*time.Millisecond), total)
		assert.Zero(t, f.lost, "round %d: spans the agent acknowledged missing from the gateway's store", round)
	}
	assert.NoError(t, gateway.stop(), "the gateway exits cleanly on SIGINT after the kills")
}
