package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/otelfusion/otelfusion/sdk/fusedslog"
)

// The same record for every logger: a message and five fields, logged in a
// context that carries a span.
const logMessage = "request handled"

func logAttrs() []slog.Attr {
	return []slog.Attr{slog.String("method", "GET"), slog.String("route", "/api/items"), slog.Int("status", 200),
		slog.Float64("duration_ms", 12.5), slog.Int64("user_id", 4217)}
}

func spanContext() context.Context {
	return trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1, 2, 3}, SpanID: trace.SpanID{4, 5, 6}, TraceFlags: trace.FlagsSampled}))
}

type discardLogs struct{}

func (discardLogs) Export(context.Context, []sdklog.Record) error { return nil }
func (discardLogs) Shutdown(context.Context) error                { return nil }
func (discardLogs) ForceFlush(context.Context) error              { return nil }

type logCase struct {
	name string
	run  func(b *testing.B)
}

func logCases() []logCase {
	ctx := spanContext()
	record := slog.NewRecord(time.Now(), slog.LevelInfo, logMessage, 0)
	record.AddAttrs(logAttrs()...)
	attrs := logAttrs()

	jsonHandler := slog.NewJSONHandler(io.Discard, nil)
	jsonLogger := slog.New(jsonHandler)

	zapLogger := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(io.Discard), zap.InfoLevel))
	zerologLogger := zerolog.New(io.Discard).With().Timestamp().Logger()

	// fusedslog: the ring holds a chunk; the worker emits it into the
	// SDK's batch processor between chunks, outside the timer, so nothing
	// is dropped. The worker runs beside the caller.
	fused := func(viaLogger bool) func(b *testing.B) {
		return func(b *testing.B) {
			lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewBatchProcessor(discardLogs{})))
			const ring = 4096
			h := fusedslog.New(lp.Logger("bench"), fusedslog.WithBufferSize(ring))
			logger := slog.New(h)
			b.ReportAllocs()
			b.ResetTimer()
			for done := 0; done < b.N; {
				n := min(ring/2, b.N-done)
				if viaLogger {
					for range n {
						logger.LogAttrs(ctx, slog.LevelInfo, logMessage, attrs...)
					}
				} else {
					for range n {
						_ = h.Handle(ctx, record)
					}
				}
				done += n
				b.StopTimer()
				_ = h.Flush(context.Background())
				b.StartTimer()
			}
			b.StopTimer()
			if st := h.Stats(); st.Dropped != 0 {
				b.Fatalf("fusedslog dropped %d records", st.Dropped)
			}
			_ = h.Close(context.Background())
			_ = lp.Shutdown(context.Background())
		}
	}
	return []logCase{
		{"fusedslog Handler.Handle", fused(false)},
		{"slog JSONHandler.Handle", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = jsonHandler.Handle(ctx, record)
			}
		}},
		{"fusedslog via slog.Logger.LogAttrs", fused(true)},
		{"slog.Logger(JSONHandler).LogAttrs", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				jsonLogger.LogAttrs(ctx, slog.LevelInfo, logMessage, attrs...)
			}
		}},
		{"zap Logger.Info (JSON)", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				zapLogger.Info(logMessage, zap.String("method", "GET"), zap.String("route", "/api/items"), zap.Int("status", 200),
					zap.Float64("duration_ms", 12.5), zap.Int64("user_id", 4217))
			}
		}},
		{"zerolog Logger.Info (JSON)", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				zerologLogger.Info().Str("method", "GET").Str("route", "/api/items").Int("status", 200).
					Float64("duration_ms", 12.5).Int64("user_id", 4217).Msg(logMessage)
			}
		}},
	}
}

var _ = attribute.String // the OTel attribute package is the SDK's; kept for symmetry of imports

func runLogs(rounds int) {
	cases := logCases()
	ns := make([][]float64, len(cases))
	allocs := make([][]float64, len(cases))
	bytes := make([][]float64, len(cases))
	for range rounds {
		for i, c := range cases {
			r := testing.Benchmark(c.run)
			ns[i] = append(ns[i], float64(r.NsPerOp()))
			allocs[i] = append(allocs[i], float64(r.AllocsPerOp()))
			bytes[i] = append(bytes[i], float64(r.AllocedBytesPerOp()))
		}
	}
	fmt.Printf("## Logs: one record (message, 5 fields, span in context); medians of %d interleaved rounds\n\n", rounds)
	fmt.Println("| logger | ns/record | allocs/record | B/record | time / slog JSONHandler.Handle |")
	fmt.Println("|---|---:|---:|---:|---:|")
	base := median(append([]float64(nil), ns[1]...))
	for i, c := range cases {
		m := median(ns[i])
		fmt.Printf("| %s | %.1f | %.0f | %.0f | %.2f |\n", c.name, m, median(allocs[i]), median(bytes[i]), m/base)
	}
	fmt.Println()
	fmt.Println("fusedslog's B/record is the worker's: memory statistics are process-wide, and the worker converts records beside the caller; allocs/record counts whole allocations per record.")
	fmt.Println()
}
