package fusionprocessor

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processorhelper"
	"go.opentelemetry.io/otel/attribute"

	"github.com/otelfusion/otelfusion/internal/fusiontest"
)

func TestSpanBeforeLogEnrichesAtOnce(t *testing.T) {
	tp := newTestProcessor(t, nil)
	defer tp.shutdown(t)
	tp.consumeTraces(t, fusiontest.Traces(fusiontest.Span{Service: "checkout", Name: "GET /cart", Trace: fusiontest.TraceID(1), Span: fusiontest.SpanID(1), Kind: ptrace.SpanKindServer}))

	out := tp.consumeLogs(t, fusiontest.Logs(
		// linked natively, no service on the resource: the span's is written
		fusiontest.Log{Body: "native", Trace: fusiontest.TraceID(1), Span: fusiontest.SpanID(1)},
		// linked only by attributes
		fusiontest.Log{Service: "checkout", Body: "hinted", Attrs: map[string]any{"trace_id": fusiontest.TraceID(1).String(), "span_id": fusiontest.SpanID(1).String()}},
		// no trace context at all
		fusiontest.Log{Service: "checkout", Body: "plain"},
	))
	assert.Equal(t, []logView{
		{body: "native", trace: fusiontest.TraceID(1), span: fusiontest.SpanID(1), operation: "GET /cart"},
		{body: "hinted", trace: fusiontest.TraceID(1), span: fusiontest.SpanID(1), operation: "GET /cart"},
		{body: "plain"},
	}, viewLogs(out))
	first := out.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
	svc, ok := first.Attributes().Get("fusion.service_name")
	require.True(t, ok)
	assert.Equal(t, "checkout", svc.Str())
	_, ok = out.ResourceLogs().At(1).ScopeLogs().At(0).LogRecords().At(0).Attributes().Get("fusion.service_name")
	assert.False(t, ok, "not written when the resource names the service")

	assert.Equal(t, int64(1), tp.counter(t, "otelcol_processor_fusion_spans_indexed"))
	assert.Equal(t, int64(2), tp.counter(t, "otelcol_processor_fusion_logs_enriched"))
	assert.Equal(t, int64(1), tp.counter(t, "otelcol_processor_fusion_logs_unlinked", attribute.String("reason", "no_trace_context")))
	assert.Zero(t, tp.late.LogRecordCount())
}

func TestLateSpanBuffer(t *testing.T) {
	const delay = 2 * time.Second
	tests := []struct {
		name string
		// run feeds the processor; logs are "a" (span 1), "b" (span 2), …
		run            func(t *testing.T, tp *testProcessor) (atOnce plog.Logs)
		wantAtOnce     []logView
		wantLater      []logView
		wantEnriched   int64
		wantNotSeen    int64
		wantBufferFull int64
	}{
		{
			name: "span arrives within the delay: enriched and forwarded",
			run: func(t *testing.T, tp *testProcessor) plog.Logs {
				out := tp.consumeLogs(t, fusiontest.Logs(fusiontest.Log{Service: "svc", Body: "a", Trace: fusiontest.TraceID(1), Span: fusiontest.SpanID(1)}))
				tp.clock.Advance(delay - time.Millisecond)
				tp.consumeTraces(t, fusiontest.Traces(fusiontest.Span{Service: "svc", Name: "op-1", Trace: fusiontest.TraceID(1), Span: fusiontest.SpanID(1)}))
				// forwarded by the release loop, not by Shutdown
				require.Eventually(t, func() bool { return tp.late.LogRecordCount() == 1 }, 5*time.Second, time.Millisecond)
				return out
			},
			wantLater:    []logView{{body: "a", trace: fusiontest.TraceID(1), span: fusiontest.SpanID(1), operation: "op-1"}},
			wantEnriched: 1,
		},
		{
			name: "two logs wait for one span",
			run: func(t *testing.T, tp *testProcessor) plog.Logs {
				out := tp.consumeLogs(t, fusiontest.Logs(
					fusiontest.Log{Service: "svc", Body: "a", Trace: fusiontest.TraceID(1), Span: fusiontest.SpanID(1)},
					fusiontest.Log{Service: "svc", Body: "a2", Attrs: map[string]any{"traceparent": "00-" + fusiontest.TraceID(1).String() + "-" + fusiontest.SpanID(1).String() + "-01"}}))
				tp.consumeTraces(t, fusiontest.Traces(fusiontest.Span{Service: "svc", Name: "op-1", Trace: fusiontest.TraceID(1), Span: fusiontest.SpanID(1)}))
				return out
			},
			wantLater: []logView{
				{body: "a", trace: fusiontest.TraceID(1), span: fusiontest.SpanID(1), operation: "op-1"},
				{body: "a2", trace: fusiontest.TraceID(1), span: fusiontest.SpanID(1), operation: "op-1"},
			},
			wantEnriched: 2,
		},
		{
			name: "delay expires: released unenriched, the late span changes nothing",
			run: func(t *testing.T, tp *testProcessor) plog.Logs {
				out := tp.consumeLogs(t, fusiontest.Logs(fusiontest.Log{Service: "svc", Body: "a", Trace: fusiontest.TraceID(1), Span: fusiontest.SpanID(1)}))
				tp.clock.Advance(delay)
				require.Eventually(t, func() bool { return tp.late.LogRecordCount() == 1 }, 5*time.Second, time.Millisecond)
				tp.consumeTraces(t, fusiontest.Traces(fusiontest.Span{Service: "svc", Name: "op-1", Trace: fusiontest.TraceID(1), Span: fusiontest.SpanID(1)}))
				return out
			},
			wantLater:   []logView{{body: "a", trace: fusiontest.TraceID(1), span: fusiontest.SpanID(1)}},
			wantNotSeen: 1,
		},
		{
			name: "buffer full: the third log passes at once, unenriched",
			run: func(t *testing.T, tp *testProcessor) plog.Logs {
				out := tp.consumeLogs(t, fusiontest.Logs(
					fusiontest.Log{Service: "svc", Body: "a", Trace: fusiontest.TraceID(1), Span: fusiontest.SpanID(1)},
					fusiontest.Log{Service: "svc", Body: "b", Trace: fusiontest.TraceID(2), Span: fusiontest.SpanID(2)},
					fusiontest.Log{Service: "svc", Body: "c", Trace: fusiontest.TraceID(3), Span: fusiontest.SpanID(3)}))
				tp.consumeTraces(t, fusiontest.Traces(
					fusiontest.Span{Service: "svc", Name: "op-1", Trace: fusiontest.TraceID(1), Span: fusiontest.SpanID(1)},
					fusiontest.Span{Service: "svc", Name: "op-2", Trace: fusiontest.TraceID(2), Span: fusiontest.SpanID(2)},
					fusiontest.Span{Service: "svc", Name: "op-3", Trace: fusiontest.TraceID(3), Span: fusiontest.SpanID(3)}))
				return out
			},
			wantAtOnce: []logView{{body: "c", trace: fusiontest.TraceID(3), span: fusiontest.SpanID(3)}},
			wantLater: []logView{
				{body: "a", trace: fusiontest.TraceID(1), span: fusiontest.SpanID(1), operation: "op-1"},
				{body: "b", trace: fusiontest.TraceID(2), span: fusiontest.SpanID(2), operation: "op-2"},
			},
			wantEnriched:   2,
			wantBufferFull: 1,
		},
		{
			name: "shutdown releases what still waits",
			run: func(t *testing.T, tp *testProcessor) plog.Logs {
				return tp.consumeLogs(t, fusiontest.Logs(fusiontest.Log{Service: "svc", Body: "a", Trace: fusiontest.TraceID(1), Span: fusiontest.SpanID(1)}))
			},
			wantLater:   []logView{{body: "a", trace: fusiontest.TraceID(1), span: fusiontest.SpanID(1)}},
			wantNotSeen: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp := newTestProcessor(t, func(cfg *Config) {
				cfg.LateLogs = LateLogsConfig{MaxDelay: delay, MaxBuffered: 2}
			})
			atOnce := tt.run(t, tp)
			tp.shutdown(t) // forwards anything still buffered
			assert.Equal(t, tt.wantAtOnce, viewLogs(atOnce))
			assert.Equal(t, tt.wantLater, viewLogs(tp.late.AllLogs()...))
			assert.Equal(t, tt.wantEnriched, tp.counter(t, "otelcol_processor_fusion_logs_enriched"))
			assert.Equal(t, tt.wantNotSeen, tp.counter(t, "otelcol_processor_fusion_logs_unlinked", attribute.String("reason", "span_not_seen")))
			assert.Equal(t, tt.wantBufferFull, tp.counter(t, "otelcol_processor_fusion_logs_unlinked", attribute.String("reason", "buffer_full")))
			assert.Equal(t, int64(len(tt.wantLater)), tp.counter(t, "otelcol_processor_fusion_logs_delayed"))
			assert.Zero(t, tp.counter(t, "otelcol_processor_fusion_buffered_logs"), "buffer empty at the end")
		})
	}
}

func TestLateLogNeverHeldPastDelay(t *testing.T) {
	tp := newTestProcessor(t, func(cfg *Config) { cfg.LateLogs.MaxDelay = time.Second })
	defer tp.shutdown(t)
	tp.consumeLogs(t, fusiontest.Logs(fusiontest.Log{Service: "svc", Body: "a", Trace: fusiontest.TraceID(1), Span: fusiontest.SpanID(1)}))
	tp.clock.Advance(999 * time.Millisecond)
	tp.releaseDue()
	assert.Zero(t, tp.late.LogRecordCount(), "still within its delay")
	assert.Equal(t, int64(1), tp.counter(t, "otelcol_processor_fusion_buffered_logs"))
	tp.clock.Advance(time.Millisecond)
	tp.releaseDue()
	assert.Equal(t, 1, tp.late.LogRecordCount())
}

func TestForwardErrorIsCounted(t *testing.T) {
	tp := newTestProcessor(t, nil)
	refusing := consumertest.NewErr(errors.New("refused"))
	_, err := tp.processLogs(context.Background(), fusiontest.Logs(fusiontest.Log{Service: "svc", Body: "a", Trace: fusiontest.TraceID(1), Span: fusiontest.SpanID(1)}), refusing)
	require.Error(t, err) // skipped: everything buffered
	tp.shutdown(t)
	assert.Equal(t, int64(1), tp.counter(t, "otelcol_processor_fusion_forward_errors"))
}

func TestInvalidHintsAreCountedAndLeftAlone(t *testing.T) {
	tp := newTestProcessor(t, nil)
	defer tp.shutdown(t)
	out := tp.consumeLogs(t, fusiontest.Logs(
		fusiontest.Log{Service: "svc", Body: "bad", Attrs: map[string]any{"trace_id": "xyz", "span_id": "0000000000000000"}},
		fusiontest.Log{Service: "svc", Body: "tp", Attrs: map[string]any{"traceparent": "garbage"}},
	))
	assert.Equal(t, []logView{{body: "bad"}, {body: "tp"}}, viewLogs(out))
	attrs := out.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes().AsRaw()
	assert.Equal(t, map[string]any{"trace_id": "xyz", "span_id": "0000000000000000"}, attrs)
	assert.Equal(t, int64(1), tp.counter(t, "otelcol_processor_fusion_invalid_hints", attribute.String("reason", "wrong_length")))
	assert.Equal(t, int64(1), tp.counter(t, "otelcol_processor_fusion_invalid_hints", attribute.String("reason", "all_zeros")))
	assert.Equal(t, int64(1), tp.counter(t, "otelcol_processor_fusion_invalid_hints", attribute.String("reason", "bad_format")))
	assert.Equal(t, int64(3), tp.counter(t, "otelcol_processor_fusion_invalid_hints"))
}

func TestDatadogTraceIDIsCompletedFromTheSpan(t *testing.T) {
	tp := newTestProcessor(t, nil)
	defer tp.shutdown(t)
	full := pcommon.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0, 0, 0x30, 0x39} // lower half = 12345
	sid := pcommon.SpanID{0, 0, 0, 0, 0, 0, 0x01, 0x00}                           // 256
	tp.consumeTraces(t, fusiontest.Traces(fusiontest.Span{Service: "svc", Name: "dd-op", Trace: full, Span: sid}))
	out := tp.consumeLogs(t, fusiontest.Logs(fusiontest.Log{Service: "svc", Body: "dd", Attrs: map[string]any{"dd.trace_id": "12345", "dd.span_id": "256"}}))
	assert.Equal(t, []logView{{body: "dd", trace: full, span: sid, operation: "dd-op"}}, viewLogs(out))
}

func TestIndexTTLAndCapacity(t *testing.T) {
	tp := newTestProcessor(t, func(cfg *Config) {
		cfg.Index = IndexConfig{MaxEntries: 2, TTL: time.Minute}
		cfg.LateLogs.MaxDelay = 0
	})
	defer tp.shutdown(t)
	require.Len(t, tp.index.shards, 2)
	lookup := func(tid pcommon.TraceID, sid pcommon.SpanID) string {
		_, found, _, _ := tp.index.lookupOrWait(newSpanKey(tid, sid), tp.clock.Now().UnixNano(), 0, nil)
		if found {
			return "found"
		}
		return "missing"
	}
	// Keys spread over two shards of one entry each: a second span in the
	// same shard evicts the first.
	k1 := newSpanKey(fusiontest.TraceID(1), fusiontest.SpanID(1))
	var other pcommon.SpanID
	for b := byte(2); ; b++ {
		if newSpanKey(fusiontest.TraceID(1), fusiontest.SpanID(b)).shard(2) == k1.shard(2) {
			other = fusiontest.SpanID(b)
			break
		}
	}
	tp.consumeTraces(t, fusiontest.Traces(fusiontest.Span{Service: "svc", Name: "a", Trace: fusiontest.TraceID(1), Span: fusiontest.SpanID(1)}))
	assert.Equal(t, "found", lookup(fusiontest.TraceID(1), fusiontest.SpanID(1)))
	tp.consumeTraces(t, fusiontest.Traces(fusiontest.Span{Service: "svc", Name: "b", Trace: fusiontest.TraceID(1), Span: other}))
	assert.Equal(t, "missing", lookup(fusiontest.TraceID(1), fusiontest.SpanID(1)), "evicted by capacity")
	assert.Equal(t, "found", lookup(fusiontest.TraceID(1), other))
	tp.clock.Advance(time.Minute)
	assert.Equal(t, "missing", lookup(fusiontest.TraceID(1), other), "expired")
	assert.LessOrEqual(t, tp.index.len(), 2)
}

func TestModelAttributesOnSpansAndLogs(t *testing.T) {
	tp := newTestProcessor(t, func(cfg *Config) {
		cfg.Model.Duration = "fusion.duration_ns"
		cfg.Model.SpanStatus = "fusion.span.status_code"
	})
	defer tp.shutdown(t)
	td := fusiontest.Traces(fusiontest.Span{Service: "svc", Name: "op", Trace: fusiontest.TraceID(1), Span: fusiontest.SpanID(1), Status: ptrace.StatusCodeError, Duration: 1500 * time.Microsecond})
	tp.consumeTraces(t, td)
	d, ok := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes().Get("fusion.duration_ns")
	require.True(t, ok)
	assert.Equal(t, int64(1_500_000), d.Int())

	ld := fusiontest.Logs(fusiontest.Log{Service: "svc", Body: "x", Trace: fusiontest.TraceID(1), Span: fusiontest.SpanID(1)})
	lr := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
	lr.SetTimestamp(0)
	lr.SetObservedTimestamp(42)
	tp.consumeLogs(t, ld)
	assert.Equal(t, pcommon.Timestamp(42), lr.Timestamp(), "timestamp taken from the observed one")
	st, ok := lr.Attributes().Get("fusion.span.status_code")
	require.True(t, ok)
	assert.Equal(t, "STATUS_CODE_ERROR", st.Str())
}

func TestBufferedLogsReturnToTheirOwnPipeline(t *testing.T) {
	tp := newTestProcessor(t, nil)
	other := new(consumertest.LogsSink)
	_, err := tp.processLogs(context.Background(), fusiontest.Logs(fusiontest.Log{Service: "svc", Body: "from-first", Trace: fusiontest.TraceID(1), Span: fusiontest.SpanID(1)}), tp.late)
	require.Error(t, err)
	_, err = tp.processLogs(context.Background(), fusiontest.Logs(fusiontest.Log{Service: "svc", Body: "from-second", Trace: fusiontest.TraceID(1), Span: fusiontest.SpanID(1)}), other)
	require.Error(t, err)
	tp.consumeTraces(t, fusiontest.Traces(fusiontest.Span{Service: "svc", Name: "op", Trace: fusiontest.TraceID(1), Span: fusiontest.SpanID(1)}))
	tp.shutdown(t)
	assert.Equal(t, []logView{{body: "from-first", trace: fusiontest.TraceID(1), span: fusiontest.SpanID(1), operation: "op"}}, viewLogs(tp.late.AllLogs()...))
	assert.Equal(t, []logView{{body: "from-second", trace: fusiontest.TraceID(1), span: fusiontest.SpanID(1), operation: "op"}}, viewLogs(other.AllLogs()...))
}

// TestLateLogsKeepTheirClientInfo buffers logs of two tenants whose spans
// have not come yet; when the spans come, each log goes on with the client
// info (here the tenant header) of the request it arrived in.
func TestLateLogsKeepTheirClientInfo(t *testing.T) {
	tp := newTestProcessor(t, nil)
	defer tp.shutdown(t)
	withTenant := func(tenant string) context.Context {
		return client.NewContext(context.Background(), client.Info{
			Metadata: client.NewMetadata(map[string][]string{"X-Tenant-ID": {tenant}}),
		})
	}
	for i, tenant := range []string{"alpha", "beta", "alpha"} {
		ld := fusiontest.Logs(fusiontest.Log{Service: "shop", Body: tenant, Trace: fusiontest.TraceID(byte(i + 1)), Span: fusiontest.SpanID(byte(i + 1))})
		_, err := tp.processLogs(withTenant(tenant), ld, tp.late)
		require.ErrorIs(t, err, processorhelper.ErrSkipProcessingData, "the log waits for its span")
	}
	for i := range 3 {
		tp.consumeTraces(t, fusiontest.Traces(fusiontest.Span{Service: "shop", Name: "op", Trace: fusiontest.TraceID(byte(i + 1)), Span: fusiontest.SpanID(byte(i + 1))}))
	}
	require.Eventually(t, func() bool { return tp.late.LogRecordCount() == 3 }, 5*time.Second, time.Millisecond)

	got := map[string]int{}
	for i, ld := range tp.late.AllLogs() {
		tenants := client.FromContext(tp.late.Contexts()[i]).Metadata.Get("X-Tenant-ID")
		require.Len(t, tenants, 1)
		rls := ld.ResourceLogs()
		for j := range rls.Len() {
			lrs := rls.At(j).ScopeLogs().At(0).LogRecords()
			for k := range lrs.Len() {
				assert.Equal(t, tenants[0], lrs.At(k).Body().Str(), "log forwarded with its own request's tenant")
				got[tenants[0]]++
			}
		}
	}
	assert.Equal(t, map[string]int{"alpha": 2, "beta": 1}, got)
}
