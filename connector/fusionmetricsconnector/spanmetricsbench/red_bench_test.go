package spanmetricsbench

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/connector/spanmetricsconnector"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otelfusion/otelfusion/connector/fusionmetricsconnector"
	"github.com/otelfusion/otelfusion/pkg/fusiongen"
)

// The comparison with contrib's spanmetrics connector: the same fusiongen
// spans, the same dimensions (service, span name, kind, status, http.route,
// deployment.environment.name), the same explicit buckets in ms, exemplars
// on (at most 5 per point), delta temporality, the same flush interval.
// After the timed loop each side's flushed calls per series are compared:
// they must be equal, series by series. `make bench-red` runs it.
const (
	redBatchSpans   = 1000
	redBatches      = 16 // distinct batches cycled through, so ids vary
	redFlushEvery   = 200 * time.Millisecond
	redMaxExemplars = 5
)

var redDimensions = []string{"http.route", "deployment.environment.name"}

// redSide is one connector under benchmark and how to read its output.
type redSide struct {
	name        string
	callsMetric string
	build       func(b *testing.B, sink *consumertest.MetricsSink) connector.Traces
}

var redSides = []redSide{
	{
		name:        "fusionmetrics",
		callsMetric: "fusion.span.calls",
		build: func(b *testing.B, sink *consumertest.MetricsSink) connector.Traces {
			f := fusionmetricsconnector.NewFactory()
			cfg := f.CreateDefaultConfig().(*fusionmetricsconnector.Config)
			cfg.Attributes.Tenant = "" // spanmetrics has no tenant dimension
			cfg.Dimensions = redDimensions
			cfg.Exemplars.MaxPerDataPoint = redMaxExemplars
			cfg.Temporality = fusionmetricsconnector.TemporalityDelta
			cfg.FlushInterval = redFlushEvery
			cfg.CardinalityLimit = 100_000 // spanmetrics has no limit here
			require.NoError(b, cfg.Validate())
			c, err := f.CreateTracesToMetrics(context.Background(), connectortest.NewNopSettings(f.Type()), cfg, sink)
			require.NoError(b, err)
			return c
		},
	},
	{
		name:        "spanmetrics",
		callsMetric: "traces.span.metrics.calls",
		build: func(b *testing.B, sink *consumertest.MetricsSink) connector.Traces {
			f := spanmetricsconnector.NewFactory()
			cfg := f.CreateDefaultConfig().(*spanmetricsconnector.Config)
			cfg.Dimensions = nil
			for _, d := range redDimensions {
				cfg.Dimensions = append(cfg.Dimensions, spanmetricsconnector.Dimension{Name: d})
			}
			var buckets []time.Duration
			for _, ms := range fusionmetricsconnector.NewFactory().CreateDefaultConfig().(*fusionmetricsconnector.Config).Histogram.Explicit {
				buckets = append(buckets, time.Duration(ms*float64(time.Millisecond)))
			}
			require.NoError(b, cfg.Histogram.Unit.UnmarshalText([]byte("ms")))
			cfg.Histogram.Explicit = configoptional.Some(spanmetricsconnector.ExplicitHistogramConfig{Buckets: buckets})
			cfg.Exemplars = spanmetricsconnector.ExemplarsConfig{Enabled: true, MaxPerDataPoint: redMaxExemplars}
			cfg.AggregationTemporality = "AGGREGATION_TEMPORALITY_DELTA"
			cfg.MetricsFlushInterval = redFlushEvery
			require.NoError(b, cfg.Validate())
			c, err := f.CreateTracesToMetrics(context.Background(), connectortest.NewNopSettings(f.Type()), cfg, sink)
			require.NoError(b, err)
			return c
		},
	},
}

// redRounds is how many times the pair runs, alternating, so machine load
// affects both alike (go test's -count would run one side's repetitions
// before the other's): RED_ROUNDS, 1 unless set.
func redRounds() int {
	if n, err := strconv.Atoi(os.Getenv("RED_ROUNDS")); err == nil && n > 0 {
		return n
	}
	return 1
}

// BenchmarkRED runs both connectors on the same spans in one process,
// alternating for redRounds rounds. It reports
// ns/span, allocs/span and B/span (allocations of every goroutine, the flush
// loop's included), and cpu-ns/span: the process's CPU time (getrusage), which
// other processes on a shared machine do not inflate.
func BenchmarkRED(b *testing.B) {
	gen := fusiongen.New(1)
	batches := make([]ptrace.Traces, redBatches)
	for i := range batches {
		batches[i] = gen.Traces(redBatchSpans)
	}
	for round := range redRounds() {
		benchREDRound(b, batches, round)
	}
}

func benchREDRound(b *testing.B, batches []ptrace.Traces, round int) {
	var want map[string]int64
	for _, side := range redSides {
		b.Run(fmt.Sprintf("%s/round-%d", side.name, round), func(b *testing.B) {
			sink := new(consumertest.MetricsSink)
			c := side.build(b, sink)
			ctx := context.Background()
			require.NoError(b, c.Start(ctx, componenttest.NewNopHost()))
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			cpuBefore := processCPU(b)
			b.ResetTimer()
			for i := range b.N {
				if err := c.ConsumeTraces(ctx, batches[i%redBatches]); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			cpuAfter := processCPU(b)
			runtime.ReadMemStats(&after)
			spans := float64(b.N * redBatchSpans)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/spans, "ns/span")
			b.ReportMetric(float64(cpuAfter-cpuBefore)/spans, "cpu-ns/span")
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/spans, "allocs/span")
			b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/spans, "B/span")

			// spanmetrics flushes only from its ticker: wait for the last
			// delta to arrive before shutting it down.
			total := int64(b.N * redBatchSpans)
			deadline := time.Now().Add(30 * time.Second)
			for sumCallsByKind(sink, side.callsMetric)[""] < total && time.Now().Before(deadline) {
				time.Sleep(redFlushEvery / 4)
			}
			require.NoError(b, c.Shutdown(ctx))
			got := sumCallsByKind(sink, side.callsMetric)
			require.Equal(b, total, got[""], "%s: every span counted once", side.name)
			// Series by series, both sides must agree: checked when the
			// previous side saw the same number of spans (same b.N).
			if want != nil && want[""] == got[""] {
				require.Equal(b, want, got, "calls per series differ from %s", redSides[0].name)
			}
			want = got
		})
	}
}

// processCPU is the user and system CPU time of the whole process so far
// (getrusage), in ns: every goroutine's, the flush loop's and GC's included,
// and, unlike wall time, not what other processes on the machine take.
func processCPU(b *testing.B) int64 {
	var ru syscall.Rusage
	require.NoError(b, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// sumCallsByKind adds up the delta calls of metric per series (key: the
// sorted attributes), with the grand total under "".
func sumCallsByKind(sink *consumertest.MetricsSink, metric string) map[string]int64 {
	out := map[string]int64{}
	for _, md := range sink.AllMetrics() {
		for i := range md.ResourceMetrics().Len() {
			sms := md.ResourceMetrics().At(i).ScopeMetrics()
			for j := range sms.Len() {
				ms := sms.At(j).Metrics()
				for k := range ms.Len() {
					m := ms.At(k)
					if m.Name() != metric || m.Type() != pmetric.MetricTypeSum {
						continue
					}
					for p := range m.Sum().DataPoints().Len() {
						dp := m.Sum().DataPoints().At(p)
						var kv []string
						for k, v := range dp.Attributes().All() {
							kv = append(kv, k+"="+v.AsString())
						}
						sort.Strings(kv)
						out[strings.Join(kv, ",")] += dp.IntValue()
						out[""] += dp.IntValue()
					}
				}
			}
		}
	}
	return out
}
