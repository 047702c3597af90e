package tenantquota

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processorhelper"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/otelfusion/otelfusion/internal/fusiontest"
)

// retryDelay returns the RetryInfo delay of a throttle error.
func retryDelay(t *testing.T, err error) time.Duration {
	t.Helper()
	st, ok := status.FromError(err)
	require.True(t, ok, "not a gRPC status: %v", err)
	require.Equal(t, codes.ResourceExhausted, st.Code())
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.RetryInfo); ok {
			return info.GetRetryDelay().AsDuration()
		}
	}
	t.Fatalf("no RetryInfo in %v", err)
	return 0
}

func TestQuotaRefusesWithRetryInfo(t *testing.T) {
	cfg := testConfig()
	cfg.Defaults.Traces = SignalQuota{ItemsPerSecond: 10, ItemsBurst: 20}
	clock := newFakeClock()
	p := newTestProcessor(t, cfg, clock)
	ctx := tenantContext("a")

	_, err := p.processTraces(ctx, spans(20))
	require.NoError(t, err)
	_, err = p.processTraces(ctx, spans(5))
	require.Error(t, err)
	assert.False(t, consumererror.IsPermanent(err), "a throttle is retryable")
	// 5 tokens at 10/s is 500ms, rounded up to whole seconds for Retry-After.
	assert.Equal(t, time.Second, retryDelay(t, err))

	// 15 tokens short: 1.5 s, rounded up to 2 s.
	_, err = p.processTraces(ctx, spans(15))
	assert.Equal(t, 2*time.Second, retryDelay(t, err))

	// Other tenants have buckets of their own.
	_, err = p.processTraces(tenantContext("b"), spans(20))
	require.NoError(t, err)

	clock.Advance(500 * time.Millisecond)
	_, err = p.processTraces(ctx, spans(5))
	require.NoError(t, err, "the refused requests took no tokens")

	_, err = p.processTraces(ctx, spans(21))
	require.Error(t, err)
	assert.True(t, consumererror.IsPermanent(err), "bigger than the burst can never pass: %v", err)
	assert.ErrorContains(t, err, "21 items > burst 20")

	v, _ := p.view("a")
	assert.Equal(t, int64(25), v.Accepted["traces"])
	assert.Equal(t, int64(5+15+21), v.Refused["traces"])
}

// TestQuotaItemsAndBytesAtomically: a request the item bucket would take but
// the byte bucket refuses takes no item tokens either.
func TestQuotaItemsAndBytesAtomically(t *testing.T) {
	one := (&ptrace.ProtoMarshaler{}).ResourceSpansSize(spans(10).ResourceSpans().At(0))
	cfg := testConfig()
	cfg.Defaults.Traces = SignalQuota{ItemsPerSecond: 1, ItemsBurst: 100, BytesPerSecond: 1, BytesBurst: one + one/2}
	clock := newFakeClock()
	p := newTestProcessor(t, cfg, clock)
	ctx := tenantContext("a")

	_, err := p.processTraces(ctx, spans(10))
	require.NoError(t, err)
	ts := p.tenant("a", clock.Now())
	items := ts.buckets[signalTraces].items.limiter
	require.InDelta(t, 90, items.TokensAt(clock.Now()), 1e-9)

	_, err = p.processTraces(ctx, spans(10))
	require.Error(t, err)
	retryDelay(t, err)
	assert.InDelta(t, 90, items.TokensAt(clock.Now()), 1e-9, "no item tokens taken by a request refused for bytes")
	assert.InDelta(t, float64(one/2), ts.buckets[signalTraces].bytes.limiter.TokensAt(clock.Now()), 1e-9)
}

// TestQuotaMultiTenantRequest: with the tenant in a resource attribute, one
// request can carry several tenants; one over quota refuses the whole request
// and the others keep their tokens.
func TestQuotaMultiTenantRequest(t *testing.T) {
	cfg := testConfig()
	cfg.Tenant.Precedence = []Source{SourceResource}
	cfg.Defaults.Traces = SignalQuota{ItemsPerSecond: 1, ItemsBurst: 10}
	clock := newFakeClock()
	p := newTestProcessor(t, cfg, clock)

	request := func(aSpans, bSpans int) ptrace.Traces {
		td := ptrace.NewTraces()
		for _, part := range []struct {
			tenant string
			n      int
		}{{"a", aSpans}, {"b", bSpans}} {
			rs := td.ResourceSpans().AppendEmpty()
			rs.Resource().Attributes().PutStr("tenant.id", part.tenant)
			ss := rs.ScopeSpans().AppendEmpty()
			for range part.n {
				ss.Spans().AppendEmpty()
			}
		}
		return td
	}
	_, err := p.processTraces(context.Background(), request(8, 2))
	require.NoError(t, err)
	_, err = p.processTraces(context.Background(), request(5, 2))
	retryDelay(t, err)
	_, err = p.processTraces(context.Background(), request(2, 8))
	require.NoError(t, err, "the refused request took tokens from neither tenant")
	for _, id := range []string{"a", "b"} {
		ts := p.tenant(id, clock.Now())
		assert.InDelta(t, 0, ts.buckets[signalTraces].items.limiter.TokensAt(clock.Now()), 1e-9, id)
	}
}

func TestUnlabelledData(t *testing.T) {
	cfg := testConfig()
	clock := newFakeClock()
	p := newTestProcessor(t, cfg, clock)
	_, err := p.processTraces(context.Background(), spans(3))
	require.NoError(t, err)
	v, ok := p.view("default")
	require.True(t, ok)
	assert.Equal(t, int64(3), v.Accepted["traces"])

	cfg = testConfig()
	cfg.Tenant.RefuseUnlabelled = true
	p = newTestProcessor(t, cfg, clock)
	_, err = p.processLogs(context.Background(), logRecords(2, 0))
	require.Error(t, err)
	assert.True(t, consumererror.IsPermanent(err))
	assert.ErrorIs(t, err, errUnlabelled)
	_, err = p.processLogs(tenantContext("a"), logRecords(2, 0))
	require.NoError(t, err)
}

func TestTenantPrecedence(t *testing.T) {
	labelled := func() ptrace.Traces {
		td := spans(1)
		td.ResourceSpans().At(0).Resource().Attributes().PutStr("tenant.id", "from-resource")
		return td
	}
	for _, tt := range []struct {
		precedence []Source
		ctx        context.Context
		want       string
	}{
		{[]Source{SourceMetadata, SourceResource}, tenantContext("from-header"), "from-header"},
		{[]Source{SourceResource, SourceMetadata}, tenantContext("from-header"), "from-resource"},
		{[]Source{SourceMetadata}, context.Background(), "default"},
		{[]Source{SourceMetadata, SourceResource}, context.Background(), "from-resource"},
	} {
		cfg := testConfig()
		cfg.Tenant.Precedence = tt.precedence
		p := newTestProcessor(t, cfg, newFakeClock())
		_, err := p.processTraces(tt.ctx, labelled())
		require.NoError(t, err)
		_, ok := p.view(tt.want)
		assert.True(t, ok, "%v: want tenant %q", tt.precedence, tt.want)
	}
}

func TestRetentionAttribute(t *testing.T) {
	cfg := testConfig()
	cfg.Defaults.Retention = 168 * time.Hour
	retention := 720 * time.Hour
	cfg.Tenants = map[string]TenantOverrides{"gold": {Retention: &retention}}
	p := newTestProcessor(t, cfg, newFakeClock())

	td, err := p.processTraces(tenantContext("gold"), spans(1))
	require.NoError(t, err)
	v, _ := td.ResourceSpans().At(0).Resource().Attributes().Get("otelfusion.retention")
	assert.Equal(t, "720h0m0s", v.AsString())

	md := pmetric.NewMetrics()
	md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics().AppendEmpty().SetEmptyGauge().DataPoints().AppendEmpty()
	md, err = p.processMetrics(tenantContext("other"), md)
	require.NoError(t, err)
	v, _ = md.ResourceMetrics().At(0).Resource().Attributes().Get("otelfusion.retention")
	assert.Equal(t, "168h0m0s", v.AsString())
}

func TestMetricsQuotaCountsDataPoints(t *testing.T) {
	cfg := testConfig()
	cfg.Defaults.Metrics = SignalQuota{ItemsPerSecond: 1, ItemsBurst: 3}
	p := newTestProcessor(t, cfg, newFakeClock())
	md := pmetric.NewMetrics()
	ms := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics()
	ms.AppendEmpty().SetEmptyGauge().DataPoints().AppendEmpty()
	sum := ms.AppendEmpty().SetEmptySum()
	sum.DataPoints().AppendEmpty()
	sum.DataPoints().AppendEmpty()
	_, err := p.processMetrics(tenantContext("a"), md)
	require.NoError(t, err)
	_, err = p.processMetrics(tenantContext("a"), md)
	retryDelay(t, err)
}

// forceOpen opens a tenant's breaker by offering twice its traces quota
// until open_after has passed.
func forceOpen(t *testing.T, p *quotaProcessor, clock *fusiontest.Clock, tenantID string) {
	t.Helper()
	ts := p.tenant(tenantID, clock.Now())
	for range samplesFor(p.cfg.Breaker.OpenAfter, p.cfg.Breaker.Bucket) {
		ts.mu.Lock()
		p.advance(ts, clock.Now())
		ts.meter.add(signalTraces, int(2*ts.limits.Traces.ItemsPerSecond*p.cfg.Breaker.Bucket.Seconds()), 0)
		ts.mu.Unlock()
		clock.Advance(p.cfg.Breaker.Bucket)
	}
	p.tick(clock.Now())
	ts.mu.Lock()
	defer ts.mu.Unlock()
	require.Equal(t, breakerOpen, ts.breaker.state)
}

// TestDegradeModeSamplingAndSummary: with the breaker open, about 1% of
// traces pass, each whole (its spans and logs together), while the summary
// metrics count every offered span exactly.
func TestDegradeModeSamplingAndSummary(t *testing.T) {
	const traces = 20_000
	cfg := testConfig()
	cfg.Defaults.Traces = SignalQuota{ItemsPerSecond: 100_000}
	clock := newFakeClock()
	p := newTestProcessor(t, cfg, clock)
	sink := new(consumertest.MetricsSink)
	p.addMetricsConsumer(sink)
	forceOpen(t, p, clock, "a")
	ctx := tenantContext("a")

	type opKey struct{ service, op string }
	wantCount := map[opKey]int{}
	wantErrors := map[opKey]int{}
	keptSpans := map[uint64]int{} // by trace
	keptLogs := map[uint64]int{}
	traceOf := map[pcommon.TraceID]uint64{}
	const batch = 500
	for start := 0; start < traces; start += batch {
		var specs []spanSpec
		for tr := start; tr < start+batch; tr++ {
			traceOf[traceID(uint64(tr))] = uint64(tr)
			for j, op := range []string{"GET /a", "db.query"} {
				s := spanSpec{service: []string{"front", "back"}[j], name: op, trace: uint64(tr),
					err: tr%7 == 0 && j == 1, duration: time.Duration(1+tr%100) * time.Millisecond}
				specs = append(specs, s)
				wantCount[opKey{s.service, s.name}]++
				if s.err {
					wantErrors[opKey{s.service, s.name}]++
				}
			}
		}
		td, err := p.processTraces(ctx, makeTraces(specs...))
		if err != nil {
			require.ErrorIs(t, err, processorhelper.ErrSkipProcessingData)
		} else {
			for _, rs := range td.ResourceSpans().All() {
				for _, ss := range rs.ScopeSpans().All() {
					for _, span := range ss.Spans().All() {
						keptSpans[traceOf[span.TraceID()]]++
					}
				}
			}
		}
		ld := plog.NewLogs()
		lrs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
		for tr := start; tr < start+batch; tr++ {
			lr := lrs.AppendEmpty()
			lr.SetTraceID(traceID(uint64(tr)))
			lr.Body().SetStr("in a trace")
		}
		ld, err = p.processLogs(ctx, ld)
		if err == nil {
			for _, lr := range ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().All() {
				keptLogs[traceOf[lr.TraceID()]]++
			}
		}
	}

	// One decision per trace: both spans and the log, or nothing.
	for tr, n := range keptSpans {
		assert.Equal(t, 2, n, "trace %d lost a span", tr)
		assert.Equal(t, 1, keptLogs[tr], "trace %d kept its spans but not its log", tr)
	}
	assert.Len(t, keptLogs, len(keptSpans))

	// Binomial: n = 20000, p = 0.01, mean 200, sd = sqrt(n p (1-p)) ≈ 14.1;
	// five sd either side (±70) fails a correct sampler about once in 3.5 million runs.
	n, rate := float64(traces), cfg.Breaker.DegradedSampleRate
	sd := math.Sqrt(n * rate * (1 - rate))
	assert.InDelta(t, n*rate, float64(len(keptSpans)), 5*sd, "kept traces")

	p.flushSummary(context.Background())
	require.Len(t, sink.AllMetrics(), 1)
	gotCount, gotErrRate := map[opKey]int64{}, map[opKey]float64{}
	var gotLogs int64
	for _, rm := range sink.AllMetrics()[0].ResourceMetrics().All() {
		tenant, _ := rm.Resource().Attributes().Get("tenant.id")
		assert.Equal(t, "a", tenant.AsString())
		for _, m := range rm.ScopeMetrics().At(0).Metrics().All() {
			var dps pmetric.NumberDataPointSlice
			if m.Type() == pmetric.MetricTypeSum {
				dps = m.Sum().DataPoints()
			} else {
				dps = m.Gauge().DataPoints()
			}
			for _, dp := range dps.All() {
				key := opKey{attrString(dp.Attributes(), "service.name"), attrString(dp.Attributes(), "span.name")}
				switch m.Name() {
				case metricSpanCount:
					gotCount[key] = dp.IntValue()
				case metricSpanErrorRate:
					gotErrRate[key] = dp.DoubleValue()
				case metricSpanP50:
					assert.InEpsilon(t, 50.5, dp.DoubleValue(), 0.03, "p50 of 1..100 ms")
				case metricSpanP99:
					assert.InEpsilon(t, 99, dp.DoubleValue(), 0.03, "p99 of 1..100 ms")
				case metricLogCount:
					gotLogs += dp.IntValue()
				}
			}
		}
	}
	require.Len(t, gotCount, len(wantCount))
	for key, want := range wantCount {
		assert.Equal(t, int64(want), gotCount[key], "%v count", key)
		assert.InDelta(t, float64(wantErrors[key])/float64(want), gotErrRate[key], 1e-12, "%v error rate", key)
	}
	assert.Equal(t, int64(traces), gotLogs)

	v, _ := p.view("a")
	assert.Equal(t, int64(2*len(keptSpans)), v.Accepted["traces"])
	assert.Equal(t, int64(2*traces-2*len(keptSpans)), v.SampledOut["traces"])
}

// TestSamplingConsistency: a trace's decision does not depend on the batch,
// the signal or the tenant's rate beyond the threshold: lower rates keep a
// subset of what higher rates keep.
func TestSamplingConsistency(t *testing.T) {
	for tr := range uint64(5000) {
		h := traceHash(traceID(tr))
		lr := plog.NewLogRecord()
		lr.SetTraceID(traceID(tr))
		require.Equal(t, h, logSampleHash(lr))
		if keepHash(h, sampleThreshold(0.01)) {
			require.True(t, keepHash(h, sampleThreshold(0.3)))
		}
	}
	assert.True(t, keepHash(math.MaxUint64, sampleThreshold(1)))
	assert.False(t, keepHash(0, sampleThreshold(0)))

	// Logs without a trace are sampled by their content: the same record
	// gets the same decision, and about the rate pass.
	kept := 0
	for i := range 20_000 {
		lr := plog.NewLogRecord()
		lr.SetTimestamp(pcommon.Timestamp(i))
		lr.Body().SetStr("no trace")
		again := plog.NewLogRecord()
		lr.CopyTo(again)
		require.Equal(t, logSampleHash(lr), logSampleHash(again))
		if keepHash(logSampleHash(lr), sampleThreshold(0.1)) {
			kept++
		}
	}
	assert.InDelta(t, 2000, kept, 5*math.Sqrt(20_000*0.1*0.9))
}

// TestSamplingRateOverride: a normal-mode rate (with a per-environment one)
// samples without the breaker, and summary metrics still count everything.
func TestSamplingRateOverride(t *testing.T) {
	cfg := testConfig()
	half := 0.5
	cfg.Tenants = map[string]TenantOverrides{"a": {SamplingRate: &half, EnvSamplingRates: map[string]float64{"gray": 0}}}
	p := newTestProcessor(t, cfg, newFakeClock())
	sink := new(consumertest.MetricsSink)
	p.addMetricsConsumer(sink)

	td := spans(1000)
	td, err := p.processTraces(tenantContext("a"), td)
	require.NoError(t, err)
	assert.InDelta(t, 500, td.SpanCount(), 5*math.Sqrt(1000*0.25))

	gray := spans(10)
	gray.ResourceSpans().At(0).Resource().Attributes().PutStr("deployment.environment.name", "gray")
	_, err = p.processTraces(tenantContext("a"), gray)
	require.ErrorIs(t, err, processorhelper.ErrSkipProcessingData)

	p.flushSummary(context.Background())
	require.Len(t, sink.AllMetrics(), 1)
	var total int64
	for _, rm := range sink.AllMetrics()[0].ResourceMetrics().All() {
		for _, m := range rm.ScopeMetrics().At(0).Metrics().All() {
			if m.Name() == metricSpanCount {
				for _, dp := range m.Sum().DataPoints().All() {
					total += dp.IntValue()
				}
			}
		}
	}
	assert.Equal(t, int64(1010), total)
}

func attrString(attrs pcommon.Map, key string) string {
	if v, ok := attrs.Get(key); ok {
		return v.AsString()
	}
	return ""
}
