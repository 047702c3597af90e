package sdkcompat

import (
	"context"
	"math"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	otellog "go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelfusion/otelfusion/sdk/fused"
)

// FuzzFusedFrameEqualsOTLP puts fuzzed strings, integers, floats and bytes
// into a span, a log record and a gauge point, and requires pkg/otlpgo to
// decode from the fused frame what the OTLP/HTTP exporters sent: the sdk's
// writer and pkg/otlpgo agree on every value, hex-looking strings and the
// dictionary's 256-byte dedup boundary included.
func FuzzFusedFrameEqualsOTLP(f *testing.F) {
	f.Add("GET", "http.route", int64(200), 0.5, []byte{1, 2})
	f.Add("0123456789abcdef0123456789abcdef", "trace_id", int64(-1), math.Inf(1), []byte(nil))
	f.Add("0123456789abcdef", "span_id", int64(math.MinInt64), -0.0, []byte{})
	f.Add("0123456789ABCDEF", "", int64(math.MaxInt64), math.NaN(), []byte("x"))
	f.Add(string(make([]byte, 300)), "long", int64(0), 1e300, make([]byte, 300))
	s := newServers(f)
	f.Fuzz(func(t *testing.T, str, key string, n int64, x float64, raw []byte) {
		if !utf8.ValidString(str) || !utf8.ValidString(key) {
			t.Skip("protobuf strings must be UTF-8: the OTLP exporters refuse others")
		}
		s.reset()
		a := newApp(t, s, fused.ZstdCompression, metricdata.DeltaTemporality)
		ctx := context.Background()
		attrs := []attribute.KeyValue{attribute.String("s", str), attribute.Int64("n", n), attribute.Float64("x", x),
			attribute.StringSlice("ss", []string{str, key}), attribute.String(key+".k", str)}
		spanCtx, span := a.tp.Tracer("fuzz").Start(ctx, str, trace.WithAttributes(attrs...))
		span.AddEvent(key, trace.WithAttributes(attribute.String("e", str)))
		var rec otellog.Record
		rec.SetTimestamp(time.Unix(0, n&(1<<62-1)))
		rec.SetBody(attribute.ByteSliceValue(raw))
		rec.SetEventName(str)
		rec.AddAttributes(attrs...)
		rec.AddAttributes(attribute.String("trace_id", str), attribute.String("span_id", key))
		a.lp.Logger("fuzz").Emit(spanCtx, rec)
		span.End()
		gauge, err := a.mp.Meter("fuzz").Float64Gauge("g")
		require.NoError(t, err)
		gauge.Record(ctx, x, metric.WithAttributes(attribute.String("k", str)))
		require.NoError(t, a.client.Shutdown(ctx, a.tp, a.lp, a.mp))
		spans, records, points := requireSame(t, s)
		require.Equal(t, [3]int{1, 1, 1}, [3]int{spans, records, points})
	})
}
