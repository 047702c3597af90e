package fusionmetricsconnector

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otelfusion/otelfusion/connector/fusionmetricsconnector/internal/metadata"
	"github.com/otelfusion/otelfusion/internal/fusiontest"
)

// TestFactoryTracesAndLogsToMetrics runs both connectors the factory makes
// as the collector would: start, consume, shut down. Shutdown sends what was
// aggregated since the last flush; each signal only fills its own tables.
func TestFactoryTracesAndLogsToMetrics(t *testing.T) {
	f := NewFactory()
	assert.Equal(t, metadata.Type, f.Type())
	cfg := f.CreateDefaultConfig().(*Config)
	cfg.FlushInterval = time.Hour // only Shutdown flushes
	ctx := context.Background()
	host := componenttest.NewNopHost()

	fromTraces, fromLogs := new(consumertest.MetricsSink), new(consumertest.MetricsSink)
	tc, err := f.CreateTracesToMetrics(ctx, connectortest.NewNopSettings(metadata.Type), cfg, fromTraces)
	require.NoError(t, err)
	lc, err := f.CreateLogsToMetrics(ctx, connectortest.NewNopSettings(metadata.Type), cfg, fromLogs)
	require.NoError(t, err)
	assert.False(t, tc.Capabilities().MutatesData)
	require.NoError(t, tc.Start(ctx, host))
	require.NoError(t, lc.Start(ctx, host))

	require.NoError(t, tc.ConsumeTraces(ctx, fusiontest.Traces(
		fusiontest.Span{Service: "shop", Name: "GET /", Trace: fusiontest.TraceID(1), Span: fusiontest.SpanID(1), Kind: ptrace.SpanKindServer, Duration: time.Millisecond},
		fusiontest.Span{Service: "shop", Name: "GET /", Trace: fusiontest.TraceID(2), Span: fusiontest.SpanID(2), Kind: ptrace.SpanKindServer, Duration: time.Millisecond},
	)))
	// The second log's resource has no service: the fusion processor wrote
	// its span's service into fusion.service_name.
	require.NoError(t, lc.ConsumeLogs(ctx, fusiontest.Logs(
		fusiontest.Log{Service: "shop", Body: "a", Severity: plog.SeverityNumberInfo},
		fusiontest.Log{Body: "b", Severity: plog.SeverityNumberWarn, Attrs: map[string]any{"fusion.service_name": "cart"}},
	)))
	assert.Empty(t, fromTraces.AllMetrics(), "nothing before a flush")

	require.NoError(t, tc.Shutdown(ctx))
	require.NoError(t, lc.Shutdown(ctx))
	require.Len(t, fromTraces.AllMetrics(), 1)
	require.Len(t, fromLogs.AllMetrics(), 1)
	const srv = "service.name=shop,span.kind=SPAN_KIND_SERVER,span.name=GET /,status.code=STATUS_CODE_UNSET"
	assert.Equal(t, []pointView{
		{metric: "fusion.span.calls", attrs: srv, value: 2},
		{metric: "fusion.span.duration", attrs: srv, value: 2, exemplars: 2},
	}, viewMetrics(fromTraces.AllMetrics()[0]))
	assert.Equal(t, []pointView{
		{metric: "fusion.log.records", attrs: "log.severity=INFO,service.name=shop", value: 1},
		{metric: "fusion.log.records", attrs: "log.severity=WARN,service.name=cart", value: 1},
	}, viewMetrics(fromLogs.AllMetrics()[0]))
}

func TestShutdownWithoutStart(t *testing.T) {
	f := NewFactory()
	tc, err := f.CreateTracesToMetrics(context.Background(), connectortest.NewNopSettings(metadata.Type), f.CreateDefaultConfig(), consumertest.NewNop())
	require.NoError(t, err)
	require.NoError(t, tc.Shutdown(context.Background()))
	require.NoError(t, tc.Shutdown(context.Background()), "a second Shutdown is harmless")
}

// TestFlushLoopSendsOnItsInterval starts the real ticker and waits for one
// flush; only correctness is checked, not timing.
func TestFlushLoopSendsOnItsInterval(t *testing.T) {
	f := NewFactory()
	cfg := f.CreateDefaultConfig().(*Config)
	cfg.FlushInterval = 10 * time.Millisecond
	sink := new(consumertest.MetricsSink)
	tc, err := f.CreateTracesToMetrics(context.Background(), connectortest.NewNopSettings(metadata.Type), cfg, sink)
	require.NoError(t, err)
	require.NoError(t, tc.Start(context.Background(), componenttest.NewNopHost()))
	require.NoError(t, tc.ConsumeTraces(context.Background(), fusiontest.Traces(fusiontest.Span{Service: "shop", Name: "op", Trace: fusiontest.TraceID(1), Span: fusiontest.SpanID(1)})))
	require.Eventually(t, func() bool { return sink.DataPointCount() > 0 }, 10*time.Second, 5*time.Millisecond)
	require.NoError(t, tc.Shutdown(context.Background()))
	var calls int64
	for _, md := range sink.AllMetrics() {
		for _, p := range viewMetrics(md) {
			if p.metric == metricCalls {
				calls += p.value
			}
		}
	}
	assert.Equal(t, int64(1), calls, "the span is counted once over every flush")
}

// TestTelemetry: recorded items by signal, and refused flushes counted by point.
func TestTelemetry(t *testing.T) {
	tc := newTestConnector(t, nil)
	tc.next = consumertest.NewErr(errors.New("pipeline full"))
	tc.consumeTraces(t, fusiontest.Traces(
		fusiontest.Span{Service: "shop", Name: "a", Trace: fusiontest.TraceID(1), Span: fusiontest.SpanID(1)},
		fusiontest.Span{Service: "shop", Name: "b", Trace: fusiontest.TraceID(2), Span: fusiontest.SpanID(2)},
	))
	tc.consumeLogs(t, fusiontest.Logs(fusiontest.Log{Service: "shop", Body: "x"}))
	assert.Equal(t, int64(3), tc.counter(t, "otelcol_connector_fusionmetrics_recorded"))
	tc.shutdown(t)
	// 2 series × (calls + duration) + 1 log series.
	assert.Equal(t, int64(5), tc.counter(t, "otelcol_connector_fusionmetrics_flush_errors"))
}
