package scenarios

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// writeKafkaFleetReport writes kafka.md, kafka.json and kafka.png into dir.
func writeKafkaFleetReport(dir string, rep kafkaFleetReport) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	data, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "kafka.json"), append(data, '\n'), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "kafka.md"), []byte(kafkaFleetMarkdown(rep)), 0o600); err != nil {
		return err
	}
	return drawKafkaFleetChart(filepath.Join(dir, "kafka.png"), rep)
}

func check(ok bool) string {
	if ok {
		return "✔"
	}
	return "✘"
}

func kafkaFleetMarkdown(rep kafkaFleetReport) string {
	var b strings.Builder
	first, last := rep.Runs[0], rep.Runs[len(rep.Runs)-1]
	fmt.Fprintf(&b, "# Kafka fleet: %d agents → Kafka (%d partitions) → %d gateways\n\n", first.Agents, first.Partitions, first.Gateways)
	fmt.Fprintf(&b, "One `make testbed-fleet-kafka` run, %d repetitions from scratch, finished %s. Machine: %d cores, %s/%s. "+
		"Every collector is a child process with `GOMAXPROCS=1`; Kafka is franz-go's `kfake` in the test process, "+
		"beside the load generator. All of it shares the machine's cores (with whatever else runs on it), so "+
		"throughput is what this machine did and CPU per span varies between repetitions; the medians size the fleet.\n\n",
		len(rep.Runs), last.Finished.Format("2006-01-02 15:04 UTC"), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH)
	b.WriteString("Agents: otlpgo receiver (fused frames) → fused exporter with `kafka:` (each flush one transaction, " +
		"records partitioned by trace id, no sending queue: an OK means committed). Gateways: otlpgo receiver " +
		"`protocols::kafka` (one consumer group, `read_committed`, static members) → `fusion` processor " +
		"(`late_logs::max_delay: 0`) → `fusionstore` exporter without a queue into each gateway's own store; " +
		"each export's (topic, partition, offsets) is stored with its rows.\n\n")

	b.WriteString("## Throughput and CPU per tier\n\n")
	b.WriteString("| run | offered spans/s | committed to Kafka spans/s | stored spans/s (end to end) | agent tier CPU-s per M spans | gateway tier CPU-s per M spans | kfake + load generator CPU-s per M spans | agent tier CPU % | gateway tier CPU % | correlation | stores complete after the load stopped |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for i, r := range rep.Runs {
		fmt.Fprintf(&b, "| %d | %.0f | %.0f | %.0f | %.2f | %.2f | %.2f | %.0f | %.0f | %.4f | %.1f s |\n",
			i+1, r.OfferedSpans, r.SpansPerSecond, r.StoredSpansPerSecond, r.AgentCPUPerMillionSpans, r.GatewayCPUPerMillionSpans,
			r.KafkaCPUPerMillionSpans, r.AgentCPUPercent, r.GatewayCPUPercent, r.CorrelationRate, r.DrainSeconds)
	}
	m := rep.Median
	fmt.Fprintf(&b, "| **median** | | **%.0f** | **%.0f** | **%.2f** | **%.2f** | **%.2f** | | | **%.4f** | |\n\n",
		m.SpansPerSecond, m.StoredSpansPerSecond, m.AgentCPUPerMillionSpans, m.GatewayCPUPerMillionSpans, m.KafkaCPUPerMillionSpans, m.CorrelationRate)
	fmt.Fprintf(&b, "Rates and CPU over a %.0f s window after warm-up; stored spans/s is every span stored over the "+
		"whole run (load start until the stores held everything). Each span travels with one log record and one "+
		"metric point (fused frames of 100 + 100 + 100), so CPU per span covers all three. Correlation = logs the "+
		"gateways' fusion processors enriched from their span / all logs they saw. "+
		"The agents place a log by its TraceID field or, when `pkg/fusiongen` wrote its trace context only as "+
		"`trace_id`/`span_id` attributes (one linked log in four), by the trace id the shared hint parser "+
		"(`internal/tracehint`) reads there, so it lands on its span's partition; the generator's logs without "+
		"trace context are the unlinked share.\n\n", first.Window)

	b.WriteString("## Exact counts\n\n")
	b.WriteString("Sent by the load generator (every send acknowledged by an agent) against the rows in the three stores after the load stopped; derived metrics of the fusion processor are counted apart.\n\n")
	b.WriteString("| run | spans sent | stored | log records sent | stored | metric points sent | stored | exact | spans per gateway store | derived points | send errors |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---|---|---:|---:|\n")
	for i, r := range rep.Runs {
		parts := make([]string, len(r.StoredPerGateway))
		for j, n := range r.StoredPerGateway {
			parts[j] = fmt.Sprint(n)
		}
		fmt.Fprintf(&b, "| %d | %d | %d | %d | %d | %d | %d | %s | %s | %d | %d |\n", i+1,
			r.Sent.Traces, r.Stored.Traces, r.Sent.Logs, r.Stored.Logs, r.Sent.Metrics, r.Stored.Metrics,
			check(r.Exact), strings.Join(parts, " / "), r.DerivedPoints, r.SendErrors)
	}
	b.WriteString("\n")

	s := rep.Sizing
	b.WriteString("## Sizing for 400B spans/day\n\n")
	fmt.Fprintf(&b, "400 × 10⁹ spans a day is %.0f spans/s. Cores = that rate × the median CPU-seconds per span of the "+
		"tier (above); collectors of %d cores run at %.0f%%; partitions = 2 × gateway cores (one consuming goroutine per "+
		"partition, and room to add gateways without changing the partition count, which would move traces).\n\n",
		s.SpansPerSecond, s.CoresPerCollector, 100*s.Busy)
	b.WriteString("| tier | CPU-s per M spans (median) | cores at 100% | collectors |\n|---|---:|---:|---:|\n")
	fmt.Fprintf(&b, "| agents | %.2f | %.1f | %d |\n", m.AgentCPUPerMillionSpans, s.AgentCores, s.Agents)
	fmt.Fprintf(&b, "| gateways | %.2f | %.1f | %d |\n\n", m.GatewayCPUPerMillionSpans, s.GatewayCores, s.Gateways)
	fmt.Fprintf(&b, "**%d agents × %d gateways × %d partitions** (one gateway core takes %.0f spans/s with its logs and points).\n",
		s.Agents, s.Gateways, s.Partitions, s.SpansPerGatewayCPU)
	return b.String()
}

func drawKafkaFleetChart(path string, rep kafkaFleetReport) error {
	m := rep.Median
	r := rep.Runs[len(rep.Runs)-1]
	cpu := plot.New()
	cpu.Title.Text = fmt.Sprintf("Kafka fleet: CPU-seconds per million spans, per tier, median of %d runs (lower is better)", len(rep.Runs))
	cpu.Y.Label.Text = "CPU-s per M spans"
	bars, err := plotter.NewBarChart(plotter.Values{m.AgentCPUPerMillionSpans, m.GatewayCPUPerMillionSpans, m.KafkaCPUPerMillionSpans}, vg.Points(60))
	if err != nil {
		return err
	}
	bars.Color = fusionColor
	bars.LineStyle.Width = 0
	cpu.Add(bars, plotter.NewGrid())
	cpu.NominalX(fmt.Sprintf("%d agents", r.Agents), fmt.Sprintf("%d gateways", r.Gateways), "kfake + load gen")
	cpu.X.Min, cpu.X.Max = -0.6, 2.6
	cpu.Y.Min, cpu.Y.Max = 0, 1.2*max(m.AgentCPUPerMillionSpans, m.GatewayCPUPerMillionSpans, m.KafkaCPUPerMillionSpans)+1e-9

	spread := plot.New()
	spread.Title.Text = fmt.Sprintf("Spans stored per gateway, run %d (%.0f spans/s end to end, correlation %.2f%%, exact: %v)",
		len(rep.Runs), r.StoredSpansPerSecond, 100*r.CorrelationRate, r.Exact)
	spread.Y.Label.Text = "spans"
	values := make(plotter.Values, len(r.StoredPerGateway))
	names := make([]string, len(r.StoredPerGateway))
	for i, n := range r.StoredPerGateway {
		values[i] = float64(n)
		names[i] = fmt.Sprintf("gateway-%d", i)
	}
	gw, err := plotter.NewBarChart(values, vg.Points(60))
	if err != nil {
		return err
	}
	gw.Color = stockColor
	gw.LineStyle.Width = 0
	spread.Add(gw, plotter.NewGrid())
	spread.NominalX(names...)
	spread.Y.Tick.Marker = shortTicks{}
	spread.X.Min, spread.X.Max = -0.6, float64(len(values))-0.4
	spread.Y.Min, spread.Y.Max = 0, 1.2*max(1, floats.Max(values))

	img := vgimg.New(vg.Points(900), vg.Points(700))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 2, Cols: 1, PadY: vg.Points(30), PadTop: vg.Points(10), PadBottom: vg.Points(10), PadLeft: vg.Points(10), PadRight: vg.Points(10)}
	canvases := plot.Align([][]*plot.Plot{{cpu}, {spread}}, tiles, dc)
	cpu.Draw(canvases[0][0])
	spread.Draw(canvases[1][0])
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
