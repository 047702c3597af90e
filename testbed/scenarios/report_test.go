package scenarios

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteReport(t *testing.T) {
	ms := []measure{
		{Scenario: "standard", Case: "traces OTLP/gRPC", Binary: "fusion", Pipeline: "pass-through", Protocol: "otlp-grpc", Sent: 100, Received: 100, Exact: true, ItemsPerSecond: 10000, CPUPercent: 8, CPUPerMillion: 8},
		{Scenario: "standard", Case: "traces OTLP/gRPC", Binary: "stock", Pipeline: "pass-through", Protocol: "otlp-grpc", Sent: 100, Received: 100, Exact: true, ItemsPerSecond: 10000, CPUPercent: 10, CPUPerMillion: 10},
		{Scenario: "saturation", Case: "traces otlp-grpc", Binary: "stock", Pipeline: "pass-through", Protocol: "otlp-grpc", Exact: true, ItemsPerSecond: 200000, CPUPercent: 80, CPUPerMillion: 4, CPUBound: true},
		{Scenario: "saturation", Case: "traces otlp-grpc", Binary: "fusion", Pipeline: "fusion", Protocol: "otlp-grpc", Exact: true, ItemsPerSecond: 150000, CPUPercent: 75, CPUPerMillion: 5,
			StopReason: "back-pressure at 180000/s", CPUPerMillionMin: 4.5, CPUPerMillionMax: 5.5,
			FailureNote: "repeat 3 of 3 did not hold: drops at 150000/s"},
	}
	dir := envOr("REPORT_DIR", t.TempDir())
	if err := writeReport(dir, ms); err != nil {
		t.Fatal(err)
	}
	table, err := os.ReadFile(filepath.Join(dir, "results.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| traces OTLP/gRPC | otlp-grpc | otlp-grpc | 10000 |",
		"| **0.80** |",
		"| stock | pass-through | otlp-grpc | 250000 | 18.5 | 26.5 | 1.00 |",
		"| fusion | fusion | otlp-grpc | 200000 | 23.1 | 33.1 | 1.25 |",
		// Saturation: the spread of the repeats, none without them, and a
		// repeat that did not hold beside the stop reason.
		"| stock | pass-through | otlp-grpc | 200000 |  | 80 | yes | 4.00 | – | 1.00 |",
		"| fusion | fusion | otlp-grpc | 150000 | back-pressure at 180000/s; repeat 3 of 3 did not hold: drops at 150000/s | 75 | no | 5.00 | ±10% | 1.25 |",
	} {
		if !strings.Contains(string(table), want) {
			t.Errorf("results.md lacks %q:\n%s", want, table)
		}
	}
	png, err := os.ReadFile(filepath.Join(dir, "chart.png"))
	if err != nil || !strings.HasPrefix(string(png), "\x89PNG") {
		t.Errorf("chart.png is not a PNG (%v)", err)
	}
	var back []measure
	raw, _ := os.ReadFile(filepath.Join(dir, "results.json"))
	if err := json.Unmarshal(raw, &back); err != nil || len(back) != len(ms) {
		t.Errorf("results.json: %d measures, %v", len(back), err)
	}
}

func TestCountLeaves(t *testing.T) {
	td := sharedProvider(50).traces[0]
	body, err := encodedOTLP.traces(td)
	if err != nil {
		t.Fatal(err)
	}
	n, err := countLeaves(body)
	if err != nil || n != td.SpanCount() {
		t.Errorf("countLeaves = %d, %v; want %d", n, err, td.SpanCount())
	}
	ld := sharedProvider(50).logs[0]
	body, err = encodedOTLP.logs(ld)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := countLeaves(body); err != nil || n != ld.LogRecordCount() {
		t.Errorf("countLeaves(logs) = %d, %v; want %d", n, err, ld.LogRecordCount())
	}
}

// TestRenderResults re-renders results.md and chart.png from the
// results.json named by TESTBED_RENDER, into TESTBED_RESULTS (default: the
// same directory), without running anything; with TESTBED_REPORT=store,
// store-saturation.md from a store-saturation.json.
func TestRenderResults(t *testing.T) {
	path := os.Getenv("TESTBED_RENDER")
	if path == "" {
		t.Skip("set TESTBED_RENDER to a results.json")
	}
	raw, err := os.ReadFile(fromStartDir(path))
	if err != nil {
		t.Fatal(err)
	}
	var ms []measure
	if err := json.Unmarshal(raw, &ms); err != nil {
		t.Fatal(err)
	}
	dir := envOr("TESTBED_RESULTS", filepath.Dir(fromStartDir(path)))
	if err := reportWriter()(fromStartDir(dir), ms); err != nil {
		t.Fatal(err)
	}
}

func TestPairedTable(t *testing.T) {
	rounds := map[[3]string][]float64{
		{"stock", passThrough.Name, "otlp-grpc"}:  {4.0, 4.4, 4.2},
		{"fusion", passThrough.Name, "fused"}:     {2.2, 2.0, 2.1},
		{"fusion", withFusion.Name, "otlp-grpc"}:  {5.0, 4.6, 4.8},
		{"fusion", withQuota.Name, "otlp-grpc"}:   {5.2, 5.0, 4.9},
		{"fusion", withRaftWAL.Name, "otlp-grpc"}: {6.0, 6.5, 6.4},
	}
	order := [][3]string{
		{"stock", passThrough.Name, "otlp-grpc"}, {"fusion", passThrough.Name, "fused"},
		{"fusion", withFusion.Name, "otlp-grpc"}, {"fusion", withQuota.Name, "otlp-grpc"}, {"fusion", withRaftWAL.Name, "otlp-grpc"},
	}
	var ms []measure
	for round := range 3 {
		for _, c := range order {
			ms = append(ms, measure{Scenario: "paired", Case: fmt.Sprintf("round %d", round+1), Binary: c[0], Pipeline: c[1], Protocol: c[2],
				Offered: 100000, WindowSeconds: 10, CPUPerMillion: rounds[c][round], Sent: 1000, Received: 1000, Exact: true})
		}
	}
	var b strings.Builder
	pairedTable(&b, ms)
	for _, want := range []string{
		"Every pipeline at 100000 spans/s",
		"| stock | pass-through | otlp-grpc | 4.00, 4.40, 4.20 | 4.20 | ±5% | 1.00 | – | ✔ 3000/3000 |",
		"| fusion | pass-through | fused | 2.20, 2.00, 2.10 | 2.10 | ±5% | 0.50 | ≤ 0.5 ✔ | ✔ 3000/3000 |",
		"| fusion | correlation | otlp-grpc | 5.00, 4.60, 4.80 | 4.80 | ±4% | 1.14 | ≤ 1.0 ✘ | ✔ 3000/3000 |",
		"| fusion | correlation+quota | otlp-grpc | 5.20, 5.00, 4.90 | 5.00 | ±3% | 1.19 | – | ✔ 3000/3000 |",
		"| fusion | raftwal queue | otlp-grpc | 6.00, 6.50, 6.40 | 6.40 | ±4% | 1.52 | ≤ 1.5 ✘ | ✔ 3000/3000 |",
		"tenant_quota adds **+4.2%** CPU per span to the correlation pipeline (medians; target ≤ +5% ✔).",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("paired table lacks %q:\n%s", want, b.String())
		}
	}
}

func TestExactMark(t *testing.T) {
	for _, c := range []struct {
		m    measure
		want string
	}{
		{measure{Binary: "fusion", Sent: 900, Received: 900, Exact: true}, "✔ 900/900"},
		{measure{Binary: "fusion", Sent: 900, Received: 800}, "✘ 800/900"},
		{measure{Binary: "fusion", Sent: 1430500, Received: 1438500, Exact: true, Stored: 1430500, StoreExact: true},
			"✔ 1438500/1430500 (+8000 beyond the acknowledged: failed or retried sends that arrived anyway) · store ✔ 1430500/1430500"},
	} {
		if got := exactMark(c.m); got != c.want {
			t.Errorf("exactMark(%+v) = %q, want %q", c.m, got, c.want)
		}
	}
}
