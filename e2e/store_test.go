package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"sort"
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
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
)

// The seed queries of the fusion store, as a user types them.
const (
	seedQuery = `SELECT span.operation, log.level, metric.value FROM traces ` +
		`JOIN logs ON traces.trace_id = logs.trace_id AND logs.timestamp BETWEEN traces.start_time AND traces.end_time ` +
		`JOIN metrics ON traces.service_name = metrics.service_name ` +
		`WHERE span.duration_ns > 1000000000 AND log.level = 'ERROR' LIMIT 100;`
	seedQueryAliased = `SELECT t.operation, l.level, m.value FROM traces t ` +
		`JOIN logs l ON t.trace_id = l.trace_id AND ABS(t.start_time - l.timestamp) < INTERVAL '200ms' ` +
		`JOIN metrics m ON m.service_name = t.service_name AND m.timestamp BETWEEN t.start_time - INTERVAL '1m' AND t.end_time + INTERVAL '1m' ` +
		`WHERE t.duration_ns > 1000000000 AND l.level = 'ERROR' LIMIT 100;`
)

// storeApp is one service of one tenant, instrumented with the OpenTelemetry
// Go SDK, that remembers everything it sends.
type storeApp struct {
	service, tenant string
	traces          *sdktrace.TracerProvider
	logs            *sdklog.LoggerProvider
	metrics         *sdkmetric.MeterProvider
	tracer          trace.Tracer
	logger          otellog.Logger
	gauge           metric.Float64Gauge
	sent            *sentTelemetry
}

// sentTelemetry is the test's own record of what the apps sent: the
// independent side of the comparison.
type sentTelemetry struct {
	spans   []sentSpan
	logs    []sentLog
	metrics []sentPoint
}

type sentSpan struct {
	tenant, service, traceID, operation string
	start, end                          int64
}

type sentLog struct {
	tenant, traceID, level string
	timestamp              int64
}

type sentPoint struct {
	tenant, service string
	value           float64
	// The SDK stamps a point when it is collected, between these two.
	earliest, latest int64
}

// newStoreApp is an app of tenant, which it names in the X-Tenant-ID header
// of every export: the receiver's default config trusts the header and files
// the data under that tenant (a tenant.id the app wrote would be overwritten).
func newStoreApp(t *testing.T, endpoint, service, tenant string, sent *sentTelemetry) *storeApp {
	t.Helper()
	ctx := context.Background()
	res, err := resource.New(ctx, resource.WithAttributes(semconv.ServiceName(service)))
	require.NoError(t, err)
	header := map[string]string{"X-Tenant-ID": tenant}
	te, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(endpoint), otlptracegrpc.WithInsecure(), otlptracegrpc.WithHeaders(header))
	require.NoError(t, err)
	le, err := otlploggrpc.New(ctx, otlploggrpc.WithEndpoint(endpoint), otlploggrpc.WithInsecure(), otlploggrpc.WithHeaders(header))
	require.NoError(t, err)
	me, err := otlpmetricgrpc.New(ctx, otlpmetricgrpc.WithEndpoint(endpoint), otlpmetricgrpc.WithInsecure(), otlpmetricgrpc.WithHeaders(header))
	require.NoError(t, err)
	app := &storeApp{
		service: service, tenant: tenant, sent: sent,
		traces: sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithBatcher(te, sdktrace.WithBatchTimeout(100*time.Millisecond))),
		logs: sdklog.NewLoggerProvider(sdklog.WithResource(res),
			sdklog.WithProcessor(sdklog.NewBatchProcessor(le, sdklog.WithExportInterval(100*time.Millisecond)))),
		metrics: sdkmetric.NewMeterProvider(sdkmetric.WithResource(res),
			sdkmetric.WithReader(sdkmetric.NewPeriodicReader(me, sdkmetric.WithInterval(time.Hour)))),
	}
	app.tracer = app.traces.Tracer("e2e/store")
	app.logger = app.logs.Logger("e2e/store")
	app.gauge, err = app.metrics.Meter("e2e/store").Float64Gauge("dependency.latency", metric.WithUnit("s"))
	require.NoError(t, err)
	return app
}

// span records a span of the given operation from start to end.
func (a *storeApp) span(ctx context.Context, operation string, start, end time.Time, body func(ctx context.Context)) {
	ctx, span := a.tracer.Start(ctx, operation, trace.WithTimestamp(start))
	if body != nil {
		body(ctx)
	}
	span.End(trace.WithTimestamp(end))
	sc := span.SpanContext()
	a.sent.spans = append(a.sent.spans, sentSpan{a.tenant, a.service, sc.TraceID().String(), operation, start.UnixNano(), end.UnixNano()})
}

// log emits a record in the span of ctx at ts.
func (a *storeApp) log(ctx context.Context, level string, ts time.Time, body string) {
	var rec otellog.Record
	rec.SetTimestamp(ts)
	rec.SetSeverityText(level)
	rec.SetBody(attribute.StringValue(body))
	a.logger.Emit(ctx, rec)
	a.sent.logs = append(a.sent.logs, sentLog{a.tenant, trace.SpanContextFromContext(ctx).TraceID().String(), level, ts.UnixNano()})
}

// collect records the gauge points and exports everything the app holds.
func (a *storeApp) flush(t *testing.T, points map[string]float64) {
	t.Helper()
	for dependency, v := range points {
		a.gauge.Record(context.Background(), v, metric.WithAttributes(attribute.String("dependency", dependency)))
	}
	earliest := time.Now().UnixNano()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, a.traces.Shutdown(ctx))
	require.NoError(t, a.logs.Shutdown(ctx))
	require.NoError(t, a.metrics.Shutdown(ctx))
	latest := time.Now().UnixNano()
	for _, v := range points {
		a.sent.metrics = append(a.sent.metrics, sentPoint{a.tenant, a.service, v, earliest, latest})
	}
}

// expectSeed evaluates the seed queries over the sent telemetry, as
// (operation, level, value) rows, seen by tenant ("" sees every tenant, and
// the joins then cross tenants as the SQL does). aliased selects the
// diagnostic form. A point whose collection time leaves the answer
// undecided fails the test.
func (s *sentTelemetry) expectSeed(t *testing.T, tenant string, aliased bool) []seedRow {
	t.Helper()
	const minute = int64(time.Minute)
	var rows []seedRow
	for _, sp := range s.spans {
		if (tenant != "" && sp.tenant != tenant) || sp.end-sp.start <= int64(time.Second) {
			continue
		}
		for _, l := range s.logs {
			if (tenant != "" && l.tenant != tenant) || l.traceID != sp.traceID || l.level != "ERROR" {
				continue
			}
			if aliased {
				if math.Abs(float64(sp.start-l.timestamp)) >= float64(200*time.Millisecond) {
					continue
				}
			} else if l.timestamp < sp.start || l.timestamp > sp.end {
				continue
			}
			for _, p := range s.metrics {
				if (tenant != "" && p.tenant != tenant) || p.service != sp.service {
					continue
				}
				if aliased {
					in := func(ts int64) bool { return ts >= sp.start-minute && ts <= sp.end+minute }
					require.Equal(t, in(p.earliest), in(p.latest), "test data must not depend on the collection time")
					if !in(p.earliest) {
						continue
					}
				}
				rows = append(rows, seedRow{sp.operation, l.level, p.value})
			}
		}
	}
	sortSeedRows(rows)
	return rows
}

type seedRow struct {
	operation, level string
	value            float64
}

func sortSeedRows(rows []seedRow) {
	sort.Slice(rows, func(i, j int) bool { return fmt.Sprint(rows[i]) < fmt.Sprint(rows[j]) })
}

// queryStore posts a FusionQL query to the store's API.
func queryStore(t *testing.T, url, tenant, query string) (status int, columns []string, rows [][]any) {
	t.Helper()
	body, err := json.Marshal(map[string]string{"query": query})
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	require.NoError(t, err)
	if tenant != "" {
		req.Header.Set("X-Tenant-ID", tenant)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var answer struct {
		Columns []string `json:"columns"`
		Rows    [][]any  `json:"rows"`
		Error   string   `json:"error"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&answer))
	if resp.StatusCode != http.StatusOK {
		t.Logf("query answered %d: %s", resp.StatusCode, answer.Error)
	}
	return resp.StatusCode, answer.Columns, answer.Rows
}

// countRows sums the rows of table over tenants, one query per tenant (a
// query sees one tenant); -1 when a query fails.
func countRows(t *testing.T, url, table string, tenants ...string) int {
	t.Helper()
	total := 0
	for _, tenant := range tenants {
		status, _, rows := queryStore(t, url, tenant, "SELECT COUNT(*) FROM "+table)
		if status != http.StatusOK || len(rows) != 1 {
			return -1
		}
		total += int(rows[0][0].(float64))
	}
	return total
}

// startStoreCollector starts the built collector with an OTLP/gRPC otlpgo
// receiver whose three pipelines write into a fusionstore, and returns it
// with the query API's URL and the gRPC endpoint the SDK sends to.
func startStoreCollector(t *testing.T, name string) (collector *collectorProcess, queryURL, endpoint string) {
	t.Helper()
	grpcPort, health, queryPort := freePort(t), freePort(t), freePort(t)
	config := fmt.Sprintf(`
extensions:
  health_check: {endpoint: 127.0.0.1:%d}
  fusionstore:
    path: %s/store/fusion.duckdb
    query: {endpoint: 127.0.0.1:%d}
receivers:
  otlpgo:
    protocols:
      grpc: {endpoint: 127.0.0.1:%d}
exporters:
  fusionstore: {extension: fusionstore}
service:
  extensions: [health_check, fusionstore]
  pipelines:
    traces: {receivers: [otlpgo], exporters: [fusionstore]}
    logs: {receivers: [otlpgo], exporters: [fusionstore]}
    metrics: {receivers: [otlpgo], exporters: [fusionstore]}
%s
`, health, t.TempDir(), queryPort, grpcPort, telemetry(freePort(t)))
	collector = startCollector(t, name, writeConfig(t, name, config), health)
	return collector, fmt.Sprintf("http://127.0.0.1:%d/v1/query", queryPort), fmt.Sprintf("127.0.0.1:%d", grpcPort)
}

func TestStoreAnswersSeedQueries(t *testing.T) {
	collector, url, endpoint := startStoreCollector(t, "store")

	sent := &sentTelemetry{}
	now := time.Now()
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }

	// checkout: a slow payment dependency inside the request; it logs errors
	// inside both spans' time ranges, one just before the request starts.
	checkout := newStoreApp(t, endpoint, "checkout", "acme", sent)
	start := now.Add(-3 * time.Second)
	checkout.span(context.Background(), "POST /checkout", start, start.Add(ms(1800)), func(ctx context.Context) {
		checkout.log(ctx, "INFO", start.Add(ms(10)), "checkout started")
		checkout.log(ctx, "ERROR", start.Add(-ms(100)), "cart lock contended")
		checkout.span(ctx, "charge card", start.Add(ms(150)), start.Add(ms(1650)), func(ctx context.Context) {
			checkout.log(ctx, "ERROR", start.Add(ms(1600)), "payment gateway timeout")
			checkout.log(ctx, "ERROR", start.Add(ms(300)), "payment gateway retry")
		})
	})
	// A fast request with an error: not slow, so not in the answers.
	fast := now.Add(-2 * time.Second)
	checkout.span(context.Background(), "GET /cart", fast, fast.Add(ms(40)), func(ctx context.Context) {
		checkout.log(ctx, "ERROR", fast.Add(ms(20)), "cart not found")
	})
	// A slow request ten minutes ago: outside the aliased form's ±1m metric
	// window, inside the plain form's default time window.
	old := now.Add(-10 * time.Minute)
	checkout.span(context.Background(), "POST /checkout", old, old.Add(ms(2500)), func(ctx context.Context) {
		checkout.log(ctx, "ERROR", old.Add(ms(50)), "inventory stale")
	})
	checkout.flush(t, map[string]float64{"payment-gateway": 1.5, "postgres": 0.02})

	// frontend: slow with only INFO logs; its metrics must not join.
	frontend := newStoreApp(t, endpoint, "frontend", "acme", sent)
	frontend.span(context.Background(), "GET /", now.Add(-4*time.Second), now.Add(-2*time.Second), func(ctx context.Context) {
		frontend.log(ctx, "INFO", now.Add(-3*time.Second), "rendered")
	})
	frontend.flush(t, map[string]float64{"cdn": 0.3})

	// Another tenant with a slow failing request: scoped away for acme.
	other := newStoreApp(t, endpoint, "checkout", "globex", sent)
	other.span(context.Background(), "POST /checkout", now.Add(-2*time.Second), now, func(ctx context.Context) {
		other.log(ctx, "ERROR", now.Add(-2*time.Second+50*time.Millisecond), "fraud check failed")
	})
	other.flush(t, map[string]float64{"fraud": 0.9})

	tenants := []string{"acme", "globex"}
	waitFor(t, 60*time.Second, "every sent item in the store", func() bool {
		return countRows(t, url, "traces", tenants...) == len(sent.spans) && countRows(t, url, "logs", tenants...) == len(sent.logs) &&
			countRows(t, url, "metrics", tenants...) == len(sent.metrics)
	})

	for _, tc := range []struct {
		name    string
		query   string
		aliased bool
		columns []string
	}{
		{"seed", seedQuery, false, []string{"operation", "level", "value"}},
		{"seed with aliases", seedQueryAliased, true, []string{"operation", "level", "value"}},
	} {
		for _, tenant := range tenants {
			t.Run(fmt.Sprintf("%s/tenant=%q", tc.name, tenant), func(t *testing.T) {
				want := sent.expectSeed(t, tenant, tc.aliased)
				require.NotEmpty(t, want)
				t.Logf("%d rows expected", len(want))
				status, columns, rows := queryStore(t, url, tenant, tc.query)
				require.Equal(t, http.StatusOK, status)
				assert.Equal(t, tc.columns, columns)
				got := make([]seedRow, len(rows))
				for i, r := range rows {
					got[i] = seedRow{r[0].(string), r[1].(string), r[2].(float64)}
				}
				sortSeedRows(got)
				assert.Equal(t, want, got)
			})
		}
	}

	// A positioned error for a bad query.
	status, _, _ := queryStore(t, url, "acme", "SELECT span.nope FROM traces")
	assert.Equal(t, http.StatusBadRequest, status)
	// A query naming no tenant is refused, never widened to every tenant.
	status, _, rows := queryStore(t, url, "", seedQuery)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Empty(t, rows)
	assert.NoError(t, collector.stop(), "a clean exit on SIGINT")
}
