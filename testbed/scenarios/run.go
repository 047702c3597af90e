package scenarios

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/testbed/testbed"
)

// collectorGOMAXPROCS pins the collector under test to one core, so that on
// the two cores of the reference machine the load generator and the mock
// backend have the other one, and "items/s at saturation" is items/s per core.
const collectorGOMAXPROCS = "1"

func runOutput(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}

// progress prints one line of what the testbed is doing, with the time.
func progress(format string, args ...any) {
	fmt.Printf("%s testbed: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// session is one collector process under load: the framework's TestCase
// with our backend receiver and a child-process collector.
type session struct {
	tc       *testbed.TestCase
	runner   testbed.OtelcolRunner
	backend  *backendReceiver
	cleanup  func()
	stopOnce sync.Once
	usage    *testbed.ResourceConsumption
}

// startSession starts the mock backend and the collector with config, with
// the framework's resource monitoring under limits.
func startSession(t *testing.T, bin collectorBinary, config string, load countingLoad, limits testbed.ResourceSpec) *session {
	t.Helper()
	runner := testbed.NewChildProcessCollector(
		testbed.WithAgentExePath(bin.Path),
		testbed.WithEnvVar("GOMAXPROCS", collectorGOMAXPROCS),
	)
	cleanup, err := runner.PrepareConfig(t, config)
	if err != nil {
		t.Fatalf("collector config: %v", err)
	}
	backend := newBackendReceiver(backendGRPCPort, backendHTTPPort)
	tc := testbed.NewLoadGeneratorTestCase(t, load, backend, runner, &countValidator{}, &testbed.PerformanceResults{},
		testbed.WithResourceLimits(limits))
	tc.StartBackend()
	tc.StartAgent()
	s := &session{tc: tc, runner: runner, backend: backend, cleanup: cleanup}
	// A run that fails half-way must not leave its collector running.
	t.Cleanup(func() { s.stop() })
	if !tc.WaitForN(func() bool { return runner.GetProcessMon() != nil }, 10*time.Second, "resource monitor") {
		t.Fatalf("collector %s did not start", bin.Name)
	}
	return s
}

// cpuSeconds is the collector's user + system CPU time so far.
func (s *session) cpuSeconds() float64 {
	proc := s.runner.GetProcessMon()
	if proc == nil {
		return 0
	}
	times, err := proc.Times()
	if err != nil {
		return 0
	}
	return times.User + times.System
}

func (s *session) rssMiB() float64 {
	proc := s.runner.GetProcessMon()
	if proc == nil {
		return 0
	}
	mem, err := proc.MemoryInfo()
	if err != nil {
		return 0
	}
	return float64(mem.RSS) / (1 << 20)
}

// snapshot is what was sent, received and burnt at one moment.
type snapshot struct {
	at         time.Time
	cpu        float64 // the collector's
	harnessCPU float64 // this process's: load generator and mock backend
	sent       signalCounts
	received   signalCounts
}

func (s *session) snapshot(load countingLoad) snapshot {
	return snapshot{at: time.Now(), cpu: s.cpuSeconds(), harnessCPU: ownCPUSeconds(),
		sent: load.SentBySignal(), received: s.backend.ReceivedBySignal()}
}

// ownCPUSeconds is the user + system CPU time of the test process.
func ownCPUSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// drain waits until the backend has everything load sent, up to timeout.
func (s *session) drain(load countingLoad, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if s.backend.ReceivedBySignal() == load.SentBySignal() {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return s.backend.ReceivedBySignal() == load.SentBySignal()
}

// stop stops load, collector and backend, and returns the framework's
// resource summary (CPU average and maximum, RAM average and maximum).
func (s *session) stop() *testbed.ResourceConsumption {
	s.stopOnce.Do(func() {
		s.tc.Stop()
		s.cleanup()
		s.usage = s.runner.GetTotalConsumption()
	})
	return s.usage
}

// countValidator is the correctness check of every scenario: the framework's
// PerfTestValidator (items sent equal items received, over all signals),
// then the same per signal, with derived metrics counted apart.
type countValidator struct{}

func (*countValidator) Validate(tc *testbed.TestCase) {
	(&testbed.PerfTestValidator{}).Validate(tc)
}

func (*countValidator) RecordResults(*testbed.TestCase) {}

// measure is the outcome of one run, one row of a table.
type measure struct {
	Scenario string  `json:"scenario"`
	Case     string  `json:"case"`
	Binary   string  `json:"binary"`
	Pipeline string  `json:"pipeline"`
	Protocol string  `json:"protocol"`
	Signal   string  `json:"signal"`
	Offered  float64 `json:"offered_items_per_s"`

	Sent          uint64 `json:"sent"`
	Received      uint64 `json:"received"`
	DerivedPoints uint64 `json:"derived_points"`
	Exact         bool   `json:"exact"`
	// Stored is what the embedded store held at the last held step (store
	// pipelines only); StoreExact that it was every span sent, once.
	Stored     uint64 `json:"stored,omitempty"`
	StoreExact bool   `json:"store_exact,omitempty"`
	Errors     uint64 `json:"errors"`

	ItemsPerSecond float64 `json:"items_per_s"`
	CPUPercent     float64 `json:"cpu_percent"`
	CPUPercentMax  float64 `json:"cpu_percent_max"`
	CPUPerMillion  float64 `json:"cpu_s_per_million"`
	RAMMiBAvg      float64 `json:"ram_mib_avg"`
	RAMMiBMax      float64 `json:"ram_mib_max"`
	HarnessCPU     float64 `json:"harness_cpu_percent"`
	WindowSeconds  float64 `json:"window_s,omitempty"`
	CPULimit       float64 `json:"cpu_limit_percent"`
	RAMLimit       float64 `json:"ram_limit_mib"`
	// LoadAverage is the machine's one-minute load average when the row was
	// measured: other work on the shared cores shows here.
	LoadAverage float64 `json:"load_average,omitempty"`

	// Saturation only.
	Saturated   bool   `json:"saturated"`
	StopReason  string `json:"stop_reason,omitempty"`
	CPUBound    bool   `json:"cpu_bound"`
	FailureNote string `json:"failure,omitempty"`

	// Steps are the saturation ramp's steps, held or not, in order.
	Steps []rampStep `json:"steps,omitempty"`
	// Repeats are the longer windows at the highest held rate after the
	// ramp; CPUPerMillion is then the median of those that held, and
	// CPUPerMillionMin/Max their spread.
	Repeats          []rampStep `json:"repeats,omitempty"`
	CPUPerMillionMin float64    `json:"cpu_s_per_million_min,omitempty"`
	CPUPerMillionMax float64    `json:"cpu_s_per_million_max,omitempty"`

	// Finished is when the run ended.
	Finished time.Time `json:"finished"`
}

// rampStep is one step of a saturation ramp.
type rampStep struct {
	Offered        float64 `json:"offered_items_per_s"`
	ItemsPerSecond float64 `json:"items_per_s"`
	CPUPercent     float64 `json:"cpu_percent"`
	CPUPerMillion  float64 `json:"cpu_s_per_million"`
	Held           bool    `json:"held"`
}

// window fills the rate and CPU figures of m from two snapshots.
func (m *measure) window(a, b snapshot) {
	secs := b.at.Sub(a.at).Seconds()
	items := b.sent.minus(a.sent).total()
	cpu := b.cpu - a.cpu
	m.WindowSeconds = secs
	m.ItemsPerSecond = float64(items) / secs
	m.CPUPercent = cpu / secs * 100
	m.HarnessCPU = (b.harnessCPU - a.harnessCPU) / secs * 100
	if items > 0 {
		m.CPUPerMillion = cpu / float64(items) * 1e6
	}
}

// loadAverage is the machine's one-minute load average (/proc/loadavg), 0
// where there is none.
func loadAverage() float64 {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	fields := strings.Fields(string(raw))
	if len(fields) == 0 {
		return 0
	}
	v, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return 0
	}
	return v
}

func envInt(key string, fallback int) int {
	if v := os.Getenv(key); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	}
	return fallback
}

func envDuration(key string, fallback time.Duration) time.Duration {
	if v := os.Getenv(key); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			return d
		}
	}
	return fallback
}
