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
			t.Run(fmt.Sprintf("%s/%s/otlp-grpc/round-%d", fusion.Name, p.Name, i), func(t *testing.T) { runStoreDurability(t, fusion, p, rate, i) })
		}
	}
}

func runStoreDurability(t *testing.T, bin collectorBinary, p pipeline, rate, round int) {
	warmup := envDuration("TESTBED_WARMUP", 3*time.Second)
	window := envDuration("TESTBED_WINDOW", 10*time.Second)
	backendYAML := newBackendReceiver(backendGRPCPort, backendHTTPPort).GenConfigYAMLStr()
	load, err := newSignalLoad(sharedProvider(saturationBatch).fork(), newSender("otlp-grpc"), "traces")
	if err != nil {
		t.Fatal(err)
	}
	s := startSession(t, bin, collectorConfig(bin, p, backendYAML, t.TempDir()), load, saturationLimits)
	store := newStoreClient(storeQueryPort)
	load.Start(testbed.LoadOptions{DataItemsPerSecond: rate, ItemsPerBatch: saturationBatch, Parallel: saturationWorkers, MaxDelay: 2 * time.Second})
	time.Sleep(warmup)
	a := s.snapshot(load)
	time.Sleep(window)
	b := s.snapshot(load)
	load.Stop()
	drained := s.drain(load, 20*time.Second)
	sent := load.SentBySignal()
	stored, storeErr := store.waitForSpans(sent.Traces, 20*time.Second)
	received := s.backend.ReceivedBySignal()
	rc := s.stop()

	m := measure{
		Scenario: "durability", Case: fmt.Sprintf("round %d", round), Binary: bin.Name, Pipeline: p.Name,
		Protocol: "otlp-grpc", Signal: "traces", Offered: float64(rate),
		Sent: sent.total(), Received: received.total(), Exact: drained, Errors: load.Errors(),
		Stored: stored, StoreExact: storeErr == nil && stored == sent.Traces,
		CPUPercentMax: rc.CPUPercentMax, RAMMiBAvg: float64(rc.RAMMiBAvg), RAMMiBMax: float64(rc.RAMMiBMax),
		RAMLimit: float64(saturationLimits.ExpectedMaxRAM), LoadAverage: loadAverage(),
	}
	m.window(a, b)
	switch {
	case m.Errors > 0:
		t.Errorf("%s round %d: %d spans failed to send at %d spans/s", p.Name, round, m.Errors, rate)
	case !drained:
		t.Errorf("%s round %d: spans sent %+v != received %+v", p.Name, round, sent, received)
	case !m.StoreExact:
		t.Errorf("%s round %d: the store holds %d spans of %d sent (%v)", p.Name, round, stored, sent.Traces, storeErr)
	case m.ItemsPerSecond < minAchievedShare*float64(rate):
		// The comparison is at a load both pipelines hold; one that
		// pushed back measured a lower rate, not the same work.
		t.Errorf("%s round %d: got %.0f spans/s of %d offered: lower TESTBED_STORE_RATE", p.Name, round, m.ItemsPerSecond, rate)
	}
	progress("durability: %s round %d: %.0f spans/s, CPU %.1f%%, %.2f CPU-s per million, RAM %.0f/%.0f MiB, sent %d received %d stored %d, machine load %.2f",
		p.Name, round, m.ItemsPerSecond, m.CPUPercent, m.CPUPerMillion, m.RAMMiBAvg, m.RAMMiBMax, m.Sent, m.Received, m.Stored, m.LoadAverage)
	record(m)
}
