package scenarios

import (
	"encoding/json"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// fleetGatewayCores and fleetAgentCores are the machine sizes the 400B
// spans/day sizing counts collectors in.
const (
	fleetGatewayCores = 8
	fleetAgentCores   = 2
)

var directColor = color.RGBA{R: 0xaa, G: 0xaa, B: 0xaa, A: 0xff}

// writeFleetReport writes results.md, chart.png and results.json of the
// routing fleet scenario into dir.
func writeFleetReport(dir string, runs []fleetRun, rate int, load time.Duration) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	data, err := json.MarshalIndent(runs, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), append(data, '\n'), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.md"), []byte(fleetMarkdown(runs, rate, load)), 0o644); err != nil {
		return err
	}
	return drawFleetChart(filepath.Join(dir, "chart.png"), runs)
}

func fleetMarkdown(runs []fleetRun, rate int, load time.Duration) string {
	var b strings.Builder
	reps := 0
	for _, r := range runs {
		reps = max(reps, r.Rep)
	}
	fmt.Fprintf(&b, "# otelfusion fleet: 2 agents → 3 gateways by trace-aware routing\n\n")
	fmt.Fprintf(&b, "One `make testbed-fleet` run, %s. Machine: %d cores (%s), %s/%s, %s. "+
		"Every collector runs as a child process with `GOMAXPROCS=%s`; the load senders run in the test process. "+
		"See testbed/README.md, \"Fleet: routing\".\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), runtime.NumCPU(), cpuModelName(), runtime.GOOS, runtime.GOARCH,
		runtime.Version(), collectorGOMAXPROCS)
	fmt.Fprintf(&b, "Load: 2 senders (`pkg/fusiongen` data), each offering %d spans/s and %d log records/s for %v, "+
		"in batches of %d; a sender's spans go to its own agent and its logs to the other agent, so a trace's spans and logs "+
		"enter the fleet through different agents. Gateways: fused receiver → `fusion` → `fusionstore` (its own DuckDB file). "+
		"Cases, run interleaved %d times each: **routing** (both agents route by trace id over the 3 gateways, static resolver) "+
		"and **direct** (agent *i* sends everything to gateway *i*, the third gateway idle: the fleet without routing). "+
		"CPU is measured over the middle 2/3 of the load, summed over a tier's processes, per span (each span travels with one log record).\n\n",
		rate, rate, load, fleetBatch, reps)

	b.WriteString("## Medians\n\n")
	b.WriteString("| case | spans/s | logs/s | agent tier CPU-µs per span | gateway tier CPU-µs per span | logs linked to their span |\n|---|---:|---:|---:|---:|---:|\n")
	routing, direct := fleetMedians(runs, "routing"), fleetMedians(runs, "direct")
	for _, m := range []fleetRun{routing, direct} {
		fmt.Fprintf(&b, "| %s | %.0f | %.0f | %.1f | %.1f | %.2f%% |\n", m.Case, m.SpansPerSec, m.LogsPerSec, m.AgentCPUus, m.GatewayCPUus, 100*m.Correlation)
	}
	fmt.Fprintf(&b, "\nRouting / direct, CPU per span: agent tier **%.2f**, gateway tier **%.2f**.\n\n",
		routing.AgentCPUus/direct.AgentCPUus, routing.GatewayCPUus/direct.GatewayCPUus)

	b.WriteString("## Every run: exact counts\n\n")
	b.WriteString("Acknowledged = the agents answered OK; stored = `SELECT COUNT(*)` over the three gateways' stores after the load. " +
		"Logs with trace context = logs the gateways' fusion processors saw with a trace and span id (from the record or its attributes); " +
		"linked = those enriched with their span.\n\n")
	b.WriteString("| case | rep | spans/s | agent µs/span | gateway µs/span | acked spans | stored spans | acked logs | stored logs | exact | failed calls | logs with trace context | linked | correlation | spans per gateway |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---|\n")
	for _, r := range runs {
		exact := "✔"
		if r.AckedSpans != r.StoredSpans || r.AckedLogs != r.StoredLogs {
			exact = "✘"
		}
		gw := make([]string, len(r.GatewaySpans))
		for i, n := range r.GatewaySpans {
			gw[i] = fmt.Sprint(n)
		}
		fmt.Fprintf(&b, "| %s | %d | %.0f | %.1f | %.1f | %d | %d | %d | %d | %s | %d | %d | %d | %.2f%% | %s |\n",
			r.Case, r.Rep, r.SpansPerSec, r.AgentCPUus, r.GatewayCPUus, r.AckedSpans, r.StoredSpans, r.AckedLogs, r.StoredLogs,
			exact, r.FailedCalls, r.LogsWithContext, r.LogsLinked, 100*r.Correlation, strings.Join(gw, " / "))
	}

	b.WriteString("\n## 400B spans/day with routing\n\n")
	agentCores := spansPerDay400B * routing.AgentCPUus / 1e6 / targetUtilisation
	gatewayCores := spansPerDay400B * routing.GatewayCPUus / 1e6 / targetUtilisation
	fmt.Fprintf(&b, "400 × 10⁹ spans a day is %.2fM spans/s, here with one log record per span. Cores = rate × CPU per span "+
		"(routing medians above) / %.0f%% planned utilisation. The gateway tier includes the embedded store's writes; "+
		"the agent tier is receive + route + fused send.\n\n", spansPerDay400B/1e6, 100*targetUtilisation)
	b.WriteString("| tier | CPU-µs per span | cores at 70% | collectors |\n|---|---:|---:|---|\n")
	fmt.Fprintf(&b, "| agents | %.1f | %.0f | %d × %d-core agents |\n",
		routing.AgentCPUus, math.Ceil(agentCores), int(math.Ceil(agentCores/fleetAgentCores)), fleetAgentCores)
	fmt.Fprintf(&b, "| gateways | %.1f | %.0f | %d × %d-core gateways |\n",
		routing.GatewayCPUus, math.Ceil(gatewayCores), int(math.Ceil(gatewayCores/fleetGatewayCores)), fleetGatewayCores)
	fmt.Fprintf(&b, "\nThe rate here is modest (%.0f spans/s over the fleet on a shared 2-core machine), so fixed costs (flush timers, "+
		"the store's checkpoints) weigh in the CPU per span: the sizing errs high. ", routing.SpansPerSec)
	fmt.Fprintf(&b, "Adding a gateway moves about 1/N of the traces (consistent hashing), so the gateway tier grows one "+
		"collector at a time; keep the per-gateway span rate under what one gateway's store takes (the fusion "+
		"processor's index and late-log buffer are sized per gateway: `index::max_entries` ≥ spans/s per gateway × "+
		"`index::ttl`).\n")
	return b.String()
}

func drawFleetChart(path string, runs []fleetRun) error {
	routing, direct := fleetMedians(runs, "routing"), fleetMedians(runs, "direct")

	cpu := plot.New()
	cpu.Title.Text = "CPU-µs per span, by tier (lower is better; each span with one log)"
	cpu.Y.Label.Text = "CPU-µs per span"
	if err := fleetBars(cpu, []string{"agent tier", "gateway tier"},
		[]float64{routing.AgentCPUus, routing.GatewayCPUus}, []float64{direct.AgentCPUus, direct.GatewayCPUus}); err != nil {
		return err
	}
	corr := plot.New()
	corr.Title.Text = "Logs linked to their span at the gateways (%)"
	corr.Y.Label.Text = "%"
	if err := fleetBars(corr, []string{"correlation"}, []float64{100 * routing.Correlation}, []float64{100 * direct.Correlation}); err != nil {
		return err
	}
	corr.Y.Max = 115

	img := vgimg.New(vg.Points(1000), vg.Points(700))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 2, Cols: 1, PadY: vg.Points(30), PadTop: vg.Points(10), PadBottom: vg.Points(10), PadLeft: vg.Points(10), PadRight: vg.Points(10)}
	canvases := plot.Align([][]*plot.Plot{{cpu}, {corr}}, tiles, dc)
	cpu.Draw(canvases[0][0])
	corr.Draw(canvases[1][0])
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

// fleetBars draws routing beside direct over the categories.
func fleetBars(p *plot.Plot, categories []string, routing, direct []float64) error {
	width := vg.Points(40)
	for i, series := range []struct {
		name   string
		values []float64
		color  color.Color
	}{{"routing by trace id", routing, fusionColor}, {"direct (no routing)", direct, directColor}} {
		bars, err := plotter.NewBarChart(plotter.Values(series.values), width)
		if err != nil {
			return err
		}
		bars.Color = series.color
		bars.LineStyle.Width = 0
		bars.Offset = vg.Length(float64(i)-0.5) * width
		p.Add(bars)
		p.Legend.Add(series.name, bars)
	}
	p.NominalX(categories...)
	p.X.Min, p.X.Max = -0.8, float64(len(categories))-0.2
	highest := 0.0
	for i := range routing {
		highest = max(highest, routing[i], direct[i])
	}
	p.Y.Min, p.Y.Max = 0, highest*1.3+1e-9
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	return nil
}
