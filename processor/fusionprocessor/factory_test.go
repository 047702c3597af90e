package fusionprocessor

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/otelfusion/otelfusion/internal/fusiontest"
	"github.com/otelfusion/otelfusion/processor/fusionprocessor/internal/metadata"
)

func TestFactorySharesOneInstance(t *testing.T) {
	f := NewFactory()
	assert.Equal(t, metadata.Type, f.Type())
	cfg := f.CreateDefaultConfig().(*Config)
	cfg.LateLogs.MaxDelay = time.Minute // only Shutdown releases
	set := processortest.NewNopSettings(metadata.Type)
	ctx := context.Background()

	traces, logs, metrics := new(consumertest.TracesSink), new(consumertest.LogsSink), new(consumertest.MetricsSink)
	tp, err := f.CreateTraces(ctx, set, cfg, traces)
	require.NoError(t, err)
	lp, err := f.CreateLogs(ctx, set, cfg, logs)
	require.NoError(t, err)
	mp, err := f.CreateMetrics(ctx, set, cfg, metrics)
	require.NoError(t, err)
	assert.Equal(t, 1, processors.Len())
	assert.True(t, tp.Capabilities().MutatesData)
	assert.False(t, mp.Capabilities().MutatesData)

	host := componenttest.NewNopHost()
	require.NoError(t, tp.Start(ctx, host))
	require.NoError(t, lp.Start(ctx, host))
	require.NoError(t, mp.Start(ctx, host))

	// A log that waits for a span in the logs pipeline, its span in the
	// traces pipeline: the log comes out of the logs pipeline enriched.
	require.NoError(t, lp.ConsumeLogs(ctx, fusiontest.Logs(fusiontest.Log{Service: "svc", Body: "a", Trace: fusiontest.TraceID(1), Span: fusiontest.SpanID(1)})))
	require.NoError(t, tp.ConsumeTraces(ctx, fusiontest.Traces(fusiontest.Span{Service: "svc", Name: "op", Trace: fusiontest.TraceID(1), Span: fusiontest.SpanID(1), Kind: ptrace.SpanKindServer})))
	require.Eventually(t, func() bool { return logs.LogRecordCount() == 1 }, 5*time.Second, time.Millisecond)
	assert.Equal(t, []logView{{body: "a", trace: fusiontest.TraceID(1), span: fusiontest.SpanID(1), operation: "op"}}, viewLogs(logs.AllLogs()...))
	assert.Equal(t, 1, traces.SpanCount())

	// Incoming metrics pass unchanged.
	in := pmetric.NewMetrics()
	in.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics().AppendEmpty().SetName("app.requests")
	require.NoError(t, mp.ConsumeMetrics(ctx, in))
	require.Len(t, metrics.AllMetrics(), 1)
	assert.Equal(t, "app.requests", metrics.AllMetrics()[0].ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0).Name())

	// A log still waiting leaves with the first pipeline that shuts down,
	// while every pipeline's exporters are still running.
	require.NoError(t, lp.ConsumeLogs(ctx, fusiontest.Logs(fusiontest.Log{Service: "svc", Body: "b", Trace: fusiontest.TraceID(2), Span: fusiontest.SpanID(2)})))
	require.NoError(t, tp.Shutdown(ctx))
	assert.Equal(t, 2, logs.LogRecordCount())
	assert.Equal(t, 1, processors.Len(), "still shared by the logs and metrics pipelines")
	require.NoError(t, lp.Shutdown(ctx))
	require.NoError(t, mp.Shutdown(ctx))
	assert.Equal(t, 0, processors.Len())
	require.Len(t, metrics.AllMetrics(), 1, "only the pass-through batch: derived metrics are the fusionmetrics connector's")
}

func TestShutdownWithoutStart(t *testing.T) {
	f := NewFactory()
	lp, err := f.CreateLogs(context.Background(), processortest.NewNopSettings(metadata.Type), f.CreateDefaultConfig(), consumertest.NewNop())
	require.NoError(t, err)
	require.NoError(t, lp.Shutdown(context.Background()))
}
