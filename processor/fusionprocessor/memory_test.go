package fusionprocessor

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/attribute"
)

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// idsFor returns the distinct trace and span id of item i.
func idsFor(i int) (pcommon.TraceID, pcommon.SpanID) {
	var tid pcommon.TraceID
	var sid pcommon.SpanID
	binary.BigEndian.PutUint64(tid[:8], uint64(i)+1)
	binary.BigEndian.PutUint64(tid[8:], uint64(i)*0x9e3779b97f4a7c15+1)
	binary.BigEndian.PutUint64(sid[:], uint64(i)*0xbf58476d1ce4e5b9+1)
	return tid, sid
}

// spanBatch builds n spans starting at item first: item i has its own
// trace, operation op-(i mod ops) and service svc-(i mod services).
func spanBatch(first, n, ops, services int) ptrace.Traces {
	td := ptrace.NewTraces()
	byService := map[int]ptrace.SpanSlice{}
	for i := first; i < first+n; i++ {
		svc := i % services
		spans, ok := byService[svc]
		if !ok {
			rs := td.ResourceSpans().AppendEmpty()
			rs.Resource().Attributes().PutStr("service.name", fmt.Sprintf("svc-%d", svc))
			spans = rs.ScopeSpans().AppendEmpty().Spans()
			byService[svc] = spans
		}
		span := spans.AppendEmpty()
		tid, sid := idsFor(i)
		span.SetTraceID(tid)
		span.SetSpanID(sid)
		span.SetName(fmt.Sprintf("op-%d", i%ops))
		span.SetKind(ptrace.SpanKindServer)
		span.SetStartTimestamp(1_000_000)
		span.SetEndTimestamp(pcommon.Timestamp(1_000_000 + (i%1000)*1_000_000))
	}
	return td
}

// logBatch builds n logs, item i linked to item i's span by attributes.
func logBatch(first, n, services int) plog.Logs {
	ld := plog.NewLogs()
	byService := map[int]plog.LogRecordSlice{}
	for i := first; i < first+n; i++ {
		svc := i % services
		lrs, ok := byService[svc]
		if !ok {
			rl := ld.ResourceLogs().AppendEmpty()
			rl.Resource().Attributes().PutStr("service.name", fmt.Sprintf("svc-%d", svc))
			lrs = rl.ScopeLogs().AppendEmpty().LogRecords()
			byService[svc] = lrs
		}
		lr := lrs.AppendEmpty()
		tid, sid := idsFor(i)
		lr.Attributes().PutStr("trace_id", tid.String())
		lr.Attributes().PutStr("span_id", sid.String())
		lr.SetSeverityNumber(plog.SeverityNumberInfo)
		lr.Body().SetStr("a log line")
	}
	return ld
}

// TestMemoryStaysBounded feeds 1M distinct traces (one span and one or two logs each)
// over 100k distinct operations and checks after every batch that the span
// index and the late-span buffer never exceed their configured bounds; it reports the heap in use after GC.
func TestMemoryStaysBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("feeds 1M spans and logs")
	}
	total := 1_000_000
	if raceEnabled {
		total = 200_000 // the race detector makes this ~10x slower; -race still checks the bounds
	}
	const (
		ops         = 100_000
		services    = 20
		batch       = 1000
		maxEntries  = 50_000
		maxBuffered = 5_000
	)
	before := heapInUse()
	tp := newTestProcessor(t, func(cfg *Config) {
		cfg.Index = IndexConfig{MaxEntries: maxEntries, TTL: time.Minute}
		cfg.LateLogs = LateLogsConfig{MaxDelay: time.Second, MaxBuffered: maxBuffered}
	})
	defer tp.shutdown(t)
	tp.lateNext = consumertest.NewNop() // a sink would hold every log
	var peakIndex, peakBuffered int
	for first := 0; first < total; first += batch {
		// Every other batch of logs comes before its spans (and waits), the
		// others after; every fourth batch also brings logs whose spans never
		// come, which wait their full second and fill the buffer.
		logsFirst := (first/batch)%2 == 0
		if logsFirst {
			tp.consumeLogs(t, logBatch(first, batch, services))
		}
		if (first/batch)%4 == 0 {
			tp.consumeLogs(t, logBatch(total+first, batch, services))
		}
		peakBuffered = max(peakBuffered, int(tp.index.buffered.Load()))
		require.LessOrEqual(t, peakBuffered, maxBuffered)
		tp.consumeTraces(t, spanBatch(first, batch, ops, services))
		if !logsFirst {
			tp.consumeLogs(t, logBatch(first, batch, services))
		}
		tp.clock.Advance(time.Millisecond)
		if first%(20*batch) == 0 {
			tp.releaseDue()
			peakIndex = max(peakIndex, tp.index.len())
			require.LessOrEqual(t, peakIndex, maxEntries)
			require.LessOrEqual(t, peakBuffered, maxBuffered)
		}
	}
	after := heapInUse()
	t.Logf("%d traces, %d operations: heap in use %.1f MiB before, %.1f MiB after (index %d/%d, buffered peak %d/%d)",
		total, ops, float64(before)/(1<<20), float64(after)/(1<<20), peakIndex, maxEntries, peakBuffered, maxBuffered)
	assert.Equal(t, maxBuffered, peakBuffered, "the buffer filled up to its bound")
	assert.Positive(t, tp.counter(t, "otelcol_processor_fusion_logs_unlinked", attribute.String("reason", "buffer_full")))
	// Each of the 64 shards holds maxEntries/64, rounded down.
	assert.GreaterOrEqual(t, peakIndex, maxEntries-maxIndexShards, "the index filled up to its bound")
	// 50k index entries and 5k buffered logs.
	assert.Less(t, after-min(after, before), uint64(64<<20))
	runtime.KeepAlive(tp)
}
