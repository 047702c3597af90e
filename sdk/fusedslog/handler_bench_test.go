package fusedslog

import (
	"context"
	"log/slog"
	"testing"
	"time"

	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/trace"
)

type discard struct{}

func (discard) Export(context.Context, []sdklog.Record) error { return nil }
func (discard) Shutdown(context.Context) error                { return nil }
func (discard) ForceFlush(context.Context) error              { return nil }

// BenchmarkHandle measures what Handle costs the caller: records are
// handled in chunks of half the ring, and the worker empties the ring
// between chunks with the timer stopped, so no record is dropped
// (drops/op says so). worker=paused holds the worker back while the chunk
// is timed: the caller's own cost, as on a machine with a core to spare;
// worker=running lets it drain beside the caller, sharing the cores and
// the ring's cache lines.
func BenchmarkHandle(b *testing.B) {
	b.Run("worker=paused", func(b *testing.B) { benchmarkHandle(b, true) })
	b.Run("worker=running", func(b *testing.B) { benchmarkHandle(b, false) })
}

func benchmarkHandle(b *testing.B, workerPaused bool) {
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewBatchProcessor(discard{})))
	const ring = 1 << 12
	h := New(lp.Logger("bench"), WithBufferSize(ring))
	defer h.Close(context.Background())
	ctx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceFlags: trace.FlagsSampled}))
	r := slog.NewRecord(time.Now(), slog.LevelInfo, "request handled", 0)
	r.AddAttrs(slog.String("method", "GET"), slog.String("route", "/api/items"), slog.Int("status", 200),
		slog.Float64("duration_ms", 12.5), slog.Int64("user_id", 4217))
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; {
		n := min(ring/2, b.N-done)
		if workerPaused {
			b.StopTimer()
			h.core.paused.Store(true)
			b.StartTimer()
		}
		for range n {
			_ = h.Handle(ctx, r)
		}
		done += n
		b.StopTimer()
		h.core.paused.Store(false)
		if err := h.Flush(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(h.Stats().Dropped)/float64(b.N), "drops/op")
}
