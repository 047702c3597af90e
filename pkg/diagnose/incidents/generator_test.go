package incidents

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

var testEnd = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)

// The same kind and seed give the same telemetry; another seed another.
func TestGenerateIsSeeded(t *testing.T) {
	a, b := Generate(SlowDependency, 7, testEnd), Generate(SlowDependency, 7, testEnd)
	marshaler := ptrace.ProtoMarshaler{}
	ab, err := marshaler.MarshalTraces(a.Traces)
	require.NoError(t, err)
	bb, err := marshaler.MarshalTraces(b.Traces)
	require.NoError(t, err)
	assert.Equal(t, ab, bb)
	assert.Equal(t, a.Truth, b.Truth)
	c := Generate(SlowDependency, 8, testEnd)
	assert.NotEqual(t, a.Traces.SpanCount(), c.Traces.SpanCount())
}

// Every kind names its truth as candidate subjects, and keeps its data in
// the windows of its request and its own tenant.
func TestGenerateKinds(t *testing.T) {
	prefixes := map[Kind]string{
		SlowDependency: "latency ", ErrorBurst: "errors ", BadPodOrVersion: "attribute ",
		PoolExhaustion: "", CPUSaturation: "metric ", NoisyTenant: "attribute orders app.tenant=",
	}
	for _, kind := range Kinds {
		inst := Generate(kind, 1, testEnd)
		require.NotEmpty(t, inst.Truth, kind)
		for _, truth := range inst.Truth {
			assert.True(t, strings.HasPrefix(truth, prefixes[kind]), "%s: %q", kind, truth)
		}
		assert.Equal(t, "suite-"+kind.String()+"-1", inst.Tenant)
		assert.Greater(t, inst.Traces.SpanCount(), 1000, kind)
		assert.Positive(t, inst.Logs.LogRecordCount(), kind)
		assert.Positive(t, inst.Metrics.DataPointCount(), kind)
		start := testEnd.Add(-Window - Baseline)
		for _, rs := range inst.Traces.ResourceSpans().All() {
			tenant, _ := rs.Resource().Attributes().Get("tenant.id")
			require.Equal(t, inst.Tenant, tenant.AsString())
			for _, span := range rs.ScopeSpans().At(0).Spans().All() {
				require.False(t, span.StartTimestamp().AsTime().Before(start), kind)
			}
		}
	}
	healthy := Generate(Healthy, 1, testEnd)
	assert.Empty(t, healthy.Truth)
}
