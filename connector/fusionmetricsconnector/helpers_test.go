package fusionmetricsconnector

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelfusion/otelfusion/connector/fusionmetricsconnector/internal/metadata"
)

// fakeClock is the injectable time of the tests.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// testConnector records both spans and logs on a fake clock, with its
// telemetry readable and a sink for what it flushes. Tests flush by hand
// (derived.flush) or through flush into the sink.
type testConnector struct {
	*fusionMetricsConnector
	clock   *fakeClock
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
	clock := &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
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

func traceID(b byte) pcommon.TraceID { return pcommon.TraceID{0: 0xaa, 15: b} }
func spanID(b byte) pcommon.SpanID   { return pcommon.SpanID{0: 0xbb, 7: b} }

// spanSpec describes one test span.
type spanSpec struct {
	service  string
	name     string
	trace    pcommon.TraceID
	span     pcommon.SpanID
	kind     ptrace.SpanKind
	status   ptrace.StatusCode
	duration time.Duration
	attrs    map[string]any
	resource map[string]any
}

func makeTraces(specs ...spanSpec) ptrace.Traces {
	td := ptrace.NewTraces()
	for _, s := range specs {
		rs := td.ResourceSpans().AppendEmpty()
		_ = rs.Resource().Attributes().FromRaw(merge(s.resource, map[string]any{"service.name": s.service}))
		span := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
		span.SetName(s.name)
		span.SetTraceID(s.trace)
		span.SetSpanID(s.span)
		span.SetKind(s.kind)
		span.Status().SetCode(s.status)
		start := pcommon.Timestamp(1_000_000_000)
		span.SetStartTimestamp(start)
		span.SetEndTimestamp(start + pcommon.Timestamp(s.duration))
		_ = span.Attributes().FromRaw(s.attrs)
	}
	return td
}

func merge(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		if v != "" {
			out[k] = v
		}
	}
	return out
}

// logSpec describes one test log record.
type logSpec struct {
	service  string
	body     string
	trace    pcommon.TraceID
	span     pcommon.SpanID
	severity plog.SeverityNumber
	attrs    map[string]any
}

func makeLogs(specs ...logSpec) plog.Logs {
	ld := plog.NewLogs()
	for _, s := range specs {
		rl := ld.ResourceLogs().AppendEmpty()
		if s.service != "" {
			rl.Resource().Attributes().PutStr("service.name", s.service)
		}
		lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
		lr.Body().SetStr(s.body)
		lr.SetTraceID(s.trace)
		lr.SetSpanID(s.span)
		lr.SetSeverityNumber(s.severity)
		lr.SetTimestamp(pcommon.Timestamp(2_000_000_000))
		_ = lr.Attributes().FromRaw(s.attrs)
	}
	return ld
}
