package e2e

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
)

// logBackend is a test-owned OTLP/HTTP logs endpoint counting each log
// record body it receives.
type logBackend struct {
	mu   sync.Mutex
	seen map[string]int
	// refusing makes the backend answer 503, so the exporter's replicated
	// queue builds a backlog.
	refusing atomic.Bool
}

func (b *logBackend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if b.refusing.Load() {
		http.Error(w, "backend paused", http.StatusServiceUnavailable)
		return
	}
	var reader io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		gz, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		reader = gz
	}
	body, err := io.ReadAll(reader)
	req := plogotlp.NewExportRequest()
	if err == nil {
		err = req.UnmarshalProto(body)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	b.mu.Lock()
	rls := req.Logs().ResourceLogs()
	for i := range rls.Len() {
		sls := rls.At(i).ScopeLogs()
		for j := range sls.Len() {
			lrs := sls.At(j).LogRecords()
			for k := range lrs.Len() {
				b.seen[lrs.At(k).Body().Str()]++
			}
		}
	}
	b.mu.Unlock()
	resp, _ := plogotlp.NewExportResponse().MarshalProto()
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(resp)
}

// missing returns the acknowledged bodies the backend has not seen, and
// the number of extra copies it got.
func (b *logBackend) missing(acked []string) (missing []string, duplicates int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, id := range acked {
		if b.seen[id] == 0 {
			missing = append(missing, id)
		}
	}
	for _, c := range b.seen {
		duplicates += max(c-1, 0)
	}
	return missing, duplicates
}

// raftNode is one otelcol-fusion of the cluster.
type raftNode struct {
	proc       *collectorProcess
	otlpURL    string
	metricsURL string
	healthURL  string
}

// healthStatus is the node's health_check answer (0 when unreachable).
func (n *raftNode) healthStatus() int {
	resp, err := http.Get(n.healthURL)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// launch starts the process without waiting for health: a follower stays
// not ready (its pipelines wait for leadership).
func launch(t *testing.T, name, configPath string) *collectorProcess {
	t.Helper()
	p := &collectorProcess{t: t, name: name, configPath: configPath, logPath: filepath.Join(t.TempDir(), name+".log")}
	logFile, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	require.NoError(t, err)
	p.cmd = exec.Command(collectorBinary, "--config", configPath)
	p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
	p.cmd.Env = append(os.Environ(), "GOMAXPROCS=2")
	require.NoError(t, p.cmd.Start())
	p.exited = make(chan error, 1)
	go func() {
		p.exited <- p.cmd.Wait()
		logFile.Close()
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			p.dumpLog()
		}
	})
	return p
}

// isLeader scrapes the node's raftwal role metric.
func (n *raftNode) isLeader() bool {
	resp, err := http.Get(n.metricsURL)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "otelcol_raftwal_role{") && strings.Contains(line, `role="leader"`) {
			return strings.HasSuffix(strings.TrimSpace(line), " 1")
		}
	}
	return false
}

func startRaftCluster(t *testing.T, backendURL string) []*raftNode {
	t.Helper()
	const n = 3
	raftPorts := make([]int, n)
	var peers []string
	for i := range raftPorts {
		raftPorts[i] = freePort(t)
		peers = append(peers, fmt.Sprintf("{id: n%d, address: 127.0.0.1:%d}", i, raftPorts[i]))
	}
	nodes := make([]*raftNode, n)
	for i := range nodes {
		otlpPort, metricsPort, healthPort := freePort(t), freePort(t), freePort(t)
		cfg := fmt.Sprintf(`
extensions:
  health_check: {endpoint: 127.0.0.1:%d}
  raftwal:
    directory: %s
    node_id: n%d
    bind_address: 127.0.0.1:%d
    peers: [%s]
    heartbeat_timeout: 300ms
    election_timeout: 300ms
    leader_lease_timeout: 150ms
receivers:
  otlp:
    protocols:
      http: {endpoint: 127.0.0.1:%d}
exporters:
  otlp_http:
    endpoint: %s
    sending_queue: {enabled: true, storage: raftwal, queue_size: 100000, sizer: items}
    retry_on_failure: {enabled: true, initial_interval: 100ms, max_interval: 1s, max_elapsed_time: 0}
service:
  extensions: [health_check, raftwal]
  pipelines:
    logs: {receivers: [otlp], exporters: [otlp_http]}%s
`, healthPort, t.TempDir(), i, raftPorts[i], strings.Join(peers, ", "), otlpPort, backendURL, telemetry(metricsPort))
		name := fmt.Sprintf("raft-n%d", i)
		nodes[i] = &raftNode{
			proc:       launch(t, name, writeConfig(t, name, cfg)),
			otlpURL:    fmt.Sprintf("http://127.0.0.1:%d/v1/logs", otlpPort),
			metricsURL: fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort),
			healthURL:  fmt.Sprintf("http://127.0.0.1:%d/", healthPort),
		}
	}
	return nodes
}

// findLeader returns the index of a live node reporting itself leader, or -1.
func findLeader(nodes []*raftNode) int {
	for i, n := range nodes {
		if n.proc.cmd != nil && n.isLeader() {
			return i
		}
	}
	return -1
}

// logBatch is an OTLP/HTTP protobuf body of records with the given bodies.
func logBatch(t *testing.T, bodies []string) []byte {
	t.Helper()
	ld := plog.NewLogs()
	lrs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	for _, b := range bodies {
		lrs.AppendEmpty().Body().SetStr(b)
	}
	data, err := plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
	require.NoError(t, err)
	return data
}

// TestRaftWALFailoverLosesNothingAcknowledged runs three collectors whose
// exporter queues live in one raftwal cluster, loads the leader, kills it
// with SIGKILL mid-stream, and checks that a new leader takes over within
// 5s and that every acknowledged record reaches the backend. The backend
// refuses for a while before the kill, so the new leader must deliver a
// backlog it only knows from the replicated queue.
func TestRaftWALFailoverLosesNothingAcknowledged(t *testing.T) {
	backend := &logBackend{seen: map[string]int{}}
	server := httptest.NewServer(backend)
	defer server.Close()
	nodes := startRaftCluster(t, server.URL)

	leader := -1
	waitFor(t, 60*time.Second, "a raftwal leader", func() bool { leader = findLeader(nodes); return leader >= 0 })
	t.Logf("leader is n%d", leader)
	// Health: the leader is ready once its pipelines start; a follower's
	// pipelines wait for leadership, so it stays not ready.
	waitFor(t, 10*time.Second, "leader healthy", func() bool { return nodes[leader].healthStatus() == http.StatusOK })
	for i, n := range nodes {
		if i != leader {
			require.Equal(t, http.StatusServiceUnavailable, n.healthStatus(), "follower n%d not ready", i)
		}
	}

	// Four clients send concurrently, so requests are in flight when the
	// leader dies. A batch counts as acknowledged when the receiver said 200;
	// anything else is retried (at whatever node leads then).
	const perBatch, totalBatches, senders = 20, 400, 4
	var (
		mu        sync.Mutex
		acked     []string
		target    atomic.Int32
		nextBatch atomic.Int64
		wg        sync.WaitGroup
	)
	target.Store(int32(leader))
	ackedCount := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
	urls := make([]string, len(nodes))
	for i, n := range nodes {
		urls[i] = n.otlpURL
	}
	deadline := time.Now().Add(90 * time.Second)
	client := &http.Client{Timeout: 5 * time.Second}
	for range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				batch := nextBatch.Add(1) - 1
				if batch >= totalBatches {
					return
				}
				bodies := make([]string, perBatch)
				for i := range bodies {
					bodies[i] = fmt.Sprintf("rec-%d-%d", batch, i)
				}
				for time.Now().Before(deadline) {
					tg := target.Load()
					if tg < 0 {
						time.Sleep(20 * time.Millisecond)
						continue
					}
					resp, err := client.Post(urls[tg], "application/x-protobuf", bytes.NewReader(logBatch(t, bodies)))
					if err == nil {
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode == http.StatusOK {
							mu.Lock()
							acked = append(acked, bodies...)
							mu.Unlock()
							break
						}
					}
					time.Sleep(50 * time.Millisecond)
				}
			}
		}()
	}

	waitFor(t, 60*time.Second, "load before the backend pauses", func() bool { return ackedCount() >= 50*perBatch })
	backend.refusing.Store(true)
	waitFor(t, 60*time.Second, "load before the kill", func() bool { return ackedCount() >= 150*perBatch })
	target.Store(-1)
	nodes[leader].proc.kill()
	killedAt := time.Now()
	t.Logf("killed leader n%d with SIGKILL after %d acknowledged records, requests in flight; the backend has refused since record %d, so a backlog sits in the replicated queue",
		leader, ackedCount(), 50*perBatch)
	next := -1
	for next < 0 {
		require.Less(t, time.Since(killedAt), 5*time.Second, "new leader within 5s")
		time.Sleep(50 * time.Millisecond)
		next = findLeader(nodes)
	}
	t.Logf("new leader n%d after %v", next, time.Since(killedAt))
	target.Store(int32(next))
	backend.refusing.Store(false)
	waitFor(t, 10*time.Second, "new leader healthy", func() bool { return nodes[next].healthStatus() == http.StatusOK })
	wg.Wait()
	require.Equal(t, totalBatches*perBatch, ackedCount(), "every batch acknowledged in the end")

	var missing []string
	var duplicates int
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%d acknowledged records missing, e.g. %v", len(missing), missing[:min(len(missing), 10)])
			for _, n := range nodes {
				data, _ := os.ReadFile(n.proc.logPath)
				for _, line := range strings.Split(string(data), "\n") {
					if !strings.Contains(line, "heartbeat") && !strings.Contains(line, "appendEntries") && !strings.HasPrefix(line, "\t") && !strings.Contains(line, "raft: [INFO]") {
						t.Logf("%s: %s", n.proc.name, line[:min(len(line), 300)])
					}
				}
			}
		}
	})
	waitFor(t, 30*time.Second, "every acknowledged record at the backend", func() bool {
		missing, duplicates = backend.missing(acked)
		return len(missing) == 0
	})
	t.Logf("acknowledged %d records, lost 0, duplicates at the backend: %d", len(acked), duplicates)
}
