package diagnose_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/otelfusion/otelfusion/pkg/diagnose"
	"github.com/otelfusion/otelfusion/pkg/diagnose/incidents"
	"github.com/otelfusion/otelfusion/pkg/fusionstore"
)

// The benchmark store: one tenant's order service over benchHistory, about
// DIAGNOSE_BENCH_SPANS spans (10M), ending in a slow-dependency incident
// diagnosed with the default windows (15 minutes after an hour). DuckDB
// runs on the store's default 2 threads, or DIAGNOSE_BENCH_THREADS.
const (
	benchTenant  = "bench"
	benchHistory = 10 * time.Hour
	benchChunk   = 10 * time.Minute
	// benchSpansPerEntry is about how many spans one order makes.
	benchSpansPerEntry = 8.3
)

var benchEnd = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)

// countingWriter keeps the single number of a COUNT(*) answer.
type countingWriter struct{ n int64 }

func (c *countingWriter) Begin([]string) error { return nil }

func (c *countingWriter) Row(values []any) error {
	if n, ok := values[0].(int64); ok {
		c.n = n
	}
	return nil
}

// benchStore opens the benchmark's store at DIAGNOSE_BENCH_DB (default a
// file in the temp directory, kept between runs), filling it first when it
// holds fewer spans than wanted. It returns the store, its span count and
// the incident instance.
func benchStore(b *testing.B) (*fusionstore.Store, int64, incidents.Instance) {
	b.Helper()
	want := int64(10_000_000)
	if v := os.Getenv("DIAGNOSE_BENCH_SPANS"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		require.NoError(b, err, "DIAGNOSE_BENCH_SPANS")
		want = n
	}
	path := os.Getenv("DIAGNOSE_BENCH_DB")
	if path == "" {
		path = filepath.Join(os.TempDir(), fmt.Sprintf("otelfusion-diagnose-bench-%d.duckdb", want))
	}
	ctx := context.Background()
	rate := float64(want) / benchSpansPerEntry / benchHistory.Minutes()
	opts := incidents.Options{Window: diagnose.DefaultWindow, Baseline: diagnose.DefaultBaseline, EntriesPerMinute: rate, Tenant: benchTenant}
	// The incident instance is generated to know its truth whether or not
	// the store is filled now.
	incident := incidents.GenerateWith(incidents.SlowDependency, 1, benchEnd, opts)
	cfg := fusionstore.NewDefaultConfig()
	cfg.Path = path
	cfg.Retention = 0
	cfg.MemoryLimit = 2 << 30
	if v := os.Getenv("DIAGNOSE_BENCH_THREADS"); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(b, err, "DIAGNOSE_BENCH_THREADS")
		cfg.Threads = n
	}
	store, err := fusionstore.Open(ctx, &cfg)
	require.NoError(b, err)
	var count countingWriter
	require.NoError(b, store.Query(ctx, "SELECT COUNT(*) FROM traces", benchTenant, fusionstore.QueryLimits{}, &count))
	if count.n >= want*95/100 {
		return store, count.n, incident
	}
	require.NoError(b, store.Close())
	require.NoError(b, os.RemoveAll(path))
	require.NoError(b, os.RemoveAll(path+".wal"))
	store, err = fusionstore.Open(ctx, &cfg)
	require.NoError(b, err)
	b.Logf("filling %s with about %d spans (%.0f orders a minute over %s); kept for the next run", path, want, rate, benchHistory)
	history := incidents.Options{Window: benchChunk / 2, Baseline: benchChunk / 2, EntriesPerMinute: rate, Tenant: benchTenant}
	start := benchEnd.Add(-benchHistory)
	seed := uint64(100)
	for end := start.Add(benchChunk); !end.After(benchEnd.Add(-opts.Window - opts.Baseline)); end = end.Add(benchChunk) {
		seed++
		chunk := incidents.GenerateWith(incidents.Healthy, seed, end, history)
		appendInstance(b, store, chunk)
	}
	appendInstance(b, store, incident)
	require.NoError(b, store.Query(ctx, "SELECT COUNT(*) FROM traces", benchTenant, fusionstore.QueryLimits{}, &count))
	return store, count.n, incident
}

func appendInstance(b *testing.B, store *fusionstore.Store, inst incidents.Instance) {
	b.Helper()
	ctx := context.Background()
	require.NoError(b, store.AppendTraces(ctx, inst.Traces))
	require.NoError(b, store.AppendLogs(ctx, inst.Logs))
	require.NoError(b, store.AppendMetrics(ctx, inst.Metrics))
}

// BenchmarkDiagnose times one diagnosis of the incident at the end of a
// store of 10M spans (diagnose), beside one FusionQL query that reads the
// same windows of the entry service (baseline_query), so a figure can be
// read as a ratio on a busy machine. make bench-diagnose runs it.
func BenchmarkDiagnose(b *testing.B) {
	store, spans, incident := benchStore(b)
	defer store.Close()
	ctx := context.Background()
	limits := fusionstore.QueryLimits{Timeout: 5 * time.Minute}
	b.Logf("store: %d spans of tenant %q over %s; incident: %s", spans, benchTenant, benchHistory, incident.Fault)
	b.Run("diagnose", func(b *testing.B) {
		cpu := processCPU(b)
		for b.Loop() {
			report, err := diagnose.Diagnose(ctx, store, benchTenant, limits, incident.Request, time.Now())
			require.NoError(b, err)
			require.NotEmpty(b, report.Candidates)
			require.Contains(b, incident.Truth, report.Candidates[0].Subject(), "the top candidate")
		}
		b.ReportMetric((processCPU(b)-cpu).Seconds()/float64(b.N), "cpu-s/op")
		b.ReportMetric(float64(spans), "spans")
	})
	b.Run("baseline_query", func(b *testing.B) {
		b0 := incident.Request.End.Add(-incident.Request.Window - incident.Request.Baseline).UnixNano()
		q := fmt.Sprintf("SELECT COUNT(*), AVG(duration_ns) FROM traces WHERE service_name = 'orders' AND start_time >= %d AND start_time < %d",
			b0, incident.Request.End.UnixNano())
		cpu := processCPU(b)
		for b.Loop() {
			var count countingWriter
			require.NoError(b, store.Query(ctx, q, benchTenant, limits, &count))
		}
		b.ReportMetric((processCPU(b)-cpu).Seconds()/float64(b.N), "cpu-s/op")
	})
}

// processCPU is the CPU time (user and system) the process has used, DuckDB's
// threads included: on a machine shared with other work it says what a
// diagnosis costs where wall time says how busy the machine was.
func processCPU(b *testing.B) time.Duration {
	b.Helper()
	var usage syscall.Rusage
	require.NoError(b, syscall.Getrusage(syscall.RUSAGE_SELF, &usage))
	return time.Duration(usage.Utime.Nano() + usage.Stime.Nano())
}
