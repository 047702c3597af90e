package tenantquota

import (
	"strconv"
	"sync/atomic"
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

// benchProcessor is a processor with an item quota (no byte quota, the common
// configuration) high enough never to refuse, on a fake clock.
func benchProcessor(b *testing.B, cfg *Config) *quotaProcessor {
	b.Helper()
	p, err := newQuotaProcessor(cfg, nopSettings())
	if err != nil {
		b.Fatal(err)
	}
	p.now = newFakeClock().Now
	return p
}

// BenchmarkAdmitTraces is the hot path of an accepted request: tenant from
// metadata, load meter, one reservation, retention stamp. 100 spans per op.
func BenchmarkAdmitTraces(b *testing.B) {
	for _, bytesQuota := range []bool{false, true} {
		b.Run("bytes_quota="+strconv.FormatBool(bytesQuota), func(b *testing.B) {
			cfg := testConfig()
			cfg.Defaults.Traces = SignalQuota{ItemsPerSecond: 1e12}
			if bytesQuota {
				cfg.Defaults.Traces.BytesPerSecond = 1e12
			}
			cfg.Defaults.Retention = 1
			p := benchProcessor(b, cfg)
			ctx := tenantContext("a")
			td := spans(100)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.processTraces(ctx, td); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAdmitTracesParallel is the same request from every core at once,
// all for one tenant or each goroutine for its own tenant: what the
// processor-wide locks cost.
func BenchmarkAdmitTracesParallel(b *testing.B) {
	for _, tenants := range []string{"one", "per_goroutine"} {
		b.Run("tenants="+tenants, func(b *testing.B) {
			cfg := testConfig()
			cfg.Defaults.Traces = SignalQuota{ItemsPerSecond: 1e12}
			p := benchProcessor(b, cfg)
			var next atomic.Int64
			b.ReportAllocs()
			b.SetParallelism(4)
			b.RunParallel(func(pb *testing.PB) {
				tenantID := "a"
				if tenants != "one" {
					tenantID = "t" + strconv.FormatInt(next.Add(1), 10)
				}
				ctx := tenantContext(tenantID)
				td := spans(100)
				for pb.Next() {
					if _, err := p.processTraces(ctx, td); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkDegradedTraces adds sampling (1%) and the summary table. The
// requests are copied outside the timer, since sampling removes spans.
func BenchmarkDegradedTraces(b *testing.B) {
	cfg := testConfig()
	rate := 0.01
	cfg.Tenants = map[string]TenantOverrides{"a": {SamplingRate: &rate}}
	p := benchProcessor(b, cfg)
	ctx := tenantContext("a")
	src := spans(100)
	const chunk = 512
	pending := make([]ptrace.Traces, 0, chunk)
	b.ReportAllocs()
	for b.Loop() {
		if len(pending) == 0 {
			b.StopTimer()
			for range chunk {
				td := ptrace.NewTraces()
				src.CopyTo(td)
				pending = append(pending, td)
			}
			b.StartTimer()
		}
		td := pending[len(pending)-1]
		pending = pending[:len(pending)-1]
		_, _ = p.processTraces(ctx, td)
	}
}
