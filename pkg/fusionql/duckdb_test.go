package fusionql_test

import (
	"database/sql"
	"fmt"
	"math/big"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
	"github.com/stretchr/testify/require"

	"github.com/otelfusion/otelfusion/pkg/fusionql"
)

// t0 is a whole two minutes (and so a whole minute) in nanoseconds, so that
// buckets start at t0 + k minutes.
const t0 = int64(1_699_999_920) * int64(time.Second)

func at(d time.Duration) int64 { return t0 + int64(d) }

// openTestStore creates the schema in an in-memory DuckDB the way the store
// does (pkg/fusionstore schemaDDL) and fills it with a few rows of
// tenant acme and one tenant-evil row that scoping must hide.
func openTestStore(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	db.SetMaxOpenConns(1) // one connection: one in-memory database
	for _, stmt := range (fusionql.DuckDB{}).SchemaDDL() {
		_, err := db.Exec(stmt)
		require.NoError(t, err)
	}
	// Attributes: http.route, an http.response.status_code (tr4 has none),
	// a ratio on tr1; the resource names the pod.
	spans := []struct {
		tenant, traceID, operation, status string
		start, duration                    time.Duration
		route, code, ratio, pod            string
	}{
		{"acme", "tr1", "GET /", "OK", 10 * time.Second, 50 * time.Millisecond, "/", "200", "0.25", "api-0"},
		{"acme", "tr2", "GET /", "ERROR", 30 * time.Second, 2 * time.Second, "/", "503", "", "api-1"},
		{"acme", "tr3", "POST /pay", "OK", 70 * time.Second, 1500 * time.Millisecond, "/pay", "201", "", "api-0"},
		{"acme", "tr4", "GET /", "OK", 130 * time.Second, 20 * time.Millisecond, "/", "", "", "api-1"},
		{"acme", "tr5", "POST /pay", "ERROR", 150 * time.Second, 300 * time.Millisecond, "/pay", "500", "", "api-0"},
		{"evil", "tr6", "GET /", "ERROR", 20 * time.Second, 5 * time.Second, "/", "500", "", "api-0"},
	}
	for i, s := range spans {
		// An empty string leaves the key out of the map.
		_, err := db.Exec(`INSERT INTO traces (tenant, trace_id, span_id, service_name, operation, status_code, start_time, end_time, duration_ns, attributes, resource)
			VALUES (?, ?, ?, 'shop', ?, ?, ?, ?, ?,
				map_from_entries(list_filter([{'key': 'http.route', 'value': ?}, {'key': 'http.response.status_code', 'value': ?}, {'key': 'ratio', 'value': ?}], e -> e.value != '')),
				MAP {'k8s.pod.name': ?})`,
			s.tenant, s.traceID, fmt.Sprintf("s%d", i+1), s.operation, s.status, at(s.start), at(s.start+s.duration), int64(s.duration),
			s.route, s.code, s.ratio, s.pod)
		require.NoError(t, err)
	}
	points := []struct {
		tenant, pod string
		ts          time.Duration
		value       float64
	}{
		{"acme", "api-0", 10020 * time.Millisecond, 0.5},
		{"acme", "api-1", 30500 * time.Millisecond, 0.7},
		{"acme", "api-0", 200 * time.Second, 0.9}, // in no span
		{"evil", "api-0", 10020 * time.Millisecond, 9},
	}
	for _, p := range points {
		_, err := db.Exec(`INSERT INTO metrics (tenant, "timestamp", service_name, name, type, value, attributes, resource)
			VALUES (?, ?, 'shop', 'process.cpu.utilization', 'gauge', ?, MAP {}, MAP {'k8s.pod.name': ?})`,
			p.tenant, at(p.ts), p.value, p.pod)
		require.NoError(t, err)
	}
	logs := []struct {
		tenant, traceID, level string
		ts                     time.Duration
	}{
		{"acme", "tr2", "ERROR", 31 * time.Second},
		{"acme", "tr2", "INFO", 31500 * time.Millisecond},
		{"acme", "tr3", "WARN", 71 * time.Second},
		{"acme", "tr3", "INFO", 200 * time.Second}, // after its span ended
		{"evil", "tr2", "ERROR", 31 * time.Second}, // another tenant's log on acme's trace id
	}
	for _, l := range logs {
		_, err := db.Exec(`INSERT INTO logs (tenant, "timestamp", trace_id, service_name, level, body) VALUES (?, ?, ?, 'shop', ?, 'x')`,
			l.tenant, at(l.ts), l.traceID, l.level)
		require.NoError(t, err)
	}
	return db
}

// TestDuckDBRunsTranslation runs translated queries on DuckDB and checks the
// exact answers, so that the SQL binds and means what the language says.
func TestDuckDBRunsTranslation(t *testing.T) {
	db := openTestStore(t)
	const (
		slow = "CASE WHEN duration_ns >= INTERVAL '1s' THEN 'slow' WHEN duration_ns >= INTERVAL '100ms' THEN 'ok' ELSE 'fast' END"
		sec  = int64(time.Second)
	)
	tests := []struct {
		name    string
		query   string
		maxRows int
		want    [][]any
	}{
		{
			name:  "GROUP BY TIME_BUCKET alias",
			query: "SELECT TIME_BUCKET(INTERVAL '1m', start_time) AS minute, COUNT(*) AS n FROM traces GROUP BY minute ORDER BY minute",
			want:  [][]any{{t0, int64(2)}, {t0 + 60*sec, int64(1)}, {t0 + 120*sec, int64(2)}},
		},
		{
			name: "GROUP BY and ORDER BY the TIME_BUCKET expression",
			query: "SELECT TIME_BUCKET(INTERVAL '1m', span.start_time), COUNT(*) FROM traces " +
				"GROUP BY TIME_BUCKET(INTERVAL '1m', span.start_time) ORDER BY TIME_BUCKET(INTERVAL '1m', span.start_time) DESC",
			want: [][]any{{t0 + 120*sec, int64(2)}, {t0 + 60*sec, int64(1)}, {t0, int64(2)}},
		},
		{
			name: "a select item computed from the grouped bucket",
			query: "SELECT TIME_BUCKET(INTERVAL '1m', start_time) + INTERVAL '1m' AS bucket_end, COUNT(*) FROM traces " +
				"GROUP BY TIME_BUCKET(INTERVAL '1m', start_time) ORDER BY bucket_end",
			want: [][]any{{t0 + 60*sec, int64(2)}, {t0 + 120*sec, int64(1)}, {t0 + 180*sec, int64(2)}},
		},
		{
			name: "time arithmetic with a parameter in GROUP BY, not aliased",
			query: "SELECT start_time - start_time % INTERVAL '2m', COUNT(*) FROM traces " +
				"GROUP BY start_time - start_time % INTERVAL '2m' ORDER BY start_time - start_time % INTERVAL '2m'",
			want: [][]any{{t0, int64(3)}, {t0 + 120*sec, int64(2)}},
		},
		{
			name:  "TIME_BUCKET of a duration",
			query: "SELECT TIME_BUCKET(INTERVAL '1s', duration_ns) AS d, COUNT(*) FROM traces GROUP BY d ORDER BY d",
			want:  [][]any{{int64(0), int64(3)}, {sec, int64(1)}, {2 * sec, int64(1)}},
		},
		{
			name:  "GROUP BY and ORDER BY CASE",
			query: "SELECT " + slow + " AS speed, COUNT(*) FROM traces GROUP BY " + slow + " ORDER BY " + slow,
			want:  [][]any{{"fast", int64(2)}, {"ok", int64(1)}, {"slow", int64(2)}},
		},
		{
			name: "simple CASE in SELECT, searched CASE in WHERE",
			query: "SELECT operation, CASE status_code WHEN 'ERROR' THEN 1 ELSE 0 END AS failed FROM traces " +
				"WHERE CASE WHEN operation LIKE 'POST%' THEN duration_ns ELSE INTERVAL '0s' END > INTERVAL '1s'",
			want: [][]any{{"POST /pay", int64(0)}},
		},
		{
			name:  "CASE over an aggregate",
			query: "SELECT operation, CASE WHEN COUNT(*) > 2 THEN 'busy' ELSE 'quiet' END FROM traces GROUP BY operation ORDER BY operation",
			want:  [][]any{{"GET /", "busy"}, {"POST /pay", "quiet"}},
		},
		{
			name:  "HAVING",
			query: "SELECT operation, COUNT(*) AS n, MAX(duration_ns) FROM traces GROUP BY operation HAVING COUNT(*) >= 3 ORDER BY operation",
			want:  [][]any{{"GET /", int64(3), 2 * sec}},
		},
		{
			name:  "HAVING on a select alias",
			query: "SELECT operation, SUM(duration_ns) AS total FROM traces GROUP BY operation HAVING total > INTERVAL '2s'",
			want:  [][]any{{"GET /", 2*sec + int64(70*time.Millisecond)}},
		},
		{
			name:  "HAVING without GROUP BY",
			query: "SELECT COUNT(*) FROM traces HAVING COUNT(*) > 4",
			want:  [][]any{{int64(5)}},
		},
		{
			name:  "HAVING without GROUP BY that filters the one group",
			query: "SELECT COUNT(*) FROM traces HAVING COUNT(*) > 5",
			want:  nil,
		},
		{
			name:  "LIMIT and OFFSET",
			query: "SELECT span_id FROM traces ORDER BY start_time LIMIT 2 OFFSET 1",
			want:  [][]any{{"s2"}, {"s3"}},
		},
		{
			name:    "OFFSET under a smaller row cap",
			query:   "SELECT span_id FROM traces ORDER BY start_time LIMIT 2 OFFSET 1",
			maxRows: 1,
			want:    [][]any{{"s2"}},
		},
		{
			name:  "OFFSET without LIMIT",
			query: "SELECT span_id FROM traces ORDER BY start_time OFFSET 3",
			want:  [][]any{{"s4"}, {"s5"}},
		},
		{
			name:    "OFFSET without LIMIT under the row cap",
			query:   "SELECT span_id FROM traces ORDER BY start_time OFFSET 3",
			maxRows: 1,
			want:    [][]any{{"s4"}},
		},
		{
			name: "join bucketed by the log's minute, tenant scoped",
			query: "SELECT TIME_BUCKET(INTERVAL '1m', l.timestamp) AS minute, COUNT(*) FROM traces t " +
				"JOIN logs l ON l.trace_id = t.trace_id AND l.timestamp BETWEEN t.start_time AND t.end_time " +
				"GROUP BY minute ORDER BY minute",
			want: [][]any{{t0, int64(2)}, {t0 + 60*sec, int64(1)}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := fusionql.Parse(tt.query)
			require.NoError(t, err)
			opts := fusionql.TranslateOptions{Tenant: "acme", MaxRows: 100}
			if tt.maxRows > 0 {
				opts.MaxRows = tt.maxRows
			}
			text, args, err := fusionql.DuckDB{}.Translate(q, opts)
			require.NoError(t, err)
			require.Equal(t, tt.want, queryRows(t, db, text, args), "SQL: %s", text)
		})
	}
}

// TestDuckDBRunsAttributeQueries runs attribute lookups on DuckDB and checks
// the exact answers: typed comparisons, missing keys, grouping on an
// attribute in every clause, and a join on a resource attribute.
func TestDuckDBRunsAttributeQueries(t *testing.T) {
	db := openTestStore(t)
	const code = "span.attributes['http.response.status_code']"
	tests := []struct {
		name  string
		query string
		want  [][]any
	}{
		{
			name:  "numeric comparison with an integer",
			query: "SELECT span_id FROM traces WHERE " + code + " >= 500 ORDER BY span_id",
			want:  [][]any{{"s2"}, {"s5"}},
		},
		{
			name:  "string comparison",
			query: "SELECT span_id FROM traces WHERE " + code + " = '200' OR " + code + " LIKE '20%' ORDER BY span_id",
			want:  [][]any{{"s1"}, {"s3"}},
		},
		{
			name:  "a fraction compared with an integer is not rounded",
			query: "SELECT span_id FROM traces WHERE attributes['ratio'] > 0 AND attributes['ratio'] < 1 AND attributes['ratio'] = 0.25",
			want:  [][]any{{"s1"}},
		},
		{
			name:  "a missing key is NULL",
			query: "SELECT span_id, attributes['nope'], " + code + " IS NULL FROM traces WHERE span_id IN ('s1', 's4') ORDER BY span_id",
			want:  [][]any{{"s1", nil, false}, {"s4", nil, true}},
		},
		{
			name:  "a non-number compared with a number is NULL, not an error",
			query: "SELECT COUNT(*) FROM traces WHERE span.attributes['http.route'] > 0",
			want:  [][]any{{int64(0)}},
		},
		{
			name:  "IN and BETWEEN on a number",
			query: "SELECT span_id FROM traces WHERE " + code + " IN (200, 201) OR " + code + " BETWEEN 502 AND 504 ORDER BY span_id",
			want:  [][]any{{"s1"}, {"s2"}, {"s3"}},
		},
		{
			name:  "GROUP BY an attribute alias",
			query: "SELECT attributes['http.route'] AS route, COUNT(*) FROM traces GROUP BY route ORDER BY route",
			want:  [][]any{{"/", int64(3)}, {"/pay", int64(2)}},
		},
		{
			name: "GROUP BY the attribute, a select item computed from it, HAVING and ORDER BY",
			query: "SELECT UPPER(span.attributes['http.route']), COUNT(*) FROM traces GROUP BY span.attributes['http.route'] " +
				"HAVING COUNT(*) >= 2 ORDER BY COUNT(*)",
			want: [][]any{{"/PAY", int64(2)}, {"/", int64(3)}},
		},
		{
			name: "CASE on an attribute, grouped",
			query: "SELECT CASE WHEN " + code + " >= 500 THEN 'error' WHEN " + code + " IS NULL THEN 'unknown' ELSE 'ok' END AS class, " +
				"COUNT(*) FROM traces GROUP BY class ORDER BY class",
			want: [][]any{{"error", int64(2)}, {"ok", int64(2)}, {"unknown", int64(1)}},
		},
		{
			name:  "simple CASE on a number",
			query: "SELECT span_id, CASE " + code + " WHEN 200 THEN 'ok' WHEN 503 THEN 'unavailable' END FROM traces WHERE span_id IN ('s1', 's2', 's3') ORDER BY span_id",
			want:  [][]any{{"s1", "ok"}, {"s2", "unavailable"}, {"s3", nil}},
		},
		{
			name: "join spans to metrics on the pod within the span, tenant scoped",
			query: "SELECT t.span_id, m.resource['k8s.pod.name'], m.value FROM traces t JOIN metrics m " +
				"ON m.resource['k8s.pod.name'] = t.resource['k8s.pod.name'] AND m.timestamp BETWEEN t.start_time AND t.end_time ORDER BY t.span_id",
			want: [][]any{{"s1", "api-0", 0.5}, {"s2", "api-1", 0.7}},
		},
		{
			name:  "metric points per pod",
			query: "SELECT metric.resource['k8s.pod.name'] AS pod, COUNT(*), MAX(value) FROM metrics GROUP BY pod ORDER BY pod",
			want:  [][]any{{"api-0", int64(2), 0.9}, {"api-1", int64(1), 0.7}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := fusionql.Parse(tt.query)
			require.NoError(t, err)
			text, args, err := fusionql.DuckDB{}.Translate(q, fusionql.TranslateOptions{Tenant: "acme", MaxRows: 100})
			require.NoError(t, err)
			require.Equal(t, tt.want, queryRows(t, db, text, args), "SQL: %s", text)
		})
	}
}

func queryRows(t *testing.T, db *sql.DB, text string, args []any) [][]any {
	t.Helper()
	rows, err := db.Query(text, args...)
	require.NoError(t, err, "SQL: %s", text)
	defer rows.Close()
	cols, err := rows.Columns()
	require.NoError(t, err)
	var got [][]any
	for rows.Next() {
		values := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range values {
			ptrs[i] = &values[i]
		}
		require.NoError(t, rows.Scan(ptrs...))
		for i, v := range values {
			// SUM of BIGINT is a HUGEINT, which the driver reads as *big.Int.
			if n, ok := v.(*big.Int); ok && n.IsInt64() {
				values[i] = n.Int64()
			}
		}
		got = append(got, values)
	}
	require.NoError(t, rows.Err(), "SQL: %s", text)
	return got
}
