package e2e

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// topology is an agent (otlpgo receiver → fused exporter, queued on
// file_storage) in front of a gateway (otlpgo receiver → file exporters).
// Both also write what they got to per-signal files, so the test compares
// what the agent received with what reached the gateway.
type topology struct {
	agent, gateway       *collectorProcess
	agentDir, gatewayDir string
	agentGRPC            string
	agentMetrics         string
	gatewayMetrics       string
}

func fileExporters(dir string) string {
	return fmt.Sprintf(`
  file/traces: {path: %[1]s/traces.json, append: true, flush_interval: 100ms}
  file/logs: {path: %[1]s/logs.json, append: true, flush_interval: 100ms}
  file/metrics: {path: %[1]s/metrics.json, append: true, flush_interval: 100ms}`, dir)
}

func telemetry(port int) string {
	return fmt.Sprintf(`
  telemetry:
    logs: {level: info}
    metrics:
      level: detailed
      readers:
        - pull:
            exporter:
              prometheus: {host: 127.0.0.1, port: %d}`, port)
}

func startTopology(t *testing.T) *topology {
	t.Helper()
	return startTopologyWith(t, "")
}

// startTopologyWith adds fusedExtra (YAML lines, each indented four
// spaces) to the agent's fused exporter.
func startTopologyWith(t *testing.T, fusedExtra string) *topology {
	t.Helper()
	top := &topology{agentDir: t.TempDir(), gatewayDir: t.TempDir()}
	fusedPort, gwHealth, gwMetrics := freePort(t), freePort(t), freePort(t)
	agentGRPC, agentHealth, agentMetrics := freePort(t), freePort(t), freePort(t)
	top.agentGRPC = fmt.Sprintf("127.0.0.1:%d", agentGRPC)
	top.agentMetrics = fmt.Sprintf("http://127.0.0.1:%d/metrics", agentMetrics)
	top.gatewayMetrics = fmt.Sprintf("http://127.0.0.1:%d/metrics", gwMetrics)

	gateway := fmt.Sprintf(`
extensions:
  health_check: {endpoint: 127.0.0.1:%d}
receivers:
  # The agent tier decided every item's tenant: the gateway keeps it.
  otlpgo:
    protocols:
      grpc: {endpoint: 127.0.0.1:%d}
      http: {endpoint: 127.0.0.1:%d}
    fused: {endpoint: 127.0.0.1:%d}
    tenant: {sources: [resource]}
exporters:
  debug: {verbosity: basic}%s
service:
  extensions: [health_check]
  pipelines:
    traces: {receivers: [otlpgo], exporters: [file/traces, debug]}
    logs: {receivers: [otlpgo], exporters: [file/logs, debug]}
    metrics: {receivers: [otlpgo], exporters: [file/metrics, debug]}%s
`, gwHealth, freePort(t), freePort(t), fusedPort, fileExporters(top.gatewayDir), telemetry(gwMetrics))

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
    endpoint: http://127.0.0.1:%d
    flush: {timeout: 200ms}
    sending_queue: {enabled: true, storage: file_storage, queue_size: 100000, sizer: items}
    retry_on_failure: {enabled: true, initial_interval: 100ms, max_interval: 1s, max_elapsed_time: 0}%s%s
service:
  extensions: [health_check, file_storage]
  pipelines:
    traces: {receivers: [otlpgo], exporters: [fused, file/traces]}
    logs: {receivers: [otlpgo], exporters: [fused, file/logs]}
    metrics: {receivers: [otlpgo], exporters: [fused, file/metrics]}%s
`, agentHealth, filepath.Join(top.agentDir), agentGRPC, freePort(t), fusedPort, fusedExtra, fileExporters(top.agentDir), telemetry(agentMetrics))

	top.gateway = startCollector(t, "gateway", writeConfig(t, "gateway", gateway), gwHealth)
	top.agent = startCollector(t, "agent", writeConfig(t, "agent", agent), agentHealth)
	return top
}

// waitConverged waits until the gateway holds every item the agent got.
func (top *topology) waitConverged(t *testing.T, wantSpans, wantLogs int) {
	t.Helper()
	waitFor(t, 90*time.Second, "the gateway to receive everything the agent received", func() bool {
		at, al, am := collected(t, top.agentDir)
		gt, gl, gm := collected(t, top.gatewayDir)
		return at.total() == wantSpans && al.total() == wantLogs &&
			gt.total() >= at.total() && gl.total() >= al.total() && gm.total() >= am.total() && am.total() > 0
	})
}

func assertSameItems(t *testing.T, name string, agent, gateway itemSet) {
	t.Helper()
	missing := 0
	for k, c := range agent {
		if gateway[k] < c {
			missing += c - gateway[k]
		}
	}
	extra := 0
	for k, c := range gateway {
		if agent[k] == 0 {
			extra += c
		}
	}
	assert.Zero(t, missing, "%s lost between agent and gateway", name)
	assert.Zero(t, extra, "%s at the gateway that the agent never got", name)
	assert.Zero(t, gateway.duplicates(agent), "%s duplicated at the gateway", name)
	assert.Equal(t, agent.total(), gateway.total(), "%s count", name)
}

// OpenTelemetry Go SDK traffic for all three signals goes agent → fused →
// gateway and arrives complete and equal, one fused request per flush.
func TestAgentToGatewayOverFusedProtocol(t *testing.T) {
	top := startTopology(t)
	app := newSDKApp(t, "checkout", top.agentGRPC)
	const requests = 500
	for i := range requests {
		app.handleRequest(i)
	}
	app.flush(t)
	app.shutdown(t)

	top.waitConverged(t, 2*requests, 2*requests)
	at, al, am := collected(t, top.agentDir)
	gt, gl, gm := collected(t, top.gatewayDir)
	require.Equal(t, 2*requests, at.total(), "spans the SDK sent")
	require.Equal(t, 2*requests, al.total(), "logs the SDK sent")
	// 7 routes × 5 instruments, one delta collection.
	require.Equal(t, 35, am.total(), "metric points the SDK sent")
	assertSameItems(t, "spans", at, gt)
	assertSameItems(t, "logs", al, gl)
	assertSameItems(t, "metric points", am, gm)

	// Every flush of the agent's fused exporter is one request at the gateway.
	flushes := scrapeMetric(t, top.agentMetrics, "otelcol_exporter_fused_flushes")
	sent := scrapeMetric(t, top.agentMetrics, "otelcol_exporter_fused_requests")
	received := scrapeMetric(t, top.gatewayMetrics, "otelcol_otlpgo_receiver_frames")
	signalsCarried := scrapeMetric(t, top.agentMetrics, "otelcol_exporter_fused_request_items_count")
	t.Logf("flushes=%v requests=%v frames=%v (request, signal) pairs=%v", flushes, sent, received, signalsCarried)
	assert.Positive(t, flushes)
	assert.Equal(t, flushes, sent, "fused requests sent by the agent per flush")
	assert.Equal(t, sent, received, "fused requests sent by the agent and frames received by the gateway")
}

// Stopping the gateway for 10 s under load loses nothing (the agent's queue is
// on file_storage) and duplicates nothing that was acknowledged.
func TestGatewayOutageLosesNothing(t *testing.T) {
	gatewayOutage(t, startTopology(t))
}

// gatewayOutage stops the gateway for 10 s under load, then checks that the
// gateway holds exactly what the agent got.
func gatewayOutage(t *testing.T, top *topology) {
	t.Helper()
	app := newSDKApp(t, "payment", top.agentGRPC)

	const requests = 2000
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		// About 100 requests/s for 20 s, so the outage falls mid-stream.
		for i := range requests {
			app.handleRequest(i)
			time.Sleep(10 * time.Millisecond)
		}
	}()
	time.Sleep(3 * time.Second)
	require.NoError(t, top.gateway.stop(), "gateway stops cleanly")
	time.Sleep(10 * time.Second)
	top.gateway.start()
	wg.Wait()
	app.flush(t)
	app.shutdown(t)

	top.waitConverged(t, 2*requests, 2*requests)
	at, al, am := collected(t, top.agentDir)
	gt, gl, gm := collected(t, top.gatewayDir)
	failed := scrapeMetric(t, top.agentMetrics, "otelcol_exporter_fused_requests", `outcome="failed"`)
	assert.Positive(t, failed, "the outage fell mid-stream: sends failed and were retried from the queue")
	assertSameItems(t, "spans", at, gt)
	assertSameItems(t, "logs", al, gl)
	assertSameItems(t, "metric points", am, gm)
}
