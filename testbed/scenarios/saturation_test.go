package scenarios

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/testbed/testbed"
)

// saturationRates are the offered loads of the ramp, spans per second.
var saturationRates = []int{30_000, 50_000, 75_000, 100_000, 125_000, 150_000, 180_000, 215_000, 260_000, 310_000, 370_000, 440_000, 520_000}

// storeSaturationRates start the store pipelines lower: a collector that
// writes every span into DuckDB may hold well under the first pass-through
// step, and its row should still say how much it holds.
var storeSaturationRates = append([]int{5_000, 10_000, 15_000, 20_000, 25_000}, saturationRates...)

// saturationLimits: no CPU limit (finding the CPU ceiling is the point), a
// RAM limit that stops a collector buffering without bound.
var saturationLimits = testbed.ResourceSpec{ExpectedMaxRAM: 2048, ResourceCheckPeriod: time.Second}

const (
	saturationBatch   = 500 // spans per request, an SDK's default batch
	saturationWorkers = 16  // concurrent senders
	// A step holds when the load generator got at least this share of the
	// offered rate through (less means the collector pushed back)...
	minAchievedShare = 0.95
	// ...and the backend had every item within this long after the step.
	stepDrainTimeout = 5 * time.Second
)

// saturationCase is one binary and pipeline to ramp.
type saturationCase struct {
	bin      collectorBinary
	pipeline pipeline
	protocol string
}

// rates is the ramp of the case, cut at TESTBED_MAX_RATE when set.
func (c saturationCase) rates() []int {
	ramp := saturationRates
	if c.pipeline.Store {
		ramp = storeSaturationRates
	}
	limit := envInt("TESTBED_MAX_RATE", 0)
	if limit <= 0 {
		return ramp
	}
	var cut []int
	for _, r := range ramp {
		if r <= limit {
			cut = append(cut, r)
		}
	}
	return cut
}

// TestSaturation is scenario 3: for each binary and pipeline, raise the
// offered span rate step by step until the collector pushes back or loses
// data, and keep the last step that held: its rate, and the collector's CPU
// over it. Every held step is checked exactly: the backend received every
// span sent so far.
func TestSaturation(t *testing.T) {
	fusion, stock := requireTestbed(t)
	// The rows of the alternated scenario (3b), then the store rows.
	cases := pairedCases(fusion, stock)
	if !raftWALAvailable(fusion) {
		progress("saturation: otelcol-fusion has no raftwal extension; its row is left out")
	}
	if storeAvailable(fusion) {
		cases = append(cases,
			saturationCase{fusion, withStoreMemory, "otlp-grpc"},
			saturationCase{fusion, withStoreRaftWAL, "otlp-grpc"})
	} else {
		progress("saturation: otelcol-fusion has no fusionstore (or raftwal); the store rows are left out")
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/%s/%s", c.bin.Name, c.pipeline.Name, c.protocol), func(t *testing.T) {
			rampUp(t, c)
		})
	}
}

// stepResult is one measured window at one offered rate.
type stepResult struct {
	m       measure
	stored  uint64
	held    bool
	reason  string  // why it did not hold
	cpuSecs float64 // collector CPU-seconds over the window
	items   float64 // items sent over the window
}

func rampUp(t *testing.T, c saturationCase) {
	step := envDuration("TESTBED_STEP", 5*time.Second)
	repeats := envInt("TESTBED_REPEATS", 3)
	repeatWindow := envDuration("TESTBED_REPEAT_WINDOW", 8*time.Second)
	backendYAML := newBackendReceiver(backendGRPCPort, backendHTTPPort).GenConfigYAMLStr()
	provider := sharedProvider(saturationBatch)
	newLoad := func() countingLoad {
		load, err := newSignalLoad(provider.fork(), newSender(c.protocol), "traces")
		if err != nil {
			t.Fatal(err)
		}
		return load
	}
	first := newLoad()
	s := startSession(t, c.bin, collectorConfig(c.bin, c.pipeline, backendYAML, t.TempDir()), first, saturationLimits)

	var store *storeClient
	if c.pipeline.Store {
		store = newStoreClient(storeQueryPort)
	}
	var total signalCounts
	loads := 0
	// runStep offers rate for one window and checks it exactly: every span
	// sent so far at the backend (and in the store), none refused.
	runStep := func(rate int, window time.Duration) stepResult {
		load := first
		if loads > 0 {
			load = newLoad()
		}
		loads++
		s.tc.LoadGenerator = load
		base := s.backend.ReceivedBySignal()
		load.Start(testbed.LoadOptions{DataItemsPerSecond: rate, ItemsPerBatch: saturationBatch, Parallel: saturationWorkers, MaxDelay: 2 * time.Second})
		time.Sleep(time.Second)
		a := s.snapshot(load)
		time.Sleep(window)
		b := s.snapshot(load)
		load.Stop()
		drained := waitUntil(stepDrainTimeout, func() bool {
			return s.backend.ReceivedBySignal().minus(base) == load.SentBySignal()
		})
		got := s.backend.ReceivedBySignal().minus(base)
		// The store must hold every span acknowledged so far, once, within
		// the same drain time as the backend: a store that falls behind (its
		// queue filling) does not hold the rate, even if the client got OKs.
		var stored uint64
		var storeErr error
		wantStored := total.Traces + load.SentBySignal().Traces
		if store != nil {
			stored, storeErr = store.waitForSpans(wantStored, stepDrainTimeout)
		}

		m := measure{
			Scenario: "saturation", Case: "traces " + c.protocol, Binary: c.bin.Name, Pipeline: c.pipeline.Name,
			Protocol: c.protocol, Signal: "traces", Offered: float64(rate), Errors: load.Errors(),
			RAMMiBMax: s.rssMiB(), RAMLimit: float64(saturationLimits.ExpectedMaxRAM),
		}
		m.window(a, b)
		m.CPUBound = m.CPUPercent >= 75
		m.LoadAverage = loadAverage()
		progress("saturation: %s %s %s: offered %d spans/s for %s, got %.0f/s, CPU %.0f%% (load generator and backend %.0f%%), %.2f CPU-s per million, errors %d, drained %v, machine load %.2f",
			c.bin.Name, c.pipeline.Name, c.protocol, rate, window, m.ItemsPerSecond, m.CPUPercent, m.HarnessCPU, m.CPUPerMillion, m.Errors, drained, m.LoadAverage)
		if store != nil {
			progress("saturation: %s %s: the store holds %d spans of %d acknowledged (%v)", c.bin.Name, c.pipeline.Name, stored, wantStored, storeErr)
		}
		r := stepResult{m: m, stored: stored}
		// Every span acknowledged counts towards what the backend and the
		// store must hold later, whether or not this step held: the repeats
		// follow a step that did not.
		total.Traces += load.SentBySignal().Traces
		switch {
		case m.Errors > 0:
			r.reason = fmt.Sprintf("errors at %d/s", rate)
		case !drained:
			r.reason = fmt.Sprintf("drops at %d/s (sent %d, received %d)", rate, load.SentBySignal().total(), got.total())
		case store != nil && storeErr != nil:
			r.reason = fmt.Sprintf("store query failed at %d/s: %v", rate, storeErr)
		case store != nil && stored > wantStored:
			r.reason = fmt.Sprintf("store holds more than acknowledged at %d/s (acknowledged %d, stored %d)", rate, wantStored, stored)
		case store != nil && stored < wantStored:
			r.reason = fmt.Sprintf("store behind at %d/s (acknowledged %d, stored %d within %s)", rate, wantStored, stored, stepDrainTimeout)
		case m.ItemsPerSecond < minAchievedShare*float64(rate):
			r.reason = fmt.Sprintf("back-pressure at %d/s (got %.0f/s)", rate, m.ItemsPerSecond)
		default:
			r.held = true
			secs := b.at.Sub(a.at).Seconds()
			r.cpuSecs = m.CPUPercent / 100 * secs
			r.items = m.ItemsPerSecond * secs
		}
		return r
	}

	rates := c.rates()
	var held *measure
	var heldCPU, heldItems []float64 // per held step, for the CPU-s per million of the top three
	var heldRates []int
	var steps []rampStep
	reason := "none: the top offered rate held"
	for _, rate := range rates {
		r := runStep(rate, step)
		steps = append(steps, rampStep{Offered: float64(rate), ItemsPerSecond: r.m.ItemsPerSecond, CPUPercent: r.m.CPUPercent, CPUPerMillion: r.m.CPUPerMillion, Held: r.held})
		if !r.held {
			reason = r.reason
			break
		}
		m := r.m
		m.Sent, m.Received, m.Exact = total.total(), s.backend.ReceivedBySignal().total(), true
		if store != nil {
			m.Stored, m.StoreExact = r.stored, true
		}
		held = &m
		heldCPU = append(heldCPU, r.cpuSecs)
		heldItems = append(heldItems, r.items)
		heldRates = append(heldRates, rate)
	}
	if held == nil {
		s.stop()
		t.Errorf("%s %s: not even %d spans/s held: %s", c.bin.Name, c.pipeline.Name, rates[0], reason)
		return
	}
	// CPU per item over the top three held steps: less noise than one
	// short window, still at the top of the ramp.
	var cpu, items float64
	for i := max(0, len(heldCPU)-3); i < len(heldCPU); i++ {
		cpu += heldCPU[i]
		items += heldItems[i]
	}
	held.CPUPerMillion = cpu / items * 1e6
	// Then 80% of the highest held rate again (the highest is at the edge of
	// back-pressure, where a repeat often does not hold, and so may the
	// step below it), repeats times for a longer window: the row's CPU per
	// item is the median of the windows that held, and their spread says how
	// far one window can be off.
	repeatRate := max(rates[0], heldRates[len(heldRates)-1]*4/5/5_000*5_000)
	var perMillion []float64
	for range repeats {
		r := runStep(repeatRate, repeatWindow)
		held.Repeats = append(held.Repeats, rampStep{Offered: float64(repeatRate), ItemsPerSecond: r.m.ItemsPerSecond, CPUPercent: r.m.CPUPercent, CPUPerMillion: r.m.CPUPerMillion, Held: r.held})
		if !r.held {
			// What was sent from here on is not counted exactly: stop.
			held.FailureNote = fmt.Sprintf("repeat %d of %d did not hold: %s", len(held.Repeats), repeats, r.reason)
			progress("saturation: %s %s %s: %s", c.bin.Name, c.pipeline.Name, c.protocol, held.FailureNote)
			break
		}
		perMillion = append(perMillion, r.m.CPUPerMillion)
		held.Sent, held.Received = total.total(), s.backend.ReceivedBySignal().total()
		if store != nil {
			held.Stored = r.stored
		}
	}
	if len(perMillion) > 0 {
		held.CPUPerMillion = median(perMillion)
		held.CPUPerMillionMin, held.CPUPerMillionMax = slices.Min(perMillion), slices.Max(perMillion)
	}
	rc := s.stop()
	held.Saturated = reason != "none: the top offered rate held"
	held.StopReason = reason
	held.Steps = steps
	held.RAMMiBAvg, held.RAMMiBMax = float64(rc.RAMMiBAvg), float64(rc.RAMMiBMax)
	held.CPUPercentMax = rc.CPUPercentMax
	held.DerivedPoints = s.backend.DerivedPoints()
	progress("saturation: %s %s %s holds %.0f spans/s at %.0f%% CPU (%.2f CPU-s per million, %d of %d repeats at %d/s held, spread %.2f-%.2f); stopped by %s",
		c.bin.Name, c.pipeline.Name, c.protocol, held.ItemsPerSecond, held.CPUPercent, held.CPUPerMillion,
		len(perMillion), repeats, repeatRate, held.CPUPerMillionMin, held.CPUPerMillionMax, reason)
	record(*held)
}

func waitUntil(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
	return true
}
