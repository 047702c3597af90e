package sdkcompat

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
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
	"go.opentelemetry.io/otel/trace"

	"github.com/otelfusion/otelfusion/internal/pdatautil"
	"github.com/otelfusion/otelfusion/pkg/otlpgo"
	"github.com/otelfusion/otelfusion/sdk/fused"
)

// received is what a test server was sent, decoded to pdata.
type received struct {
	mu       sync.Mutex
	errs     []error
	traces   []ptrace.Traces
	logs     []plog.Logs
	metrics  []pmetric.Metrics
	requests int
}

// handler decodes what it is sent; what it cannot decode is kept in errs
// (a handler goroutine must not fail the test itself).
func (r *received) handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.requests++
		body, err := io.ReadAll(req.Body)
		if err == nil {
			err = r.decode(req.URL.Path, body)
		}
		if err != nil {
			r.errs = append(r.errs, fmt.Errorf("%s: %w", req.URL.Path, err))
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if req.URL.Path == "/v1/fused" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{}`))
			return
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK)
	})
}

func (r *received) decode(path string, body []byte) error {
	switch path {
	case "/v1/fused":
		decoded, err := otlpgo.Decode(body, otlpgo.DefaultLimits())
		if err != nil {
			return fmt.Errorf("pkg/otlpgo refuses the sdk's frame: %w", err)
		}
		r.traces = append(r.traces, decoded.Traces)
		r.logs = append(r.logs, decoded.Logs)
		r.metrics = append(r.metrics, decoded.Metrics)
	case "/v1/traces":
		er := ptraceotlp.NewExportRequest()
		if err := er.UnmarshalProto(body); err != nil {
			return err
		}
		r.traces = append(r.traces, er.Traces())
	case "/v1/logs":
		er := plogotlp.NewExportRequest()
		if err := er.UnmarshalProto(body); err != nil {
			return err
		}
		r.logs = append(r.logs, er.Logs())
	case "/v1/metrics":
		er := pmetricotlp.NewExportRequest()
		if err := er.UnmarshalProto(body); err != nil {
			return err
		}
		r.metrics = append(r.metrics, er.Metrics())
	default:
		return errors.New("unknown path")
	}
	return nil
}

// pipelines are the three providers of one application.
type pipelines struct {
	tp *sdktrace.TracerProvider
	lp *sdklog.LoggerProvider
	mp *sdkmetric.MeterProvider
}

func newPipelines(res *resource.Resource, se sdktrace.SpanExporter, le sdklog.Exporter, me sdkmetric.Exporter) pipelines {
	return pipelines{
		tp: sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithBatcher(se, sdktrace.WithBatchTimeout(time.Hour))),
		lp: sdklog.NewLoggerProvider(sdklog.WithResource(res), sdklog.WithProcessor(sdklog.NewBatchProcessor(le, sdklog.WithExportInterval(time.Hour)))),
		mp: sdkmetric.NewMeterProvider(sdkmetric.WithResource(res), sdkmetric.WithReader(sdkmetric.NewPeriodicReader(me, sdkmetric.WithInterval(time.Hour))),
			sdkmetric.WithView(sdkmetric.NewView(sdkmetric.Instrument{Name: "exp.latency"},
				sdkmetric.Stream{Aggregation: sdkmetric.AggregationBase2ExponentialHistogram{MaxSize: 160, MaxScale: 20}}))),
	}
}

// fixedClock makes both runs produce the same telemetry: every timestamp
// is derived from the item's sequence number.
var epoch = time.Date(2026, 12, 2, 8, 0, 0, 123456789, time.UTC)

// generate makes the same telemetry on p every time it is called: spans
// with children, events, links and every attribute type, log records of
// every body type with and without trace context, and metrics of every
// instrument.
func generate(t *testing.T, p pipelines) {
	t.Helper()
	ctx := context.Background()
	tracer := p.tp.Tracer("compat/tracer", trace.WithInstrumentationVersion("1.0.0"),
		trace.WithInstrumentationAttributes(attribute.String("scope.attr", "x")))
	other := p.tp.Tracer("compat/other")
	logger := p.lp.Logger("compat/logger", otellog.WithInstrumentationVersion("2.0.0"))
	meter := p.mp.Meter("compat/meter")

	for i := range 40 {
		traceID := trace.TraceID{0xab, byte(i >> 8), byte(i), 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}
		parentCtx := trace.ContextWithRemoteSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{
			TraceID: traceID, SpanID: trace.SpanID{0xcd, byte(i), 9, 9, 9, 9, 9, 9}, TraceFlags: trace.FlagsSampled, Remote: i%2 == 0,
			TraceState: mustTraceState(t, "vendor=v1"),
		}))
		start := epoch.Add(time.Duration(i) * time.Millisecond)
		rootCtx, root := tracer.Start(parentCtx, "GET /items", trace.WithTimestamp(start),
			trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(
				attribute.String("http.request.method", "GET"), attribute.Int("seq", i), attribute.Float64("ratio", 0.5+float64(i)),
				attribute.Bool("cached", i%3 == 0), attribute.StringSlice("tags", []string{"a", "b"}),
				attribute.Int64Slice("codes", []int64{200, int64(i)}), attribute.Float64Slice("weights", []float64{1.5}),
				attribute.BoolSlice("flags", []bool{true, false}), attribute.String("peer.trace", traceID.String()),
			),
			trace.WithLinks(trace.Link{SpanContext: trace.NewSpanContext(trace.SpanContextConfig{
				TraceID: trace.TraceID{0xee, byte(i)}, SpanID: trace.SpanID{0xef, byte(i)}, Remote: true}),
				Attributes: []attribute.KeyValue{attribute.String("link.kind", "follows")}}))
		childCtx, child := other.Start(rootCtx, "SELECT", trace.WithTimestamp(start.Add(time.Microsecond)),
			trace.WithSpanKind(trace.SpanKindClient))
		child.AddEvent("rows", trace.WithTimestamp(start.Add(2*time.Microsecond)), trace.WithAttributes(attribute.Int("n", i)))
		if i%5 == 0 {
			child.SetStatus(codes.Error, "timeout")
		} else {
			child.SetStatus(codes.Ok, "")
		}

		var rec otellog.Record
		rec.SetTimestamp(start.Add(3 * time.Microsecond))
		rec.SetObservedTimestamp(start.Add(4 * time.Microsecond))
		rec.SetSeverity(otellog.SeverityWarn)
		rec.SetSeverityText("WARN")
		rec.SetEventName("db.slow")
		switch i % 4 {
		case 0:
			rec.SetBody(attribute.StringValue("slow query"))
		case 1:
			rec.SetBody(attribute.Int64Value(int64(i)))
		case 2:
			rec.SetBody(attribute.MapValue(attribute.String("k", "v"), attribute.Int("n", i),
				attribute.Slice("s", attribute.StringValue("x"), attribute.BoolValue(true))))
		default:
			rec.SetBody(attribute.ByteSliceValue([]byte{0, 1, 2, byte(i)}))
		}
		sc := child.SpanContext()
		rec.AddAttributes(attribute.Int("seq", i), attribute.String("trace_id", sc.TraceID().String()),
			attribute.String("span_id", sc.SpanID().String()), attribute.String("upper", "ABCDEF0123456789"))
		logger.Emit(childCtx, rec)
		var plain otellog.Record
		plain.SetBody(attribute.StringValue("no context"))
		plain.SetTimestamp(start)
		plain.SetSeverity(otellog.SeverityInfo)
		logger.Emit(ctx, plain)

		child.End(trace.WithTimestamp(start.Add(5 * time.Millisecond)))
		root.End(trace.WithTimestamp(start.Add(7 * time.Millisecond)))
	}

	counter, err := meter.Int64Counter("requests")
	require.NoError(t, err)
	fcounter, err := meter.Float64Counter("bytes", metric.WithUnit("By"), metric.WithDescription("bytes sent"))
	require.NoError(t, err)
	updown, err := meter.Int64UpDownCounter("active")
	require.NoError(t, err)
	gauge, err := meter.Float64Gauge("temperature")
	require.NoError(t, err)
	hist, err := meter.Float64Histogram("latency", metric.WithUnit("s"))
	require.NoError(t, err)
	ihist, err := meter.Int64Histogram("sizes")
	require.NoError(t, err)
	exp, err := meter.Float64Histogram("exp.latency")
	require.NoError(t, err)
	for i := range 30 {
		attrs := metric.WithAttributes(attribute.String("route", []string{"/a", "/b", "/c"}[i%3]), attribute.Int("shard", i%2))
		counter.Add(ctx, int64(i), attrs)
		fcounter.Add(ctx, float64(i)*1.25, attrs)
		updown.Add(ctx, int64(i%7)-3, attrs)
		gauge.Record(ctx, float64(i)/3, attrs)
		hist.Record(ctx, float64(i)/10, attrs)
		ihist.Record(ctx, int64(i*100), attrs)
		exp.Record(ctx, float64(i)+0.25, attrs)
	}
}

func mustTraceState(t *testing.T, s string) trace.TraceState {
	ts, err := trace.ParseTraceState(s)
	require.NoError(t, err)
	return ts
}

// The tee exporters hand the same data to the OTLP/HTTP exporter and to the
// fused one, so both send identical telemetry.

type teeSpans [2]sdktrace.SpanExporter

func (t teeSpans) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	return errors.Join(t[0].ExportSpans(ctx, spans), t[1].ExportSpans(ctx, spans))
}

func (t teeSpans) Shutdown(ctx context.Context) error {
	return errors.Join(t[0].Shutdown(ctx), t[1].Shutdown(ctx))
}

type teeLogs [2]sdklog.Exporter

func (t teeLogs) Export(ctx context.Context, records []sdklog.Record) error {
	return errors.Join(t[0].Export(ctx, records), t[1].Export(ctx, records))
}

func (t teeLogs) ForceFlush(ctx context.Context) error {
	return errors.Join(t[0].ForceFlush(ctx), t[1].ForceFlush(ctx))
}

func (t teeLogs) Shutdown(ctx context.Context) error {
	return errors.Join(t[0].Shutdown(ctx), t[1].Shutdown(ctx))
}

type teeMetrics [2]sdkmetric.Exporter

func (t teeMetrics) Temporality(k sdkmetric.InstrumentKind) metricdata.Temporality {
	return t[0].Temporality(k)
}

func (t teeMetrics) Aggregation(k sdkmetric.InstrumentKind) sdkmetric.Aggregation {
	return t[0].Aggregation(k)
}

func (t teeMetrics) Export(ctx context.Context, rm *metricdata.ResourceMetrics) error {
	return errors.Join(t[0].Export(ctx, rm), t[1].Export(ctx, rm))
}

func (t teeMetrics) ForceFlush(ctx context.Context) error {
	return errors.Join(t[0].ForceFlush(ctx), t[1].ForceFlush(ctx))
}

func (t teeMetrics) Shutdown(ctx context.Context) error {
	return errors.Join(t[0].Shutdown(ctx), t[1].Shutdown(ctx))
}

// itemSet is a multiset of items, each as the proto bytes of an envelope
// holding its resource, scope (and metric) and the one item.
type itemSet map[string]int

func tracesItems(t testing.TB, all []ptrace.Traces) itemSet {
	t.Helper()
	set := itemSet{}
	m := ptrace.ProtoMarshaler{}
	for _, td := range all {
		for _, rs := range td.ResourceSpans().All() {
			for _, ss := range rs.ScopeSpans().All() {
				for _, span := range ss.Spans().All() {
					one := ptrace.NewTraces()
					ors := one.ResourceSpans().AppendEmpty()
					rs.Resource().CopyTo(ors.Resource())
					ors.SetSchemaUrl(rs.SchemaUrl())
					oss := ors.ScopeSpans().AppendEmpty()
					ss.Scope().CopyTo(oss.Scope())
					oss.SetSchemaUrl(ss.SchemaUrl())
					span.CopyTo(oss.Spans().AppendEmpty())
					b, err := m.MarshalTraces(one)
					require.NoError(t, err)
					set[string(b)]++
				}
			}
		}
	}
	return set
}

func logsItems(t testing.TB, all []plog.Logs) itemSet {
	t.Helper()
	set := itemSet{}
	m := plog.ProtoMarshaler{}
	for _, ld := range all {
		for _, rl := range ld.ResourceLogs().All() {
			for _, sl := range rl.ScopeLogs().All() {
				for _, lr := range sl.LogRecords().All() {
					one := plog.NewLogs()
					orl := one.ResourceLogs().AppendEmpty()
					rl.Resource().CopyTo(orl.Resource())
					orl.SetSchemaUrl(rl.SchemaUrl())
					osl := orl.ScopeLogs().AppendEmpty()
					sl.Scope().CopyTo(osl.Scope())
					osl.SetSchemaUrl(sl.SchemaUrl())
					lr.CopyTo(osl.LogRecords().AppendEmpty())
					b, err := m.MarshalLogs(one)
					require.NoError(t, err)
					set[string(b)]++
				}
			}
		}
	}
	return set
}

func metricsItems(t testing.TB, all []pmetric.Metrics) itemSet {
	t.Helper()
	set := itemSet{}
	m := pmetric.ProtoMarshaler{}
	for _, md := range all {
		for _, rm := range md.ResourceMetrics().All() {
			for _, sm := range rm.ScopeMetrics().All() {
				for _, metric := range sm.Metrics().All() {
					for p := range pdatautil.DataPointCount(metric) {
						one := pmetric.NewMetrics()
						orm := one.ResourceMetrics().AppendEmpty()
						rm.Resource().CopyTo(orm.Resource())
						orm.SetSchemaUrl(rm.SchemaUrl())
						osm := orm.ScopeMetrics().AppendEmpty()
						sm.Scope().CopyTo(osm.Scope())
						osm.SetSchemaUrl(sm.SchemaUrl())
						om := osm.Metrics().AppendEmpty()
						metric.CopyTo(om)
						keepOnlyPoint(om, p)
						b, err := m.MarshalMetrics(one)
						require.NoError(t, err)
						set[string(b)]++
					}
				}
			}
		}
	}
	return set
}

func keepOnlyPoint(m pmetric.Metric, keep int) {
	idx := 0
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		m.Gauge().DataPoints().RemoveIf(func(pmetric.NumberDataPoint) bool { idx++; return idx-1 != keep })
	case pmetric.MetricTypeSum:
		m.Sum().DataPoints().RemoveIf(func(pmetric.NumberDataPoint) bool { idx++; return idx-1 != keep })
	case pmetric.MetricTypeHistogram:
		m.Histogram().DataPoints().RemoveIf(func(pmetric.HistogramDataPoint) bool { idx++; return idx-1 != keep })
	case pmetric.MetricTypeExponentialHistogram:
		m.ExponentialHistogram().DataPoints().RemoveIf(func(pmetric.ExponentialHistogramDataPoint) bool { idx++; return idx-1 != keep })
	case pmetric.MetricTypeSummary:
		m.Summary().DataPoints().RemoveIf(func(pmetric.SummaryDataPoint) bool { idx++; return idx-1 != keep })
	}
}

func total(s itemSet) int {
	n := 0
	for _, c := range s {
		n += c
	}
	return n
}

// servers receive what the OTLP/HTTP exporters and the fused client send.
type servers struct {
	otlp, fused       *received
	otlpURL, fusedURL string
}

func newServers(t testing.TB) *servers {
	s := &servers{otlp: &received{}, fused: &received{}}
	o := httptest.NewServer(s.otlp.handler())
	t.Cleanup(o.Close)
	f := httptest.NewServer(s.fused.handler())
	t.Cleanup(f.Close)
	s.otlpURL, s.fusedURL = o.URL, f.URL
	return s
}

func (s *servers) reset() {
	for _, r := range []*received{s.otlp, s.fused} {
		r.mu.Lock()
		r.traces, r.logs, r.metrics, r.requests, r.errs = nil, nil, nil, 0, nil
		r.mu.Unlock()
	}
}

// app is one application whose exporters hand everything to both the OTLP
// exporters and the fused client.
type app struct {
	pipelines
	client *fused.Client
}

func newApp(t testing.TB, s *servers, compression fused.Compression, temporality metricdata.Temporality) *app {
	t.Helper()
	ctx := context.Background()
	selector := func(sdkmetric.InstrumentKind) metricdata.Temporality { return temporality }
	te, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(s.otlpURL+"/v1/traces"))
	require.NoError(t, err)
	le, err := otlploghttp.New(ctx, otlploghttp.WithEndpointURL(s.otlpURL+"/v1/logs"))
	require.NoError(t, err)
	me, err := otlpmetrichttp.New(ctx, otlpmetrichttp.WithEndpointURL(s.otlpURL+"/v1/metrics"),
		otlpmetrichttp.WithTemporalitySelector(selector))
	require.NoError(t, err)
	client, err := fused.New(ctx, fused.WithEndpointURL(s.fusedURL+"/v1/fused"),
		fused.WithCompression(compression), fused.WithTemporalitySelector(selector), fused.WithFlushInterval(time.Hour))
	require.NoError(t, err)
	res := resource.NewWithAttributes("https://opentelemetry.io/schemas/1.26.0",
		attribute.String("service.name", "compat"), attribute.Int("pid", 42))
	return &app{
		pipelines: newPipelines(res, teeSpans{te, client.SpanExporter()}, teeLogs{le, client.LogExporter()},
			teeMetrics{me, client.MetricExporter()}),
		client: client,
	}
}

// requireSame checks that the fused frames decoded to what the OTLP
// exporters sent, and returns the numbers of spans, records and points.
func requireSame(t testing.TB, s *servers) (spans, records, points int) {
	t.Helper()
	require.Empty(t, s.otlp.errs)
	require.Empty(t, s.fused.errs)
	wantTraces, gotTraces := tracesItems(t, s.otlp.traces), tracesItems(t, s.fused.traces)
	require.Equal(t, wantTraces, gotTraces)
	wantLogs, gotLogs := logsItems(t, s.otlp.logs), logsItems(t, s.fused.logs)
	require.Equal(t, wantLogs, gotLogs)
	wantMetrics, gotMetrics := metricsItems(t, s.otlp.metrics), metricsItems(t, s.fused.metrics)
	require.Equal(t, wantMetrics, gotMetrics)
	return total(wantTraces), total(wantLogs), total(wantMetrics)
}

// TestFusedFramesEqualOTLP sends the same telemetry through the OTLP/HTTP
// exporters and the fused ones; pkg/otlpgo must decode from the fused
// frames exactly what the OTLP exporters sent, and one Flush must be one
// request.
func TestFusedFramesEqualOTLP(t *testing.T) {
	for _, tc := range []struct {
		name        string
		compression fused.Compression
		temporality metricdata.Temporality
	}{
		{"zstd/cumulative", fused.ZstdCompression, metricdata.CumulativeTemporality},
		{"none/delta", fused.NoCompression, metricdata.DeltaTemporality},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			s := newServers(t)
			a := newApp(t, s, tc.compression, tc.temporality)
			generate(t, a.pipelines)
			require.NoError(t, a.client.Flush(ctx, a.tp, a.lp, a.mp))
			require.Equal(t, 1, s.fused.requests, "one Flush, one request")
			generate(t, a.pipelines)
			require.NoError(t, a.client.Shutdown(ctx, a.tp, a.lp, a.mp))
			require.Equal(t, 2, s.fused.requests, "Shutdown sends the rest in one request")

			spans, records, points := requireSame(t, s)
			require.Equal(t, 160, spans)
			require.Equal(t, 160, records)
			require.Equal(t, 2*7*6, points) // two collections of 7 instruments over 6 attribute sets
			stats := a.client.Stats()
			require.Equal(t, [3]int64{160, 160, 84}, stats.Accepted)
			require.Equal(t, int64(2), stats.Requests)
		})
	}
}
