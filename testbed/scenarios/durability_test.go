package scenarios

import (
	"fmt"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/testbed/testbed"
)

// TestStoreDurability measures the throughput cost of durability at one
// fixed load that both store pipelines hold: the same traces into
// otelcol-fusion with the store exporter's queue in memory and on raftwal,
// alternated (memory, raftwal, memory, ...) so that whatever else the
// machine does weighs on both alike; the report takes the median of each.
// Every run checks the backend and the store hold exactly the spans sent.
func TestStoreDurability(t *testing.T) {
	fusion, _ := requireTestbed(t)
	if !storeAvailable(fusion) {
		t.Skip("otelcol-fusion has no fusionstore (or raftwal)")
	}
	rate := envInt("TESTBED_STORE_RATE", 5_000)
	repeat := envInt("TESTBED_STORE_REPEAT", 3)
	for i := 1; i <= repeat; i++ {
		for _, p := range []pipeline{withStoreMemory, withStoreRaftWAL} {
			// Named like the saturation cases (binary/pipeline/protocol), so
			// one -run pattern picks both.
			t.Run(fmt.Sprintf("%s/%s/otlp-grpc/round-%d", fusion.Name, p.Name, i), func(t *testing.T) {
				runFixedLoad(t, "durability", saturationCase{fusion, p, "otlp-grpc"}, rate, i, "TESTBED_STORE_RATE")
			})
		}
	}
}

// runFixedLoad offers rate spans/s of traces to one case for a window after
// warm-up and records the CPU per span as one round of scenario; every run
// checks the backend (and, for a store pipeline, the store) holds exactly
// the spans sent. rateKey names the setting that lowers the rate.
func runFixedLoad(t *testing.T, scenario string, c saturationCase, rate, round int, rateKey string) {
	bin, p := c.bin, c.pipeline
	warmup := envDuration("TESTBED_WARMUP", 3*time.Second)
	window := envDuration("TESTBED_WINDOW", 10*time.Second)
	backendYAML := newBackendReceiver(backendGRPCPort, backendHTTPPort).GenConfigYAMLStr()
	load, err := newSignalLoad(sharedProvider(saturationBatch).fork(), newSender(c.protocol), "traces")
	if err != nil {
		t.Fatal(err)
	}
	s := startSession(t, bin, collectorConfig(bin, p, backendYAML, t.TempDir()), load, saturationLimits)
	var store *storeClient
	if p.Store {
		store = newStoreClient(storeQueryPort)
	}
	load.Start(testbed.LoadOptions{DataItemsPerSecond: rate, ItemsPerBatch: saturationBatch, Parallel: saturationWorkers, MaxDelay: 2 * time.Second})
	time.Sleep(warmup)
	a := s.snapshot(load)
	time.Sleep(window)
	b := s.snapshot(load)
	load.Stop()
	drained := s.drain(load, 20*time.Second)
	sent := load.SentBySignal()
	var stored uint64
	var storeErr error
	if store != nil {
		stored, storeErr = store.waitForSpans(sent.Traces, 20*time.Second)
	}
	received := s.backend.ReceivedBySignal()
	rc := s.stop()

	m := measure{
		Scenario: scenario, Case: fmt.Sprintf("round %d", round), Binary: bin.Name, Pipeline: p.Name,
		Protocol: c.protocol, Signal: "traces", Offered: float64(rate),
		Sent: sent.total(), Received: received.total(), Exact: drained, Errors: load.Errors(),
		Stored: stored, StoreExact: store != nil && storeErr == nil && stored == sent.Traces,
		DerivedPoints: s.backend.DerivedPoints(),
		CPUPercentMax: rc.CPUPercentMax, RAMMiBAvg: float64(rc.RAMMiBAvg), RAMMiBMax: float64(rc.RAMMiBMax),
		RAMLimit: float64(saturationLimits.ExpectedMaxRAM), LoadAverage: loadAverage(),
	}
	m.window(a, b)
	switch {
	case m.Errors > 0:
		t.Errorf("%s round %d: %d spans failed to send at %d spans/s", p.Name, round, m.Errors, rate)
	case !drained:
		t.Errorf("%s round %d: spans sent %+v != received %+v", p.Name, round, sent, received)
	case store != nil && !m.StoreExact:
		t.Errorf("%s round %d: the store holds %d spans of %d sent (%v)", p.Name, round, stored, sent.Traces, storeErr)
	case m.ItemsPerSecond < minAchievedShare*float64(rate):
		// The comparison is at a load every pipeline holds; one that
		// pushed back measured a lower rate, not the same work.
		t.Errorf("%s round %d: got %.0f spans/s of %d offered: lower %s", p.Name, round, m.ItemsPerSecond, rate, rateKey)
	}
	progress("%s: %s %s %s round %d: %.0f spans/s, CPU %.1f%%, %.2f CPU-s per million, RAM %.0f/%.0f MiB, sent %d received %d stored %d, machine load %.2f",
		scenario, bin.Name, p.Name, c.protocol, round, m.ItemsPerSecond, m.CPUPercent, m.CPUPerMillion, m.RAMMiBAvg, m.RAMMiBMax, m.Sent, m.Received, m.Stored, m.LoadAverage)
	record(m)
}

// pairedCases are the rows of TestPairedLoad, the stock pass-through first:
// every target of otelcol-fusion is a ratio to it.
func pairedCases(fusion, stock collectorBinary) []saturationCase {
	cases := []saturationCase{
		{stock, passThrough, "otlp-grpc"},
		{fusion, passThrough, "otlp-grpc"},
		{fusion, passThrough, "fused"},
		{fusion, withFusion, "otlp-grpc"},
		{fusion, withFusion, "fused"},
		{fusion, withQuota, "otlp-grpc"},
	}
	if raftWALAvailable(fusion) {
		cases = append(cases, saturationCase{fusion, withRaftWAL, "otlp-grpc"})
	}
	return cases
}

// TestPairedLoad measures CPU per span of every pipeline at one load all of
// them hold (TESTBED_PAIRED_RATE, 70k spans/s), the cases alternated round
// by round (TESTBED_PAIRED_ROUNDS, 3): one case after the other, then again,
// so that drift on the shared machine weighs on every case alike. The report
// takes each case's median and its spread over the rounds; the ratios to the
// stock collector's median are the steadiest figures of the run.
func TestPairedLoad(t *testing.T) {
	fusion, stock := requireTestbed(t)
	rate := envInt("TESTBED_PAIRED_RATE", 70_000)
	rounds := envInt("TESTBED_PAIRED_ROUNDS", 3)
	for i := 1; i <= rounds; i++ {
		for _, c := range pairedCases(fusion, stock) {
			t.Run(fmt.Sprintf("%s/%s/%s/round-%d", c.bin.Name, c.pipeline.Name, c.protocol, i), func(t *testing.T) {
				runFixedLoad(t, "paired", c, rate, i, "TESTBED_PAIRED_RATE")
			})
		}
	}
}
