package scenarios

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/shirou/gopsutil/v4/process"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/otelfusion/otelfusion/pkg/otlpgo"
)

// The Kafka fleet: 2 agents (fused frames in, fused exporter producing to
// Kafka in transactions) -> Kafka (kfake in this test process, 6
// partitions) -> 3 gateways in one consumer group (otlpgo receiver
// consuming read_committed, fusion processor, fusionstore exporter without
// a queue into each gateway's own store). Every collector runs with
// GOMAXPROCS=1.
const (
	kafkaFleetTopic      = "fused"
	kafkaFleetPartitions = 6
	kafkaFleetAgents     = 2
	kafkaFleetGateways   = 3
	// kafkaFleetBasePort: agent i uses base+10i.., gateway j base+100+10j..
	kafkaFleetBasePort = 48300
	// kafkaFleetTarget is 400 × 10⁹ spans a day, per second.
	kafkaFleetTarget = 400e9 / 86400
	// kafkaFleetCoresPerCollector and kafkaFleetBusy are the sizing
	// assumptions: collectors of 4 cores, run at 70%.
	kafkaFleetCoresPerCollector = 4
	kafkaFleetBusy              = 0.7
	// kafkaFleetSenders is the concurrent senders per agent; each waits
	// for its frame's flush to be committed, so they set how much one
	// flush (one transaction) gathers.
	kafkaFleetSenders = 32
)

// kafkaFleetLoad sends fused frames to one agent at a fixed rate: frame i
// of the pool carries traces[i], logs[i] and metrics[i], so a log's span
// was sent in the same frame or an earlier one.
type kafkaFleetLoad struct {
	provider *fusionDataProvider
	sender   *fusedSender
	next     atomic.Uint64
	sent     [3]atomic.Uint64
	failed   atomic.Uint64
	stop     chan struct{}
	done     sync.WaitGroup
}

func (l *kafkaFleetLoad) start(spansPerSecond, senders int) {
	_ = l.sender.Start()
	framesPerSecond := float64(spansPerSecond) / float64(l.provider.traces[0].SpanCount())
	tick := time.Duration(float64(time.Second) * float64(senders) / framesPerSecond)
	for range senders {
		l.done.Go(func() {
			ticker := time.NewTicker(tick)
			defer ticker.Stop()
			for {
				select {
				case <-ticker.C:
				case <-l.stop:
					return
				}
				i := int(l.next.Add(1)-1) % poolBatches
				req := otlpgo.Request{Traces: l.provider.traces[i], Logs: l.provider.logs[i], Metrics: l.provider.metrics[i]}
				counts := [3]int{req.Traces.SpanCount(), req.Logs.LogRecordCount(), req.Metrics.DataPointCount()}
				if err := l.sender.SendFused(context.Background(), req, 30*time.Second); err != nil {
					l.failed.Add(uint64(counts[0] + counts[1] + counts[2]))
					progress("kafka fleet send: %v", err)
					continue
				}
				for s, n := range counts {
					l.sent[s].Add(uint64(n))
				}
			}
		})
	}
}

func (l *kafkaFleetLoad) halt() {
	close(l.stop)
	l.done.Wait()
}

// sentBySignal counts what the agent acknowledged.
func (l *kafkaFleetLoad) sentBySignal() signalCounts {
	return signalCounts{Traces: l.sent[0].Load(), Logs: l.sent[1].Load(), Metrics: l.sent[2].Load()}
}

// kafkaFleetProcess is one collector of the fleet, a child process.
type kafkaFleetProcess struct {
	name    string
	cmd     *exec.Cmd
	proc    *process.Process
	exited  chan error
	logPath string
	metrics int
	query   int
}

// startKafkaFleetProcess starts bin on config and waits for its health check.
func startKafkaFleetProcess(t *testing.T, bin, dir, name, config string, health, metrics, query int) *kafkaFleetProcess {
	t.Helper()
	configPath := filepath.Join(dir, name+".yaml")
	if err := os.WriteFile(configPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config", configPath)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Env = append(os.Environ(), "GOMAXPROCS="+collectorGOMAXPROCS)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &kafkaFleetProcess{name: name, cmd: cmd, exited: make(chan error, 1), logPath: logPath, metrics: metrics, query: query}
	go func() {
		p.exited <- cmd.Wait()
		logFile.Close()
	}()
	t.Cleanup(p.kill)
	if p.proc, err = process.NewProcess(int32(cmd.Process.Pid)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case err := <-p.exited:
			p.exited <- err
			t.Fatalf("%s exited while starting: %v\n%s", name, err, tail(logPath))
		default:
		}
		if resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", health)); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not healthy after 60s\n%s", name, tail(logPath))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func tail(path string) string {
	data, _ := os.ReadFile(path)
	const n = 4000
	if len(data) > n {
		data = data[len(data)-n:]
	}
	return string(data)
}

// cpuSeconds is the process's user + system CPU time so far.
func (p *kafkaFleetProcess) cpuSeconds() float64 {
	times, err := p.proc.Times()
	if err != nil {
		return 0
	}
	return times.User + times.System
}

// stop asks the collector to exit (SIGINT) and waits; kill if it hangs.
func (p *kafkaFleetProcess) stop() error {
	if p.cmd == nil {
		return nil
	}
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		return err
	}
	select {
	case err := <-p.exited:
		p.cmd = nil
		return err
	case <-time.After(30 * time.Second):
		p.kill()
		return fmt.Errorf("%s did not stop within 30s", p.name)
	}
}

func (p *kafkaFleetProcess) kill() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.exited
	p.cmd = nil
}

// query runs a FusionQL query on the gateway's store for tenant "default"
// and returns the first value of the first row.
func (p *kafkaFleetProcess) queryNumber(query string) (float64, error) {
	body, _ := json.Marshal(map[string]string{"query": query})
	req, err := http.NewRequest(http.MethodPost, fmt.Sprintf("http://127.0.0.1:%d/v1/query", p.query), bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("X-Tenant-ID", "default")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var answer struct {
		Rows  [][]any `json:"rows"`
		Error string  `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK || len(answer.Rows) != 1 {
		return 0, fmt.Errorf("%s: HTTP %d: %s", query, resp.StatusCode, answer.Error)
	}
	n, ok := answer.Rows[0][0].(float64)
	if !ok {
		return 0, fmt.Errorf("%s: not a number: %v", query, answer.Rows[0][0])
	}
	return n, nil
}

// scrape sums a metric of the collector's own telemetry.
func (p *kafkaFleetProcess) scrape(name string) float64 {
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", p.metrics))
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var total float64
	for _, line := range strings.Split(string(body), "\n") {
		if !strings.HasPrefix(line, name) {
			continue
		}
		rest := line[len(name):]
		if rest == "" || (rest[0] != '{' && rest[0] != ' ') {
			continue
		}
		fields := strings.Fields(rest[strings.LastIndex(rest, "}")+1:])
		var v float64
		if len(fields) > 0 {
			if _, err := fmt.Sscan(fields[0], &v); err == nil {
				total += v
			}
		}
	}
	return total
}

func kafkaFleetTelemetry(port int) string {
	return fmt.Sprintf(`
  telemetry:
    logs: {level: warn}
    metrics:
      level: detailed
      readers:
        - pull:
            exporter:
              prometheus: {host: 127.0.0.1, port: %d}`, port)
}

// kafkaFleetAgentConfig: fused frames in; each flush one Kafka transaction;
// an OK to the sender means the flush was committed (no sending queue).
func kafkaFleetAgentConfig(i int, brokers string, fused, health, metrics int) string {
	return fmt.Sprintf(`
extensions:
  health_check: {endpoint: 127.0.0.1:%d}
receivers:
  otlpgo:
    fused: {endpoint: 127.0.0.1:%d}
exporters:
  fused:
    flush: {timeout: 100ms, max_items: 8192}
    sending_queue: {enabled: false}
    retry_on_failure: {enabled: true, initial_interval: 100ms, max_interval: 1s, max_elapsed_time: 30s}
    kafka:
      brokers: [%s]
      topic: %s
      transactional_id: agent-%d
service:
  extensions: [health_check]
  pipelines:
    traces: {receivers: [otlpgo], exporters: [fused]}
    logs: {receivers: [otlpgo], exporters: [fused]}
    metrics: {receivers: [otlpgo], exporters: [fused]}%s
`, health, fused, brokers, kafkaFleetTopic, i, kafkaFleetTelemetry(metrics))
}

// kafkaFleetGatewayConfig: one member of the consumer group, the fusion
// processor (no late-log buffer: a trace's spans come before its logs in
// its partition) and the store, written in the consuming goroutine.
func kafkaFleetGatewayConfig(i int, brokers, dataDir string, fused, health, metrics, query int) string {
	return fmt.Sprintf(`
extensions:
  health_check: {endpoint: 127.0.0.1:%d}
  fusionstore:
    path: %s
    query: {endpoint: 127.0.0.1:%d}
receivers:
  otlpgo:
    protocols:
      kafka:
        brokers: [%s]
        topic: %s
        group_id: gateways
        instance_id: gateway-%d
    fused: {endpoint: 127.0.0.1:%d}
    tenant: {sources: [resource]}
processors:
  fusion:
    late_logs: {max_delay: 0s}
exporters:
  fusionstore:
    extension: fusionstore
    sending_queue: {enabled: false}
    retry_on_failure: {enabled: true, initial_interval: 100ms, max_interval: 1s, max_elapsed_time: 0s}
service:
  extensions: [health_check, fusionstore]
  pipelines:
    traces: {receivers: [otlpgo], processors: [fusion], exporters: [fusionstore]}
    logs: {receivers: [otlpgo], processors: [fusion], exporters: [fusionstore]}
    metrics: {receivers: [otlpgo], processors: [fusion], exporters: [fusionstore]}%s
`, health, filepath.ToSlash(filepath.Join(dataDir, "fusion.duckdb")), query, brokers, kafkaFleetTopic, i, fused, kafkaFleetTelemetry(metrics))
}

// kafkaFleetResult is the outcome of one run, as committed in
// results/fleet/kafka.json.
type kafkaFleetResult struct {
	Finished   time.Time `json:"finished"`
	Agents     int       `json:"agents"`
	Gateways   int       `json:"gateways"`
	Partitions int       `json:"partitions"`
	Window     float64   `json:"window_s"`
	// OfferedSpans is the spans/s the load generator offered (as many log
	// records and metric points ride along).
	OfferedSpans float64 `json:"offered_spans_per_s"`

	Sent   signalCounts `json:"sent"`
	Stored signalCounts `json:"stored"`
	// StoredPerGateway is the spans each gateway's store holds.
	StoredPerGateway []uint64 `json:"stored_spans_per_gateway"`
	DerivedPoints    uint64   `json:"derived_points"`
	Exact            bool     `json:"exact"`
	SendErrors       uint64   `json:"send_errors"`

	// SpansPerSecond is spans the agents acknowledged (committed to
	// Kafka) per second in the window.
	SpansPerSecond float64 `json:"spans_per_s"`
	// StoredSpansPerSecond is spans stored over the whole run, from the
	// load's start until the stores held everything: end to end.
	StoredSpansPerSecond float64 `json:"stored_spans_per_s"`
	// DrainSeconds is how long after the load stopped the stores took to
	// hold everything.
	DrainSeconds float64 `json:"drain_s"`

	AgentCPUPerMillionSpans   float64 `json:"agent_cpu_s_per_million_spans"`
	GatewayCPUPerMillionSpans float64 `json:"gateway_cpu_s_per_million_spans"`
	KafkaCPUPerMillionSpans   float64 `json:"kafka_and_loadgen_cpu_s_per_million_spans"`
	AgentCPUPercent           float64 `json:"agent_cpu_percent"`
	GatewayCPUPercent         float64 `json:"gateway_cpu_percent"`

	LogsEnriched float64 `json:"logs_enriched"`
	LogsUnlinked float64 `json:"logs_unlinked"`
	// CorrelationRate is enriched / (enriched + unlinked) at the gateways.
	CorrelationRate float64 `json:"correlation_rate"`
}

// kafkaFleetSizing is the fleet for 400B spans/day from the measured CPU.
type kafkaFleetSizing struct {
	SpansPerSecond     float64 `json:"spans_per_s"`
	AgentCores         float64 `json:"agent_cores"`
	GatewayCores       float64 `json:"gateway_cores"`
	CoresPerCollector  int     `json:"cores_per_collector"`
	Busy               float64 `json:"busy"`
	Agents             int     `json:"agents"`
	Gateways           int     `json:"gateways"`
	Partitions         int     `json:"partitions"`
	SpansPerGatewayCPU float64 `json:"gateway_spans_per_core_s"`
}

func sizeFleet(agentCPUPerSpan, gatewayCPUPerSpan float64) kafkaFleetSizing {
	s := kafkaFleetSizing{SpansPerSecond: kafkaFleetTarget, CoresPerCollector: kafkaFleetCoresPerCollector, Busy: kafkaFleetBusy}
	s.AgentCores = kafkaFleetTarget * agentCPUPerSpan
	s.GatewayCores = kafkaFleetTarget * gatewayCPUPerSpan
	perCollector := float64(kafkaFleetCoresPerCollector) * kafkaFleetBusy
	s.Agents = int(math.Ceil(s.AgentCores / perCollector))
	s.Gateways = int(math.Ceil(s.GatewayCores / perCollector))
	// A partition is consumed by one goroutine of one gateway, so each
	// gateway core needs a partition of its own; twice that leaves room to
	// add gateways without re-partitioning (which would move traces).
	s.Partitions = 2 * s.Gateways * kafkaFleetCoresPerCollector
	if gatewayCPUPerSpan > 0 {
		s.SpansPerGatewayCPU = 1 / gatewayCPUPerSpan
	}
	return s
}

// TestFleetKafka runs the Kafka fleet TESTBED_FLEET_RUNS times (3), each
// from scratch at a fixed offered rate for a window, waits until the three
// stores hold everything that was sent, and writes
// results/fleet/kafka.{md,json,png} under TESTBED_RESULTS with every run and
// the medians; the sizing uses the medians.
func TestFleetKafka(t *testing.T) {
	if os.Getenv("TESTBED") != "1" {
		t.Skip("set TESTBED=1 to run the load scenarios (make testbed-fleet-kafka)")
	}
	fusion, err := fusionBinary()
	if err != nil {
		t.Fatal(err)
	}
	warmup := envDuration("TESTBED_WARMUP", 5*time.Second)
	window := envDuration("TESTBED_WINDOW", 20*time.Second)
	// Spans/s per agent; a log record and a metric point ride with each span.
	perAgent := envInt("TESTBED_FLEET_RATE", 4000)
	runs := envInt("TESTBED_FLEET_RUNS", 3)

	var report kafkaFleetReport
	for run := range runs {
		report.Runs = append(report.Runs, runKafkaFleet(t, fusion.Path, run, perAgent, warmup, window))
	}
	report.summarize()
	progress("kafka fleet, median of %d runs: %.0f spans/s committed, %.0f stored; agents %.2f, gateways %.2f CPU-s per M spans; correlation %.4f",
		runs, report.Median.SpansPerSecond, report.Median.StoredSpansPerSecond, report.Median.AgentCPUPerMillionSpans,
		report.Median.GatewayCPUPerMillionSpans, report.Median.CorrelationRate)
	if out := os.Getenv("TESTBED_RESULTS"); out != "" {
		if err := writeKafkaFleetReport(filepath.Join(fromStartDir(out), "fleet"), report); err != nil {
			t.Fatal(err)
		}
	}
}

// runKafkaFleet starts kfake, the gateways and the agents, loads them,
// measures, checks the counts and stops everything.
func runKafkaFleet(t *testing.T, bin string, run, perAgent int, warmup, window time.Duration) kafkaFleetResult {
	t.Helper()
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(kafkaFleetPartitions, kafkaFleetTopic))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	brokers := cluster.ListenAddrs()[0]
	dir := t.TempDir()
	if w := os.Getenv("TESTBED_WORKDIR"); w != "" {
		dir = filepath.Join(fromStartDir(w), "fleet-kafka", fmt.Sprintf("run-%d", run))
		if err := os.MkdirAll(dir, 0o750); err != nil {
			t.Fatal(err)
		}
	}

	var gateways, agents []*kafkaFleetProcess
	for j := range kafkaFleetGateways {
		base := kafkaFleetBasePort + 100 + 10*j
		data := filepath.Join(dir, fmt.Sprintf("gateway-%d-data", j))
		_ = os.RemoveAll(data)
		gateways = append(gateways, startKafkaFleetProcess(t, bin, dir, fmt.Sprintf("gateway-%d", j),
			kafkaFleetGatewayConfig(j, brokers, data, base, base+1, base+2, base+3), base+1, base+2, base+3))
	}
	var loads []*kafkaFleetLoad
	for i := range kafkaFleetAgents {
		base := kafkaFleetBasePort + 10*i
		agents = append(agents, startKafkaFleetProcess(t, bin, dir, fmt.Sprintf("agent-%d", i),
			kafkaFleetAgentConfig(i, brokers, base, base+1, base+2), base+1, base+2, 0))
		sender := &fusedSender{httpSender: httpSender{endpointSender: endpointSender{host: "127.0.0.1", port: base}}}
		loads = append(loads, &kafkaFleetLoad{provider: sharedProvider(100), sender: sender, stop: make(chan struct{})})
	}
	progress("kafka fleet run %d: %d agents -> kfake (%d partitions) -> %d gateways, %d spans/s per agent",
		run+1, kafkaFleetAgents, kafkaFleetPartitions, kafkaFleetGateways, perAgent)

	loadStart := time.Now()
	for _, l := range loads {
		l.start(perAgent, kafkaFleetSenders)
	}
	time.Sleep(warmup)
	type fleetSnap struct {
		at                   time.Time
		agentCPU, gatewayCPU float64
		ownCPU               float64
		sent                 signalCounts
	}
	snap := func() fleetSnap {
		s := fleetSnap{at: time.Now(), ownCPU: ownCPUSeconds()}
		for _, a := range agents {
			s.agentCPU += a.cpuSeconds()
		}
		for _, g := range gateways {
			s.gatewayCPU += g.cpuSeconds()
		}
		for _, l := range loads {
			c := l.sentBySignal()
			s.sent.Traces += c.Traces
			s.sent.Logs += c.Logs
			s.sent.Metrics += c.Metrics
		}
		return s
	}
	a := snap()
	time.Sleep(window)
	b := snap()
	for _, l := range loads {
		l.halt()
	}
	stopped := time.Now()
	var sent signalCounts
	var sendErrors uint64
	for _, l := range loads {
		c := l.sentBySignal()
		sent.Traces += c.Traces
		sent.Logs += c.Logs
		sent.Metrics += c.Metrics
		sendErrors += l.failed.Load()
	}

	// The gateways' stores hold what the agents acknowledged; the load
	// generator's sends all returned, so that is everything sent.
	stored := func() (signalCounts, []uint64, uint64, error) {
		var total signalCounts
		var derived uint64
		perGateway := make([]uint64, len(gateways))
		for j, g := range gateways {
			spans, err := g.queryNumber("SELECT COUNT(*) FROM traces")
			if err != nil {
				return total, nil, 0, err
			}
			logs, err := g.queryNumber("SELECT COUNT(*) FROM logs")
			if err != nil {
				return total, nil, 0, err
			}
			points, err := g.queryNumber("SELECT COUNT(*) FROM metrics WHERE name NOT LIKE 'fusion.%' AND name NOT LIKE 'otelfusion.%'")
			if err != nil {
				return total, nil, 0, err
			}
			all, err := g.queryNumber("SELECT COUNT(*) FROM metrics")
			if err != nil {
				return total, nil, 0, err
			}
			total.Traces += uint64(spans)
			total.Logs += uint64(logs)
			total.Metrics += uint64(points)
			derived += uint64(all - points)
			perGateway[j] = uint64(spans)
		}
		return total, perGateway, derived, nil
	}
	var (
		got        signalCounts
		perGateway []uint64
		derived    uint64
	)
	deadline := time.Now().Add(3 * time.Minute)
	for {
		got, perGateway, derived, err = stored()
		if err == nil && got == sent {
			break
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	drain := time.Since(stopped)
	if err != nil {
		t.Fatalf("querying the stores: %v", err)
	}

	var enriched, unlinked float64
	for _, g := range gateways {
		enriched += g.scrape("otelcol_processor_fusion_logs_enriched")
		unlinked += g.scrape("otelcol_processor_fusion_logs_unlinked")
	}
	for _, p := range append(agents, gateways...) {
		if err := p.stop(); err != nil {
			t.Errorf("%s: %v", p.name, err)
		}
	}

	secs := b.at.Sub(a.at).Seconds()
	spans := float64(b.sent.Traces - a.sent.Traces)
	r := kafkaFleetResult{
		Finished: time.Now().UTC(), Agents: kafkaFleetAgents, Gateways: kafkaFleetGateways, Partitions: kafkaFleetPartitions,
		Window: secs, OfferedSpans: float64(perAgent * kafkaFleetAgents),
		Sent: sent, Stored: got, StoredPerGateway: perGateway, DerivedPoints: derived, Exact: got == sent, SendErrors: sendErrors,
		SpansPerSecond: spans / secs, DrainSeconds: drain.Seconds(),
		StoredSpansPerSecond:      float64(got.Traces) / time.Since(loadStart).Seconds(),
		AgentCPUPerMillionSpans:   (b.agentCPU - a.agentCPU) / spans * 1e6,
		GatewayCPUPerMillionSpans: (b.gatewayCPU - a.gatewayCPU) / spans * 1e6,
		KafkaCPUPerMillionSpans:   (b.ownCPU - a.ownCPU) / spans * 1e6,
		AgentCPUPercent:           (b.agentCPU - a.agentCPU) / secs * 100,
		GatewayCPUPercent:         (b.gatewayCPU - a.gatewayCPU) / secs * 100,
		LogsEnriched:              enriched, LogsUnlinked: unlinked,
	}
	if enriched+unlinked > 0 {
		r.CorrelationRate = enriched / (enriched + unlinked)
	}
	progress("kafka fleet run %d: %.0f spans/s; agents %.2f, gateways %.2f CPU-s per M spans; correlation %.4f; sent %+v stored %+v; drained in %.1fs",
		run+1, r.SpansPerSecond, r.AgentCPUPerMillionSpans, r.GatewayCPUPerMillionSpans, r.CorrelationRate, sent, got, r.DrainSeconds)

	if !r.Exact {
		t.Errorf("run %d: stored %+v, sent %+v", run+1, got, sent)
	}
	if sendErrors > 0 {
		t.Errorf("run %d: %d items failed to send", run+1, sendErrors)
	}
	return r
}

// kafkaFleetReport is every run and their medians, as committed in
// results/fleet/kafka.json.
type kafkaFleetReport struct {
	Runs   []kafkaFleetResult `json:"runs"`
	Median kafkaFleetMedian   `json:"median"`
	Sizing kafkaFleetSizing   `json:"sizing_400b_spans_per_day"`
}

// kafkaFleetMedian is the median of each figure over the runs.
type kafkaFleetMedian struct {
	SpansPerSecond            float64 `json:"spans_per_s"`
	StoredSpansPerSecond      float64 `json:"stored_spans_per_s"`
	AgentCPUPerMillionSpans   float64 `json:"agent_cpu_s_per_million_spans"`
	GatewayCPUPerMillionSpans float64 `json:"gateway_cpu_s_per_million_spans"`
	KafkaCPUPerMillionSpans   float64 `json:"kafka_and_loadgen_cpu_s_per_million_spans"`
	CorrelationRate           float64 `json:"correlation_rate"`
}

func (rep *kafkaFleetReport) summarize() {
	median := func(f func(kafkaFleetResult) float64) float64 {
		values := make([]float64, len(rep.Runs))
		for i, r := range rep.Runs {
			values[i] = f(r)
		}
		sort.Float64s(values)
		if n := len(values); n%2 == 1 {
			return values[n/2]
		} else if n > 0 {
			return (values[n/2-1] + values[n/2]) / 2
		}
		return 0
	}
	rep.Median = kafkaFleetMedian{
		SpansPerSecond:            median(func(r kafkaFleetResult) float64 { return r.SpansPerSecond }),
		StoredSpansPerSecond:      median(func(r kafkaFleetResult) float64 { return r.StoredSpansPerSecond }),
		AgentCPUPerMillionSpans:   median(func(r kafkaFleetResult) float64 { return r.AgentCPUPerMillionSpans }),
		GatewayCPUPerMillionSpans: median(func(r kafkaFleetResult) float64 { return r.GatewayCPUPerMillionSpans }),
		KafkaCPUPerMillionSpans:   median(func(r kafkaFleetResult) float64 { return r.KafkaCPUPerMillionSpans }),
		CorrelationRate:           median(func(r kafkaFleetResult) float64 { return r.CorrelationRate }),
	}
	rep.Sizing = sizeFleet(rep.Median.AgentCPUPerMillionSpans/1e6, rep.Median.GatewayCPUPerMillionSpans/1e6)
}
