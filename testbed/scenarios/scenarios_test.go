package scenarios

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/testbed/testbed"
)

// The scenarios run only with TESTBED=1 (set by `make testbed`, and by
// `make test` for the smoke scenario): they start collector processes and
// take minutes, so a plain `go test ./...` in this module only compiles them.

var (
	measuresMu sync.Mutex
	measures   []measure
)

func record(m measure) {
	measuresMu.Lock()
	defer measuresMu.Unlock()
	m.Finished = time.Now().UTC()
	measures = append(measures, m)
}

func TestMain(m *testing.M) {
	code := m.Run()
	if dir := os.Getenv("TESTBED_RESULTS"); dir != "" && len(measures) > 0 {
		dir = fromStartDir(dir)
		if err := reportWriter()(dir, measures); err != nil {
			fmt.Fprintf(os.Stderr, "testbed: writing the report: %v\n", err)
			code = 1
		} else {
			progress("table and chart written to %s", dir)
		}
	}
	os.Exit(code)
}

// reportWriter is the report TESTBED_REPORT asks for: "store" (`make
// testbed-store`) writes store-saturation.md and .json, beside the full
// run's files; anything else results.md, results.json and chart.png.
func reportWriter() func(dir string, ms []measure) error {
	if os.Getenv("TESTBED_REPORT") == "store" {
		return writeStoreReport
	}
	return writeReport
}

func requireTestbed(t *testing.T) (fusion, stock collectorBinary) {
	t.Helper()
	if os.Getenv("TESTBED") != "1" {
		t.Skip("set TESTBED=1 to run the load scenarios (make testbed)")
	}
	fusion, stock, err := binaries()
	if err != nil {
		t.Fatal(err)
	}
	return fusion, stock
}

// steadyLimits are the CPU and RAM limits of the 10k items/s scenarios, the
// same for both binaries: the framework stops the collector and fails the
// run when a check period exceeds them.
var steadyLimits = testbed.ResourceSpec{ExpectedMaxCPU: 60, ExpectedMaxRAM: 400, ResourceCheckPeriod: time.Second}

// steadyCase is one row of the 10k items/s scenarios.
type steadyCase struct {
	scenario, name, protocol, signal string
	pipeline                         pipeline
	// newLoad returns the load for a binary.
	newLoad func(bin collectorBinary) countingLoad
	// rate is items per second (per signal for the mixed loads).
	rate int
}

func otlpLoad(protocol, signal string, itemsPerBatch int) func(collectorBinary) countingLoad {
	return func(collectorBinary) countingLoad {
		load, err := newSignalLoad(sharedProvider(itemsPerBatch), newSender(protocol), signal)
		if err != nil {
			panic(err)
		}
		return load
	}
}

func newSender(protocol string) signalSender {
	switch protocol {
	case "otlp-http":
		return &httpSender{endpointSender: endpointSender{host: "127.0.0.1", port: collectorHTTPPort}}
	case "fused":
		return &fusedSender{httpSender: httpSender{endpointSender: endpointSender{host: "127.0.0.1", port: collectorFusedPort}}}
	default:
		return &grpcSender{endpointSender: endpointSender{host: "127.0.0.1", port: collectorGRPCPort}}
	}
}

// mixedLoad is 10k spans + 10k logs + 10k points per second: one fused
// stream into otelcol-fusion, three OTLP/gRPC streams into the stock one.
// mixedStreamLoad is mixedLoad with the fused stream in stream mode.
func mixedStreamLoad(bin collectorBinary) countingLoad {
	sender := newSender("fused").(*fusedSender)
	sender.stream = newFusedStream()
	return newFusedLoad(sharedProvider(100), sender)
}

func mixedLoad(bin collectorBinary) countingLoad {
	if bin.Receiver == "otlpgo" {
		return newFusedLoad(sharedProvider(100), newSender("fused").(*fusedSender))
	}
	var loads []countingLoad
	for _, signal := range []string{"traces", "logs", "metrics"} {
		loads = append(loads, otlpLoad("otlp-grpc", signal, 100)(bin))
	}
	return &multiLoad{loads: loads, rates: []int{10_000, 10_000, 10_000}}
}

// runSteady runs one case on one binary: warm up, measure a window, stop the
// load, wait until the backend has every item, check the counts.
func runSteady(t *testing.T, bin collectorBinary, c steadyCase) measure {
	warmup := envDuration("TESTBED_WARMUP", 3*time.Second)
	window := envDuration("TESTBED_WINDOW", 10*time.Second)
	dataDir := t.TempDir()
	backendYAML := newBackendReceiver(backendGRPCPort, backendHTTPPort).GenConfigYAMLStr()
	load := c.newLoad(bin)
	progress("%s: %s on %s, %s %s at %d items/s per signal", c.scenario, c.name, bin.Name, c.protocol, c.signal, c.rate)
	s := startSession(t, bin, collectorConfig(bin, c.pipeline, backendYAML, dataDir), load, steadyLimits)
	s.tc.StartLoad(testbed.LoadOptions{DataItemsPerSecond: c.rate, ItemsPerBatch: 100, Parallel: 1})
	s.tc.Sleep(warmup)
	a := s.snapshot(load)
	s.tc.Sleep(window)
	b := s.snapshot(load)
	s.tc.StopLoad()
	exact := s.drain(load, 20*time.Second)
	s.tc.ValidateData()
	sent, received := load.SentBySignal(), s.backend.ReceivedBySignal()
	rc := s.stop()

	m := measure{
		Scenario: c.scenario, Case: c.name, Binary: bin.Name, Pipeline: c.pipeline.Name,
		Protocol: c.protocol, Signal: c.signal, Offered: float64(c.rate),
		Sent: sent.total(), Received: received.total(), DerivedPoints: s.backend.DerivedPoints(),
		Exact: exact, Errors: load.Errors(),
		CPUPercentMax: rc.CPUPercentMax, RAMMiBAvg: float64(rc.RAMMiBAvg), RAMMiBMax: float64(rc.RAMMiBMax),
		CPULimit: float64(steadyLimits.ExpectedMaxCPU), RAMLimit: float64(steadyLimits.ExpectedMaxRAM),
	}
	m.window(a, b)
	if !exact {
		m.FailureNote = fmt.Sprintf("sent %+v, received %+v", sent, received)
		t.Errorf("%s on %s: items sent %+v != received %+v", c.name, bin.Name, sent, received)
	}
	progress("%s: %s on %s: %.0f items/s, CPU %.1f%% (max %.1f%%), %.2f CPU-s per million, RAM %.0f/%.0f MiB, sent %d received %d exact=%v",
		c.scenario, c.name, bin.Name, m.ItemsPerSecond, m.CPUPercent, m.CPUPercentMax, m.CPUPerMillion, m.RAMMiBAvg, m.RAMMiBMax, m.Sent, m.Received, exact)
	record(m)
	return m
}

// TestStandard is scenario 1: traces, logs and metrics at 10k items/s over
// OTLP into both binaries, pass-through, under CPU and RAM limits.
func TestStandard(t *testing.T) {
	fusion, stock := requireTestbed(t)
	cases := []steadyCase{
		{name: "traces OTLP/gRPC", protocol: "otlp-grpc", signal: "traces"},
		{name: "traces OTLP/HTTP", protocol: "otlp-http", signal: "traces"},
		{name: "logs OTLP/gRPC", protocol: "otlp-grpc", signal: "logs"},
		{name: "metrics OTLP/gRPC", protocol: "otlp-grpc", signal: "metrics"},
	}
	for _, c := range cases {
		c.scenario, c.pipeline, c.rate = "standard", passThrough, 10_000
		c.newLoad = otlpLoad(c.protocol, c.signal, 100)
		for _, bin := range []collectorBinary{fusion, stock} {
			t.Run(c.signal+"_"+c.protocol+"/"+bin.Name, func(t *testing.T) { runSteady(t, bin, c) })
		}
	}
}

// TestFused is scenario 2: 10k spans + 10k logs + 10k points per second, one
// fused stream into otelcol-fusion beside three OTLP streams into the stock
// collector; and the fused stream through the fusion processor.
func TestFused(t *testing.T) {
	fusion, stock := requireTestbed(t)
	c := steadyCase{scenario: "fused", name: "30k items/s mixed", signal: "all", pipeline: passThrough, newLoad: mixedLoad, rate: 10_000}
	t.Run("fusion", func(t *testing.T) {
		fc := c
		fc.protocol = "fused"
		runSteady(t, fusion, fc)
	})
	t.Run("stock", func(t *testing.T) {
		sc := c
		sc.protocol = "3× OTLP/gRPC"
		runSteady(t, stock, sc)
	})
	t.Run("fusion-processor", func(t *testing.T) {
		fc := c
		fc.name, fc.protocol, fc.pipeline = "30k items/s mixed, fusion processor", "fused", withFusion
		runSteady(t, fusion, fc)
	})
	// The same two cases with the fused stream in otlpgo stream mode.
	t.Run("fusion-stream", func(t *testing.T) {
		fc := c
		fc.name, fc.protocol, fc.newLoad = "30k items/s mixed, stream mode", "fused stream", mixedStreamLoad
		runSteady(t, fusion, fc)
	})
	t.Run("fusion-processor-stream", func(t *testing.T) {
		fc := c
		fc.name, fc.protocol, fc.pipeline, fc.newLoad = "30k items/s mixed, fusion processor, stream mode", "fused stream", withFusion, mixedStreamLoad
		runSteady(t, fusion, fc)
	})
}

// TestSmoke is the short run of `make test`: traces at 10k/s over OTLP/gRPC
// into otelcol-fusion for a few seconds, counts checked.
func TestSmoke(t *testing.T) {
	if os.Getenv("TESTBED") != "1" {
		t.Skip("set TESTBED=1 to run the smoke scenario (make testbed-smoke)")
	}
	fusion, err := fusionBinary()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("TESTBED_WARMUP", "1s")
	t.Setenv("TESTBED_WINDOW", "4s")
	runSteady(t, fusion, steadyCase{
		scenario: "smoke", name: "traces OTLP/gRPC", protocol: "otlp-grpc", signal: "traces",
		pipeline: withFusion, newLoad: otlpLoad("otlp-grpc", "traces", 100), rate: 10_000,
	})
}

func init() {
	startDir, _ = os.Getwd()
	// The framework writes its per-test logs (agent.log, backend.log) under
	// ./results/<test> of the working directory: move that to
	// TESTBED_WORKDIR (results/tmp, out of git) when set.
	if dir := os.Getenv("TESTBED_WORKDIR"); dir != "" {
		dir = fromStartDir(dir)
		if err := os.MkdirAll(dir, 0o755); err == nil {
			_ = os.Chdir(dir)
		}
	}
}

// startDir is the package directory the test started in; relative paths
// given in the environment are relative to it.
var startDir string

func fromStartDir(path string) string {
	if filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(startDir, path)
}
