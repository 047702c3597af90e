package scenarios

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/shirou/gopsutil/v4/process"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/otelfusion/otelfusion/pkg/fusiongen"
)

// The routing fleet scenario (`make testbed-fleet`): 2 agents in front of 3
// gateways, each gateway running the fusion processor and the store. The
// framework's TestCase drives one collector, so the five processes are run
// here, with the framework's process monitor library (gopsutil) for CPU.
//
// Each load sender is one node's application: its spans go to its own agent,
// its logs to the other agent (log shippers and tracers rarely share a node
// agent), so a trace's spans and its logs enter the fleet through different
// agents. Two cases run interleaved, FLEET_REPS times each:
//
//   - routing: both agents route by trace id over the 3 gateways;
//   - direct: agent i sends everything to gateway i (gateway 3 idle), the
//     baseline without routing.
const (
	fleetAgents   = 2
	fleetGateways = 3
	fleetBatch    = 200 // spans (and logs) per call
)

// fleetCase is one configuration of the fleet.
type fleetCase struct {
	name    string
	routing bool
}

var fleetCases = []fleetCase{{name: "routing", routing: true}, {name: "direct"}}

// fleetRun is the outcome of one case, one repetition.
type fleetRun struct {
	Case        string  `json:"case"`
	Rep         int     `json:"rep"`
	Seconds     float64 `json:"window_s"`
	SpansPerSec float64 `json:"spans_per_s"`
	LogsPerSec  float64 `json:"logs_per_s"`
	// CPU per span over the measurement window, summed over a tier's
	// processes; each span travels with one log record.
	AgentCPUus   float64 `json:"agent_cpu_us_per_span"`
	GatewayCPUus float64 `json:"gateway_cpu_us_per_span"`
	// Acknowledged by the agents, and stored in the gateways' stores.
	AckedSpans  int64 `json:"acked_spans"`
	AckedLogs   int64 `json:"acked_logs"`
	StoredSpans int64 `json:"stored_spans"`
	StoredLogs  int64 `json:"stored_logs"`
	FailedCalls int64 `json:"failed_calls"`
	// The gateways' fusion processors: logs with trace context, and those
	// linked to their span.
	LogsWithContext int64   `json:"logs_with_trace_context"`
	LogsLinked      int64   `json:"logs_linked"`
	Correlation     float64 `json:"correlation"`
	GatewaySpans    []int64 `json:"spans_per_gateway"`
}

func TestFleetRouting(t *testing.T) {
	if os.Getenv("TESTBED") != "1" {
		t.Skip("set TESTBED=1 to run the fleet scenario (make testbed-fleet)")
	}
	bin, err := fusionBinary()
	if err != nil {
		t.Fatal(err)
	}
	reps := envInt("FLEET_REPS", 3)
	rate := envInt("FLEET_SPANS_PER_S", 2000) // per sender; one log per span too
	load := envDuration("FLEET_LOAD", 20*time.Second)
	workDir := fromStartDir(envOr("TESTBED_WORKDIR", t.TempDir()))
	var runs []fleetRun
	for rep := 1; rep <= reps; rep++ {
		for _, c := range fleetCases {
			progress("fleet %s, repetition %d of %d: %d agents, %d gateways, %d spans/s + %d logs/s offered for %v",
				c.name, rep, reps, fleetAgents, fleetGateways, fleetAgents*rate, fleetAgents*rate, load)
			r := runFleet(t, bin, c, rep, rate, load, filepath.Join(workDir, "fleet", fmt.Sprintf("%s-%d", c.name, rep)))
			progress("fleet %s: %.0f spans/s, agents %.1f µs/span, gateways %.1f µs/span, correlation %.2f%%, acked %d/%d stored %d/%d",
				c.name, r.SpansPerSec, r.AgentCPUus, r.GatewayCPUus, 100*r.Correlation, r.AckedSpans, r.AckedLogs, r.StoredSpans, r.StoredLogs)
			runs = append(runs, r)
			if r.AckedSpans != r.StoredSpans || r.AckedLogs != r.StoredLogs {
				t.Errorf("%s rep %d: acknowledged %d spans and %d logs, stored %d and %d",
					c.name, rep, r.AckedSpans, r.AckedLogs, r.StoredSpans, r.StoredLogs)
			}
		}
	}
	routing := fleetMedians(runs, "routing")
	if routing.Correlation < 0.99 {
		t.Errorf("routing fleet correlation %.4f, want >= 0.99", routing.Correlation)
	}
	if dir := os.Getenv("TESTBED_RESULTS"); dir != "" {
		dir = filepath.Join(fromStartDir(dir), "fleet")
		if err := writeFleetReport(dir, runs, rate, load); err != nil {
			t.Fatalf("writing the fleet report: %v", err)
		}
		progress("fleet table and chart written to %s", dir)
	}
}

// fleetProcess is one collector of the fleet.
type fleetProcess struct {
	name    string
	cmd     *exec.Cmd
	proc    *process.Process
	health  string
	metrics string
	exited  chan error
}

func freeTCPPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startFleetProcess starts a collector and waits until it is healthy. A
// collector that exits while starting is an error, so the caller can try
// again on other ports: a port found free can be taken by another process
// before the collector binds it.
func startFleetProcess(t *testing.T, bin collectorBinary, dir, name, config string, healthPort, metricsPort int) (*fleetProcess, error) {
	t.Helper()
	cfgPath := filepath.Join(dir, name+".yaml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	logFile, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	p := &fleetProcess{name: name, health: fmt.Sprintf("http://127.0.0.1:%d/", healthPort),
		metrics: fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort), exited: make(chan error, 1)}
	p.cmd = exec.Command(bin.Path, "--config", cfgPath)
	p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
	p.cmd.Env = append(os.Environ(), "GOMAXPROCS="+collectorGOMAXPROCS)
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- p.cmd.Wait(); logFile.Close() }()
	t.Cleanup(p.stop)
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case err := <-p.exited:
			p.exited <- err
			p.cmd = nil
			return nil, fmt.Errorf("%s exited while starting: %v (log: %s)", name, err, filepath.Join(dir, name+".log"))
		default:
		}
		if resp, err := http.Get(p.health); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not healthy after 60s", name)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if p.proc, err = process.NewProcess(int32(p.cmd.Process.Pid)); err != nil {
		t.Fatal(err)
	}
	return p, nil
}

// fleetStartAttempts is how often a collector is started on fresh ports.
const fleetStartAttempts = 5

// startWithRetry calls start until a collector runs, each attempt on fresh
// ports.
func startWithRetry[T any](t *testing.T, start func() (T, error)) T {
	t.Helper()
	var err error
	for range fleetStartAttempts {
		var v T
		if v, err = start(); err == nil {
			return v
		}
		progress("%v; starting again on other ports", err)
	}
	t.Fatal(err)
	var zero T
	return zero
}

// cpuSeconds is the process's user + system CPU time so far.
func (p *fleetProcess) cpuSeconds() float64 {
	times, err := p.proc.Times()
	if err != nil {
		return math.NaN()
	}
	return times.User + times.System
}

// stop sends SIGINT and waits; a collector that does not stop in 30 s is
// killed.
func (p *fleetProcess) stop() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
	p.cmd = nil
}

// fleetGateway is a gateway: fused receiver → fusion → fusionstore.
type fleetGateway struct {
	*fleetProcess
	fusedURL string
	queryURL string
}

func startFleetGateway(t *testing.T, bin collectorBinary, dir string, i int) *fleetGateway {
	t.Helper()
	return startWithRetry(t, func() (*fleetGateway, error) { return tryFleetGateway(t, bin, dir, i) })
}

func tryFleetGateway(t *testing.T, bin collectorBinary, dir string, i int) (*fleetGateway, error) {
	t.Helper()
	if err := os.RemoveAll(filepath.Join(dir, fmt.Sprintf("gateway-%d.duckdb", i))); err != nil {
		return nil, err
	}
	health, metrics, query, fused := freeTCPPort(t), freeTCPPort(t), freeTCPPort(t), freeTCPPort(t)
	config := fmt.Sprintf(`
extensions:
  health_check: {endpoint: 127.0.0.1:%d}
  fusionstore:
    path: %s
    query: {endpoint: 127.0.0.1:%d}
receivers:
  otlpgo:
    protocols:
      grpc: {endpoint: 127.0.0.1:%d}
      http: {endpoint: 127.0.0.1:%d}
    fused: {endpoint: 127.0.0.1:%d}
    tenant: {sources: [resource]}
processors:
  fusion: {}
exporters:
  fusionstore:
    extension: fusionstore
    sending_queue:
      enabled: true
      sizer: items
      queue_size: 2000000
      batch: {flush_timeout: 200ms, min_size: 8192, max_size: 16384}
service:
  extensions: [health_check, fusionstore]
  telemetry:
    logs: {level: warn}
    metrics:
      level: normal
      readers:
        - pull:
            exporter:
              prometheus: {host: 127.0.0.1, port: %d}
  pipelines:
    traces: {receivers: [otlpgo], processors: [fusion], exporters: [fusionstore]}
    logs: {receivers: [otlpgo], processors: [fusion], exporters: [fusionstore]}
    metrics: {receivers: [otlpgo], processors: [fusion], exporters: [fusionstore]}
`, health, filepath.Join(dir, fmt.Sprintf("gateway-%d.duckdb", i)), query, freeTCPPort(t), freeTCPPort(t), fused, metrics)
	p, err := startFleetProcess(t, bin, dir, fmt.Sprintf("gateway-%d", i), config, health, metrics)
	if err != nil {
		return nil, err
	}
	return &fleetGateway{fleetProcess: p, fusedURL: fmt.Sprintf("http://127.0.0.1:%d", fused),
		queryURL: fmt.Sprintf("http://127.0.0.1:%d/v1/query", query)}, nil
}

// fleetAgent is an agent: OTLP/gRPC in, the fused exporter out.
type fleetAgent struct {
	*fleetProcess
	grpcAddr string
}

func startFleetAgent(t *testing.T, bin collectorBinary, dir string, i int, exporterYAML string) *fleetAgent {
	t.Helper()
	return startWithRetry(t, func() (*fleetAgent, error) { return tryFleetAgent(t, bin, dir, i, exporterYAML) })
}

func tryFleetAgent(t *testing.T, bin collectorBinary, dir string, i int, exporterYAML string) (*fleetAgent, error) {
	t.Helper()
	health, metrics, grpcPort := freeTCPPort(t), freeTCPPort(t), freeTCPPort(t)
	config := fmt.Sprintf(`
extensions:
  health_check: {endpoint: 127.0.0.1:%d}
receivers:
  otlpgo:
    protocols:
      grpc: {endpoint: 127.0.0.1:%d}
      http: {endpoint: 127.0.0.1:%d}
    fused: {endpoint: 127.0.0.1:%d}
exporters:
  fused:
%s
    flush: {timeout: 200ms}
    sending_queue: {enabled: true, sizer: items, queue_size: 2000000, num_consumers: 4}
    retry_on_failure: {enabled: true, initial_interval: 100ms, max_interval: 1s, max_elapsed_time: 0}
service:
  extensions: [health_check]
  telemetry:
    logs: {level: warn}
    metrics:
      level: normal
      readers:
        - pull:
            exporter:
              prometheus: {host: 127.0.0.1, port: %d}
  pipelines:
    traces: {receivers: [otlpgo], exporters: [fused]}
    logs: {receivers: [otlpgo], exporters: [fused]}
`, health, grpcPort, freeTCPPort(t), freeTCPPort(t), exporterYAML, metrics)
	p, err := startFleetProcess(t, bin, dir, fmt.Sprintf("agent-%d", i), config, health, metrics)
	if err != nil {
		return nil, err
	}
	return &fleetAgent{fleetProcess: p, grpcAddr: fmt.Sprintf("127.0.0.1:%d", grpcPort)}, nil
}

// fleetSender is one node's application: spans to one agent, logs to the
// other.
type fleetSender struct {
	traces ptraceotlp.GRPCClient
	logs   plogotlp.GRPCClient
	gen    *fusiongen.Generator

	ackedSpans, ackedLogs, failed atomic.Int64
}

func newFleetSender(t *testing.T, seed int64, spansTo, logsTo string) *fleetSender {
	t.Helper()
	dial := func(addr string) *grpc.ClientConn {
		conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return conn
	}
	gen := fusiongen.New(seed)
	gen.SetStart(time.Now())
	return &fleetSender{traces: ptraceotlp.NewGRPCClient(dial(spansTo)), logs: plogotlp.NewGRPCClient(dial(logsTo)), gen: gen}
}

// run sends batches of spans and their logs at rate spans/s until stop.
func (s *fleetSender) run(rate int, stop *atomic.Bool) {
	interval := time.Duration(float64(time.Second) * fleetBatch / float64(rate))
	next := time.Now()
	for !stop.Load() {
		td := s.gen.Traces(fleetBatch)
		ld := s.gen.Logs(fleetBatch)
		s.send(td, ld)
		next = next.Add(interval)
		if d := time.Until(next); d > 0 {
			time.Sleep(d)
		} else {
			next = time.Now() // behind: do not burst to catch up
		}
	}
}

func (s *fleetSender) send(td ptrace.Traces, ld plog.Logs) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	spans, logs := int64(td.SpanCount()), int64(ld.LogRecordCount())
	if _, err := s.traces.Export(ctx, ptraceotlp.NewExportRequestFromTraces(td)); err == nil {
		s.ackedSpans.Add(spans)
	} else {
		s.failed.Add(1)
	}
	if _, err := s.logs.Export(ctx, plogotlp.NewExportRequestFromLogs(ld)); err == nil {
		s.ackedLogs.Add(logs)
	} else {
		s.failed.Add(1)
	}
}

// runFleet starts the fleet for c, offers the load, measures a window in
// its middle, waits until the stores hold every acknowledged item and
// stops everything.
func runFleet(t *testing.T, bin collectorBinary, c fleetCase, rep, rate int, load time.Duration, dir string) fleetRun {
	t.Helper()
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var gateways []*fleetGateway
	var urls []string
	for i := range fleetGateways {
		g := startFleetGateway(t, bin, dir, i)
		gateways = append(gateways, g)
		urls = append(urls, g.fusedURL)
	}
	var agents []*fleetAgent
	for i := range fleetAgents {
		exporter := fmt.Sprintf("    endpoint: %s", urls[i])
		if c.routing {
			exporter = fmt.Sprintf("    routing:\n      resolver:\n        static:\n          endpoints: [%s]", strings.Join(urls, ", "))
		}
		agents = append(agents, startFleetAgent(t, bin, dir, i, exporter))
	}
	var senders []*fleetSender
	for i := range fleetAgents {
		senders = append(senders, newFleetSender(t, int64(100*rep+i), agents[i].grpcAddr, agents[(i+1)%fleetAgents].grpcAddr))
	}

	var stop atomic.Bool
	var wg sync.WaitGroup
	for _, s := range senders {
		wg.Go(func() { s.run(rate, &stop) })
	}
	type mark struct {
		at           time.Time
		agentCPU, gw float64
		spans, logs  int64
	}
	snap := func() mark {
		m := mark{at: time.Now()}
		for _, a := range agents {
			m.agentCPU += a.cpuSeconds()
		}
		for _, g := range gateways {
			m.gw += g.cpuSeconds()
		}
		for _, s := range senders {
			m.spans += s.ackedSpans.Load()
			m.logs += s.ackedLogs.Load()
		}
		return m
	}
	// The window leaves out the first and last sixth of the load: start-up
	// and the drain are not steady state.
	time.Sleep(load / 6)
	a := snap()
	time.Sleep(load * 4 / 6)
	b := snap()
	time.Sleep(load / 6)
	stop.Store(true)
	wg.Wait()

	r := fleetRun{Case: c.name, Rep: rep, Seconds: b.at.Sub(a.at).Seconds()}
	spans := float64(b.spans - a.spans)
	r.SpansPerSec = spans / r.Seconds
	r.LogsPerSec = float64(b.logs-a.logs) / r.Seconds
	r.AgentCPUus = (b.agentCPU - a.agentCPU) / spans * 1e6
	r.GatewayCPUus = (b.gw - a.gw) / spans * 1e6
	for _, s := range senders {
		r.AckedSpans += s.ackedSpans.Load()
		r.AckedLogs += s.ackedLogs.Load()
		r.FailedCalls += s.failed.Load()
	}

	// Settle: every acknowledged item in a store, counts steady.
	deadline := time.Now().Add(3 * time.Minute)
	for {
		r.StoredSpans, r.StoredLogs, r.GatewaySpans = 0, 0, nil
		for _, g := range gateways {
			n := fleetCount(g.queryURL, "traces")
			r.GatewaySpans = append(r.GatewaySpans, n)
			r.StoredSpans += n
			r.StoredLogs += fleetCount(g.queryURL, "logs")
		}
		if (r.StoredSpans >= r.AckedSpans && r.StoredLogs >= r.AckedLogs) || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	// The late-span buffer holds a log up to its max_delay (2 s) before it
	// counts it unlinked: wait that out before reading the counters.
	time.Sleep(3 * time.Second)
	for _, g := range gateways {
		enriched := scrapeCounter(g.metrics, "otelcol_processor_fusion_logs_enriched")
		notSeen := scrapeCounter(g.metrics, "otelcol_processor_fusion_logs_unlinked", `reason="span_not_seen"`)
		full := scrapeCounter(g.metrics, "otelcol_processor_fusion_logs_unlinked", `reason="buffer_full"`)
		r.LogsLinked += int64(enriched)
		r.LogsWithContext += int64(enriched + notSeen + full)
	}
	if r.LogsWithContext > 0 {
		r.Correlation = float64(r.LogsLinked) / float64(r.LogsWithContext)
	}
	for _, p := range agents {
		p.stop()
	}
	for _, g := range gateways {
		g.stop()
	}
	return r
}

// fleetCount is SELECT COUNT(*) of table in a gateway's store, for the
// tenant the agents' receivers gave the data; -1 on error.
func fleetCount(queryURL, table string) int64 {
	req, err := http.NewRequest(http.MethodPost, queryURL, strings.NewReader(fmt.Sprintf(`{"query":"SELECT COUNT(*) FROM %s"}`, table)))
	if err != nil {
		return -1
	}
	req.Header.Set("X-Tenant-ID", "default")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	var answer struct {
		Rows [][]float64 `json:"rows"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil || resp.StatusCode != http.StatusOK || len(answer.Rows) != 1 || len(answer.Rows[0]) != 1 {
		return -1
	}
	return int64(answer.Rows[0][0])
}

// scrapeCounter sums a metric's samples whose labels contain every
// fragment, from a Prometheus text page.
func scrapeCounter(url, name string, fragments ...string) float64 {
	resp, err := http.Get(url)
	if err != nil {
		return math.NaN()
	}
	defer resp.Body.Close()
	var body strings.Builder
	if _, err := io.Copy(&body, resp.Body); err != nil {
		return math.NaN()
	}
	var total float64
lines:
	for _, line := range strings.Split(body.String(), "\n") {
		if !strings.HasPrefix(line, name) {
			continue
		}
		rest := line[len(name):]
		if rest == "" || (rest[0] != '{' && rest[0] != ' ') {
			continue
		}
		for _, f := range fragments {
			if !strings.Contains(rest, f) {
				continue lines
			}
		}
		fields := strings.Fields(rest[strings.LastIndex(rest, "}")+1:])
		if len(fields) == 0 {
			continue
		}
		var v float64
		if _, err := fmt.Sscanf(fields[0], "%g", &v); err == nil {
			total += v
		}
	}
	return total
}

// fleetMedians is the per-field median of a case's repetitions.
func fleetMedians(runs []fleetRun, name string) fleetRun {
	var of []fleetRun
	for _, r := range runs {
		if r.Case == name {
			of = append(of, r)
		}
	}
	med := func(get func(fleetRun) float64) float64 {
		var v []float64
		for _, r := range of {
			v = append(v, get(r))
		}
		if len(v) == 0 {
			return math.NaN()
		}
		slices.Sort(v)
		if len(v)%2 == 1 {
			return v[len(v)/2]
		}
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return fleetRun{
		Case:         name,
		SpansPerSec:  med(func(r fleetRun) float64 { return r.SpansPerSec }),
		LogsPerSec:   med(func(r fleetRun) float64 { return r.LogsPerSec }),
		AgentCPUus:   med(func(r fleetRun) float64 { return r.AgentCPUus }),
		GatewayCPUus: med(func(r fleetRun) float64 { return r.GatewayCPUus }),
		Correlation:  med(func(r fleetRun) float64 { return r.Correlation }),
	}
}
