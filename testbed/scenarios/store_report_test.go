package scenarios

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteStoreReport(t *testing.T) {
	ms := []measure{
		{Scenario: "saturation", Binary: "stock", Pipeline: "pass-through", Protocol: "otlp-grpc", Sent: 900, Received: 900, Exact: true,
			ItemsPerSecond: 200000, CPUPercent: 80, CPUPerMillion: 4, CPUBound: true, StopReason: "back-pressure at 215000/s (got 190000/s)", LoadAverage: 6.5},
		{Scenario: "saturation", Binary: "fusion", Pipeline: "pass-through", Protocol: "otlp-grpc", Sent: 800, Received: 800, Exact: true,
			ItemsPerSecond: 250000, CPUPercent: 80, CPUPerMillion: 3.2, CPUBound: true, LoadAverage: 5},
		{Scenario: "saturation", Binary: "fusion", Pipeline: withStoreMemory.Name, Protocol: "otlp-grpc", Sent: 700, Received: 700, Exact: true,
			Stored: 700, StoreExact: true, ItemsPerSecond: 50000, CPUPercent: 100, CPUPerMillion: 20, CPUBound: true, LoadAverage: 7,
			Saturated: true, StopReason: "store behind at 75000/s",
			Steps: []rampStep{
				{Offered: 30000, ItemsPerSecond: 29900, CPUPercent: 60, CPUPerMillion: 20, Held: true},
				{Offered: 50000, ItemsPerSecond: 50000, CPUPercent: 100, CPUPerMillion: 20, Held: true},
				{Offered: 75000, ItemsPerSecond: 74000, CPUPercent: 100, CPUPerMillion: 13.5},
			}},
		{Scenario: "saturation", Binary: "fusion", Pipeline: withStoreRaftWAL.Name, Protocol: "otlp-grpc", Sent: 600, Received: 600, Exact: true,
			Stored: 600, StoreExact: true, ItemsPerSecond: 30000, CPUPercent: 75, CPUPerMillion: 25, CPUBound: true, LoadAverage: 8,
			Saturated: true, StopReason: "back-pressure at 50000/s (got 40000/s)",
			Steps: []rampStep{
				{Offered: 30000, ItemsPerSecond: 30000, CPUPercent: 75, CPUPerMillion: 25, Held: true},
				{Offered: 50000, ItemsPerSecond: 40000, CPUPercent: 50, CPUPerMillion: 12.5},
			}},
	}
	for i, cpu := range []float64{20, 30, 22, 33, 18, 40} {
		p := []string{withStoreMemory.Name, withStoreRaftWAL.Name}[i%2]
		ms = append(ms, measure{Scenario: "durability", Case: fmt.Sprintf("round %d", i/2+1), Binary: "fusion", Pipeline: p, Protocol: "otlp-grpc",
			Offered: 5000, WindowSeconds: 10, ItemsPerSecond: 5000, CPUPercent: cpu / 2, CPUPerMillion: cpu, Sent: 50000, Received: 50000, Exact: true,
			Stored: 50000, StoreExact: i != 5, LoadAverage: 3})
	}
	dir := t.TempDir()
	if err := writeStoreReport(dir, ms); err != nil {
		t.Fatal(err)
	}
	table, err := os.ReadFile(filepath.Join(dir, storeReportMarkdown))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"load average was 5.0–8.0",
		"| stock | pass-through | 200000 | back-pressure at 215000/s (got 190000/s) | 80 | yes | 4.00 | 1.00 | 1.25 | 250000 | 0/0 | ✔ 900/900 | – | 6.5 |",
		"| fusion | store, memory queue | 50000 | store behind at 75000/s | 100 | yes | 20.00 | 5.00 | 6.25 | 50000 | 0/0 | ✔ 700/700 | ✔ 700/700 | 7.0 |",
		"| fusion | store, raftwal queue | 30000 | back-pressure at 50000/s (got 40000/s) | 75 | yes | 25.00 | 6.25 | 7.81 | 40000 | 0/0 | ✔ 600/600 | ✔ 600/600 | 8.0 |",
		"the collector holds **0.60×** the rate of the in-memory queue (30000 against 50000 spans/s). Over their top three held steps it spends 1.25× the CPU per span (25.00 against 20.00 CPU-s per million spans)",
		"| 30000 | 29900 | 20.00 | 30000 | 25.00 | **1.25** |\n\n",
		"The store, raftwal queue row was stopped by back-pressure at 50000 spans/s while its collector used 50% of a core: the 16 senders were waiting on their Export calls, about 200 ms each (16 × 500 spans / 40000 spans/s), not on the collector's CPU.",
		"Both store pipelines at 5000 spans/s (a load both hold; `TESTBED_STORE_RATE`), over a 10-second window after warm-up",
		"| store, memory queue | round 1 | 5000 | 10.0 | 20.00 | 0/0 | ✔ 50000/50000 | ✔ 50000/50000 | 3.0 |",
		"| store, raftwal queue | round 3 | 5000 | 20.0 | 40.00 | 0/0 | ✔ 50000/50000 | ✘ 50000/50000 | 3.0 |",
		"Median CPU-s per million spans: memory queue 20.00, raftwal queue 33.00: durability costs **1.65×** the CPU per span (30303 against 50000 spans/s per core).",
		"costs **6.25×** the CPU per span of otelcol-fusion's pass-through (20.00 against 3.20 CPU-s per million spans); the default config's way (raftwal queue) **7.81×**.",
	} {
		if !strings.Contains(string(table), want) {
			t.Errorf("%s lacks %q:\n%s", storeReportMarkdown, want, table)
		}
	}
	if n := strings.Count(string(table), "was stopped by back-pressure"); n != 1 {
		t.Errorf("%s has %d notes on back-pressure without CPU, want 1 (the raftwal row's)", storeReportMarkdown, n)
	}
	var back []measure
	raw, err := os.ReadFile(filepath.Join(dir, storeReportJSON))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &back); err != nil || len(back) != len(ms) || back[3].Stored != 600 || !back[3].StoreExact {
		t.Errorf("%s: %d measures (%v), want %d with the store counts", storeReportJSON, len(back), err, len(ms))
	}
}

// TestStoreCollectorConfig checks the two store pipelines differ only in
// where the store exporter's queue lives.
func TestStoreCollectorConfig(t *testing.T) {
	bin := collectorBinary{Name: "fusion", Receiver: "otlpgo"}
	exporter := newBackendReceiver(backendGRPCPort, backendHTTPPort).GenConfigYAMLStr()
	memory := collectorConfig(bin, withStoreMemory, exporter, "/data")
	durable := collectorConfig(bin, withStoreRaftWAL, exporter, "/data")
	for name, cfg := range map[string]string{"memory": memory, "durable": durable} {
		for _, want := range []string{
			"  fusionstore:\n    extension: fusionstore\n    sending_queue:\n",
			"  fusionstore:\n    path: /data/fusion.duckdb\n    query:\n      endpoint: 127.0.0.1:47391\n",
			"      processors: []\n      exporters: [otlp_grpc, fusionstore]\n",
			"        min_size: 8192\n        max_size: 16384\n",
		} {
			if !strings.Contains(cfg, want) {
				t.Errorf("%s config lacks %q:\n%s", name, want, cfg)
			}
		}
	}
	if strings.Contains(memory, "raftwal") {
		t.Errorf("the memory-queue config names raftwal:\n%s", memory)
	}
	if got := strings.Count(durable, "storage: raftwal"); got != 1 {
		t.Errorf("the raftwal-queue config puts %d queues on raftwal, want 1 (the store exporter's):\n%s", got, durable)
	}
	if !strings.Contains(durable, "extensions: [raftwal, fusionstore]") {
		t.Errorf("the raftwal-queue config does not start raftwal before fusionstore:\n%s", durable)
	}
	if withoutStorage := strings.Replace(durable, "      storage: raftwal\n", "", 1); strings.Replace(withoutStorage,
		"extensions:\n  raftwal:\n    directory: /data/raftwal\n    node_id: testbed-1\n", "extensions:\n", 1) !=
		strings.Replace(memory, "extensions: [fusionstore]", "extensions: [raftwal, fusionstore]", 1) {
		t.Errorf("the two store configs differ in more than the queue's storage:\n%s\n---\n%s", memory, durable)
	}
}
