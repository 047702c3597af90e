package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/attribute"
	otellog "go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/metric"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelfusion/otelfusion/pkg/otlpgo"
	"github.com/otelfusion/otelfusion/sdk/fused"
)

// frameCount is what one request through the counting proxy carried.
type frameCount struct{ spans, logs, points int }

// countingProxy forwards fused requests to the collector and decodes each
// one on the way, to count requests and what each carried.
type countingProxy struct {
	mu     sync.Mutex
	frames []frameCount
}

func (p *countingProxy) handler(t *testing.T, target string) http.Handler {
	u, err := url.Parse(target)
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(u)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		decoded, err := otlpgo.Decode(body, otlpgo.DefaultLimits())
		if err != nil {
			t.Errorf("proxy: the application sent a frame pkg/otlpgo refuses: %v", err)
		}
		p.mu.Lock()
		p.frames = append(p.frames, frameCount{decoded.Traces.SpanCount(), decoded.Logs.LogRecordCount(), decoded.Metrics.DataPointCount()})
		p.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		proxy.ServeHTTP(w, r)
	})
}

func (p *countingProxy) seen() []frameCount {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]frameCount(nil), p.frames...)
}

// TestSDKFusedExporters runs an application on the sdk module's three fused
// exporters against the built collector: every span, log record and point
// arrives exactly once, and each flush of the application is one request
// carrying all three signals.
func TestSDKFusedExporters(t *testing.T) {
	dir := t.TempDir()
	health, fusedPort, metricsPort := freePort(t), freePort(t), freePort(t)
	cfg := fmt.Sprintf(`
extensions:
  health_check: {endpoint: 127.0.0.1:%d}
receivers:
  otlpgo:
    fused: {endpoint: 127.0.0.1:%d}
exporters:%s
service:
  extensions: [health_check]
  pipelines:
    traces: {receivers: [otlpgo], exporters: [file/traces]}
    logs: {receivers: [otlpgo], exporters: [file/logs]}
    metrics: {receivers: [otlpgo], exporters: [file/metrics]}%s
`, health, fusedPort, fileExporters(dir), telemetry(metricsPort))
	collector := startCollector(t, "sdk-fused", writeConfig(t, "sdk-fused", cfg), health)
	defer func() { require.NoError(t, collector.stop()) }()

	var proxy countingProxy
	front := httptest.NewServer(proxy.handler(t, fmt.Sprintf("http://127.0.0.1:%d", fusedPort)))
	defer front.Close()

	ctx := context.Background()
	client, err := fused.New(ctx, fused.WithEndpointURL(front.URL+"/v1/fused"), fused.WithFlushInterval(time.Hour),
		fused.WithTemporalitySelector(func(sdkmetric.InstrumentKind) metricdata.Temporality { return metricdata.DeltaTemporality }))
	require.NoError(t, err)
	res := resource.NewSchemaless(attribute.String("service.name", "sdk-fused-e2e"))
	tp := sdktrace.NewTracerProvider(sdktrace.WithResource(res),
		sdktrace.WithBatcher(client.SpanExporter(), sdktrace.WithBatchTimeout(time.Hour), sdktrace.WithMaxQueueSize(10_000)))
	lp := sdklog.NewLoggerProvider(sdklog.WithResource(res),
		sdklog.WithProcessor(sdklog.NewBatchProcessor(client.LogExporter(), sdklog.WithExportInterval(time.Hour), sdklog.WithMaxQueueSize(10_000))))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithResource(res),
		sdkmetric.WithReader(sdkmetric.NewPeriodicReader(client.MetricExporter(), sdkmetric.WithInterval(time.Hour))))

	tracer, logger, meter := tp.Tracer("e2e/fused"), lp.Logger("e2e/fused"), mp.Meter("e2e/fused")
	requests, err := meter.Int64Counter("app.requests")
	require.NoError(t, err)
	latency, err := meter.Float64Histogram("app.latency", metric.WithUnit("s"))
	require.NoError(t, err)

	const rounds, perRound, routes = 5, 60, 4
	wantSpans := map[string]int{}
	for round := range rounds {
		for i := range perRound {
			seq := round*perRound + i
			spanCtx, span := tracer.Start(ctx, "GET /item", trace.WithSpanKind(trace.SpanKindServer),
				trace.WithAttributes(attribute.Int("seq", seq)))
			childCtx, child := tracer.Start(spanCtx, "SELECT item")
			var rec otellog.Record
			rec.SetTimestamp(time.Now())
			rec.SetSeverity(otellog.SeverityInfo)
			rec.SetBody(attribute.StringValue("loaded"))
			rec.AddAttributes(attribute.Int("seq", seq))
			logger.Emit(childCtx, rec)
			child.End()
			span.End()
			for _, s := range []trace.Span{span, child} {
				wantSpans[s.SpanContext().TraceID().String()+s.SpanContext().SpanID().String()]++
			}
			attrs := metric.WithAttributes(attribute.String("route", fmt.Sprintf("/r%d", i%routes)), attribute.Int("round", round))
			requests.Add(ctx, 1, attrs)
			latency.Record(ctx, float64(i)/1000, attrs)
		}
		require.NoError(t, client.Flush(ctx, tp, lp, mp))
	}
	require.NoError(t, client.Shutdown(ctx, tp, lp, mp))

	// Each flush was one request with every signal of its round.
	frames := proxy.seen()
	require.Len(t, frames, rounds, "one request per flush (Shutdown had nothing left to send)")
	for _, f := range frames {
		require.Equal(t, frameCount{spans: 2 * perRound, logs: perRound, points: 2 * routes}, f)
	}
	require.Equal(t, [3]int64{2 * rounds * perRound, rounds * perRound, 2 * rounds * routes}, client.Stats().Accepted)
	require.Equal(t, float64(rounds), scrapeMetric(t, fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort), "otelcol_otlpgo_receiver_frames"))

	// Every item reached the collector's pipelines once.
	gotSpans, gotLogs := map[string]int{}, map[int64]int{}
	points := map[string]int{}
	var pointSum int64
	waitFor(t, 30*time.Second, "the file exporters to hold every item", func() bool {
		clear(gotSpans)
		clear(gotLogs)
		clear(points)
		pointSum = 0
		readFileExport(t, dir+"/traces.json", func(b []byte) error {
			td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(b)
			if err != nil {
				return err
			}
			for _, rs := range td.ResourceSpans().All() {
				for _, ss := range rs.ScopeSpans().All() {
					for _, s := range ss.Spans().All() {
						gotSpans[s.TraceID().String()+s.SpanID().String()]++
					}
				}
			}
			return nil
		})
		readFileExport(t, dir+"/logs.json", func(b []byte) error {
			ld, err := (&plog.JSONUnmarshaler{}).UnmarshalLogs(b)
			if err != nil {
				return err
			}
			for _, rl := range ld.ResourceLogs().All() {
				for _, sl := range rl.ScopeLogs().All() {
					for _, lr := range sl.LogRecords().All() {
						seq, _ := lr.Attributes().Get("seq")
						gotLogs[seq.Int()]++
					}
				}
			}
			return nil
		})
		readFileExport(t, dir+"/metrics.json", func(b []byte) error {
			md, err := (&pmetric.JSONUnmarshaler{}).UnmarshalMetrics(b)
			if err != nil {
				return err
			}
			for _, rm := range md.ResourceMetrics().All() {
				for _, sm := range rm.ScopeMetrics().All() {
					for _, m := range sm.Metrics().All() {
						switch m.Type() {
						case pmetric.MetricTypeSum:
							for _, p := range m.Sum().DataPoints().All() {
								points[m.Name()+pointKey(p.Attributes().AsRaw())]++
								pointSum += p.IntValue()
							}
						case pmetric.MetricTypeHistogram:
							for _, p := range m.Histogram().DataPoints().All() {
								points[m.Name()+pointKey(p.Attributes().AsRaw())]++
							}
						}
					}
				}
			}
			return nil
		})
		return len(gotSpans) >= len(wantSpans) && len(gotLogs) >= rounds*perRound && len(points) >= 2*rounds*routes
	})
	require.Equal(t, wantSpans, gotSpans, "every span exactly once")
	require.Len(t, gotLogs, rounds*perRound)
	for seq := range int64(rounds * perRound) {
		require.Equal(t, 1, gotLogs[seq], "log record seq=%d", seq)
	}
	require.Len(t, points, 2*rounds*routes)
	for k, n := range points {
		require.Equal(t, 1, n, "point %s", k)
	}
	require.Equal(t, int64(rounds*perRound), pointSum, "the counter's deltas add up to every Add")
}

func pointKey(attrs map[string]any) string {
	return fmt.Sprintf("{route=%v round=%v}", attrs["route"], attrs["round"])
}
