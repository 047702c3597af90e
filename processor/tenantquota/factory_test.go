package tenantquota

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/processor/processortest"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/otelfusion/otelfusion/processor/tenantquota/internal/metadata"
)

// TestFactoryPipelines runs the processor as the collector does: one shared
// instance for the traces, logs and metrics pipelines, throttle errors
// passed back to the receiver, summary metrics into the metrics pipeline.
func TestFactoryPipelines(t *testing.T) {
	factory := NewFactory()
	assert.Equal(t, metadata.Type, factory.Type())
	cfg := factory.CreateDefaultConfig().(*Config)
	cfg.Tenant.Precedence = []Source{SourceMetadata} // tenantContext's header
	cfg.Defaults.Traces = SignalQuota{ItemsPerSecond: 1, ItemsBurst: 1000}
	half := 0.5
	cfg.Tenants = map[string]TenantOverrides{"sampled": {SamplingRate: &half}}
	set := processortest.NewNopSettings(metadata.Type)
	ctx := context.Background()

	traceSink, logSink, metricSink := new(consumertest.TracesSink), new(consumertest.LogsSink), new(consumertest.MetricsSink)
	tp, err := factory.CreateTraces(ctx, set, cfg, traceSink)
	require.NoError(t, err)
	lp, err := factory.CreateLogs(ctx, set, cfg, logSink)
	require.NoError(t, err)
	mp, err := factory.CreateMetrics(ctx, set, cfg, metricSink)
	require.NoError(t, err)
	assert.Equal(t, 1, processors.Len(), "one instance for the three pipelines")
	host := componenttest.NewNopHost()
	require.NoError(t, tp.Start(ctx, host))
	require.NoError(t, lp.Start(ctx, host))
	require.NoError(t, mp.Start(ctx, host))

	require.NoError(t, tp.ConsumeTraces(tenantContext("a"), spans(1000)))
	err = tp.ConsumeTraces(tenantContext("a"), spans(10))
	st, ok := status.FromError(err)
	require.True(t, ok, "the receiver sees the gRPC status: %v", err)
	assert.Equal(t, codes.ResourceExhausted, st.Code())
	assert.Equal(t, 1000, traceSink.SpanCount())

	require.NoError(t, tp.ConsumeTraces(tenantContext("sampled"), spans(400)))
	require.NoError(t, lp.ConsumeLogs(tenantContext("sampled"), logRecords(10, 10)))
	require.NoError(t, mp.ConsumeMetrics(tenantContext("a"), pmetric.NewMetrics()))

	// The last shutdown flushes the summary of the sampled tenant.
	require.NoError(t, tp.Shutdown(ctx))
	require.NoError(t, lp.Shutdown(ctx))
	require.NoError(t, mp.Shutdown(ctx))
	assert.Zero(t, processors.Len())
	var spanCount int64
	for _, md := range metricSink.AllMetrics() {
		for _, rm := range md.ResourceMetrics().All() {
			for _, m := range rm.ScopeMetrics().At(0).Metrics().All() {
				if m.Name() == metricSpanCount {
					for _, dp := range m.Sum().DataPoints().All() {
						spanCount += dp.IntValue()
					}
				}
			}
		}
	}
	assert.Equal(t, int64(400), spanCount)
}

func TestShutdownWithoutStart(t *testing.T) {
	factory := NewFactory()
	cfg := factory.CreateDefaultConfig()
	tp, err := factory.CreateTraces(context.Background(), processortest.NewNopSettings(metadata.Type), cfg, consumertest.NewNop())
	require.NoError(t, err)
	require.NoError(t, tp.Shutdown(context.Background()))
	assert.Zero(t, processors.Len())
}
