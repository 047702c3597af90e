package scenarios

import (
	"encoding/json"
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// spansPerDay400B is 400 billion spans a day, as spans per second.
const spansPerDay400B = 400e9 / 86400

// targetUtilisation is the share of a core a sized cluster is planned to
// use, leaving headroom for peaks and failover.
const targetUtilisation = 0.7

var (
	fusionColor = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	stockColor  = color.RGBA{R: 0xaa, G: 0xaa, B: 0xaa, A: 0xff}
)

// writeReport writes results.md (the tables), chart.png and results.json
// (every measure) into dir.
func writeReport(dir string, ms []measure) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	raw, err := json.MarshalIndent(ms, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), append(raw, '\n'), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.md"), []byte(markdown(ms)), 0o644); err != nil {
		return err
	}
	return drawChart(filepath.Join(dir, "chart.png"), ms)
}

// pairs groups the steady measures of one scenario by case, fusion beside
// stock, in the order they ran.
func pairs(ms []measure, scenario string) (order []string, byCase map[string]map[string]measure) {
	byCase = map[string]map[string]measure{}
	for _, m := range ms {
		if m.Scenario != scenario {
			continue
		}
		key := m.Case
		if _, ok := byCase[key]; !ok {
			order = append(order, key)
			byCase[key] = map[string]measure{}
		}
		byCase[key][m.Binary] = m
	}
	return order, byCase
}

func ratio(a, b float64) string {
	if a == 0 || b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", a/b)
}

func exactMark(ms ...measure) string {
	var parts []string
	for _, m := range ms {
		if m.Binary == "" {
			continue
		}
		mark := "✔"
		if !m.Exact {
			mark = "✘"
		}
		part := fmt.Sprintf("%s %d/%d", mark, m.Received, m.Sent)
		if m.Exact && m.Received > m.Sent {
			// Every acknowledged span arrived; the rest came from sends
			// that failed at the client after the collector had taken them
			// (the step that stopped the ramp) or from an export retried
			// after the backend had it: more than acknowledged, none lost.
			part += fmt.Sprintf(" (+%d beyond the acknowledged: failed or retried sends that arrived anyway)", m.Received-m.Sent)
		}
		parts = append(parts, part)
		if m.StoreExact {
			parts = append(parts, fmt.Sprintf("store ✔ %d/%d", m.Stored, m.Sent))
		}
	}
	return strings.Join(parts, " · ")
}

func markdown(ms []measure) string {
	var b strings.Builder
	cpuModel := cpuModelName()
	finished := time.Now().UTC()
	if last := ms[len(ms)-1].Finished; !last.IsZero() {
		finished = last
	}
	fmt.Fprintf(&b, "# otelfusion testbed results\n\n")
	fmt.Fprintf(&b, "One `make testbed` run, %s. Machine: %d cores (%s), %s/%s, %s. "+
		"Both collectors run as child processes with `GOMAXPROCS=%s`; the load generator and the mock backend share the other core. "+
		"Data: `pkg/fusiongen` (20 services, HTTP/DB/RPC spans, linked logs, all five metric types). "+
		"Every collector exports OTLP/gRPC (no compression) to the mock backend. See README.md for how to read this.\n\n",
		finished.Format("2006-01-02 15:04 UTC"), runtime.NumCPU(), cpuModel, runtime.GOOS, runtime.GOARCH, runtime.Version(), collectorGOMAXPROCS)

	steadyTable := func(title, scenario, note string) {
		order, byCase := pairs(ms, scenario)
		if len(order) == 0 {
			return
		}
		fmt.Fprintf(&b, "## %s\n\n%s\n\n", title, note)
		b.WriteString("| case | fusion ingest | stock ingest | items/s | CPU % fusion (max) | CPU % stock (max) | CPU-s per M items fusion | stock | ratio | RAM MiB avg/max fusion | stock | sent = received (fusion · stock) |\n")
		b.WriteString("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
		for _, key := range order {
			f, s := byCase[key]["fusion"], byCase[key]["stock"]
			if s.Binary == "" {
				// A fusion-only pipeline: compare with the scenario's stock run.
				s = byCase[order[0]]["stock"]
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %.0f | %.1f (%.1f) | %.1f (%.1f) | %.2f | %.2f | **%s** | %.0f/%.0f | %.0f/%.0f | %s |\n",
				key, strings.TrimSpace(f.Protocol+" "+pipelineNote(f)), s.Protocol, f.ItemsPerSecond,
				f.CPUPercent, f.CPUPercentMax, s.CPUPercent, s.CPUPercentMax,
				f.CPUPerMillion, s.CPUPerMillion, ratio(f.CPUPerMillion, s.CPUPerMillion),
				f.RAMMiBAvg, f.RAMMiBMax, s.RAMMiBAvg, s.RAMMiBMax, exactMark(byCase[key]["fusion"], byCase[key]["stock"]))
		}
		b.WriteString("\n")
	}
	steadyTable("1. Standard: 10k items/s over OTLP, pass-through", "standard",
		fmt.Sprintf("Receiver → batch → OTLP exporter. Limits (framework resource monitor, checked every second; a breach stops the run): CPU %.0f%% of a core, RAM %.0f MiB. "+
			"Ratio = fusion / stock CPU-seconds per million items (below 1: otelcol-fusion spends less).", float64(steadyLimits.ExpectedMaxCPU), float64(steadyLimits.ExpectedMaxRAM)))
	steadyTable("2. Fused: 10k spans + 10k logs + 10k points per second", "fused",
		"otelcol-fusion takes one fused stream (`POST /v1/fused`, zstd frames of 100 spans + 100 log records + 100 points); the stock collector takes the same items as three OTLP/gRPC streams. "+
			"The second row runs the fused stream through correlation: the fusion processor's linking and the fusionmetrics connector's RED and log-count metrics (the derived metrics reach the backend but are not counted as received items). "+
			"The rows marked stream mode send the same frames in otlpgo stream mode (`Otlpgo-Stream` header: the receiver keeps each stream's dictionary and map shapes, docs/protocol.md), encoded at each send.")

	var sat []measure
	var stockSat *measure
	for i, m := range ms {
		if m.Scenario == "saturation" {
			sat = append(sat, m)
			if m.Binary == "stock" {
				stockSat = &ms[i]
			}
		}
	}
	if len(sat) > 0 {
		b.WriteString("## 3. Saturation: traces, offered load raised until back-pressure or drops\n\n")
		b.WriteString("Offered spans/s rise in steps (batches of 500 spans, 16 concurrent senders). A step holds when ≥ 95% of the offered rate got through, no send failed, " +
			"and the backend had every span within 5 s; the table shows the highest step that held. 80% of it (the highest is at the edge of back-pressure, where a repeat often does not hold) is then offered again in repeated, longer windows " +
			"(`TESTBED_REPEATS`, 3, of `TESTBED_REPEAT_WINDOW`, 8 s, each checked the same way): CPU-seconds per million spans are the median of those windows and \"spread\" " +
			"their range, as ± half of it over the median (without repeats: the top three held steps, no spread); " +
			"spans/s per core = 10⁶ / that (what one fully busy core takes). \"CPU-bound\" means the collector used ≥ 75% of its one core at the held rate; otherwise the " +
			"shared two-core machine (load generator, backend) stopped the ramp first and spans/s per core is the better figure.\n\n")
		b.WriteString("| binary | pipeline | ingest | highest held spans/s | stopped by | collector CPU % | CPU-bound | CPU-s per M spans | spread | vs stock | target | spans/s per core | RAM MiB avg/max | exact |\n")
		b.WriteString("|---|---|---|---:|---|---:|---|---:|---:|---:|---|---:|---:|---|\n")
		for _, m := range sat {
			vs, goal := "–", "–"
			if stockSat != nil {
				vs = ratio(m.CPUPerMillion, stockSat.CPUPerMillion)
				goal = targetMark(m, m.CPUPerMillion/stockSat.CPUPerMillion)
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %.0f | %s | %.0f | %s | %.2f | %s | %s | %s | %.0f | %.0f/%.0f | %s |\n",
				m.Binary, m.Pipeline, m.Protocol, m.ItemsPerSecond, stopNote(m), m.CPUPercent, yesNo(m.CPUBound),
				m.CPUPerMillion, spread(m), vs, goal, perCore(m), m.RAMMiBAvg, m.RAMMiBMax, exactMark(m))
		}
		if q, c := findMeasure(sat, withQuota.Name, "otlp-grpc"), findMeasure(sat, withFusion.Name, "otlp-grpc"); q != nil && c != nil && c.CPUPerMillion > 0 {
			fmt.Fprintf(&b, "\ntenant_quota adds %+.1f%% CPU per span to the correlation pipeline over OTLP/gRPC (rows measured minutes apart; target ≤ +5%%; "+
				"section 3b has the two alternated at one load).\n", (q.CPUPerMillion/c.CPUPerMillion-1)*100)
		}
		b.WriteString("\n")
	}
	pairedTable(&b, ms)
	if len(sat) > 0 {

		fmt.Fprintf(&b, "## 4. 400B spans/day\n\n400 × 10⁹ spans a day is %.2fM spans/s. Cores = that rate / spans/s per core (from the saturation table); "+
			"the planning column runs every core at %.0f%%.\n\n", spansPerDay400B/1e6, targetUtilisation*100)
		b.WriteString("| binary | pipeline | ingest | spans/s per core | cores at 100% | cores at 70% | vs stock |\n|---|---|---|---:|---:|---:|---:|\n")
		for _, m := range sat {
			cores := coresFor400B(m)
			vs := "–"
			if stockSat != nil {
				vs = ratio(cores, coresFor400B(*stockSat))
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %.0f | %.1f | %.1f | %s |\n", m.Binary, m.Pipeline, m.Protocol, perCore(m), cores, cores/targetUtilisation, vs)
		}
		b.WriteString("\n")
	}

	b.WriteString("## 5. Correctness\n\nEvery run: items sent by the load generator = items the mock backend received, per signal, after the load stopped " +
		"(the framework's `PerfTestValidator` checks the total too). Derived metrics of otelcol-fusion's processors are counted apart.\n\n")
	b.WriteString("| scenario | case | binary | pipeline | sent | received | derived points (not counted) | exact |\n|---|---|---|---|---:|---:|---:|---|\n")
	for _, m := range ms {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %d | %d | %d | %s |\n", m.Scenario, m.Case, m.Binary, m.Pipeline, m.Sent, m.Received, m.DerivedPoints, yesNo(m.Exact))
	}
	b.WriteString("\n![throughput and CPU per million items](chart.png)\n")
	return b.String()
}

func pipelineNote(m measure) string {
	if m.Pipeline == "" || m.Pipeline == passThrough.Name {
		return ""
	}
	return "(" + m.Pipeline + ")"
}

func yesNo(v bool) string {
	if v {
		return "yes"
	}
	return "no"
}

func perCore(m measure) float64 {
	if m.CPUPerMillion == 0 {
		return 0
	}
	return 1e6 / m.CPUPerMillion
}

func coresFor400B(m measure) float64 {
	if pc := perCore(m); pc > 0 {
		return spansPerDay400B / pc
	}
	return 0
}

func cpuModelName() string {
	raw, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if name, ok := strings.CutPrefix(line, "model name"); ok {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(name), ":"))
		}
	}
	return "unknown CPU"
}

// drawChart draws two panels: spans/s per core at saturation for each
// pipeline, and CPU-seconds per million items for every case, otelcol-fusion
// beside the stock collector.
func drawChart(path string, ms []measure) error {
	throughput, err := perCoreChart(ms)
	if err != nil {
		return err
	}
	cpu, err := cpuChart(ms)
	if err != nil {
		return err
	}
	img := vgimg.New(vg.Points(1200), vg.Points(900))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 2, Cols: 1, PadY: vg.Points(30), PadTop: vg.Points(10), PadBottom: vg.Points(10), PadLeft: vg.Points(10), PadRight: vg.Points(10)}
	canvases := plot.Align([][]*plot.Plot{{throughput}, {cpu}}, tiles, dc)
	throughput.Draw(canvases[0][0])
	cpu.Draw(canvases[1][0])
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

// groupedBars adds one bar series per binary over the named categories.
func groupedBars(p *plot.Plot, categories []string, fusion, stock []float64) error {
	width := vg.Points(22)
	for i, series := range []struct {
		name   string
		values []float64
		color  color.Color
	}{{"otelcol-fusion", fusion, fusionColor}, {"stock collector", stock, stockColor}} {
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
	// Room at the sides for the outer bars and at the top for the legend.
	p.X.Min, p.X.Max = -0.8, float64(len(categories))-0.2
	var highest float64
	for i := range fusion {
		highest = max(highest, fusion[i], stock[i])
	}
	p.Y.Min, p.Y.Max = 0, highest*1.3+1e-9
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	p.Y.Tick.Marker = shortTicks{}
	return nil
}

// shortTicks labels the Y axis 250k rather than 250000.00.
type shortTicks struct{}

func (shortTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	for i, t := range ticks {
		if t.Label == "" {
			continue
		}
		switch {
		case t.Value >= 1e6:
			ticks[i].Label = strconv.FormatFloat(t.Value/1e6, 'f', -1, 64) + "M"
		case t.Value >= 1e3:
			ticks[i].Label = strconv.FormatFloat(t.Value/1e3, 'f', -1, 64) + "k"
		default:
			ticks[i].Label = strconv.FormatFloat(t.Value, 'f', -1, 64)
		}
	}
	return ticks
}

func perCoreChart(ms []measure) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "Saturation: spans/s per core (traces; higher is better)"
	p.Y.Label.Text = "spans/s per core"
	var categories []string
	var fusion, stock []float64
	index := map[string]int{}
	for _, m := range ms {
		if m.Scenario != "saturation" {
			continue
		}
		key := strings.TrimPrefix(chartLabel(m), "saturation\n")
		i, ok := index[key]
		if !ok {
			i = len(categories)
			index[key] = i
			categories = append(categories, key)
			fusion, stock = append(fusion, 0), append(stock, 0)
		}
		if m.Binary == "stock" {
			stock[i] = perCore(m)
		} else {
			fusion[i] = perCore(m)
		}
	}
	if len(categories) == 0 {
		categories, fusion, stock = []string{"no saturation run"}, []float64{0}, []float64{0}
	}
	if err := groupedBars(p, categories, fusion, stock); err != nil {
		return nil, err
	}
	// The stock collector has only the pass-through pipeline: draw its
	// figure across the chart as the baseline for every fusion pipeline.
	for i, v := range stock {
		if v == 0 {
			continue
		}
		baseline := plotter.NewFunction(func(float64) float64 { return stock[i] })
		baseline.XMin, baseline.XMax = p.X.Min, p.X.Max
		baseline.Color = color.Gray{Y: 0x60}
		baseline.Dashes = []vg.Length{vg.Points(6), vg.Points(4)}
		p.Add(baseline)
		p.Legend.Add("stock baseline", baseline)
		break
	}
	return p, nil
}

// chartLabel names a case in a few short lines under its bars.
func chartLabel(m measure) string {
	proto := map[string]string{"otlp-grpc": "OTLP/gRPC", "otlp-http": "OTLP/HTTP", "fused": "fused"}[m.Protocol]
	switch m.Scenario {
	case "standard":
		return fmt.Sprintf("10k %s/s\n%s", m.Signal, proto)
	case "fused":
		stream := ""
		if m.Protocol == "fused stream" {
			stream = "\nstream mode"
		}
		if m.Pipeline == withFusion.Name {
			return "30k mixed/s\ncorrelation" + stream
		}
		return "30k mixed/s\nfused vs 3×OTLP" + stream
	default:
		return fmt.Sprintf("saturation\n%s\n%s", m.Pipeline, proto)
	}
}

func cpuChart(ms []measure) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "CPU-seconds per million items (lower is better)"
	p.Y.Label.Text = "CPU-s per million items"
	var categories []string
	var fusion, stock []float64
	index := map[string]int{}
	for _, m := range ms {
		if m.Scenario == "smoke" {
			continue
		}
		key := chartLabel(m)
		i, ok := index[key]
		if !ok {
			i = len(categories)
			index[key] = i
			categories = append(categories, key)
			fusion, stock = append(fusion, 0), append(stock, 0)
		}
		if m.Binary == "stock" {
			stock[i] = m.CPUPerMillion
		} else {
			fusion[i] = m.CPUPerMillion
		}
	}
	if len(categories) == 0 {
		categories, fusion, stock = []string{"no runs"}, []float64{0}, []float64{0}
	}
	return p, groupedBars(p, categories, fusion, stock)
}

// spread is the range of a saturation row's repeated windows as ± half of it
// over their median, "–" without repeats.
func spread(m measure) string {
	if m.CPUPerMillionMax == 0 || m.CPUPerMillion == 0 {
		return "–"
	}
	return fmt.Sprintf("±%.0f%%", (m.CPUPerMillionMax-m.CPUPerMillionMin)/2/m.CPUPerMillion*100)
}

// stopNote is a saturation row's stop reason, with a failed repeat after it.
func stopNote(m measure) string {
	if m.FailureNote == "" || m.StopReason == "" {
		return m.StopReason + m.FailureNote
	}
	return m.StopReason + "; " + m.FailureNote
}

// targets are issue 15's bounds on CPU per span against the stock
// collector's pass-through, by pipeline and ingest.
var targets = map[[2]string]float64{
	{passThrough.Name, "fused"}:     0.5,
	{withFusion.Name, "otlp-grpc"}:  1.0,
	{withFusion.Name, "fused"}:      1.0,
	{withRaftWAL.Name, "otlp-grpc"}: 1.5,
}

// targetMark is "≤ 0.5 ✔" (or ✘) for a row with a target, "–" otherwise.
func targetMark(m measure, vsStock float64) string {
	if m.Binary != "fusion" {
		return "–"
	}
	goal, ok := targets[[2]string{m.Pipeline, m.Protocol}]
	if !ok {
		return "–"
	}
	mark := "✘"
	if vsStock <= goal {
		mark = "✔"
	}
	return fmt.Sprintf("≤ %.1f %s", goal, mark)
}

func findMeasure(ms []measure, pipeline, protocol string) *measure {
	for i := range ms {
		if ms[i].Binary == "fusion" && ms[i].Pipeline == pipeline && ms[i].Protocol == protocol {
			return &ms[i]
		}
	}
	return nil
}

// pairedCase is one row of the paired table: a case's rounds, in order.
type pairedCase struct {
	binary, pipeline, protocol string
	rounds                     []measure
}

func (c pairedCase) perMillion() []float64 {
	var v []float64
	for _, m := range c.rounds {
		v = append(v, m.CPUPerMillion)
	}
	return v
}

// exact is "✔ received/sent" over the case's rounds, ✘ when one round was
// not exact.
func (c pairedCase) exact() string {
	total := measure{Binary: c.binary, Exact: true}
	for _, m := range c.rounds {
		total.Sent += m.Sent
		total.Received += m.Received
		total.Exact = total.Exact && m.Exact
	}
	return exactMark(total)
}

// pairedTable writes TestPairedLoad: every case's rounds at one load, the
// median, its spread, the ratio to the stock collector's median and the
// target.
func pairedTable(b *strings.Builder, ms []measure) {
	var cases []*pairedCase
	index := map[string]*pairedCase{}
	for _, m := range ms {
		if m.Scenario != "paired" {
			continue
		}
		key := m.Binary + "/" + m.Pipeline + "/" + m.Protocol
		c := index[key]
		if c == nil {
			c = &pairedCase{binary: m.Binary, pipeline: m.Pipeline, protocol: m.Protocol}
			index[key] = c
			cases = append(cases, c)
		}
		c.rounds = append(c.rounds, m)
	}
	if len(cases) == 0 {
		return
	}
	first := cases[0].rounds[0]
	fmt.Fprintf(b, "## 3b. CPU per span at one load, cases alternated\n\n"+
		"Every pipeline at %.0f spans/s (a load all of them hold; `TESTBED_PAIRED_RATE`), traces in batches of 500, %.0f s measured after warm-up, "+
		"the cases run one after the other and then again, %d rounds (`TestPairedLoad`): drift on the shared machine weighs on every case alike. "+
		"CPU-s per M spans is the median of the rounds, spread their range as ± half of it over the median; vs stock is the ratio of medians. "+
		"Every round checked exactly (sent = received).\n\n", first.Offered, first.WindowSeconds, len(cases[0].rounds))
	b.WriteString("| binary | pipeline | ingest | rounds: CPU-s per M spans | median | spread | vs stock | target | exact |\n|---|---|---|---|---:|---:|---:|---|---|\n")
	var stockMedian float64
	if cases[0].binary == "stock" {
		stockMedian = median(cases[0].perMillion())
	}
	medians := map[string]float64{}
	for _, c := range cases {
		values := c.perMillion()
		med := median(values)
		medians[c.pipeline+"/"+c.protocol] = med
		var rounds []string
		for _, v := range values {
			rounds = append(rounds, fmt.Sprintf("%.2f", v))
		}
		vs, goal := "–", "–"
		if stockMedian > 0 {
			vs = ratio(med, stockMedian)
			goal = targetMark(c.rounds[0], med/stockMedian)
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %.2f | %s | %s | %s | %s |\n", c.binary, c.pipeline, c.protocol, strings.Join(rounds, ", "),
			med, spread(measure{CPUPerMillion: med, CPUPerMillionMin: slices.Min(values), CPUPerMillionMax: slices.Max(values)}), vs, goal, c.exact())
	}
	if q, c := medians[withQuota.Name+"/otlp-grpc"], medians[withFusion.Name+"/otlp-grpc"]; q > 0 && c > 0 {
		mark := "✘"
		if q/c <= 1.05 {
			mark = "✔"
		}
		fmt.Fprintf(b, "\ntenant_quota adds **%+.1f%%** CPU per span to the correlation pipeline (medians; target ≤ +5%% %s).\n", (q/c-1)*100, mark)
	}
	b.WriteString("\n")
}
