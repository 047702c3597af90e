package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	otellog "go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/metric"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelfusion/otelfusion/sdk/fused"
)

// telemetry is what an application made, captured once and exported
// through every exporter alike.
type telemetry struct {
	spans   []sdktrace.ReadOnlySpan
	records []sdklog.Record
	metrics metricdata.ResourceMetrics
	points  int
}

func (t *telemetry) items() int { return len(t.spans) + len(t.records) + t.points }

type logCapture struct {
	mu      sync.Mutex
	records []sdklog.Record
}

func (c *logCapture) Export(_ context.Context, rs []sdklog.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range rs {
		c.records = append(c.records, rs[i].Clone())
	}
	return nil
}
func (c *logCapture) Shutdown(context.Context) error   { return nil }
func (c *logCapture) ForceFlush(context.Context) error { return nil }

// makeTelemetry is a web service's traffic: requests as a server span with
// a database child span, two log records each in the span's context, and
// four instruments over 50 routes × 5 status codes.
func makeTelemetry(requests int) (*telemetry, error) {
	ctx := context.Background()
	res := resource.NewSchemaless(attribute.String("service.name", "shop-frontend"), attribute.String("service.version", "1.4.2"),
		attribute.String("deployment.environment.name", "prod"), attribute.String("host.name", "node-17"))
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithSyncer(spans))
	logs := &logCapture{}
	lp := sdklog.NewLoggerProvider(sdklog.WithResource(res), sdklog.WithProcessor(sdklog.NewSimpleProcessor(logs)))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithResource(res), sdkmetric.WithReader(reader))
	tracer, logger, meter := tp.Tracer("shop/http"), lp.Logger("shop/http"), mp.Meter("shop/http")
	count, _ := meter.Int64Counter("http.server.request.count")
	duration, _ := meter.Float64Histogram("http.server.request.duration", metric.WithUnit("s"))
	active, _ := meter.Int64UpDownCounter("http.server.active_requests")
	size, _ := meter.Int64Histogram("http.server.response.body.size", metric.WithUnit("By"))
	for i := range requests {
		route := fmt.Sprintf("/api/v1/items/%d", i%50)
		status := []int{200, 200, 200, 404, 500}[i%5]
		spanCtx, span := tracer.Start(ctx, "GET "+route, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(
			attribute.String("http.request.method", "GET"), attribute.String("http.route", route),
			attribute.Int("http.response.status_code", status), attribute.String("url.scheme", "https"),
			attribute.String("server.address", "shop.example.com"), attribute.String("client.address", fmt.Sprintf("10.0.%d.%d", i%7, i%250)),
			attribute.String("user_agent.original", "Mozilla/5.0 (X11; Linux x86_64)")))
		dbCtx, db := tracer.Start(spanCtx, "SELECT items", trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
			attribute.String("db.system.name", "postgresql"), attribute.String("db.query.text", "SELECT * FROM items WHERE id = $1"),
			attribute.String("server.address", "db-1")))
		var rec otellog.Record
		rec.SetTimestamp(time.Now())
		rec.SetSeverity(otellog.SeverityInfo)
		rec.SetSeverityText("INFO")
		rec.SetBody(attribute.StringValue("query done"))
		rec.AddAttributes(attribute.Int("rows", i%20), attribute.String("db.system.name", "postgresql"))
		logger.Emit(dbCtx, rec)
		db.End()
		var done otellog.Record
		done.SetTimestamp(time.Now())
		done.SetSeverity(otellog.SeverityInfo)
		done.SetSeverityText("INFO")
		done.SetBody(attribute.StringValue("request handled"))
		done.AddAttributes(attribute.String("http.route", route), attribute.Int("status", status), attribute.Float64("duration_ms", float64(i%97)/3))
		logger.Emit(spanCtx, done)
		span.End()
		attrs := metric.WithAttributes(attribute.String("http.route", route), attribute.Int("http.response.status_code", status))
		count.Add(ctx, 1, attrs)
		duration.Record(ctx, float64(i%97)/1000, attrs)
		active.Add(ctx, 1, attrs)
		size.Record(ctx, int64(100+i%900), attrs)
	}
	t := &telemetry{spans: spans.GetSpans().Snapshots(), records: logs.records}
	if err := reader.Collect(ctx, &t.metrics); err != nil {
		return nil, err
	}
	for _, sm := range t.metrics.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				t.points += len(d.DataPoints)
			case metricdata.Histogram[float64]:
				t.points += len(d.DataPoints)
			case metricdata.Histogram[int64]:
				t.points += len(d.DataPoints)
			}
		}
	}
	return t, nil
}

// wire counts the requests and body bytes a test server receives.
type wire struct {
	requests, bytes atomic.Int64
}

func (w *wire) handler() http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		w.requests.Add(1)
		w.bytes.Add(n)
		if r.URL.Path == "/v1/fused" {
			rw.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(rw, "{}")
			return
		}
		rw.Header().Set("Content-Type", "application/x-protobuf")
		rw.WriteHeader(http.StatusOK)
	})
}

// exporterSet exports telemetry and reports when all of it is sent.
type exporterSet struct {
	spans   sdktrace.SpanExporter
	logs    sdklog.Exporter
	metrics sdkmetric.Exporter
	flush   func(ctx context.Context) error
}

type exporterCase struct {
	name string
	make func(url string) (*exporterSet, error)
}

func otlpCase(name string, gzip bool) exporterCase {
	return exporterCase{name, func(url string) (*exporterSet, error) {
		ctx := context.Background()
		traceOpts := []otlptracehttp.Option{otlptracehttp.WithEndpointURL(url + "/v1/traces")}
		logOpts := []otlploghttp.Option{otlploghttp.WithEndpointURL(url + "/v1/logs")}
		metricOpts := []otlpmetrichttp.Option{otlpmetrichttp.WithEndpointURL(url + "/v1/metrics")}
		if gzip {
			traceOpts = append(traceOpts, otlptracehttp.WithCompression(otlptracehttp.GzipCompression))
			logOpts = append(logOpts, otlploghttp.WithCompression(otlploghttp.GzipCompression))
			metricOpts = append(metricOpts, otlpmetrichttp.WithCompression(otlpmetrichttp.GzipCompression))
		}
		te, err := otlptracehttp.New(ctx, traceOpts...)
		if err != nil {
			return nil, err
		}
		le, err := otlploghttp.New(ctx, logOpts...)
		if err != nil {
			return nil, err
		}
		me, err := otlpmetrichttp.New(ctx, metricOpts...)
		if err != nil {
			return nil, err
		}
		return &exporterSet{spans: te, logs: le, metrics: me, flush: func(context.Context) error { return nil }}, nil
	}}
}

func fusedCase(name string, compression fused.Compression) exporterCase {
	return exporterCase{name, func(url string) (*exporterSet, error) {
		c, err := fused.New(context.Background(), fused.WithEndpointURL(url+"/v1/fused"), fused.WithCompression(compression),
			fused.WithFlushInterval(time.Hour))
		if err != nil {
			return nil, err
		}
		return &exporterSet{spans: c.SpanExporter(), logs: c.LogExporter(), metrics: c.MetricExporter(),
			flush: func(ctx context.Context) error { return c.Shutdown(ctx) }}, nil
	}}
}

// exportAll sends t in the SDK's batches of 512 and returns the process
// CPU time it took (the in-process server's reading included, alike for
// every case).
func exportAll(set *exporterSet, t *telemetry) (time.Duration, error) {
	ctx := context.Background()
	before := cpuTime()
	for i := 0; i < len(t.spans); i += 512 {
		if err := set.spans.ExportSpans(ctx, t.spans[i:min(i+512, len(t.spans))]); err != nil {
			return 0, err
		}
	}
	for i := 0; i < len(t.records); i += 512 {
		if err := set.logs.Export(ctx, t.records[i:min(i+512, len(t.records))]); err != nil {
			return 0, err
		}
	}
	if err := set.metrics.Export(ctx, &t.metrics); err != nil {
		return 0, err
	}
	if err := set.flush(ctx); err != nil {
		return 0, err
	}
	return cpuTime() - before, nil
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func runExporters(rounds int) error {
	t, err := makeTelemetry(5000)
	if err != nil {
		return err
	}
	cases := []exporterCase{
		otlpCase("OTLP/HTTP ×3 (protobuf)", false),
		otlpCase("OTLP/HTTP ×3 (protobuf+gzip)", true),
		fusedCase("fused (no compression)", fused.NoCompression),
		fusedCase("fused (zstd)", fused.ZstdCompression),
	}
	cpu := make([][]float64, len(cases))
	bytes := make([]int64, len(cases))
	requests := make([]int64, len(cases))
	for range rounds {
		for i, c := range cases {
			var w wire
			srv := httptest.NewServer(w.handler())
			set, err := c.make(srv.URL)
			if err != nil {
				srv.Close()
				return err
			}
			used, err := exportAll(set, t)
			srv.Close()
			if err != nil {
				return fmt.Errorf("%s: %w", c.name, err)
			}
			cpu[i] = append(cpu[i], float64(used.Nanoseconds()))
			bytes[i], requests[i] = w.bytes.Load(), w.requests.Load()
		}
	}
	items := float64(t.items())
	fmt.Printf("## Exporters: %d spans, %d log records, %d metric points of a web service, sent by each; medians of %d interleaved rounds\n\n",
		len(t.spans), len(t.records), t.points, rounds)
	fmt.Println("| exporters | requests | bytes on the wire | bytes/item | CPU ns/item | bytes vs OTLP/HTTP | CPU vs OTLP/HTTP | bytes vs OTLP/HTTP+gzip | CPU vs OTLP/HTTP+gzip |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	medians := make([]float64, len(cases))
	for i := range cases {
		medians[i] = median(cpu[i])
	}
	for i, c := range cases {
		fmt.Printf("| %s | %d | %d | %.1f | %.0f | %.2f | %.2f | %.2f | %.2f |\n", c.name, requests[i], bytes[i],
			float64(bytes[i])/items, medians[i]/items, float64(bytes[i])/float64(bytes[0]), medians[i]/medians[0],
			float64(bytes[i])/float64(bytes[1]), medians[i]/medians[1])
	}
	fmt.Println()
	return nil
}
