package e2e

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	otellog "go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/metric"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelfusion/otelfusion/internal/pdatautil"
)

// sdkApp is an instrumented application using the official OpenTelemetry Go
// SDK and its OTLP/gRPC exporters for all three signals.
type sdkApp struct {
	traces  *sdktrace.TracerProvider
	logs    *sdklog.LoggerProvider
	metrics *sdkmetric.MeterProvider

	tracer    trace.Tracer
	logger    otellog.Logger
	requests  metric.Int64Counter
	inflight  metric.Int64UpDownCounter
	latency   metric.Float64Histogram
	expLat    metric.Float64Histogram
	queueSize metric.Int64Gauge
}

func newSDKApp(t *testing.T, service, endpoint string) *sdkApp {
	t.Helper()
	ctx := context.Background()
	res, err := resource.New(ctx, resource.WithAttributes(
		semconv.ServiceName(service), semconv.ServiceVersion("1.2.3"), attribute.String("deployment.environment.name", "e2e")))
	require.NoError(t, err)

	te, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(endpoint), otlptracegrpc.WithInsecure())
	require.NoError(t, err)
	le, err := otlploggrpc.New(ctx, otlploggrpc.WithEndpoint(endpoint), otlploggrpc.WithInsecure())
	require.NoError(t, err)
	me, err := otlpmetricgrpc.New(ctx, otlpmetricgrpc.WithEndpoint(endpoint), otlpmetricgrpc.WithInsecure(),
		otlpmetricgrpc.WithTemporalitySelector(func(sdkmetric.InstrumentKind) metricdata.Temporality { return metricdata.DeltaTemporality }))
	require.NoError(t, err)

	app := &sdkApp{
		traces: sdktrace.NewTracerProvider(sdktrace.WithResource(res),
			sdktrace.WithBatcher(te, sdktrace.WithBatchTimeout(100*time.Millisecond), sdktrace.WithMaxQueueSize(100_000))),
		logs: sdklog.NewLoggerProvider(sdklog.WithResource(res),
			sdklog.WithProcessor(sdklog.NewBatchProcessor(le, sdklog.WithExportInterval(100*time.Millisecond), sdklog.WithMaxQueueSize(100_000)))),
		// Metrics are collected only when the test asks (ForceFlush), so the
		// number of points sent is known exactly.
		metrics: sdkmetric.NewMeterProvider(sdkmetric.WithResource(res),
			sdkmetric.WithReader(sdkmetric.NewPeriodicReader(me, sdkmetric.WithInterval(time.Hour))),
			sdkmetric.WithView(sdkmetric.NewView(sdkmetric.Instrument{Name: "rpc.server.duration"},
				sdkmetric.Stream{Aggregation: sdkmetric.AggregationBase2ExponentialHistogram{MaxSize: 160, MaxScale: 20}}))),
	}
	app.tracer = app.traces.Tracer("e2e/app")
	app.logger = app.logs.Logger("e2e/app")
	meter := app.metrics.Meter("e2e/app")
	app.requests, err = meter.Int64Counter("http.server.request.count")
	require.NoError(t, err)
	app.inflight, err = meter.Int64UpDownCounter("http.server.active_requests")
	require.NoError(t, err)
	app.latency, err = meter.Float64Histogram("http.server.request.duration", metric.WithUnit("s"))
	require.NoError(t, err)
	app.expLat, err = meter.Float64Histogram("rpc.server.duration", metric.WithUnit("ms"))
	require.NoError(t, err)
	app.queueSize, err = meter.Int64Gauge("queue.size")
	require.NoError(t, err)
	return app
}

// handleRequest makes one server span with a child, two logs (one linked
// through the context, one carrying the ids only as attributes) and metric
// measurements.
func (a *sdkApp) handleRequest(i int) {
	ctx, span := a.tracer.Start(context.Background(), fmt.Sprintf("GET /api/item/%d", i%7),
		trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("http.request.method", "GET"), attribute.Int("seq", i)))
	childCtx, child := a.tracer.Start(ctx, "SELECT items", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("db.system.name", "postgresql")))

	var rec otellog.Record
	rec.SetTimestamp(time.Now())
	rec.SetBody(attribute.StringValue("loading item"))
	rec.SetSeverity(otellog.SeverityInfo)
	rec.SetSeverityText("INFO")
	rec.AddAttributes(attribute.Int("seq", i))
	a.logger.Emit(childCtx, rec)

	sc := child.SpanContext()
	var hinted otellog.Record
	hinted.SetTimestamp(time.Now())
	hinted.SetBody(attribute.StringValue("slow query"))
	hinted.SetSeverity(otellog.SeverityError)
	hinted.SetSeverityText("ERROR")
	tid, sid := sc.TraceID(), sc.SpanID()
	hinted.AddAttributes(attribute.Int("seq", i),
		attribute.String("trace_id", hex.EncodeToString(tid[:])), attribute.String("span_id", hex.EncodeToString(sid[:])))
	a.logger.Emit(context.Background(), hinted)
	child.End()

	if i%10 == 0 {
		span.SetStatus(codes.Error, "boom")
	}
	span.End()

	attrs := metric.WithAttributes(attribute.String("http.route", fmt.Sprintf("/api/item/%d", i%7)))
	a.requests.Add(context.Background(), 1, attrs)
	a.inflight.Add(context.Background(), 1, attrs)
	a.latency.Record(context.Background(), float64(i%50)/100, attrs)
	a.expLat.Record(context.Background(), float64(i%300)+0.5, attrs)
	a.queueSize.Record(context.Background(), int64(i%13), attrs)
}

// flush pushes everything the SDK holds to the agent.
func (a *sdkApp) flush(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, a.traces.ForceFlush(ctx))
	require.NoError(t, a.logs.ForceFlush(ctx))
	require.NoError(t, a.metrics.ForceFlush(ctx))
}

func (a *sdkApp) shutdown(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, a.traces.Shutdown(ctx))
	require.NoError(t, a.logs.Shutdown(ctx))
	require.NoError(t, a.metrics.Shutdown(ctx))
}

// itemSet is a multiset of telemetry items, each in a canonical form: its
// resource, scope and (for metrics) metric envelope with the one item in it,
// as proto bytes. Two collections are equal when their itemSets are.
type itemSet map[string]int

func (s itemSet) total() int {
	n := 0
	for _, c := range s {
		n += c
	}
	return n
}

// duplicates counts items seen more often in s than in want.
func (s itemSet) duplicates(want itemSet) int {
	n := 0
	for k, c := range s {
		if c > want[k] && want[k] > 0 {
			n += c - want[k]
		}
	}
	return n
}

func (s itemSet) addTraces(td ptrace.Traces) {
	m := ptrace.ProtoMarshaler{}
	for i := range td.ResourceSpans().Len() {
		rs := td.ResourceSpans().At(i)
		for j := range rs.ScopeSpans().Len() {
			ss := rs.ScopeSpans().At(j)
			for k := range ss.Spans().Len() {
				one := ptrace.NewTraces()
				ors := one.ResourceSpans().AppendEmpty()
				rs.Resource().CopyTo(ors.Resource())
				ors.SetSchemaUrl(rs.SchemaUrl())
				oss := ors.ScopeSpans().AppendEmpty()
				ss.Scope().CopyTo(oss.Scope())
				oss.SetSchemaUrl(ss.SchemaUrl())
				ss.Spans().At(k).CopyTo(oss.Spans().AppendEmpty())
				b, err := m.MarshalTraces(one)
				if err != nil {
					panic(err)
				}
				s[string(b)]++
			}
		}
	}
}

func (s itemSet) addLogs(ld plog.Logs) {
	m := plog.ProtoMarshaler{}
	for i := range ld.ResourceLogs().Len() {
		rl := ld.ResourceLogs().At(i)
		for j := range rl.ScopeLogs().Len() {
			sl := rl.ScopeLogs().At(j)
			for k := range sl.LogRecords().Len() {
				one := plog.NewLogs()
				orl := one.ResourceLogs().AppendEmpty()
				rl.Resource().CopyTo(orl.Resource())
				orl.SetSchemaUrl(rl.SchemaUrl())
				osl := orl.ScopeLogs().AppendEmpty()
				sl.Scope().CopyTo(osl.Scope())
				osl.SetSchemaUrl(sl.SchemaUrl())
				sl.LogRecords().At(k).CopyTo(osl.LogRecords().AppendEmpty())
				b, err := m.MarshalLogs(one)
				if err != nil {
					panic(err)
				}
				s[string(b)]++
			}
		}
	}
}

func (s itemSet) addMetrics(md pmetric.Metrics) {
	m := pmetric.ProtoMarshaler{}
	for i := range md.ResourceMetrics().Len() {
		rm := md.ResourceMetrics().At(i)
		for j := range rm.ScopeMetrics().Len() {
			sm := rm.ScopeMetrics().At(j)
			for k := range sm.Metrics().Len() {
				metric := sm.Metrics().At(k)
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
					if err != nil {
						panic(err)
					}
					s[string(b)]++
				}
			}
		}
	}
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

// readFileExport reads what a file exporter (JSON lines) wrote so far. A
// missing file reads as empty.
func readFileExport(t *testing.T, path string, add func(line []byte) error) {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return
	}
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<20), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 {
			continue
		}
		if err := add(line); err != nil {
			// The last line may be partly written; the caller polls again.
			return
		}
	}
}

// collected reads the three per-signal files of one collector.
func collected(t *testing.T, dir string) (traces, logs, metrics itemSet) {
	t.Helper()
	traces, logs, metrics = itemSet{}, itemSet{}, itemSet{}
	tu, lu, mu := ptrace.JSONUnmarshaler{}, plog.JSONUnmarshaler{}, pmetric.JSONUnmarshaler{}
	readFileExport(t, dir+"/traces.json", func(b []byte) error {
		td, err := tu.UnmarshalTraces(b)
		if err == nil {
			traces.addTraces(td)
		}
		return err
	})
	readFileExport(t, dir+"/logs.json", func(b []byte) error {
		ld, err := lu.UnmarshalLogs(b)
		if err == nil {
			logs.addLogs(ld)
		}
		return err
	})
	readFileExport(t, dir+"/metrics.json", func(b []byte) error {
		md, err := mu.UnmarshalMetrics(b)
		if err == nil {
			metrics.addMetrics(md)
		}
		return err
	})
	return traces, logs, metrics
}
