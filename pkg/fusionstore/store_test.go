package fusionstore

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/metric/noop"
	"go.uber.org/zap"

	"github.com/otelfusion/otelfusion/pkg/fusiongen"
	"github.com/otelfusion/otelfusion/pkg/fusionql"
)

// testClock is a settable clock for retention and time windows.
type testClock struct{ t time.Time }

func (c *testClock) now() time.Time { return c.t }

// newTestStore opens a store in the test's temp dir with the default store
// configuration, changed by edit.
func newTestStore(t *testing.T, clock *testClock, edit func(*Config)) *Store {
	t.Helper()
	cfg := NewDefaultConfig()
	cfg.Path = filepath.Join(t.TempDir(), "data", "fusion.duckdb")
	if edit != nil {
		edit(&cfg)
	}
	s, err := open(context.Background(), &cfg, clock.now)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	// The race detector's shadow memory is native too: tests that want the
	// query memory guard fake what it measures.
	s.nativeMemory = func() (int64, error) { return 0, nil }
	return s
}

// queryResult is an answer collected whole, for tests; it also reads the
// query API's JSON answers.
type queryResult struct {
	Columns   []string `json:"columns"`
	Rows      [][]any  `json:"rows"`
	Truncated bool     `json:"truncated"`
	Error     string   `json:"error"`
}

func (r *queryResult) Begin(columns []string) error {
	r.Columns, r.Rows = columns, [][]any{}
	return nil
}

func (r *queryResult) Row(values []any) error {
	r.Rows = append(r.Rows, slices.Clone(values))
	return nil
}

// collectQuery runs a FusionQL query and returns its whole answer.
func collectQuery(s *Store, text, tenant string, limits QueryLimits) (*queryResult, error) {
	res := &queryResult{}
	if err := s.Query(context.Background(), text, tenant, limits, res); err != nil {
		return nil, err
	}
	return res, nil
}

// sqlRows runs raw SQL on the store and returns its rows as plain values.
func sqlRows(t *testing.T, s *Store, query string, args ...any) [][]any {
	t.Helper()
	res := &queryResult{}
	require.NoError(t, s.run(context.Background(), query, args, 0, res))
	return res.Rows
}

func hexID(b []byte) string { return hex.EncodeToString(b) }

func TestRowsFollowSchema(t *testing.T) {
	s := newTestStore(t, &testClock{t: fusiongen.BaseTime}, nil)
	for _, c := range []struct {
		table string
		batch batch
	}{{"traces", &spanBatch{}}, {"logs", &logBatch{}}, {"metrics", &pointBatch{}}} {
		table, ok := fusionql.LookupTable(c.table)
		require.True(t, ok)
		assert.Len(t, c.batch.columns(), len(table.Columns), c.table)
	}
	// Appending the full data (every attribute value type, every metric
	// type) works end to end.
	require.NoError(t, s.AppendTraces(context.Background(), fusiongen.FullTraces()))
	require.NoError(t, s.AppendLogs(context.Background(), fusiongen.FullLogs()))
	require.NoError(t, s.AppendMetrics(context.Background(), fusiongen.FullMetrics()))
	assert.Equal(t, int64(fusiongen.FullMetrics().DataPointCount()), sqlRows(t, s, "SELECT count(*) FROM metrics")[0][0])
}

func TestIngestStoresExactRows(t *testing.T) {
	s := newTestStore(t, &testClock{t: fusiongen.BaseTime}, nil)
	gen := fusiongen.New(7)
	td, ld, md := gen.Traces(300), gen.Logs(200), gen.Metrics(150)
	require.NoError(t, s.AppendTraces(context.Background(), td))
	require.NoError(t, s.AppendLogs(context.Background(), ld))
	require.NoError(t, s.AppendMetrics(context.Background(), md))

	var wantSpans [][]any
	for _, rs := range td.ResourceSpans().All() {
		svc, _ := rs.Resource().Attributes().Get("service.name")
		for _, ss := range rs.ScopeSpans().All() {
			for _, sp := range ss.Spans().All() {
				tid, sid := sp.TraceID(), sp.SpanID()
				parent := any(nil)
				if p := sp.ParentSpanID(); !p.IsEmpty() {
					parent = hexID(p[:])
				}
				start, end := int64(sp.StartTimestamp()), int64(sp.EndTimestamp())
				wantSpans = append(wantSpans, []any{"", hexID(tid[:]), hexID(sid[:]), parent, svc.Str(), sp.Name(),
					start, end, end - start})
			}
		}
	}
	sortRows(wantSpans)
	got := sqlRows(t, s, `SELECT tenant, trace_id, span_id, parent_span_id, service_name, operation,
		start_time, end_time, duration_ns FROM traces`)
	sortRows(got)
	assert.Equal(t, wantSpans, got)

	var wantLogs [][]any
	for _, rl := range ld.ResourceLogs().All() {
		svc, _ := rl.Resource().Attributes().Get("service.name")
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				tid := any(nil)
				if id := lr.TraceID(); !id.IsEmpty() {
					tid = hexID(id[:])
				}
				wantLogs = append(wantLogs, []any{int64(lr.Timestamp()), tid, svc.Str(), lr.SeverityText(),
					int64(lr.SeverityNumber()), lr.Body().Str()})
			}
		}
	}
	sortRows(wantLogs)
	got = sqlRows(t, s, "SELECT timestamp, trace_id, service_name, level, severity_number, body FROM logs")
	sortRows(got)
	assert.Equal(t, wantLogs, got)

	// Metric points: name, type, timestamp, and the count of the
	// histogram-like ones, computed from pdata.
	var wantPoints [][]any
	for _, rm := range md.ResourceMetrics().All() {
		svc, _ := rm.Resource().Attributes().Get("service.name")
		for _, sm := range rm.ScopeMetrics().All() {
			for _, m := range sm.Metrics().All() {
				add := func(typ string, ts pcommon.Timestamp, count any) {
					wantPoints = append(wantPoints, []any{svc.Str(), m.Name(), typ, int64(ts), count})
				}
				switch m.Type() {
				case pmetric.MetricTypeGauge:
					for _, dp := range m.Gauge().DataPoints().All() {
						add("gauge", dp.Timestamp(), nil)
					}
				case pmetric.MetricTypeSum:
					for _, dp := range m.Sum().DataPoints().All() {
						add("sum", dp.Timestamp(), nil)
					}
				case pmetric.MetricTypeHistogram:
					for _, dp := range m.Histogram().DataPoints().All() {
						add("histogram", dp.Timestamp(), int64(dp.Count()))
					}
				case pmetric.MetricTypeExponentialHistogram:
					for _, dp := range m.ExponentialHistogram().DataPoints().All() {
						add("exponential_histogram", dp.Timestamp(), int64(dp.Count()))
					}
				case pmetric.MetricTypeSummary:
					for _, dp := range m.Summary().DataPoints().All() {
						add("summary", dp.Timestamp(), int64(dp.Count()))
					}
				}
			}
		}
	}
	require.Len(t, wantPoints, md.DataPointCount())
	sortRows(wantPoints)
	got = sqlRows(t, s, "SELECT service_name, name, type, timestamp, count FROM metrics")
	sortRows(got)
	assert.Equal(t, wantPoints, got)
	types := sqlRows(t, s, "SELECT DISTINCT type FROM metrics ORDER BY type")
	assert.Len(t, types, 5)
}

func TestIngestColumnValues(t *testing.T) {
	s := newTestStore(t, &testClock{t: fusiongen.BaseTime}, nil)
	start := pcommon.Timestamp(1_000_000_000)

	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "checkout")
	rs.Resource().Attributes().PutStr("tenant.id", "acme")
	sp := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	sp.SetTraceID(pcommon.TraceID{0xAB, 1})
	sp.SetSpanID(pcommon.SpanID{0xCD, 2})
	sp.SetName("POST /pay")
	sp.SetKind(ptrace.SpanKindServer)
	sp.Status().SetCode(ptrace.StatusCodeError)
	sp.SetStartTimestamp(start)
	sp.SetEndTimestamp(start + 1500)
	sp.Attributes().PutInt("http.status", 500)
	require.NoError(t, s.AppendTraces(context.Background(), td))
	assert.Equal(t, [][]any{{"acme", "ab010000000000000000000000000000", "cd02000000000000", nil, "checkout", "POST /pay",
		"SERVER", "ERROR", int64(start), int64(start + 1500), int64(1500), int64(start), orderedMap("http.status", "500"), orderedMap("service.name", "checkout", "tenant.id", "acme")}},
		sqlRows(t, s, "SELECT * FROM traces"))

	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "checkout")
	lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.SetObservedTimestamp(start + 10) // no timestamp: the observed one is used
	lr.SetSeverityNumber(plog.SeverityNumberError2)
	lr.Body().SetStr("card declined")
	lr.Attributes().PutStr(logOperationAttribute, "POST /pay")
	require.NoError(t, s.AppendLogs(context.Background(), ld))
	assert.Equal(t, [][]any{{"", int64(start + 10), nil, nil, "checkout", "POST /pay", "ERROR", int64(18), "card declined",
		orderedMap(logOperationAttribute, "POST /pay"), orderedMap("service.name", "checkout")}}, sqlRows(t, s, "SELECT * FROM logs"))

	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", "checkout")
	ms := rm.ScopeMetrics().AppendEmpty().Metrics()
	g := ms.AppendEmpty()
	g.SetName("queue.size")
	gp := g.SetEmptyGauge().DataPoints().AppendEmpty()
	gp.SetTimestamp(start)
	gp.SetIntValue(7)
	h := ms.AppendEmpty()
	h.SetName("latency")
	hp := h.SetEmptyHistogram().DataPoints().AppendEmpty()
	hp.SetTimestamp(start)
	hp.SetCount(4)
	hp.SetSum(10)
	hp.BucketCounts().FromRaw([]uint64{1, 3})
	ex := hp.Exemplars().AppendEmpty()
	ex.SetTraceID(pcommon.TraceID{0xAB, 1})
	ex.SetSpanID(pcommon.SpanID{0xCD, 2})
	require.NoError(t, s.AppendMetrics(context.Background(), md))
	assert.Equal(t, [][]any{
		{"", int64(start), "checkout", "latency", "histogram", 2.5, orderedMap(), orderedMap("service.name", "checkout"), "ab010000000000000000000000000000", "cd02000000000000",
			int64(4), 10.0, []any{int64(1), int64(3)}},
		{"", int64(start), "checkout", "queue.size", "gauge", 7.0, orderedMap(), orderedMap("service.name", "checkout"), nil, nil, nil, nil, nil},
	}, sqlRows(t, s, "SELECT * FROM metrics ORDER BY name"))
}

// orderedMap is a MAP(VARCHAR, VARCHAR) value as the driver scans it, from
// alternating keys and values.
func orderedMap(kv ...string) duckdb.OrderedMap {
	var m duckdb.OrderedMap
	for i := 0; i+1 < len(kv); i += 2 {
		m.Set(kv[i], kv[i+1])
	}
	return m
}

// sortRows orders rows by their printed form, for order-free comparison.
func sortRows(rows [][]any) {
	sort.Slice(rows, func(i, j int) bool { return fmt.Sprint(rows[i]) < fmt.Sprint(rows[j]) })
}

// tenantTraces is one span of tenant at ts, with a retention override when
// retention is not empty.
func tenantTraces(tenant, retention string, ts time.Time) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "svc-"+tenant)
	if tenant != "" {
		rs.Resource().Attributes().PutStr("tenant.id", tenant)
	}
	if retention != "" {
		rs.Resource().Attributes().PutStr("otelfusion.retention", retention)
	}
	sp := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	sp.SetTraceID(pcommon.TraceID{1})
	sp.SetSpanID(pcommon.SpanID{1})
	sp.SetName("op")
	sp.SetStartTimestamp(pcommon.NewTimestampFromTime(ts))
	sp.SetEndTimestamp(pcommon.NewTimestampFromTime(ts.Add(time.Millisecond)))
	return td
}

func tenantLogs(tenant string, ts time.Time) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	if tenant != "" {
		rl.Resource().Attributes().PutStr("tenant.id", tenant)
	}
	lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.SetTimestamp(pcommon.NewTimestampFromTime(ts))
	lr.Body().SetStr("x")
	return ld
}

func TestRetentionByAgeAndTenant(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	clock := &testClock{t: now}
	s := newTestStore(t, clock, func(c *Config) { c.Retention = 24 * time.Hour })

	for _, age := range []time.Duration{time.Minute, 2 * time.Hour, 30 * time.Hour} {
		ts := now.Add(-age)
		require.NoError(t, s.AppendTraces(context.Background(), tenantTraces("", "", ts)))
		require.NoError(t, s.AppendTraces(context.Background(), tenantTraces("default-tenant", "", ts)))
		require.NoError(t, s.AppendTraces(context.Background(), tenantTraces("short", "1h", ts)))
		require.NoError(t, s.AppendTraces(context.Background(), tenantTraces("long", "48h", ts)))
		require.NoError(t, s.AppendLogs(context.Background(), tenantLogs("", ts)))
	}
	// A malformed override is ignored: the tenant keeps the default.
	require.NoError(t, s.AppendTraces(context.Background(), tenantTraces("bad", "soon", now.Add(-30*time.Hour))))

	deleted, err := s.sweep(context.Background())
	require.NoError(t, err)
	assert.Equal(t, int64(1+1+2+1+1), deleted) // "", default-tenant, short x2, bad, logs

	got := sqlRows(t, s, "SELECT tenant, (? - start_time) // 3600000000000 AS hours FROM traces ORDER BY tenant, hours", now.UnixNano())
	assert.Equal(t, [][]any{
		{"", int64(0)}, {"", int64(2)},
		{"default-tenant", int64(0)}, {"default-tenant", int64(2)},
		{"long", int64(0)}, {"long", int64(2)}, {"long", int64(30)},
		{"short", int64(0)},
	}, got)
	assert.Equal(t, int64(2), sqlRows(t, s, "SELECT count(*) FROM logs")[0][0])

	// Overrides survive a reopen of the database.
	require.NoError(t, s.Close())
	reopened, err := open(context.Background(), s.cfg, clock.now)
	require.NoError(t, err)
	defer reopened.Close()
	assert.Equal(t, map[string]time.Duration{"short": time.Hour, "long": 48 * time.Hour}, reopened.retentions())
	clock.t = now.Add(90 * time.Minute)
	deleted, err = reopened.sweep(context.Background())
	require.NoError(t, err)
	assert.Equal(t, int64(1), deleted) // short's minute-old span is now 91 minutes old
}

func TestRetentionZeroKeepsForever(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	s := newTestStore(t, &testClock{t: now}, func(c *Config) { c.Retention = 0 })
	require.NoError(t, s.AppendTraces(context.Background(), tenantTraces("", "", now.Add(-1000*time.Hour))))
	deleted, err := s.sweep(context.Background())
	require.NoError(t, err)
	assert.Zero(t, deleted)
}

func TestSweeperRunsPeriodically(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	s := newTestStore(t, &testClock{t: now}, func(c *Config) { c.Retention = time.Hour })
	require.NoError(t, s.AppendTraces(context.Background(), tenantTraces("", "", now.Add(-2*time.Hour))))
	sw := startSweeper(s, 20*time.Millisecond, zap.NewNop(), noop.Int64Counter{})
	defer sw.Stop()
	require.Eventually(t, func() bool {
		return sqlRows(t, s, "SELECT count(*) FROM traces")[0][0] == int64(0)
	}, 5*time.Second, 20*time.Millisecond)
}

func TestQueryScopesTenantAndCapsRows(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	s := newTestStore(t, &testClock{t: now}, nil)
	for i := range 5 {
		require.NoError(t, s.AppendTraces(context.Background(), tenantTraces("acme", "", now.Add(-time.Duration(i)*time.Minute))))
	}
	for i := range 3 {
		require.NoError(t, s.AppendTraces(context.Background(), tenantTraces("globex", "", now.Add(-time.Duration(i)*time.Minute))))
	}
	limits := QueryLimits{Timeout: 10 * time.Second, MaxRows: 100, DefaultTimeWindow: time.Hour}
	q := "SELECT span.service_name FROM traces"

	for tenant, want := range map[string]int{"acme": 5, "globex": 3, "": 8, "nobody": 0} {
		res, err := collectQuery(s, q, tenant, limits)
		require.NoError(t, err)
		assert.Len(t, res.Rows, want, tenant)
		for _, row := range res.Rows {
			if tenant != "" {
				assert.Equal(t, "svc-"+tenant, row[0])
			}
		}
	}

	limits.MaxRows = 2
	res, err := collectQuery(s, q+" LIMIT 50", "acme", limits)
	require.NoError(t, err)
	assert.Len(t, res.Rows, 2)
}

func TestQueryTimeout(t *testing.T) {
	s := newTestStore(t, &testClock{t: time.Now()}, nil)
	// A big cross join that runs for seconds.
	_, err := s.db.Exec(`INSERT INTO traces (tenant, trace_id, start_time, end_time)
		SELECT '', 't' || (i % 1000), i, i + 1 FROM range(200000) r(i)`)
	require.NoError(t, err)
	limits := QueryLimits{Timeout: 50 * time.Millisecond, MaxRows: 10, DefaultTimeWindow: 0}
	started := time.Now()
	_, err = collectQuery(s,
		"SELECT COUNT(*) FROM traces a JOIN traces b ON a.trace_id = b.trace_id AND b.start_time BETWEEN a.start_time AND a.end_time + 100000000", "", limits)
	require.ErrorIs(t, err, ErrQueryTimeout)
	assert.Less(t, time.Since(started), 5*time.Second)
}

func TestQueryErrorsArePositioned(t *testing.T) {
	s := newTestStore(t, &testClock{t: time.Now()}, nil)
	_, err := collectQuery(s, "SELECT span.nope FROM traces", "", QueryLimits{MaxRows: 10})
	var qlErr *fusionql.Error
	require.ErrorAs(t, err, &qlErr)
	assert.Contains(t, err.Error(), "1:")
}

// TestAttributesAreMaps stores the attributes and resource of every signal
// as maps of OTLP string forms and reads them back with FusionQL lookups.
func TestAttributesAreMaps(t *testing.T) {
	s := newTestStore(t, &testClock{t: fusiongen.BaseTime}, nil)
	fill := func(res, attrs pcommon.Map) {
		res.PutStr("service.name", "api")
		res.PutStr("k8s.pod.name", "api-0")
		res.PutInt("replica", 3)
		attrs.PutStr("http.route", "/users/{id}")
		attrs.PutInt("http.response.status_code", 503)
		attrs.PutDouble("ratio", 0.25)
		attrs.PutBool("ok", true)
		attrs.PutEmptySlice("tags").AppendEmpty().SetStr("a")
		attrs.PutEmptyBytes("raw").FromRaw([]byte{1, 2})
	}
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	span := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	span.SetStartTimestamp(pcommon.NewTimestampFromTime(fusiongen.BaseTime))
	fill(rs.Resource().Attributes(), span.Attributes())
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	fill(rl.Resource().Attributes(), rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty().Attributes())
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	dp := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty().SetEmptyGauge().DataPoints().AppendEmpty()
	dp.SetDoubleValue(1)
	fill(rm.Resource().Attributes(), dp.Attributes())
	// A resource without attributes is an empty map, not NULL.
	td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty().Attributes().PutStr("http.route", "/health")
	require.NoError(t, s.AppendTraces(context.Background(), td))
	require.NoError(t, s.AppendLogs(context.Background(), ld))
	require.NoError(t, s.AppendMetrics(context.Background(), md))

	for _, signal := range []struct{ table, prefix string }{{"traces", "span"}, {"logs", "log"}, {"metrics", "metric"}} {
		t.Run(signal.table, func(t *testing.T) {
			p := signal.prefix
			res, err := collectQuery(s, fmt.Sprintf(`SELECT %[1]s.attributes['http.route'], %[1]s.attributes['http.response.status_code'],
				%[1]s.attributes['ratio'], %[1]s.attributes['ok'], %[1]s.attributes['tags'], %[1]s.attributes['raw'], %[1]s.attributes['missing'],
				%[1]s.resource['k8s.pod.name'] FROM %[2]s
				WHERE %[1]s.attributes['http.response.status_code'] >= 500 AND %[1]s.attributes['ratio'] > 0 AND %[1]s.resource['replica'] = 3`, p, signal.table),
				"", QueryLimits{MaxRows: 10})
			require.NoError(t, err)
			assert.Equal(t, [][]any{{"/users/{id}", "503", "0.25", "true", `["a"]`, "AQI=", nil, "api-0"}}, res.Rows)

			// The maps themselves answer as JSON objects.
			res, err = collectQuery(s, "SELECT resource FROM "+signal.table+" WHERE resource['k8s.pod.name'] = 'api-0'", "", QueryLimits{MaxRows: 10})
			require.NoError(t, err)
			require.Len(t, res.Rows, 1)
			b, err := json.Marshal(res.Rows[0][0])
			require.NoError(t, err)
			assert.JSONEq(t, `{"service.name": "api", "k8s.pod.name": "api-0", "replica": "3"}`, string(b))
		})
	}
	assert.Equal(t, [][]any{{int64(1)}}, sqlRows(t, s, "SELECT count(*) FROM traces WHERE cardinality(resource) = 0"))
}

// TestOpenRefusesAnOlderSchema opens a file whose tables an older store
// wrote, with attributes as JSON text: Open names the first column that
// differs, and leaves the file as it was.
func TestOpenRefusesAnOlderSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.duckdb")
	cfg := NewDefaultConfig()
	cfg.Path = path
	s, err := Open(context.Background(), &cfg)
	require.NoError(t, err)
	_, err = s.db.Exec(`DROP TABLE logs`)
	require.NoError(t, err)
	_, err = s.db.Exec(`CREATE TABLE logs ("tenant" VARCHAR, "timestamp" BIGINT, "trace_id" VARCHAR, "span_id" VARCHAR,
		"service_name" VARCHAR, "operation" VARCHAR, "level" VARCHAR, "severity_number" BIGINT, "body" VARCHAR, "attributes" VARCHAR)`)
	require.NoError(t, err)
	require.NoError(t, s.Close())

	_, err = Open(context.Background(), &cfg)
	require.ErrorIs(t, err, ErrSchemaMismatch)
	assert.Contains(t, err.Error(), "table logs: column 10 is attributes VARCHAR where the schema has attributes MAP(VARCHAR, VARCHAR)")
	assert.Contains(t, err.Error(), path)

	for _, tt := range []struct {
		name        string
		stored      []storedColumn
		wantProblem string
	}{
		{"same", []storedColumn{{"a", "BIGINT"}, {"b", "VARCHAR"}}, ""},
		{"missing", []storedColumn{{"a", "BIGINT"}}, "column 2 should be b VARCHAR and is missing"},
		{"extra", []storedColumn{{"a", "BIGINT"}, {"b", "VARCHAR"}, {"c", "DOUBLE"}}, "it has columns the schema lacks: c DOUBLE"},
		{"renamed", []storedColumn{{"a", "BIGINT"}, {"c", "VARCHAR"}}, "column 2 is c VARCHAR where the schema has b VARCHAR"},
	} {
		assert.Equal(t, tt.wantProblem, columnMismatch(tt.stored, []storedColumn{{"a", "BIGINT"}, {"b", "VARCHAR"}}), tt.name)
	}
}

func TestStoreAppliesResourceSettings(t *testing.T) {
	spill := filepath.Join(t.TempDir(), "spill")
	tests := []struct {
		name string
		edit func(*Config)
		want func(cfg *Config) map[string]string
	}{
		{
			name: "defaults",
			want: func(cfg *Config) map[string]string {
				return map[string]string{"memory_limit": "512.0 MiB", "threads": "2",
					"temp_directory": cfg.Path + ".tmp", "max_temp_directory_size": "1.0 GiB"}
			},
		},
		{
			name: "configured",
			edit: func(c *Config) {
				c.MemoryLimit, c.Threads, c.TempDirectory, c.MaxTempDirectorySize = 64<<20, 1, spill, 100<<20
			},
			want: func(*Config) map[string]string {
				return map[string]string{"memory_limit": "64.0 MiB", "threads": "1",
					"temp_directory": spill, "max_temp_directory_size": "100.0 MiB"}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestStore(t, &testClock{t: time.Now()}, tt.edit)
			for name, want := range tt.want(s.cfg) {
				// Every connection of the pool sees them: they are global.
				for range 3 {
					assert.Equal(t, want, sqlRows(t, s, "SELECT CAST(current_setting(?) AS VARCHAR)", name)[0][0], name)
				}
			}
		})
	}
}

const selfJoin = "FROM traces a JOIN traces b ON a.trace_id = b.trace_id AND b.start_time BETWEEN a.start_time AND a.end_time + 100000000"

func TestQueryMemoryLimit(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*Store)
		query string
		want  string
	}{
		{
			// 40M groups: the hash table spills, and the temp directory
			// is full at 1 MiB. DuckDB refuses it itself.
			name:  "duckdb out of memory",
			query: "SELECT a.start_time, b.start_time, COUNT(*) " + selfJoin + " GROUP BY a.start_time, b.start_time",
			want:  "Out of Memory Error",
		},
		{
			// QUANTILE keeps its values outside DuckDB's accounting: the
			// guard sees the native memory pass the limit and interrupts.
			name: "guard",
			edit: func(s *Store) {
				// 100 MiB before the query, then growing by 40 MiB a sample.
				var samples atomic.Int64
				s.nativeMemory = func() (int64, error) { return 100<<20 + (samples.Add(1)-1)*(40<<20), nil }
			},
			query: "SELECT COUNT(*), QUANTILE(b.duration_ns, 0.5) " + selfJoin,
			want:  "running queries took the store's native memory from 100 MiB to 220 MiB, past the limit (32 MiB) + 64 MiB",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// 200000 spans, 200 per trace: the self join on trace_id
			// yields 40M rows.
			s := newTestStore(t, &testClock{t: time.Now()}, func(c *Config) {
				c.MemoryLimit, c.MaxTempDirectorySize = 32<<20, 1<<20
			})
			_, err := s.db.Exec(`INSERT INTO traces (tenant, trace_id, start_time, end_time, duration_ns)
				SELECT 'acme', 't' || (i % 1000), i, i + 1, i FROM range(200000) r(i)`)
			require.NoError(t, err)
			if tt.edit != nil {
				tt.edit(s)
			}
			limits := QueryLimits{Timeout: time.Minute, MaxRows: 10}
			_, err = collectQuery(s, tt.query, "acme", limits)
			require.ErrorIs(t, err, ErrMemoryLimit)
			assert.Contains(t, err.Error(), "'memory_limit'")
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), "\n")

			// The store answers the next query.
			res, err := collectQuery(s, "SELECT COUNT(*) AS n FROM traces", "acme", limits)
			require.NoError(t, err)
			assert.Equal(t, [][]any{{int64(200000)}}, res.Rows)
		})
	}
}
