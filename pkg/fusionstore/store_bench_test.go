package fusionstore

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
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otelfusion/otelfusion/pkg/fusiongen"
)

// BenchmarkStoreIngest appends fusiongen exports of 1000 spans, 1000 log
// records or 1000 metric points (50 different exports in turn), then
// checkpoints, and reports rows stored per second of wall time and per
// second of the process's CPU time (user + system, DuckDB's threads
// included: rows per core). Run it with -benchtime=300x or more, so that
// the rows fill more than a row group (122,880 rows) and the checkpoints
// along the way are in the figure.
func BenchmarkStoreIngest(b *testing.B) {
	const batch, exports = 1000, 50
	gen := fusiongen.New(1)
	signals := []struct {
		name   string
		append func(s *Store, i int) error
	}{}
	traces := make([]ptrace.Traces, exports)
	logs := make([]plog.Logs, exports)
	metrics := make([]pmetric.Metrics, exports)
	for i := range exports {
		traces[i], logs[i], metrics[i] = gen.Traces(batch), gen.Logs(batch), gen.Metrics(batch)
	}
	signals = append(signals,
		struct {
			name   string
			append func(s *Store, i int) error
		}{"spans", func(s *Store, i int) error { return s.AppendTraces(context.Background(), traces[i%exports]) }},
		struct {
			name   string
			append func(s *Store, i int) error
		}{"logs", func(s *Store, i int) error { return s.AppendLogs(context.Background(), logs[i%exports]) }},
		struct {
			name   string
			append func(s *Store, i int) error
		}{"points", func(s *Store, i int) error { return s.AppendMetrics(context.Background(), metrics[i%exports]) }},
	)
	for _, sig := range signals {
		b.Run(sig.name, func(b *testing.B) {
			cfg := NewDefaultConfig()
			cfg.Path = b.TempDir() + "/bench.duckdb"
			s, err := open(context.Background(), &cfg, (&testClock{t: fusiongen.BaseTime}).now)
			require.NoError(b, err)
			defer s.Close()
			b.ReportAllocs()
			cpu0 := processCPU(b)
			start := time.Now()
			i := 0
			for b.Loop() {
				require.NoError(b, sig.append(s, i))
				i++
			}
			// The rows are durable in the write-ahead log; compressing them
			// into the database file is part of storing them.
			require.NoError(b, s.checkpoint(context.Background()))
			rows := float64(batch * i)
			b.ReportMetric(rows/time.Since(start).Seconds(), "rows/s")
			b.ReportMetric(rows/(processCPU(b)-cpu0).Seconds(), "rows/cpu-s")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// processCPU is the CPU time the process has used, all threads.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	require.NoError(b, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkStoreIngestDedup appends new fusiongen exports of 1000 spans to
// a traces table already holding FUSION_BENCH_SPANS (1M) spans, with
// dedup_spans off and on, and reports stored rows per second. With it on,
// each flush scans the trace_id and span_id of every stored span, so its
// cost grows with the table.
func BenchmarkStoreIngestDedup(b *testing.B) {
	stored := benchScale("FUSION_BENCH_SPANS", 1_000_000)
	for _, dedup := range []bool{false, true} {
		b.Run(fmt.Sprintf("dedup_spans=%t", dedup), func(b *testing.B) {
			cfg := NewDefaultConfig()
			cfg.Path = b.TempDir() + "/bench.duckdb"
			cfg.DedupSpans = dedup
			s, err := open(context.Background(), &cfg, (&testClock{t: fusiongen.BaseTime}).now)
			require.NoError(b, err)
			defer s.Close()
			_, err = s.db.Exec(fmt.Sprintf(`INSERT INTO traces (tenant, trace_id, span_id, service_name, operation, span_kind,
				status_code, start_time, end_time, duration_ns, timestamp_ns, attributes, resource)
			SELECT '', lpad(to_hex(i // 10), 32, '0'), lpad(to_hex(i), 16, '0'), 'service-' || (i %% 20),
				'operation-' || (i %% 50), 'SERVER', 'UNSET', %[1]d + i * 100000, %[1]d + i * 100000 + 20000000,
				20000000, %[1]d + i * 100000, MAP {}, MAP {'k8s.pod.name': 'pod-' || (i %% 40)}
			FROM range(%[2]d) r(i)`, fusiongen.BaseTime.Add(-time.Hour).UnixNano(), stored))
			require.NoError(b, err)
			_, err = s.db.Exec("CHECKPOINT")
			require.NoError(b, err)
			// Fresh spans each time: a batch seen before would be dropped.
			gen := fusiongen.New(1)
			batches := make([]ptrace.Traces, b.N)
			for i := range batches {
				batches[i] = gen.Traces(1000)
			}
			b.ResetTimer()
			start := time.Now()
			for _, td := range batches {
				require.NoError(b, s.AppendTraces(context.Background(), td))
			}
			b.ReportMetric(float64(1000*b.N)/time.Since(start).Seconds(), "rows/s")
		})
	}
}

// benchScale reads a row count from the environment, for quick runs of the
// seed join benchmark while developing (FUSION_BENCH_SPANS=100000).
func benchScale(name string, fallback int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return fallback
}

// BenchmarkSeedJoin runs the seed query over FUSION_BENCH_SPANS (10M) spans,
// FUSION_BENCH_LOGS (as many) log records and FUSION_BENCH_POINTS (a tenth)
// metric points synthesized inside DuckDB; `make bench-store` runs it at
// 100M + 100M + 10M. It only runs with -bench, and building its data takes
// a while. Shape: 10 spans per trace, 20 services,
// 1% of spans slower than 1s, 5% of logs at ERROR, all within the last hour.
func BenchmarkSeedJoin(b *testing.B) {
	spans := benchScale("FUSION_BENCH_SPANS", 10_000_000)
	logs := benchScale("FUSION_BENCH_LOGS", spans)
	points := benchScale("FUSION_BENCH_POINTS", spans/10)
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	clock := &testClock{t: now}
	cfg := NewDefaultConfig()
	cfg.Path = b.TempDir() + "/seed.duckdb"
	// FUSION_BENCH_DIR keeps the data between runs: building 100M rows
	// takes minutes, the queries a second.
	dir := os.Getenv("FUSION_BENCH_DIR")
	if dir != "" {
		cfg.Path = filepath.Join(dir, fmt.Sprintf("seed-%d-%d-%d.duckdb", spans, logs, points))
	}
	_, statErr := os.Stat(cfg.Path + ".built")
	reuse := dir != "" && statErr == nil
	s, err := open(context.Background(), &cfg, clock.now)
	require.NoError(b, err)
	defer s.Close()
	if reuse {
		b.Logf("reusing %s", cfg.Path)
	} else {
		buildSeedData(b, s, now, spans, logs, points)
		if dir != "" {
			require.NoError(b, os.WriteFile(cfg.Path+".built", nil, 0o600))
		}
	}
	runSeedQueries(b, s)
}

// buildSeedData synthesizes the seed join's rows inside DuckDB.
func buildSeedData(b *testing.B, s *Store, now time.Time, spans, logs, points int) {
	base := now.Add(-50 * time.Minute).UnixNano()
	built := time.Now()
	// Span i belongs to trace i/10 and service i%20; it starts i*100µs after
	// base (about 17 minutes for 10M spans). Log j sits in span j's range.
	for _, stmt := range []string{
		fmt.Sprintf(`INSERT INTO traces (tenant, trace_id, span_id, service_name, operation, span_kind, status_code,
			start_time, end_time, duration_ns, timestamp_ns, attributes, resource)
		SELECT '', lpad(to_hex(i // 10), 32, '0'), lpad(to_hex(i), 16, '0'), 'service-' || (i %% 20),
			'operation-' || (i %% 50), 'SERVER', 'UNSET', %[1]d + i * 100000,
			%[1]d + i * 100000 + CASE WHEN i %% 100 = 7 THEN 1500000000 ELSE 20000000 END,
			CASE WHEN i %% 100 = 7 THEN 1500000000 ELSE 20000000 END, %[1]d + i * 100000, MAP {}, MAP {'k8s.pod.name': 'pod-' || (i %% 40)}
		FROM range(%[2]d) r(i)`, base, spans),
		fmt.Sprintf(`INSERT INTO logs (tenant, timestamp, trace_id, span_id, service_name, level, severity_number, body, attributes, resource)
		SELECT '', %[1]d + (i %% %[3]d) * 100000 + 5000000, lpad(to_hex((i %% %[3]d) // 10), 32, '0'),
			lpad(to_hex(i %% %[3]d), 16, '0'), 'service-' || ((i %% %[3]d) %% 20),
			CASE WHEN i %% 20 = 7 THEN 'ERROR' ELSE 'INFO' END, CASE WHEN i %% 20 = 7 THEN 17 ELSE 9 END,
			'message ' || (i %% 7), MAP {}, MAP {}
		FROM range(%[2]d) r(i)`, base, logs, spans),
		fmt.Sprintf(`INSERT INTO metrics (tenant, timestamp, service_name, name, type, value, attributes, resource)
		SELECT '', %[1]d + i * 3000000, 'service-' || (i %% 20), 'http.server.duration', 'gauge', (i %% 1000) / 10.0, MAP {}, MAP {'k8s.pod.name': 'pod-' || (i %% 40)}
		FROM range(%[2]d) r(i)`, base, points),
		"CHECKPOINT",
	} {
		_, err := s.db.Exec(stmt)
		require.NoError(b, err)
	}
	b.Logf("built %d spans, %d logs, %d metric points in %s", spans, logs, points, time.Since(built).Round(time.Millisecond))
}

// runSeedQueries times the seed join and its aliased form.
func runSeedQueries(b *testing.B, s *Store) {

	limits := QueryLimits{Timeout: time.Minute, MaxRows: 10000, DefaultTimeWindow: time.Hour}
	for _, q := range []struct{ name, text string }{
		{"seed", `SELECT span.operation, log.level, metric.value FROM traces JOIN logs ON traces.trace_id = logs.trace_id ` +
			`AND logs.timestamp BETWEEN traces.start_time AND traces.end_time JOIN metrics ON traces.service_name = metrics.service_name ` +
			`WHERE span.duration_ns > 1000000000 AND log.level = 'ERROR' LIMIT 100;`},
		{"aliased", `SELECT t.operation, l.level, m.value FROM traces t JOIN logs l ON t.trace_id = l.trace_id ` +
			`AND ABS(t.start_time - l.timestamp) < INTERVAL '200ms' JOIN metrics m ON m.service_name = t.service_name ` +
			`AND m.timestamp BETWEEN t.start_time - INTERVAL '1m' AND t.end_time + INTERVAL '1m' ` +
			`WHERE t.duration_ns > 1000000000 AND l.level = 'ERROR' LIMIT 100;`},
	} {
		b.Run(q.name, func(b *testing.B) {
			for b.Loop() {
				res, err := collectQuery(s, q.text, "", limits)
				require.NoError(b, err)
				require.Len(b, res.Rows, 100)
			}
		})
	}
}
