package fusionprocessor

import (
	"context"
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

	"github.com/otelfusion/otelfusion/internal/fusiontest"
	"github.com/otelfusion/otelfusion/processor/fusionprocessor/internal/metadata"
)

// testProcessor is a started fusion processor on a fake clock, with its
// telemetry readable and a sink for the logs it forwards later.
type testProcessor struct {
	*fusionProcessor
	clock *fusiontest.Clock
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
	clock := fusiontest.NewClock()
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
