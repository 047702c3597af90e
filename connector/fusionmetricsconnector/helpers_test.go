package fusionmetricsconnector

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelfusion/otelfusion/connector/fusionmetricsconnector/internal/metadata"
	"github.com/otelfusion/otelfusion/internal/fusiontest"
)

// testConnector records both spans and logs on a fake clock, with its
// telemetry readable and a sink for what it flushes. Tests flush by hand
// (derived.flush) or through flush into the sink.
type testConnector struct {
	*fusionMetricsConnector
	clock   *fusiontest.Clock
	tel     *componenttest.Telemetry
	metrics *consumertest.MetricsSink
}

func newTestConnector(t testing.TB, edit func(*Config)) *testConnector {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	if edit != nil {
		edit(cfg)
	}
	require.NoError(t, cfg.Validate())
	tel := componenttest.NewTelemetry()
	set := connectortest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	sink := new(consumertest.MetricsSink)
	c, err := newConnector(cfg, set, sink, true, true)
	require.NoError(t, err)
	clock := fusiontest.NewClock()
	c.now = clock.Now
	c.derived.lastFlush = clock.Now().UnixNano()
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	return &testConnector{fusionMetricsConnector: c, clock: clock, tel: tel, metrics: sink}
}

func (tc *testConnector) shutdown(t testing.TB) {
	t.Helper()
	require.NoError(t, tc.Shutdown(context.Background()))
}

func (tc *testConnector) consumeTraces(t testing.TB, td ptrace.Traces) {
	t.Helper()
	require.NoError(t, tc.ConsumeTraces(context.Background(), td))
}

func (tc *testConnector) consumeLogs(t testing.TB, ld plog.Logs) {
	t.Helper()
	require.NoError(t, tc.ConsumeLogs(context.Background(), ld))
}

// counter sums an Int64 sum of the connector's telemetry.
func (tc *testConnector) counter(t *testing.T, name string) int64 {
	t.Helper()
	m, err := tc.tel.GetMetric(name)
	if err != nil {
		return 0
	}
	var total int64
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		total += dp.Value
	}
	return total
}
