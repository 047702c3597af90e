package tenantquota

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelfusion/otelfusion/processor/tenantquota/internal/metadata"
)

// sumPoints adds up the points of an int64 counter whose attributes include kv.
func sumPoints(t *testing.T, tel *componenttest.Telemetry, name string, kv ...attribute.KeyValue) int64 {
	t.Helper()
	m, err := tel.GetMetric(name)
	require.NoError(t, err, name)
	var total int64
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		match := true
		for _, want := range kv {
			if v, ok := dp.Attributes.Value(want.Key); !ok || v != want.Value {
				match = false
			}
		}
		if match {
			total += dp.Value
		}
	}
	return total
}

func gaugeValue(t *testing.T, tel *componenttest.Telemetry, name string, kv attribute.KeyValue) int64 {
	t.Helper()
	m, err := tel.GetMetric(name)
	require.NoError(t, err, name)
	for _, dp := range m.Data.(metricdata.Gauge[int64]).DataPoints {
		if v, ok := dp.Attributes.Value(kv.Key); ok && v == kv.Value {
			return dp.Value
		}
	}
	t.Fatalf("%s has no point with %v", name, kv)
	return 0
}

func TestOwnTelemetry(t *testing.T) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	set := processortest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	cfg := testConfig()
	cfg.Defaults.Traces = SignalQuota{ItemsPerSecond: 100, ItemsBurst: 100}
	cfg.Breaker.OpenAfter = cfg.Breaker.Bucket
	cfg.Breaker.CloseAfter = cfg.Breaker.Bucket
	p, err := newQuotaProcessor(cfg, set)
	require.NoError(t, err)
	clock := newFakeClock()
	p.now = clock.Now
	ctx := tenantContext("a")
	tenantA := attribute.String("tenant", "a")

	_, err = p.processTraces(ctx, spans(100))
	require.NoError(t, err)
	_, err = p.processTraces(ctx, spans(50))
	require.Error(t, err)
	assert.Equal(t, int64(0), gaugeValue(t, tel, "otelcol_processor_tenant_quota_breaker_open", tenantA))

	// 2150 offered in one 10 s bucket at 100/s: ratio 2.15, the breaker opens.
	for range 20 {
		_, _ = p.processTraces(ctx, spans(100))
	}
	clock.Advance(cfg.Breaker.Bucket)
	p.tick(clock.Now())
	assert.Equal(t, int64(1), gaugeValue(t, tel, "otelcol_processor_tenant_quota_breaker_open", tenantA))

	_, err = p.processTraces(ctx, spans(100)) // 1% of 100 distinct traces pass
	require.NoError(t, err)

	accepted := sumPoints(t, tel, "otelcol_processor_tenant_quota_items_accepted", tenantA, attribute.String("signal", "traces"))
	sampledOut := sumPoints(t, tel, "otelcol_processor_tenant_quota_items_sampled_out", tenantA)
	assert.Equal(t, int64(200), accepted+sampledOut)
	assert.Positive(t, sampledOut)
	assert.Equal(t, int64(50+2000), sumPoints(t, tel, "otelcol_processor_tenant_quota_items_refused", tenantA, attribute.String("reason", "quota")))
	assert.Equal(t, int64(1), sumPoints(t, tel, "otelcol_processor_tenant_quota_breaker_transitions", tenantA, attribute.String("state", "open")))
	m, err := tel.GetMetric("otelcol_processor_tenant_quota_offered_rate")
	require.NoError(t, err)
	for _, dp := range m.Data.(metricdata.Gauge[float64]).DataPoints {
		if v, _ := dp.Attributes.Value("signal"); v.AsString() == "traces" {
			assert.Equal(t, 215.0, dp.Value, "2150 spans in a 10 s bucket")
		}
	}
}
