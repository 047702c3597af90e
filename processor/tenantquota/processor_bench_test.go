package tenantquota

import (
	"testing"
)

// BenchmarkAdmitTraces is the hot path of an accepted request: tenant from
// metadata, load meter, one reservation, retention stamp.
func BenchmarkAdmitTraces(b *testing.B) {
	cfg := testConfig()
	cfg.Defaults.Traces = SignalQuota{ItemsPerSecond: 1e12, BytesPerSecond: 1e12}
	cfg.Defaults.Retention = 1
	clock := newFakeClock()
	p, err := newQuotaProcessor(cfg, nopSettings())
	if err != nil {
		b.Fatal(err)
	}
	p.now = clock.Now
	ctx := tenantContext("a")
	td := spans(100)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.processTraces(ctx, td); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDegradedTraces adds sampling and the summary table.
func BenchmarkDegradedTraces(b *testing.B) {
	cfg := testConfig()
	rate := 0.01
	cfg.Tenants = map[string]TenantOverrides{"a": {SamplingRate: &rate}}
	p, err := newQuotaProcessor(cfg, nopSettings())
	if err != nil {
		b.Fatal(err)
	}
	p.now = newFakeClock().Now
	ctx := tenantContext("a")
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		td := spans(100)
		b.StartTimer()
		_, _ = p.processTraces(ctx, td)
	}
}
