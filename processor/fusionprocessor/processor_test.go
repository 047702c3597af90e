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
)

func TestSpanBeforeLogEnrichesAtOnce(t *testing.T) {
	tp := newTestProcessor(t, nil)
	defer tp.shutdown(t)
	tp.consumeTraces(t, makeTraces(spanSpec{service: "checkout", name: "GET /cart", trace: traceID(1), span: spanID(1), kind: ptrace.SpanKindServer}))

	out := tp.consumeLogs(t, makeLogs(
		// linked natively, no service on the resource: the span's is written
		logSpec{body: "native", trace: traceID(1), span: spanID(1)},
		// linked only by attributes
		logSpec{service: "checkout", body: "hinted", attrs: map[string]any{"trace_id": traceID(1).String(), "span_id": spanID(1).String()}},
		// no trace context at all
		logSpec{service: "checkout", body: "plain"},
	))
	assert.Equal(t, []logView{
		{body: "native", trace: traceID(1), span: spanID(1), operation: "GET /cart"},
		{body: "hinted", trace: traceID(1), span: spanID(1), operation: "GET /cart"},
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
				out := tp.consumeLogs(t, makeLogs(logSpec{service: "svc", body: "a", trace: traceID(1), span: spanID(1)}))
				tp.clock.Advance(delay - time.Millisecond)
				tp.consumeTraces(t, makeTraces(spanSpec{service: "svc", name: "op-1", trace: traceID(1), span: spanID(1)}))
				// forwarded by the release loop, not by Shutdown
				require.Eventually(t, func() bool { return tp.late.LogRecordCount() == 1 }, 5*time.Second, time.Millisecond)
				return out
			},
			wantLater:    []logView{{body: "a", trace: traceID(1), span: spanID(1), operation: "op-1"}},
			wantEnriched: 1,
		},
		{
			name: "two logs wait for one span",
			run: func(t *testing.T, tp *testProcessor) plog.Logs {
				out := tp.consumeLogs(t, makeLogs(
					logSpec{service: "svc", body: "a", trace: traceID(1), span: spanID(1)},
					logSpec{service: "svc", body: "a2", attrs: map[string]any{"traceparent": "00-" + traceID(1).String() + "-" + spanID(1).String() + "-01"}}))
				tp.consumeTraces(t, makeTraces(spanSpec{service: "svc", name: "op-1", trace: traceID(1), span: spanID(1)}))
				return out
			},
			wantLater: []logView{
				{body: "a", trace: traceID(1), span: spanID(1), operation: "op-1"},
				{body: "a2", trace: traceID(1), span: spanID(1), operation: "op-1"},
			},
			wantEnriched: 2,
		},
		{
			name: "delay expires: released unenriched, the late span changes nothing",
			run: func(t *testing.T, tp *testProcessor) plog.Logs {
				out := tp.consumeLogs(t, makeLogs(logSpec{service: "svc", body: "a", trace: traceID(1), span: spanID(1)}))
				tp.clock.Advance(delay)
				require.Eventually(t, func() bool { return tp.late.LogRecordCount() == 1 }, 5*time.Second, time.Millisecond)
				tp.consumeTraces(t, makeTraces(spanSpec{service: "svc", name: "op-1", trace: traceID(1), span: spanID(1)}))
				return out
			},
			wantLater:   []logView{{body: "a", trace: traceID(1), span: spanID(1)}},
			wantNotSeen: 1,
		},
		{
			name: "buffer full: the third log passes at once, unenriched",
			run: func(t *testing.T, tp *testProcessor) plog.Logs {
				out := tp.consumeLogs(t, makeLogs(
					logSpec{service: "svc", body: "a", trace: traceID(1), span: spanID(1)},
					logSpec{service: "svc", body: "b", trace: traceID(2), span: spanID(2)},
					logSpec{service: "svc", body: "c", trace: traceID(3), span: spanID(3)}))
				tp.consumeTraces(t, makeTraces(
					spanSpec{service: "svc", name: "op-1", trace: traceID(1), span: spanID(1)},
					spanSpec{service: "svc", name: "op-2", trace: traceID(2), span: spanID(2)},
					spanSpec{service: "svc", name: "op-3", trace: traceID(3), span: spanID(3)}))
				return out
			},
			wantAtOnce: []logView{{body: "c", trace: traceID(3), span: spanID(3)}},
			wantLater: []logView{
				{body: "a", trace: traceID(1), span: spanID(1), operation: "op-1"},
				{body: "b", trace: traceID(2), span: spanID(2), operation: "op-2"},
			},
			wantEnriched:   2,
			wantBufferFull: 1,
		},
		{
			name: "shutdown releases what still waits",
			run: func(t *testing.T, tp *testProcessor) plog.Logs {
				return tp.consumeLogs(t, makeLogs(logSpec{service: "svc", body: "a", trace: traceID(1), span: spanID(1)}))
			},
			wantLater:   []logView{{body: "a", trace: traceID(1), span: spanID(1)}},
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
	tp.consumeLogs(t, makeLogs(logSpec{service: "svc", body: "a", trace: traceID(1), span: spanID(1)}))
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
	_, err := tp.processLogs(context.Background(), makeLogs(logSpec{service: "svc", body: "a", trace: traceID(1), span: spanID(1)}), refusing)
	require.Error(t, err) // skipped: everything buffered
	tp.shutdown(t)
	assert.Equal(t, int64(1), tp.counter(t, "otelcol_processor_fusion_forward_errors"))
}

func TestInvalidHintsAreCountedAndLeftAlone(t *testing.T) {
	tp := newTestProcessor(t, nil)
	defer tp.shutdown(t)
	out := tp.consumeLogs(t, makeLogs(
		logSpec{service: "svc", body: "bad", attrs: map[string]any{"trace_id": "xyz", "span_id": "0000000000000000"}},
		logSpec{service: "svc", body: "tp", attrs: map[string]any{"traceparent": "garbage"}},
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
	tp.consumeTraces(t, makeTraces(spanSpec{service: "svc", name: "dd-op", trace: full, span: sid}))
	out := tp.consumeLogs(t, makeLogs(logSpec{service: "svc", body: "dd", attrs: map[string]any{"dd.trace_id": "12345", "dd.span_id": "256"}}))
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
	k1 := newSpanKey(traceID(1), spanID(1))
	var other pcommon.SpanID
	for b := byte(2); ; b++ {
		if newSpanKey(traceID(1), spanID(b)).shard(2) == k1.shard(2) {
			other = spanID(b)
			break
		}
	}
	tp.consumeTraces(t, makeTraces(spanSpec{service: "svc", name: "a", trace: traceID(1), span: spanID(1)}))
	assert.Equal(t, "found", lookup(traceID(1), spanID(1)))
	tp.consumeTraces(t, makeTraces(spanSpec{service: "svc", name: "b", trace: traceID(1), span: other}))
	assert.Equal(t, "missing", lookup(traceID(1), spanID(1)), "evicted by capacity")
	assert.Equal(t, "found", lookup(traceID(1), other))
	tp.clock.Advance(time.Minute)
	assert.Equal(t, "missing", lookup(traceID(1), other), "expired")
	assert.LessOrEqual(t, tp.index.len(), 2)
}

func TestModelAttributesOnSpansAndLogs(t *testing.T) {
	tp := newTestProcessor(t, func(cfg *Config) {
		cfg.Model.Duration = "fusion.duration_ns"
		cfg.Model.SpanStatus = "fusion.span.status_code"
	})
	defer tp.shutdown(t)
	td := makeTraces(spanSpec{service: "svc", name: "op", trace: traceID(1), span: spanID(1), status: ptrace.StatusCodeError, duration: 1500 * time.Microsecond})
	tp.consumeTraces(t, td)
	d, ok := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes().Get("fusion.duration_ns")
	require.True(t, ok)
	assert.Equal(t, int64(1_500_000), d.Int())

	ld := makeLogs(logSpec{service: "svc", body: "x", trace: traceID(1), span: spanID(1)})
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
	_, err := tp.processLogs(context.Background(), makeLogs(logSpec{service: "svc", body: "from-first", trace: traceID(1), span: spanID(1)}), tp.late)
	require.Error(t, err)
	_, err = tp.processLogs(context.Background(), makeLogs(logSpec{service: "svc", body: "from-second", trace: traceID(1), span: spanID(1)}), other)
	require.Error(t, err)
	tp.consumeTraces(t, makeTraces(spanSpec{service: "svc", name: "op", trace: traceID(1), span: spanID(1)}))
	tp.shutdown(t)
	assert.Equal(t, []logView{{body: "from-first", trace: traceID(1), span: spanID(1), operation: "op"}}, viewLogs(tp.late.AllLogs()...))
	assert.Equal(t, []logView{{body: "from-second", trace: traceID(1), span: spanID(1), operation: "op"}}, viewLogs(other.AllLogs()...))
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
		ld := makeLogs(logSpec{service: "shop", body: tenant, trace: traceID(byte(i + 1)), span: spanID(byte(i + 1))})
		_, err := tp.processLogs(withTenant(tenant), ld, tp.late)
		require.ErrorIs(t, err, processorhelper.ErrSkipProcessingData, "the log waits for its span")
	}
	for i := range 3 {
		tp.consumeTraces(t, makeTraces(spanSpec{service: "shop", name: "op", trace: traceID(byte(i + 1)), span: spanID(byte(i + 1))}))
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
