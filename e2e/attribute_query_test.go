package e2e

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	otellog "go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/metric"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// attrApp is one pod of a service, instrumented with the OpenTelemetry Go
// SDK, sending without a tenant (so to tenant "default") and remembering
// every attribute it sends.
type attrApp struct {
	resource map[string]string
	traces   *sdktrace.TracerProvider
	logs     *sdklog.LoggerProvider
	metrics  *sdkmetric.MeterProvider
	tracer   trace.Tracer
	logger   otellog.Logger
	cpu      metric.Float64Gauge
	sent     *sentAttributes
}

// sentAttributes is the test's own record of what the apps sent: the
// independent side of every comparison.
type sentAttributes struct {
	spans  []attrSpan
	logs   []attrLog
	points []attrPoint
}

type attrSpan struct {
	traceID, spanID string
	start, end      int64
	attrs, resource map[string]string
}

type attrLog struct {
	traceID, level, body string
	timestamp            int64
	attrs, resource      map[string]string
}

type attrPoint struct {
	name     string
	value    float64
	resource map[string]string
	// The SDK stamps a point when it is collected, between these two.
	earliest, latest int64
}

func newAttrApp(t *testing.T, endpoint string, res map[string]string, sent *sentAttributes) *attrApp {
	t.Helper()
	ctx := context.Background()
	kvs := make([]attribute.KeyValue, 0, len(res))
	for k, v := range res {
		kvs = append(kvs, attribute.String(k, v))
	}
	r, err := resource.New(ctx, resource.WithAttributes(kvs...))
	require.NoError(t, err)
	te, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(endpoint), otlptracegrpc.WithInsecure())
	require.NoError(t, err)
	le, err := otlploggrpc.New(ctx, otlploggrpc.WithEndpoint(endpoint), otlploggrpc.WithInsecure())
	require.NoError(t, err)
	me, err := otlpmetricgrpc.New(ctx, otlpmetricgrpc.WithEndpoint(endpoint), otlpmetricgrpc.WithInsecure())
	require.NoError(t, err)
	app := &attrApp{
		resource: res, sent: sent,
		traces: sdktrace.NewTracerProvider(sdktrace.WithResource(r), sdktrace.WithBatcher(te, sdktrace.WithBatchTimeout(100*time.Millisecond))),
		logs: sdklog.NewLoggerProvider(sdklog.WithResource(r),
			sdklog.WithProcessor(sdklog.NewBatchProcessor(le, sdklog.WithExportInterval(100*time.Millisecond)))),
		metrics: sdkmetric.NewMeterProvider(sdkmetric.WithResource(r),
			sdkmetric.WithReader(sdkmetric.NewPeriodicReader(me, sdkmetric.WithInterval(time.Hour)))),
	}
	app.tracer = app.traces.Tracer("e2e/attributes")
	app.logger = app.logs.Logger("e2e/attributes")
	app.cpu, err = app.metrics.Meter("e2e/attributes").Float64Gauge("process.cpu.utilization")
	require.NoError(t, err)
	return app
}

// span records a span with attributes (string values, or int for the
// status code) from start to end.
func (a *attrApp) span(ctx context.Context, name string, start, end time.Time, attrs []attribute.KeyValue, body func(ctx context.Context)) {
	ctx, span := a.tracer.Start(ctx, name, trace.WithTimestamp(start), trace.WithAttributes(attrs...))
	if body != nil {
		body(ctx)
	}
	span.End(trace.WithTimestamp(end))
	sc := span.SpanContext()
	a.sent.spans = append(a.sent.spans, attrSpan{sc.TraceID().String(), sc.SpanID().String(),
		start.UnixNano(), end.UnixNano(), asStrings(attrs), a.resource})
}

// log emits a record with attributes in the span of ctx.
func (a *attrApp) log(ctx context.Context, level string, ts time.Time, body string, attrs []attribute.KeyValue) {
	var rec otellog.Record
	rec.SetTimestamp(ts)
	rec.SetSeverityText(level)
	rec.SetBody(attribute.StringValue(body))
	rec.AddAttributes(attrs...)
	a.logger.Emit(ctx, rec)
	a.sent.logs = append(a.sent.logs, attrLog{trace.SpanContextFromContext(ctx).TraceID().String(), level, body,
		ts.UnixNano(), asStrings(attrs), a.resource})
}

// flush records the pod's CPU gauge and exports everything the app holds.
func (a *attrApp) flush(t *testing.T, cpu float64) {
	t.Helper()
	a.cpu.Record(context.Background(), cpu)
	earliest := time.Now().UnixNano()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, a.traces.Shutdown(ctx))
	require.NoError(t, a.logs.Shutdown(ctx))
	require.NoError(t, a.metrics.Shutdown(ctx))
	a.sent.points = append(a.sent.points, attrPoint{"process.cpu.utilization", cpu, a.resource, earliest, time.Now().UnixNano()})
}

// asStrings is the attributes in their OTLP string form, as the store keeps
// them: an int 503 is "503".
func asStrings(attrs []attribute.KeyValue) map[string]string {
	m := make(map[string]string, len(attrs))
	for _, kv := range attrs {
		m[string(kv.Key)] = kv.Value.Emit()
	}
	return m
}

// lookup is an attribute as a query sees it: the value, or nil when the key
// is missing (NULL).
func lookup(m map[string]string, key string) any {
	if v, ok := m[key]; ok {
		return v
	}
	return nil
}

// statusCode is the span's http.response.status_code as a number, as a
// numeric comparison reads it; ok is false when it is missing.
func statusCode(sp attrSpan) (code int, ok bool) {
	v, ok := sp.attrs["http.response.status_code"]
	if !ok {
		return 0, false
	}
	code, err := strconv.Atoi(v)
	return code, err == nil
}

// sortedRows orders rows by their printed form, for order-free comparison.
func sortedRows(rows [][]any) [][]any {
	sort.Slice(rows, func(i, j int) bool { return fmt.Sprint(rows[i]...) < fmt.Sprint(rows[j]...) })
	return rows
}

// countRowsByKey turns counts per key into rows (key, n), numbers as JSON
// decodes them.
func countRowsByKey(counts map[any]int) [][]any {
	rows := make([][]any, 0, len(counts))
	for k, n := range counts {
		rows = append(rows, []any{k, float64(n)})
	}
	return rows
}

// TestAttributeQueries sends traces, logs and gauges whose resources differ
// by pod, environment and version, with span and log attributes, through
// the built collector with the SDK, then checks FusionQL attribute queries
// against the same computation done here over what was sent.
func TestAttributeQueries(t *testing.T) {
	collector, url, endpoint := startStoreCollector(t, "attributes")
	const tenant = "default" // the receiver's tenant for data that names none

	sent := &sentAttributes{}
	now := time.Now()
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	pods := []struct {
		service, pod, env, version string
		cpu                        float64
	}{
		{"api", "api-0", "prod", "1.4.0", 0.42},
		{"api", "api-1", "prod", "1.5.0", 0.87},
		{"api", "api-2", "staging", "1.5.0", 0.13},
		{"worker", "worker-0", "prod", "2.0.0", 0.55},
	}
	// Requests per pod: route and status code; 500s log an ERROR with an
	// error.type, the others an INFO; /orders requests query a database.
	requests := []struct {
		route string
		code  int
		db    string
	}{
		{"/orders/{id}", 200, "postgresql"},
		{"/orders/{id}", 503, "postgresql"},
		{"/users/{id}", 404, ""},
		{"/users/{id}", 200, "redis"},
		{"/health", 200, ""},
	}
	for p, pod := range pods {
		app := newAttrApp(t, endpoint, map[string]string{"service.name": pod.service, "k8s.pod.name": pod.pod,
			"deployment.environment": pod.env, "service.version": pod.version}, sent)
		for r, req := range requests[:len(requests)-p%2] { // odd pods skip /health
			start := now.Add(-5*time.Second + ms(100*(p*len(requests)+r)))
			end := start.Add(ms(40 + 20*r))
			attrs := []attribute.KeyValue{attribute.String("http.route", req.route), attribute.Int("http.response.status_code", req.code)}
			app.span(context.Background(), "HTTP "+req.route, start, end, attrs, func(ctx context.Context) {
				if req.db != "" {
					app.span(ctx, "query", start.Add(ms(5)), start.Add(ms(25)), []attribute.KeyValue{attribute.String("db.system", req.db)}, nil)
				}
				if req.code >= 500 {
					app.log(ctx, "ERROR", start.Add(ms(30)), "request failed", []attribute.KeyValue{attribute.String("error.type", "timeout")})
				} else {
					app.log(ctx, "INFO", start.Add(ms(30)), "request served", []attribute.KeyValue{attribute.String("log.kind", "access")})
				}
			})
		}
		// An old failing request: outside the metrics' time bound.
		old := now.Add(-10 * time.Minute)
		app.span(context.Background(), "HTTP /orders/{id}", old, old.Add(ms(80)),
			[]attribute.KeyValue{attribute.String("http.route", "/orders/{id}"), attribute.Int("http.response.status_code", 500)},
			func(ctx context.Context) {
				app.log(ctx, "ERROR", old.Add(ms(10)), "request failed", []attribute.KeyValue{attribute.String("error.type", "db")})
			})
		app.flush(t, pod.cpu)
	}
	waitFor(t, 60*time.Second, "every sent item in the store", func() bool {
		return countRows(t, url, "traces", tenant) == len(sent.spans) && countRows(t, url, "logs", tenant) == len(sent.logs) &&
			countRows(t, url, "metrics", tenant) == len(sent.points)
	})

	const code = "span.attributes['http.response.status_code']"
	tests := []struct {
		name  string
		query string
		want  func() [][]any
	}{
		{
			name:  "filter on a span attribute and a resource attribute",
			query: "SELECT span.span_id FROM traces WHERE span.attributes['http.route'] = '/orders/{id}' AND span.resource['deployment.environment'] = 'prod'",
			want: func() (rows [][]any) {
				for _, sp := range sent.spans {
					if sp.attrs["http.route"] == "/orders/{id}" && sp.resource["deployment.environment"] == "prod" {
						rows = append(rows, []any{sp.spanID})
					}
				}
				return rows
			},
		},
		{
			name:  "numeric comparison on the status code",
			query: "SELECT span.span_id, " + code + " FROM traces WHERE " + code + " >= 500 AND span.resource['service.version'] = '1.5.0'",
			want: func() (rows [][]any) {
				for _, sp := range sent.spans {
					if c, ok := statusCode(sp); ok && c >= 500 && sp.resource["service.version"] == "1.5.0" {
						rows = append(rows, []any{sp.spanID, sp.attrs["http.response.status_code"]})
					}
				}
				return rows
			},
		},
		{
			name:  "GROUP BY an attribute with COUNT",
			query: "SELECT span.attributes['http.route'] AS route, COUNT(*) AS n FROM traces GROUP BY route",
			want: func() [][]any {
				counts := map[any]int{}
				for _, sp := range sent.spans {
					counts[lookup(sp.attrs, "http.route")]++
				}
				return countRowsByKey(counts)
			},
		},
		{
			name: "HAVING on a count per route",
			query: "SELECT span.attributes['http.route'], COUNT(*) FROM traces WHERE " + code + " < 500 " +
				"GROUP BY span.attributes['http.route'] HAVING COUNT(*) >= 4 ORDER BY COUNT(*) DESC",
			want: func() (rows [][]any) {
				counts := map[any]int{}
				for _, sp := range sent.spans {
					if c, ok := statusCode(sp); ok && c < 500 {
						counts[sp.attrs["http.route"]]++
					}
				}
				for _, row := range countRowsByKey(counts) {
					if row[1].(float64) >= 4 {
						rows = append(rows, row)
					}
				}
				return rows
			},
		},
		{
			name: "CASE on an attribute",
			query: "SELECT CASE WHEN " + code + " >= 500 THEN 'server error' WHEN " + code + " >= 400 THEN 'client error' " +
				"WHEN " + code + " IS NULL THEN 'none' ELSE 'ok' END AS class, COUNT(*) FROM traces GROUP BY class",
			want: func() [][]any {
				counts := map[any]int{}
				for _, sp := range sent.spans {
					c, ok := statusCode(sp)
					switch {
					case !ok:
						counts["none"]++
					case c >= 500:
						counts["server error"]++
					case c >= 400:
						counts["client error"]++
					default:
						counts["ok"]++
					}
				}
				return countRowsByKey(counts)
			},
		},
		{
			name:  "GROUP BY a database attribute of child spans, per pod",
			query: "SELECT span.resource['k8s.pod.name'] AS pod, span.attributes['db.system'] AS db, COUNT(*) FROM traces WHERE span.attributes['db.system'] IS NOT NULL GROUP BY pod, db",
			want: func() (rows [][]any) {
				type key struct{ pod, db string }
				counts := map[key]int{}
				for _, sp := range sent.spans {
					if db, ok := sp.attrs["db.system"]; ok {
						counts[key{sp.resource["k8s.pod.name"], db}]++
					}
				}
				for k, n := range counts {
					rows = append(rows, []any{k.pod, k.db, float64(n)})
				}
				return rows
			},
		},
		{
			name: "join of spans to logs on trace_id with a resource attribute filter",
			query: "SELECT t.span_id, l.attributes['error.type'], l.resource['k8s.pod.name'] FROM traces t " +
				"JOIN logs l ON l.trace_id = t.trace_id AND l.timestamp BETWEEN t.start_time AND t.end_time " +
				"WHERE l.resource['deployment.environment'] = 'prod' AND l.level = 'ERROR' AND t.attributes['http.route'] IS NOT NULL",
			want: func() (rows [][]any) {
				for _, sp := range sent.spans {
					if _, ok := sp.attrs["http.route"]; !ok {
						continue
					}
					for _, l := range sent.logs {
						if l.traceID == sp.traceID && l.timestamp >= sp.start && l.timestamp <= sp.end &&
							l.resource["deployment.environment"] == "prod" && l.level == "ERROR" {
							rows = append(rows, []any{sp.spanID, lookup(l.attrs, "error.type"), l.resource["k8s.pod.name"]})
						}
					}
				}
				return rows
			},
		},
		{
			name: "join of failing spans to their pod's CPU within a minute",
			query: "SELECT t.span_id, m.resource['k8s.pod.name'], m.value FROM traces t " +
				"JOIN metrics m ON m.resource['k8s.pod.name'] = t.resource['k8s.pod.name'] " +
				"AND m.timestamp BETWEEN t.start_time AND t.end_time + INTERVAL '1m' " +
				"WHERE m.name = 'process.cpu.utilization' AND t.attributes['http.response.status_code'] >= 500",
			want: func() (rows [][]any) {
				for _, sp := range sent.spans {
					if c, ok := statusCode(sp); !ok || c < 500 {
						continue
					}
					for _, p := range sent.points {
						in := func(ts int64) bool { return ts >= sp.start && ts <= sp.end+int64(time.Minute) }
						require.Equal(t, in(p.earliest), in(p.latest), "test data must not depend on the collection time")
						if p.resource["k8s.pod.name"] == sp.resource["k8s.pod.name"] && in(p.earliest) {
							rows = append(rows, []any{sp.spanID, p.resource["k8s.pod.name"], p.value})
						}
					}
				}
				return rows
			},
		},
		{
			name:  "one CPU series per pod, not one per service",
			query: "SELECT metric.resource['k8s.pod.name'], metric.resource['service.name'], metric.value FROM metrics WHERE metric.resource['deployment.environment'] IN ('prod', 'staging')",
			want: func() (rows [][]any) {
				for _, p := range sent.points {
					rows = append(rows, []any{p.resource["k8s.pod.name"], p.resource["service.name"], p.value})
				}
				return rows
			},
		},
		{
			name:  "log attributes per version, a missing key grouped as NULL",
			query: "SELECT log.resource['service.version'] AS version, log.attributes['error.type'] AS error, COUNT(*) FROM logs GROUP BY version, error",
			want: func() (rows [][]any) {
				type key struct{ version, err any }
				counts := map[key]int{}
				for _, l := range sent.logs {
					counts[key{l.resource["service.version"], lookup(l.attrs, "error.type")}]++
				}
				for k, n := range counts {
					rows = append(rows, []any{k.version, k.err, float64(n)})
				}
				return rows
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := sortedRows(tc.want())
			require.NotEmpty(t, want, "the data must give the query something to find")
			status, _, rows := queryStore(t, url, tenant, tc.query)
			require.Equal(t, http.StatusOK, status)
			assert.Equal(t, want, sortedRows(rows))
			t.Logf("%d rows, as computed from the sent data: %v", len(want), want)
		})
	}

	// A positioned error for an index on a column that is no map.
	status, _, _ := queryStore(t, url, tenant, "SELECT span.operation['x'] FROM traces")
	assert.Equal(t, http.StatusBadRequest, status)
	assert.NoError(t, collector.stop(), "a clean exit on SIGINT")
}
