package scenarios

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"
)

// The store report (TESTBED_REPORT=store, `make testbed-store`) is the
// saturation ramp of the pass-through rows and the store rows alone, in
// files of its own so it does not replace the full run's results.md.
const (
	storeReportMarkdown = "store-saturation.md"
	storeReportJSON     = "store-saturation.json"
)

// writeStoreReport writes store-saturation.md and store-saturation.json
// (every measure) into dir.
func writeStoreReport(dir string, ms []measure) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	raw, err := json.MarshalIndent(ms, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, storeReportJSON), append(raw, '\n'), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, storeReportMarkdown), []byte(storeMarkdown(ms)), 0o644)
}

// findSaturation returns the saturation row of a binary and pipeline over
// OTLP/gRPC, if the run has one.
func findSaturation(ms []measure, binary, pipelineName string) (measure, bool) {
	for _, m := range ms {
		if m.Scenario == "saturation" && m.Binary == binary && m.Pipeline == pipelineName && m.Protocol == "otlp-grpc" {
			return m, true
		}
	}
	return measure{}, false
}

func storeMarkdown(ms []measure) string {
	var b strings.Builder
	finished := time.Now().UTC()
	if len(ms) > 0 && !ms[len(ms)-1].Finished.IsZero() {
		finished = ms[len(ms)-1].Finished
	}
	var sat []measure
	lowLoad, highLoad := 0.0, 0.0
	for _, m := range ms {
		if m.Scenario != "saturation" {
			continue
		}
		sat = append(sat, m)
		if lowLoad == 0 || m.LoadAverage < lowLoad {
			lowLoad = m.LoadAverage
		}
		highLoad = max(highLoad, m.LoadAverage)
	}
	stock, haveStock := findSaturation(ms, "stock", passThrough.Name)
	fusionPass, haveFusionPass := findSaturation(ms, "fusion", passThrough.Name)

	b.WriteString("# Saturation with the store on\n\n")
	fmt.Fprintf(&b, "One `make testbed-store` run, %s. Machine: %d cores (%s), %s/%s, %s. "+
		"Each collector runs as a child process with `GOMAXPROCS=%s` (DuckDB's own threads are not bound by it; "+
		"the CPU figures count every thread of the process); the load generator and the mock backend share the cores. "+
		"**The machine was shared** with other work during the run: its one-minute load average was %.1f–%.1f when the rows were measured "+
		"(column \"load\"), so read the ratios, taken in the same run, rather than the raw rates. "+
		"See testbed/README.md for the scenario and how to read the columns.\n\n",
		finished.Format("2006-01-02 15:04 UTC"), runtime.NumCPU(), cpuModelName(), runtime.GOOS, runtime.GOARCH, runtime.Version(),
		collectorGOMAXPROCS, lowLoad, highLoad)

	b.WriteString("Pipelines (traces over OTLP/gRPC, batches of 500 spans, 16 concurrent senders):\n\n" +
		"- **pass-through**: receiver → `batch` → `otlp_grpc` to the mock backend (stock collector and otelcol-fusion).\n" +
		"- **store, memory queue**: receiver → `otlp_grpc` and `fusionstore` exporters, no processor; both exporters batch in " +
		"their `sending_queue` (items, 8192–16384 per batch, 200ms), the queues in memory: an OK is sent before the store write.\n" +
		"- **store, raftwal queue**: the same, with the `fusionstore` exporter's queue on the `raftwal` extension, as " +
		"`distro/config.yaml` runs it: an OK is sent once the request is fsync'd in the WAL.\n\n" +
		"A step holds when ≥ 95% of the offered rate got through, no send failed, the backend had every span within 5 s, and, " +
		"for the store rows, the store's query API (`SELECT COUNT(*) FROM traces`) counted exactly every span acknowledged so far " +
		"within 5 s. CPU-s per million spans are over the top three held steps.\n\n")

	b.WriteString("| binary | pipeline | highest held spans/s | stopped by | collector CPU % | CPU-bound | CPU-s per M spans | vs stock pass-through | vs fusion pass-through | spans/s per core | RAM MiB avg/max | backend: received/sent | store: stored/sent | load |\n")
	b.WriteString("|---|---|---:|---|---:|---|---:|---:|---:|---:|---:|---|---|---:|\n")
	for _, m := range sat {
		vsStock, vsFusion := "–", "–"
		if haveStock {
			vsStock = ratio(m.CPUPerMillion, stock.CPUPerMillion)
		}
		if haveFusionPass {
			vsFusion = ratio(m.CPUPerMillion, fusionPass.CPUPerMillion)
		}
		backendMark := fmt.Sprintf("✘ %d/%d", m.Received, m.Sent)
		if m.Exact {
			backendMark = fmt.Sprintf("✔ %d/%d", m.Received, m.Sent)
		}
		storeMark := "–"
		if m.StoreExact {
			storeMark = fmt.Sprintf("✔ %d/%d", m.Stored, m.Sent)
		}
		fmt.Fprintf(&b, "| %s | %s | %.0f | %s | %.0f | %s | %.2f | %s | %s | %.0f | %.0f/%.0f | %s | %s | %.1f |\n",
			m.Binary, m.Pipeline, m.ItemsPerSecond, m.StopReason, m.CPUPercent, yesNo(m.CPUBound), m.CPUPerMillion,
			vsStock, vsFusion, perCore(m), m.RAMMiBAvg, m.RAMMiBMax, backendMark, storeMark, m.LoadAverage)
	}
	b.WriteString("\n")

	memory, haveMemory := findSaturation(ms, "fusion", withStoreMemory.Name)
	durable, haveDurable := findSaturation(ms, "fusion", withStoreRaftWAL.Name)
	if haveMemory && haveDurable {
		b.WriteString("## The cost of durability\n\n")
		fmt.Fprintf(&b, "The two store rows differ only in where the store exporter's queue lives. With it on raftwal "+
			"the collector holds **%s×** the rate of the in-memory queue (%.0f against %.0f spans/s). "+
			"Over their top three held steps it spends %s× the CPU per span (%.2f against %.2f CPU-s per million spans); "+
			"the steps both held compare CPU at the same load:\n\n",
			ratio(durable.ItemsPerSecond, memory.ItemsPerSecond), durable.ItemsPerSecond, memory.ItemsPerSecond,
			ratio(durable.CPUPerMillion, memory.CPUPerMillion), durable.CPUPerMillion, memory.CPUPerMillion)
		b.WriteString("| offered spans/s | memory queue: got/s | CPU-s per M | raftwal queue: got/s | CPU-s per M | raftwal / memory |\n|---:|---:|---:|---:|---:|---:|\n")
		for _, pair := range commonHeldSteps(memory, durable) {
			fmt.Fprintf(&b, "| %.0f | %.0f | %.2f | %.0f | %.2f | **%s** |\n", pair[0].Offered, pair[0].ItemsPerSecond, pair[0].CPUPerMillion,
				pair[1].ItemsPerSecond, pair[1].CPUPerMillion, ratio(pair[1].CPUPerMillion, pair[0].CPUPerMillion))
		}
		b.WriteString("\n")
		for _, m := range []measure{memory, durable} {
			if note := latencyNote(m); note != "" {
				b.WriteString(note + "\n\n")
			}
		}
	}
	durabilityTable(&b, ms)
	if haveMemory && haveFusionPass {
		b.WriteString("## The cost of the store\n\n")
		fmt.Fprintf(&b, "Writing every span into the store as well (in-memory queue) costs **%s×** the CPU per span of "+
			"otelcol-fusion's pass-through (%.2f against %.2f CPU-s per million spans)",
			ratio(memory.CPUPerMillion, fusionPass.CPUPerMillion), memory.CPUPerMillion, fusionPass.CPUPerMillion)
		if haveDurable {
			fmt.Fprintf(&b, "; the default config's way (raftwal queue) **%s×**", ratio(durable.CPUPerMillion, fusionPass.CPUPerMillion))
		}
		b.WriteString(".\n")
	}
	return b.String()
}

// commonHeldSteps pairs the steps of two ramps at the offered rates both
// held, in ramp order.
func commonHeldSteps(a, b measure) [][2]rampStep {
	var pairs [][2]rampStep
	for _, sa := range a.Steps {
		for _, sb := range b.Steps {
			if sa.Held && sb.Held && sa.Offered == sb.Offered {
				pairs = append(pairs, [2]rampStep{sa, sb})
			}
		}
	}
	return pairs
}

// latencyNote says when a ramp was stopped by back-pressure while the
// collector had CPU to spare: then each of the closed-loop senders was
// waiting on its Export, and senders × spans per Export / rate is how long
// one took on average.
func latencyNote(m measure) string {
	if len(m.Steps) == 0 || !m.Saturated {
		return ""
	}
	last := m.Steps[len(m.Steps)-1]
	if last.Held || last.CPUPercent >= 75 || last.ItemsPerSecond <= 0 || !strings.HasPrefix(m.StopReason, "back-pressure") {
		return ""
	}
	exportSeconds := float64(saturationWorkers*saturationBatch) / last.ItemsPerSecond
	return fmt.Sprintf("The %s row was stopped by back-pressure at %.0f spans/s while its collector used %.0f%% of a core: "+
		"the %d senders were waiting on their Export calls, about %.0f ms each (%d × %d spans / %.0f spans/s), not on the collector's CPU.",
		m.Pipeline, last.Offered, last.CPUPercent, saturationWorkers, exportSeconds*1000, saturationWorkers, saturationBatch, last.ItemsPerSecond)
}

// durabilityTable writes the runs of TestStoreDurability: each round of both
// store pipelines at the same offered load, and the medians' ratio.
func durabilityTable(b *strings.Builder, ms []measure) {
	var runs []measure
	cpu := map[string][]float64{}
	for _, m := range ms {
		if m.Scenario == "durability" {
			runs = append(runs, m)
			cpu[m.Pipeline] = append(cpu[m.Pipeline], m.CPUPerMillion)
		}
	}
	if len(runs) == 0 {
		return
	}
	fmt.Fprintf(b, "## The cost of durability at a fixed load\n\n"+
		"Both store pipelines at %.0f spans/s (a load both hold; `TESTBED_STORE_RATE`), over a %.0f-second window after warm-up, "+
		"run alternately, round by round, so that the rest of the machine weighs on both alike (`TestStoreDurability`).\n\n",
		runs[0].Offered, runs[0].WindowSeconds)
	b.WriteString("| pipeline | round | spans/s | collector CPU % | CPU-s per M spans | RAM MiB avg/max | backend: received/sent | store: stored/sent | load |\n|---|---|---:|---:|---:|---:|---|---|---:|\n")
	for _, m := range runs {
		backendMark, storeMark := "✘", "✘"
		if m.Exact {
			backendMark = "✔"
		}
		if m.StoreExact {
			storeMark = "✔"
		}
		fmt.Fprintf(b, "| %s | %s | %.0f | %.1f | %.2f | %.0f/%.0f | %s %d/%d | %s %d/%d | %.1f |\n", m.Pipeline, m.Case, m.ItemsPerSecond,
			m.CPUPercent, m.CPUPerMillion, m.RAMMiBAvg, m.RAMMiBMax, backendMark, m.Received, m.Sent, storeMark, m.Stored, m.Sent, m.LoadAverage)
	}
	memory, durable := median(cpu[withStoreMemory.Name]), median(cpu[withStoreRaftWAL.Name])
	if memory > 0 && durable > 0 {
		fmt.Fprintf(b, "\nMedian CPU-s per million spans: memory queue %.2f, raftwal queue %.2f: durability costs **%s×** the CPU per span "+
			"(%.0f against %.0f spans/s per core).\n\n", memory, durable, ratio(durable, memory), 1e6/durable, 1e6/memory)
	}
}

// median of values, 0 when there are none.
func median(values []float64) float64 {
	if len(values) == 0 {
		return 0
	}
	sorted := append([]float64(nil), values...)
	sort.Float64s(sorted)
	mid := len(sorted) / 2
	if len(sorted)%2 == 1 {
		return sorted[mid]
	}
	return (sorted[mid-1] + sorted[mid]) / 2
}
