package fusionprocessor

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processorhelper"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelfusion/otelfusion/processor/fusionprocessor/internal/metadata"
)

// fakeClock is the injectable time of the tests.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
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

// testProcessor is a started fusion processor on a fake clock, with its
// telemetry readable and a sink for the logs it forwards later.
type testProcessor struct {
	*fusionProcessor
	clock *fakeClock
	tel   *componenttest.Telemetry
	late  *consumertest.LogsSink
	// lateNext, when set, replaces late as the consumer of buffered logs.
	lateNext consumer.Logs
}

func newTestProcessor(t testing.TB, edit func(*Config)) *testProcessor {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	if edit != nil {
		edit(cfg)
	}
	require.NoError(t, cfg.Validate())
	tel := componenttest.NewTelemetry()
	set := processortest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	clock := newFakeClock()
	fp, err := newFusionProcessor(cfg, set)
	require.NoError(t, err)
	fp.now = clock.Now
	fp.releaseTick = time.Millisecond
	tp := &testProcessor{fusionProcessor: fp, clock: clock, tel: tel, late: new(consumertest.LogsSink)}
	require.NoError(t, fp.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() {
		_ = tel.Shutdown(context.Background())
	})
	return tp
}

func (tp *testProcessor) shutdown(t testing.TB) {
	t.Helper()
	require.NoError(t, tp.Shutdown(context.Background()))
}

// consumeLogs runs a batch through the processor as the logs pipeline would
// and returns what goes on at once.
func (tp *testProcessor) consumeLogs(t testing.TB, ld plog.Logs) plog.Logs {
	t.Helper()
	var next consumer.Logs = tp.late
	if tp.lateNext != nil {
		next = tp.lateNext
	}
	out, err := tp.processLogs(context.Background(), ld, next)
	if err != nil {
		require.ErrorIs(t, err, processorhelper.ErrSkipProcessingData)
		return plog.NewLogs()
	}
	return out
}

func (tp *testProcessor) consumeTraces(t testing.TB, td ptrace.Traces) {
	t.Helper()
	_, err := tp.processTraces(context.Background(), td)
	require.NoError(t, err)
}

// counter sums an Int64 sum of the processor's telemetry over the points
// whose attributes include kv (all points when kv is empty).
func (tp *testProcessor) counter(t *testing.T, name string, kv ...attribute.KeyValue) int64 {
	t.Helper()
	m, err := tp.tel.GetMetric(name)
	if err != nil {
		return 0
	}
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
		if s.service != "" {
			rs.Resource().Attributes().PutStr("service.name", s.service)
		}
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

// logView is what a test checks of one log record.
type logView struct {
	body      string
	trace     pcommon.TraceID
	span      pcommon.SpanID
	operation string
}

func viewLogs(lds ...plog.Logs) []logView {
	var out []logView
	for _, ld := range lds {
		for i := range ld.ResourceLogs().Len() {
			rl := ld.ResourceLogs().At(i)
			for j := range rl.ScopeLogs().Len() {
				lrs := rl.ScopeLogs().At(j).LogRecords()
				for k := range lrs.Len() {
					lr := lrs.At(k)
					v := logView{body: lr.Body().AsString(), trace: lr.TraceID(), span: lr.SpanID()}
					if op, ok := lr.Attributes().Get("fusion.operation"); ok {
						v.operation = op.Str()
					}
					out = append(out, v)
				}
			}
		}
	}
	return out
}
