package fusionmetricsconnector

import (
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otelfusion/otelfusion/internal/fusiontest"
)

// pointView is one derived data point as the tests read it: the metric name,
// its attributes as "k=v" sorted and joined by ",", and its value (count for
// histograms).
type pointView struct {
	metric    string
	attrs     string
	value     int64
	exemplars int
}

func attrString(m pcommon.Map) string {
	var kv []string
	for k, v := range m.All() {
		kv = append(kv, k+"="+v.AsString())
	}
	sort.Strings(kv)
	return strings.Join(kv, ",")
}

func viewMetrics(md pmetric.Metrics) []pointView {
	var out []pointView
	for i := range md.ResourceMetrics().Len() {
		sms := md.ResourceMetrics().At(i).ScopeMetrics()
		for j := range sms.Len() {
			ms := sms.At(j).Metrics()
			for k := range ms.Len() {
				m := ms.At(k)
				switch m.Type() {
				case pmetric.MetricTypeSum:
					for p := range m.Sum().DataPoints().Len() {
						dp := m.Sum().DataPoints().At(p)
						out = append(out, pointView{m.Name(), attrString(dp.Attributes()), dp.IntValue(), dp.Exemplars().Len()})
					}
				case pmetric.MetricTypeHistogram:
					for p := range m.Histogram().DataPoints().Len() {
						dp := m.Histogram().DataPoints().At(p)
						out = append(out, pointView{m.Name(), attrString(dp.Attributes()), int64(dp.Count()), dp.Exemplars().Len()})
					}
				case pmetric.MetricTypeExponentialHistogram:
					for p := range m.ExponentialHistogram().DataPoints().Len() {
						dp := m.ExponentialHistogram().DataPoints().At(p)
						out = append(out, pointView{m.Name(), attrString(dp.Attributes()), int64(dp.Count()), dp.Exemplars().Len()})
					}
				}
			}
		}
	}
	sort.Slice(out, func(a, b int) bool {
		if out[a].metric != out[b].metric {
			return out[a].metric < out[b].metric
		}
		return out[a].attrs < out[b].attrs
	})
	return out
}

const (
	srvOK  = "service.name=shop,span.kind=SPAN_KIND_SERVER,span.name=GET /,status.code=STATUS_CODE_UNSET"
	srvErr = "service.name=shop,span.kind=SPAN_KIND_SERVER,span.name=GET /,status.code=STATUS_CODE_ERROR"
)

func TestREDMetrics(t *testing.T) {
	tp := newTestConnector(t, func(cfg *Config) { cfg.Exemplars.MaxPerDataPoint = 2 })
	defer tp.shutdown(t)
	tp.consumeTraces(t, fusiontest.Traces(
		fusiontest.Span{Service: "shop", Name: "GET /", Trace: fusiontest.TraceID(1), Span: fusiontest.SpanID(1), Kind: ptrace.SpanKindServer, Duration: 3 * time.Millisecond},
		fusiontest.Span{Service: "shop", Name: "GET /", Trace: fusiontest.TraceID(2), Span: fusiontest.SpanID(2), Kind: ptrace.SpanKindServer, Duration: 7 * time.Millisecond},
		fusiontest.Span{Service: "shop", Name: "GET /", Trace: fusiontest.TraceID(3), Span: fusiontest.SpanID(3), Kind: ptrace.SpanKindServer, Duration: 9 * time.Millisecond},
		fusiontest.Span{Service: "shop", Name: "GET /", Trace: fusiontest.TraceID(4), Span: fusiontest.SpanID(4), Kind: ptrace.SpanKindServer, Status: ptrace.StatusCodeError, Duration: 60 * time.Millisecond},
	))
	tp.consumeLogs(t, fusiontest.Logs(
		fusiontest.Log{Service: "shop", Body: "a", Trace: fusiontest.TraceID(4), Span: fusiontest.SpanID(4), Severity: plog.SeverityNumberError},
		fusiontest.Log{Service: "shop", Body: "b", Severity: plog.SeverityNumberError2},
		fusiontest.Log{Service: "shop", Body: "c", Severity: plog.SeverityNumberInfo},
	))
	tp.clock.Advance(time.Second)
	md := tp.derived.flush(tp.clock.Now().UnixNano())
	assert.Equal(t, []pointView{
		{metric: "fusion.log.records", attrs: "log.severity=ERROR,service.name=shop", value: 2, exemplars: 1}, // only "a" links to a trace
		{metric: "fusion.log.records", attrs: "log.severity=INFO,service.name=shop", value: 1},
		{metric: "fusion.span.calls", attrs: srvErr, value: 1},
		{metric: "fusion.span.calls", attrs: srvOK, value: 3},
		{metric: "fusion.span.duration", attrs: srvErr, value: 1, exemplars: 1},
		{metric: "fusion.span.duration", attrs: srvOK, value: 3, exemplars: 2}, // capped at 2 of 3
		{metric: "fusion.span.errors", attrs: srvErr, value: 1},
	}, viewMetrics(md))

	// Bucket counts by hand: bounds 2,4,6,8,10,50,100,… ms; 3→(2,4], 7→(6,8], 9→(8,10].
	for i := range md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().Len() {
		m := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(i)
		if m.Name() != "fusion.span.duration" {
			continue
		}
		assert.Equal(t, "ms", m.Unit())
		assert.Equal(t, pmetric.AggregationTemporalityDelta, m.Histogram().AggregationTemporality())
		for p := range m.Histogram().DataPoints().Len() {
			dp := m.Histogram().DataPoints().At(p)
			if dp.Count() == 3 {
				assert.Equal(t, []uint64{0, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, dp.BucketCounts().AsRaw())
				assert.InDelta(t, 19.0, dp.Sum(), 1e-9)
				assert.InDelta(t, 3.0, dp.Min(), 1e-9)
				assert.InDelta(t, 9.0, dp.Max(), 1e-9)
				ex := dp.Exemplars().At(0)
				assert.Equal(t, fusiontest.TraceID(1), ex.TraceID())
				assert.Equal(t, fusiontest.SpanID(1), ex.SpanID())
				assert.InDelta(t, 3.0, ex.DoubleValue(), 1e-9)
			}
		}
	}
}

func TestTemporality(t *testing.T) {
	span := fusiontest.Span{Service: "shop", Name: "GET /", Trace: fusiontest.TraceID(1), Span: fusiontest.SpanID(1), Kind: ptrace.SpanKindServer, Duration: time.Millisecond}
	tests := []struct {
		temporality Temporality
		// calls after flush 1 (2 spans), flush 2 (nothing new), flush 3 (1 span)
		want       [][]int64
		wantSeries []int // series held after each flush
	}{
		{temporality: TemporalityDelta, want: [][]int64{{2}, nil, {1}}, wantSeries: []int{0, 0, 0}},
		{temporality: TemporalityCumulative, want: [][]int64{{2}, {2}, {3}}, wantSeries: []int{1, 1, 1}},
	}
	for _, tt := range tests {
		t.Run(string(tt.temporality), func(t *testing.T) {
			tp := newTestConnector(t, func(cfg *Config) {
				cfg.Temporality = tt.temporality
			})
			defer tp.shutdown(t)
			start := tp.clock.Now().UnixNano()
			feed := []int{2, 0, 1}
			for round, n := range feed {
				for range n {
					tp.consumeTraces(t, fusiontest.Traces(span))
				}
				tp.clock.Advance(time.Second)
				md := tp.derived.flush(tp.clock.Now().UnixNano())
				var calls []int64
				for _, p := range viewMetrics(md) {
					if p.metric == "fusion.span.calls" {
						calls = append(calls, p.value)
					}
				}
				assert.Equal(t, tt.want[round], calls, "round %d", round)
				assert.Equal(t, tt.wantSeries[round], tp.derived.spanTables[0].len(), "round %d", round)
				if md.DataPointCount() == 0 {
					continue
				}
				m := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0)
				require.Equal(t, "fusion.span.calls", m.Name())
				dp := m.Sum().DataPoints().At(0)
				if tt.temporality == TemporalityCumulative {
					assert.Equal(t, pmetric.AggregationTemporalityCumulative, m.Sum().AggregationTemporality())
					assert.Equal(t, pcommon.Timestamp(start), dp.StartTimestamp(), "cumulative points keep the series start")
				} else {
					assert.Equal(t, pmetric.AggregationTemporalityDelta, m.Sum().AggregationTemporality())
					assert.Equal(t, pcommon.Timestamp(tp.clock.Now().Add(-time.Second).UnixNano()), dp.StartTimestamp(), "delta points start at the previous flush")
				}
			}
		})
	}
}

func TestCardinalityOverflow(t *testing.T) {
	tp := newTestConnector(t, func(cfg *Config) {
		cfg.CardinalityLimit = 2
		cfg.MaxServices = 2
	})
	defer tp.shutdown(t)
	var specs []fusiontest.Span
	// shop: 4 operations, limit 2 → op-0 and op-1 kept, op-2 and op-3 overflow.
	for i := range 4 {
		specs = append(specs, fusiontest.Span{Service: "shop", Name: "op-" + string(rune('0'+i)), Trace: fusiontest.TraceID(byte(i + 1)), Span: fusiontest.SpanID(byte(i + 1))})
	}
	// cart is the second service; pay and mail the third and fourth → table overflow.
	specs = append(specs,
		fusiontest.Span{Service: "cart", Name: "x", Trace: fusiontest.TraceID(10), Span: fusiontest.SpanID(10)},
		fusiontest.Span{Service: "pay", Name: "x", Trace: fusiontest.TraceID(11), Span: fusiontest.SpanID(11)},
		fusiontest.Span{Service: "mail", Name: "x", Trace: fusiontest.TraceID(12), Span: fusiontest.SpanID(12)})
	tp.consumeTraces(t, fusiontest.Traces(specs...))
	assert.Equal(t, 2+1+1+1, tp.derived.spanTables[0].len(), "2 shop series, shop overflow, cart, table overflow")
	var calls []pointView
	for _, p := range viewMetrics(tp.derived.flush(tp.clock.Now().UnixNano())) {
		if p.metric == "fusion.span.calls" {
			p.exemplars = 0
			calls = append(calls, p)
		}
	}
	const unset = "span.kind=SPAN_KIND_UNSPECIFIED,"
	assert.Equal(t, []pointView{
		{metric: "fusion.span.calls", attrs: "otel.metric.overflow=true", value: 2},
		{metric: "fusion.span.calls", attrs: "otel.metric.overflow=true,service.name=shop", value: 2},
		{metric: "fusion.span.calls", attrs: "service.name=cart," + unset + "span.name=x,status.code=STATUS_CODE_UNSET", value: 1},
		{metric: "fusion.span.calls", attrs: "service.name=shop," + unset + "span.name=op-0,status.code=STATUS_CODE_UNSET", value: 1},
		{metric: "fusion.span.calls", attrs: "service.name=shop," + unset + "span.name=op-1,status.code=STATUS_CODE_UNSET", value: 1},
	}, calls)
	assert.Equal(t, int64(4), tp.counter(t, "otelcol_connector_fusionmetrics_overflows"))
}

func TestRollups(t *testing.T) {
	tp := newTestConnector(t, func(cfg *Config) {
		cfg.Dimensions = []string{"endpoint", "env"}
		cfg.Rollups = []RollupConfig{
			{Name: "by_service", Keep: []string{"service.name", "env"}},
			{Name: "by_env", Drop: []string{"service.name", "tenant.id", "endpoint", "span.name", "span.kind", "status.code", "log.severity"}},
		}
	})
	defer tp.shutdown(t)
	res := func(tenant string) map[string]any { return map[string]any{"tenant.id": tenant, "env": "prod"} }
	tp.consumeTraces(t, fusiontest.Traces(
		fusiontest.Span{Service: "shop", Name: "a", Trace: fusiontest.TraceID(1), Span: fusiontest.SpanID(1), Resource: res("t1"), Attrs: map[string]any{"endpoint": "/a"}},
		fusiontest.Span{Service: "shop", Name: "b", Trace: fusiontest.TraceID(2), Span: fusiontest.SpanID(2), Resource: res("t2"), Attrs: map[string]any{"endpoint": "/b"}},
		fusiontest.Span{Service: "cart", Name: "a", Trace: fusiontest.TraceID(3), Span: fusiontest.SpanID(3), Resource: res("t1"), Attrs: map[string]any{"endpoint": "/a"}},
	))
	var got []pointView
	for _, p := range viewMetrics(tp.derived.flush(tp.clock.Now().UnixNano())) {
		if strings.HasPrefix(p.metric, "fusion.span.calls") {
			p.exemplars = 0
			got = append(got, p)
		}
	}
	const kindStatus = "span.kind=SPAN_KIND_UNSPECIFIED,"
	assert.Equal(t, []pointView{
		{metric: "fusion.span.calls", attrs: "endpoint=/a,env=prod,service.name=cart," + kindStatus + "span.name=a,status.code=STATUS_CODE_UNSET,tenant.id=t1", value: 1},
		{metric: "fusion.span.calls", attrs: "endpoint=/a,env=prod,service.name=shop," + kindStatus + "span.name=a,status.code=STATUS_CODE_UNSET,tenant.id=t1", value: 1},
		{metric: "fusion.span.calls", attrs: "endpoint=/b,env=prod,service.name=shop," + kindStatus + "span.name=b,status.code=STATUS_CODE_UNSET,tenant.id=t2", value: 1},
		{metric: "fusion.span.calls.by_env", attrs: "env=prod", value: 3},
		{metric: "fusion.span.calls.by_service", attrs: "env=prod,service.name=cart", value: 1},
		{metric: "fusion.span.calls.by_service", attrs: "env=prod,service.name=shop", value: 2},
	}, got)
}

func TestExponentialHistogram(t *testing.T) {
	tests := []struct {
		name       string
		maxSize    int
		values     []float64
		wantScale  int32
		wantOffset int32
		wantCounts []uint64
		wantZero   uint64
	}{
		// Bucket i at scale s is (b^i, b^(i+1)] with b = 2^(2^-s). Values 1, 2, 4, 8
		// are at indexes -1, 0, 1, 2 at scale 0 (4 buckets), -1, 0, 0, 1 at scale
		// -1 (3 buckets) and -1, 0, 0, 0 at scale -2 (b = 16): the first scale
		// where they fit in 2 buckets.
		{name: "fits at start scale", maxSize: 160, values: []float64{1.5}, wantScale: 20},
		{name: "downscaled to fit", maxSize: 2, values: []float64{1, 2, 4, 8}, wantScale: -2, wantOffset: -1, wantCounts: []uint64{1, 3}},
		{name: "zeros", maxSize: 4, values: []float64{0, 0, 2}, wantScale: 20, wantZero: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newExponentialHistogram(tt.maxSize)
			for _, v := range tt.values {
				h.record(v)
			}
			assert.Equal(t, tt.wantScale, h.scale)
			assert.Equal(t, tt.wantZero, h.zeroCount)
			assert.Equal(t, uint64(len(tt.values)), h.count())
			assert.LessOrEqual(t, len(h.counts), tt.maxSize)
			if tt.wantCounts != nil {
				assert.Equal(t, tt.wantOffset, h.offset)
				assert.Equal(t, tt.wantCounts, h.counts)
			}
		})
	}
}

func TestBucketIndex(t *testing.T) {
	tests := []struct {
		v     float64
		scale int32
		want  int32
	}{
		{v: 1, scale: 0, want: -1}, // (0.5, 1]
		{v: 2, scale: 0, want: 0},  // (1, 2]
		{v: 3, scale: 0, want: 1},  // (2, 4]
		{v: 4, scale: 0, want: 1},
		{v: 5, scale: 0, want: 2},
		{v: 8, scale: -1, want: 1}, // base 4: (4, 16]
		{v: 3, scale: 1, want: 3},  // base √2: (2.83, 4]
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, bucketIndex(tt.v, tt.scale), "v=%v scale=%d", tt.v, tt.scale)
	}
}

func TestExponentialDurationThroughTheConnector(t *testing.T) {
	tp := newTestConnector(t, func(cfg *Config) {
		cfg.Histogram.ExponentialMaxSize = 4
	})
	defer tp.shutdown(t)
	// 1, 2, 4 and 8 ms sit at indexes -1, 0, 1, 2 at scale 0 (bucket i is
	// (2^i, 2^(i+1)]): with 4 buckets allowed, scale 0 is the finest that fits.
	for i, ms := range []int{1, 2, 4, 8} {
		tp.consumeTraces(t, fusiontest.Traces(fusiontest.Span{Service: "shop", Name: "GET /", Trace: fusiontest.TraceID(byte(i + 1)), Span: fusiontest.SpanID(byte(i + 1)),
			Kind: ptrace.SpanKindServer, Duration: time.Duration(ms) * time.Millisecond}))
	}
	md := tp.derived.flush(tp.clock.Now().UnixNano())
	var found bool
	ms := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
	for i := range ms.Len() {
		m := ms.At(i)
		if m.Name() != "fusion.span.duration" {
			continue
		}
		found = true
		require.Equal(t, pmetric.MetricTypeExponentialHistogram, m.Type())
		dp := m.ExponentialHistogram().DataPoints().At(0)
		assert.Equal(t, uint64(4), dp.Count())
		assert.Equal(t, int32(0), dp.Scale())
		assert.Equal(t, int32(-1), dp.Positive().Offset())
		assert.Equal(t, []uint64{1, 1, 1, 1}, dp.Positive().BucketCounts().AsRaw())
		assert.InDelta(t, 15.0, dp.Sum(), 1e-9)
		assert.Equal(t, 4, dp.Exemplars().Len())
	}
	assert.True(t, found)
}

// TestDerivedMetricsFiledPerTenant: the tenant comes from the resource (what
// the receiver decided), never from a record attribute, and each tenant's
// derived points sit on a resource of that tenant.
func TestDerivedMetricsFiledPerTenant(t *testing.T) {
	tp := newTestConnector(t, nil)
	defer tp.shutdown(t)
	alpha := map[string]any{"tenant.id": "alpha"}
	beta := map[string]any{"tenant.id": "beta"}
	tp.consumeTraces(t, fusiontest.Traces(
		fusiontest.Span{Service: "shop", Name: "GET /", Trace: fusiontest.TraceID(1), Span: fusiontest.SpanID(1), Resource: alpha},
		fusiontest.Span{Service: "shop", Name: "GET /", Trace: fusiontest.TraceID(2), Span: fusiontest.SpanID(2), Resource: alpha,
			Attrs: map[string]any{"tenant.id": "beta"}}, // a sender's attribute: ignored
		fusiontest.Span{Service: "shop", Name: "GET /", Trace: fusiontest.TraceID(3), Span: fusiontest.SpanID(3), Resource: beta},
	))
	tp.clock.Advance(time.Second)
	md := tp.derived.flush(tp.clock.Now().UnixNano())

	calls := map[string]int64{}
	for i := range md.ResourceMetrics().Len() {
		rm := md.ResourceMetrics().At(i)
		tenant, ok := rm.Resource().Attributes().Get("tenant.id")
		require.True(t, ok, "every derived point has its tenant's resource")
		for _, p := range viewMetrics(singleResource(rm)) {
			assert.Contains(t, p.attrs, "tenant.id="+tenant.Str())
			if p.metric == "fusion.span.calls" {
				calls[tenant.Str()] += p.value
			}
		}
	}
	assert.Equal(t, map[string]int64{"alpha": 2, "beta": 1}, calls)
}

func singleResource(rm pmetric.ResourceMetrics) pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm.CopyTo(md.ResourceMetrics().AppendEmpty())
	return md
}
