package fusionprocessor

import (
	"context"
	"encoding/binary"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

const benchBatch = 100

func benchProcessor(b *testing.B) *testProcessor {
	b.Helper()
	tp := newTestProcessor(b, func(cfg *Config) {
		cfg.Index = IndexConfig{MaxEntries: 100_000, TTL: time.Hour}
	})
	tp.lateNext = consumertest.NewNop()
	b.Cleanup(func() { tp.shutdown(b) })
	return tp
}

// renumber gives every span of td fresh ids, as new traffic would have.
func renumber(td ptrace.Traces, next *atomic.Uint64) {
	rss := td.ResourceSpans()
	for i := range rss.Len() {
		sss := rss.At(i).ScopeSpans()
		for j := range sss.Len() {
			spans := sss.At(j).Spans()
			for k := range spans.Len() {
				n := next.Add(1)
				var tid pcommon.TraceID
				var sid pcommon.SpanID
				binary.BigEndian.PutUint64(tid[8:], n)
				tid[0] = 1
				binary.BigEndian.PutUint64(sid[:], n*0x9e3779b97f4a7c15|1)
				spans.At(k).SetTraceID(tid)
				spans.At(k).SetSpanID(sid)
			}
		}
	}
}

func benchTraces(b *testing.B, parallel bool) {
	tp := benchProcessor(b)
	var ids atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	run := func(td ptrace.Traces) {
		renumber(td, &ids)
		if _, err := tp.processTraces(context.Background(), td); err != nil {
			b.Fatal(err)
		}
	}
	if parallel {
		b.RunParallel(func(pb *testing.PB) {
			td := spanBatch(0, benchBatch, 1000, 8)
			for pb.Next() {
				run(td)
			}
		})
	} else {
		td := spanBatch(0, benchBatch, 1000, 8)
		for b.Loop() {
			run(td)
		}
	}
	b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "spans/s")
}

// BenchmarkConsumeTraces: index, release check and RED for batches of 100
// spans with fresh ids.
func BenchmarkConsumeTraces(b *testing.B)         { benchTraces(b, false) }
func BenchmarkConsumeTracesParallel(b *testing.B) { benchTraces(b, true) }

func benchLogs(b *testing.B, parallel bool) {
	tp := benchProcessor(b)
	// Every log's span is indexed, so each batch is enriched in place and
	// can be processed again (enrichment is idempotent).
	const spans = 10_000
	for first := 0; first < spans; first += 1000 {
		tp.consumeTraces(b, spanBatch(first, 1000, 1000, 8))
	}
	var slot atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	if parallel {
		b.RunParallel(func(pb *testing.PB) {
			first := int(slot.Add(benchBatch)) % spans
			ld := logBatch(first, benchBatch, 8)
			for pb.Next() {
				tp.consumeLogs(b, ld)
			}
		})
	} else {
		ld := logBatch(0, benchBatch, 8)
		for b.Loop() {
			tp.consumeLogs(b, ld)
		}
	}
	b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "logs/s")
}

// BenchmarkConsumeLogs: hint parsing, index lookup, enrichment and log
// counts for batches of 100 logs linked by trace_id/span_id attributes.
func BenchmarkConsumeLogs(b *testing.B)         { benchLogs(b, false) }
func BenchmarkConsumeLogsParallel(b *testing.B) { benchLogs(b, true) }
