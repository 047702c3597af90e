package fusionql

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var testNow = time.Unix(1_700_000_000, 0)

func TestDuckDBTranslate(t *testing.T) {
	const (
		nowNs  = int64(1_700_000_000_000_000_000)
		hourNs = int64(time.Hour)
	)
	tests := []struct {
		name     string
		query    string
		opts     TranslateOptions
		wantSQL  string
		wantArgs []any
	}{
		{
			name:  "seed 1 with default window",
			query: seedQuery1,
			opts:  TranslateOptions{DefaultTimeWindow: time.Hour, Now: testNow},
			wantSQL: "SELECT traces.operation, logs.level, metrics.value FROM traces " +
				"JOIN logs ON traces.trace_id = logs.trace_id AND logs.timestamp BETWEEN traces.start_time AND traces.end_time " +
				"JOIN metrics ON traces.service_name = metrics.service_name " +
				"WHERE traces.duration_ns > ? AND logs.level = ? " +
				"AND traces.start_time BETWEEN ? AND ? AND logs.timestamp BETWEEN ? AND ? AND metrics.timestamp BETWEEN ? AND ? LIMIT 100",
			wantArgs: []any{int64(1000000000), "ERROR", nowNs - hourNs, nowNs, nowNs - hourNs, nowNs, nowNs - hourNs, nowNs},
		},
		{
			name:  "seed 1 bounded in WHERE needs no window",
			query: "SELECT span.operation, metric.value FROM traces JOIN metrics ON traces.service_name = metrics.service_name WHERE span.start_time > 1 AND metric.timestamp BETWEEN 1 AND 2",
			wantSQL: "SELECT traces.operation, metrics.value FROM traces JOIN metrics ON traces.service_name = metrics.service_name " +
				"WHERE traces.start_time > ? AND metrics.timestamp BETWEEN ? AND ?",
			wantArgs: []any{int64(1), int64(1), int64(2)},
		},
		{
			name:  "seed 2",
			query: seedQuery2,
			wantSQL: "SELECT t.operation, l.body, m.value FROM traces AS t " +
				"JOIN logs AS l ON t.trace_id = l.trace_id AND ABS(t.start_time - l.timestamp) < ? " +
				"JOIN metrics AS m ON m.service_name = t.service_name AND m.timestamp BETWEEN t.start_time - ? AND t.end_time + ? " +
				"WHERE t.duration_ns > ? AND l.level = ? LIMIT 100",
			wantArgs: []any{int64(200_000_000), int64(60_000_000_000), int64(60_000_000_000), int64(1000000000), "ERROR"},
		},
		{
			name:  "seed 2 with tenant and row cap",
			query: seedQuery2,
			opts:  TranslateOptions{Tenant: "acme", MaxRows: 50},
			wantSQL: "SELECT t.operation, l.body, m.value FROM traces AS t " +
				"JOIN logs AS l ON t.trace_id = l.trace_id AND ABS(t.start_time - l.timestamp) < ? " +
				"JOIN metrics AS m ON m.service_name = t.service_name AND m.timestamp BETWEEN t.start_time - ? AND t.end_time + ? " +
				"WHERE t.duration_ns > ? AND l.level = ? AND t.tenant = ? AND l.tenant = ? AND m.tenant = ? LIMIT 50",
			wantArgs: []any{int64(200_000_000), int64(60_000_000_000), int64(60_000_000_000), int64(1000000000), "ERROR", "acme", "acme", "acme"},
		},
		{
			name:     "tenant without WHERE",
			query:    "SELECT * FROM logs",
			opts:     TranslateOptions{Tenant: "acme"},
			wantSQL:  "SELECT * FROM logs WHERE logs.tenant = ?",
			wantArgs: []any{"acme"},
		},
		{
			name:     "tenant wraps a top-level OR",
			query:    "SELECT body FROM logs WHERE level = 'ERROR' OR level = 'WARN'",
			opts:     TranslateOptions{Tenant: "acme"},
			wantSQL:  "SELECT logs.body FROM logs WHERE (logs.level = ? OR logs.level = ?) AND logs.tenant = ?",
			wantArgs: []any{"ERROR", "WARN", "acme"},
		},
		{
			name:  "tenant of a LEFT JOIN goes into ON",
			query: "SELECT t.operation, l.body FROM traces t LEFT JOIN logs l ON l.trace_id = t.trace_id AND l.timestamp BETWEEN t.start_time AND t.end_time",
			opts:  TranslateOptions{Tenant: "acme"},
			wantSQL: "SELECT t.operation, l.body FROM traces AS t LEFT JOIN logs AS l ON l.trace_id = t.trace_id " +
				"AND l.timestamp BETWEEN t.start_time AND t.end_time AND l.tenant = ? WHERE t.tenant = ?",
			wantArgs: []any{"acme", "acme"},
		},
		{
			name:     "attribute compared with a string stays a string; the key is inline",
			query:    "SELECT span.attributes['http.route'] FROM traces WHERE span.resource['k8s.pod.name'] = 'api-0' AND attributes['it''s'] LIKE 'a%'",
			wantSQL:  "SELECT map_extract_value(traces.attributes, 'http.route') FROM traces WHERE map_extract_value(traces.resource, 'k8s.pod.name') = ? AND map_extract_value(traces.attributes, 'it''s') LIKE ?",
			wantArgs: []any{"api-0", "a%"},
		},
		{
			name:  "attribute compared with a number is cast as the number",
			query: "SELECT body FROM logs WHERE attributes['code'] >= 500 AND 1.5 < (attributes['ratio']) AND attributes['ts'] > timestamp AND attributes['d'] < INTERVAL '1s'",
			wantSQL: "SELECT logs.body FROM logs WHERE TRY_CAST(map_extract_value(logs.attributes, 'code') AS DECIMAL(38, 9)) >= ? " +
				"AND ? < (TRY_CAST(map_extract_value(logs.attributes, 'ratio') AS DOUBLE)) " +
				"AND TRY_CAST(map_extract_value(logs.attributes, 'ts') AS DECIMAL(38, 9)) > logs.timestamp " +
				"AND TRY_CAST(map_extract_value(logs.attributes, 'd') AS DECIMAL(38, 9)) < ?",
			wantArgs: []any{int64(500), 1.5, int64(1_000_000_000)},
		},
		{
			name:  "attributes in BETWEEN, IN and a simple CASE follow the other values",
			query: "SELECT CASE attributes['code'] WHEN 200 THEN 'ok' END FROM logs WHERE attributes['n'] BETWEEN 1 AND 2.5 AND attributes['m'] IN (1, 2) AND attributes['s'] IN ('a', attributes['t'])",
			wantSQL: "SELECT CASE TRY_CAST(map_extract_value(logs.attributes, 'code') AS DECIMAL(38, 9)) WHEN ? THEN ? END FROM logs " +
				"WHERE TRY_CAST(map_extract_value(logs.attributes, 'n') AS DOUBLE) BETWEEN ? AND ? " +
				"AND TRY_CAST(map_extract_value(logs.attributes, 'm') AS DECIMAL(38, 9)) IN (?, ?) " +
				"AND map_extract_value(logs.attributes, 's') IN (?, map_extract_value(logs.attributes, 't'))",
			wantArgs: []any{int64(200), "ok", int64(1), 2.5, int64(1), int64(2), "a"},
		},
		{
			name: "attributes in a join, GROUP BY, HAVING and ORDER BY, tenant scoped",
			query: "SELECT t.resource['k8s.pod.name'] AS pod, COUNT(*) FROM traces t JOIN metrics m ON m.resource['k8s.pod.name'] = t.resource['k8s.pod.name'] " +
				"AND m.timestamp BETWEEN t.start_time AND t.end_time GROUP BY t.resource['k8s.pod.name'] HAVING COUNT(*) > 1 ORDER BY t.resource['k8s.pod.name']",
			opts: TranslateOptions{Tenant: "acme"},
			wantSQL: "SELECT map_extract_value(t.resource, 'k8s.pod.name') AS pod, COUNT(*) FROM traces AS t JOIN metrics AS m " +
				"ON map_extract_value(m.resource, 'k8s.pod.name') = map_extract_value(t.resource, 'k8s.pod.name') AND m.timestamp BETWEEN t.start_time AND t.end_time " +
				"WHERE t.tenant = ? AND m.tenant = ? GROUP BY map_extract_value(t.resource, 'k8s.pod.name') HAVING COUNT(*) > ? " +
				"ORDER BY map_extract_value(t.resource, 'k8s.pod.name')",
			wantArgs: []any{"acme", "acme", int64(1)},
		},
		{
			name:     "row cap added when LIMIT is absent",
			query:    "SELECT name FROM metrics",
			opts:     TranslateOptions{MaxRows: 1000},
			wantSQL:  "SELECT metrics.name FROM metrics LIMIT 1000",
			wantArgs: nil,
		},
		{
			name:     "row cap keeps a smaller LIMIT",
			query:    "SELECT name FROM metrics LIMIT 7",
			opts:     TranslateOptions{MaxRows: 1000},
			wantSQL:  "SELECT metrics.name FROM metrics LIMIT 7",
			wantArgs: nil,
		},
		{
			name:     "row cap lowers a larger LIMIT",
			query:    "SELECT name FROM metrics LIMIT 5000",
			opts:     TranslateOptions{MaxRows: 1000},
			wantSQL:  "SELECT metrics.name FROM metrics LIMIT 1000",
			wantArgs: nil,
		},
		{
			name:  "aggregates, aliases and quoting",
			query: `SELECT service_name AS "order", COUNT(DISTINCT trace_id) AS n, QUANTILE(duration_ns, 0.99) p99 FROM traces WHERE operation LIKE 'GET %' AND NOT span_kind IN ('internal') GROUP BY "order" HAVING COUNT(*) > 5 ORDER BY n DESC`,
			wantSQL: `SELECT traces.service_name AS "order", COUNT(DISTINCT traces.trace_id) AS n, quantile_cont(traces.duration_ns, 0.99) AS p99 ` +
				`FROM traces WHERE traces.operation LIKE ? AND NOT traces.span_kind IN (?) GROUP BY "order" HAVING COUNT(*) > ? ORDER BY n DESC`,
			wantArgs: []any{"GET %", "internal", int64(5)},
		},
		{
			name:     "values are parameters, never spliced",
			query:    "SELECT body FROM logs WHERE body = 'x''; DROP TABLE logs; --' AND severity_number > -3 AND severity_number < 2.5",
			wantSQL:  "SELECT logs.body FROM logs WHERE logs.body = ? AND logs.severity_number > - ? AND logs.severity_number < ?",
			wantArgs: []any{"x'; DROP TABLE logs; --", int64(3), 2.5},
		},
		{
			name: "CASE in every clause, with tenant and row cap",
			query: "SELECT CASE WHEN duration_ns > INTERVAL '1s' THEN 'slow' ELSE 'fast' END AS speed, COUNT(*) AS n FROM traces " +
				"WHERE CASE status_code WHEN 'ERROR' THEN 1 ELSE 0 END = 1 " +
				"GROUP BY CASE WHEN duration_ns > INTERVAL '1s' THEN 'slow' ELSE 'fast' END " +
				"ORDER BY CASE WHEN duration_ns > INTERVAL '1s' THEN 'slow' ELSE 'fast' END DESC",
			opts: TranslateOptions{Tenant: "acme", MaxRows: 100},
			wantSQL: "SELECT CASE WHEN traces.duration_ns > ? THEN ? ELSE ? END AS speed, COUNT(*) AS n FROM traces " +
				"WHERE CASE traces.status_code WHEN ? THEN ? ELSE ? END = ? AND traces.tenant = ? " +
				"GROUP BY 1 ORDER BY 1 DESC LIMIT 100",
			wantArgs: []any{int64(1_000_000_000), "slow", "fast", "ERROR", int64(1), int64(0), int64(1), "acme"},
		},
		{
			name:     "CASE without ELSE, not repeating a select item",
			query:    "SELECT COUNT(*) FROM logs GROUP BY CASE WHEN level = 'ERROR' THEN body END",
			wantSQL:  "SELECT COUNT(*) FROM logs GROUP BY CASE WHEN logs.level = ? THEN logs.body END",
			wantArgs: []any{"ERROR"},
		},
		{
			name:     "a key after a star is not a position",
			query:    "SELECT *, CASE WHEN level = 'ERROR' THEN 0 ELSE 1 END AS rank FROM logs ORDER BY CASE WHEN level = 'ERROR' THEN 0 ELSE 1 END",
			wantSQL:  "SELECT *, CASE WHEN logs.level = ? THEN ? ELSE ? END AS rank FROM logs ORDER BY CASE WHEN logs.level = ? THEN ? ELSE ? END",
			wantArgs: []any{"ERROR", int64(0), int64(1), "ERROR", int64(0), int64(1)},
		},
		{
			name: "TIME_BUCKET grouped by alias and by expression",
			query: "SELECT TIME_BUCKET(INTERVAL '1m', span.start_time) AS minute, TIME_BUCKET(INTERVAL '100ms', duration_ns + INTERVAL '1ms'), COUNT(*) " +
				"FROM traces GROUP BY minute, TIME_BUCKET(INTERVAL '100ms', duration_ns + INTERVAL '1ms') ORDER BY TIME_BUCKET(INTERVAL '1m', span.start_time)",
			opts: TranslateOptions{Tenant: "acme"},
			wantSQL: "SELECT (traces.start_time // 60000000000 * 60000000000) AS minute, ((traces.duration_ns + ?) // 100000000 * 100000000), COUNT(*) " +
				"FROM traces WHERE traces.tenant = ? GROUP BY minute, 2 ORDER BY (traces.start_time // 60000000000 * 60000000000)",
			wantArgs: []any{int64(1_000_000), "acme"},
		},
		{
			name:  "time arithmetic in GROUP BY becomes the select item's position",
			query: "SELECT service_name, start_time - start_time % INTERVAL '1m', COUNT(*) FROM traces GROUP BY service_name, start_time - start_time % INTERVAL '1m'",
			wantSQL: "SELECT traces.service_name, traces.start_time - traces.start_time % ?, COUNT(*) FROM traces " +
				"GROUP BY traces.service_name, 2",
			wantArgs: []any{int64(60_000_000_000)},
		},
		{
			name:     "HAVING without GROUP BY",
			query:    "SELECT COUNT(*) FROM logs WHERE level = 'ERROR' HAVING COUNT(*) > 10",
			opts:     TranslateOptions{Tenant: "acme"},
			wantSQL:  "SELECT COUNT(*) FROM logs WHERE logs.level = ? AND logs.tenant = ? HAVING COUNT(*) > ?",
			wantArgs: []any{"ERROR", "acme", int64(10)},
		},
		{
			name:     "OFFSET alone",
			query:    "SELECT name FROM metrics ORDER BY name OFFSET 10",
			wantSQL:  "SELECT metrics.name FROM metrics ORDER BY metrics.name OFFSET 10",
			wantArgs: nil,
		},
		{
			name:     "OFFSET under the row cap",
			query:    "SELECT name FROM metrics ORDER BY name OFFSET 10",
			opts:     TranslateOptions{MaxRows: 1000},
			wantSQL:  "SELECT metrics.name FROM metrics ORDER BY metrics.name LIMIT 1000 OFFSET 10",
			wantArgs: nil,
		},
		{
			name:     "OFFSET with a LIMIT the row cap lowers",
			query:    "SELECT name FROM metrics ORDER BY name LIMIT 5000 OFFSET 10",
			opts:     TranslateOptions{MaxRows: 1000},
			wantSQL:  "SELECT metrics.name FROM metrics ORDER BY metrics.name LIMIT 1000 OFFSET 10",
			wantArgs: nil,
		},
		{
			name: "TIME_BUCKET relates joined tables; the default window is not needed",
			query: "SELECT TIME_BUCKET(INTERVAL '1m', t.start_time) AS minute, COUNT(*) FROM traces t JOIN logs l ON l.trace_id = t.trace_id " +
				"AND TIME_BUCKET(INTERVAL '1m', l.timestamp) = TIME_BUCKET(INTERVAL '1m', t.start_time) GROUP BY minute HAVING COUNT(*) > 1",
			opts: TranslateOptions{Tenant: "acme", DefaultTimeWindow: time.Hour, Now: testNow},
			wantSQL: "SELECT (t.start_time // 60000000000 * 60000000000) AS minute, COUNT(*) FROM traces AS t JOIN logs AS l ON l.trace_id = t.trace_id " +
				"AND (l.timestamp // 60000000000 * 60000000000) = (t.start_time // 60000000000 * 60000000000) " +
				"WHERE t.tenant = ? AND l.tenant = ? GROUP BY minute HAVING COUNT(*) > ?",
			wantArgs: []any{"acme", "acme", int64(1)},
		},
		{
			name: "a time column inside CASE bounds nothing: the default window applies",
			query: "SELECT COUNT(*) FROM traces t LEFT JOIN logs l ON l.trace_id = t.trace_id " +
				"WHERE CASE WHEN t.start_time > 5 THEN 1 ELSE 1 END = 1 GROUP BY t.service_name",
			opts: TranslateOptions{Tenant: "acme", DefaultTimeWindow: time.Hour, Now: testNow},
			wantSQL: "SELECT COUNT(*) FROM traces AS t LEFT JOIN logs AS l ON l.trace_id = t.trace_id AND l.tenant = ? AND l.timestamp BETWEEN ? AND ? " +
				"WHERE CASE WHEN t.start_time > ? THEN ? ELSE ? END = ? AND t.tenant = ? AND t.start_time BETWEEN ? AND ? GROUP BY t.service_name",
			wantArgs: []any{"acme", nowNs - hourNs, nowNs, int64(5), int64(1), int64(1), int64(1), "acme", nowNs - hourNs, nowNs},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := Parse(tt.query)
			require.NoError(t, err)
			sql, args, err := DuckDB{}.Translate(q, tt.opts)
			require.NoError(t, err)
			require.Equal(t, tt.wantSQL, sql)
			require.Equal(t, tt.wantArgs, args)
		})
	}
}

func TestDuckDBTimeGuard(t *testing.T) {
	tests := []struct {
		name, query, wantErr string
	}{
		{
			name:    "seed 1 without a window",
			query:   seedQuery1,
			wantErr: "fusionql: 1:170: JOIN metrics has no time relation to traces, logs and WHERE does not bound time; compare a time column of metrics with one of traces, logs (e.g. BETWEEN), or bound time in WHERE",
		},
		{
			name:    "join on ids only",
			query:   "SELECT t.operation, l.body FROM traces t\nJOIN logs l ON l.trace_id = t.trace_id",
			wantErr: "fusionql: 2:1: JOIN l has no time relation to t and WHERE does not bound time; compare a time column of l with one of t (e.g. BETWEEN), or bound time in WHERE",
		},
		{
			name:    "a relation under OR does not count",
			query:   "SELECT * FROM traces t JOIN logs l ON l.trace_id = t.trace_id AND (l.timestamp > t.start_time OR l.level = 'x')",
			wantErr: "fusionql: 1:24: JOIN l has no time relation to t and WHERE does not bound time; compare a time column of l with one of t (e.g. BETWEEN), or bound time in WHERE",
		},
		{
			name:    "!= is no relation",
			query:   "SELECT * FROM traces t JOIN logs l ON l.trace_id = t.trace_id AND l.timestamp != t.start_time",
			wantErr: "fusionql: 1:24: JOIN l has no time relation to t and WHERE does not bound time; compare a time column of l with one of t (e.g. BETWEEN), or bound time in WHERE",
		},
		{
			name:    "a time column inside CASE relates nothing",
			query:   "SELECT * FROM traces t JOIN logs l ON l.trace_id = t.trace_id AND CASE WHEN l.timestamp > t.start_time THEN 1 ELSE 0 END = 1",
			wantErr: "fusionql: 1:24: JOIN l has no time relation to t and WHERE does not bound time; compare a time column of l with one of t (e.g. BETWEEN), or bound time in WHERE",
		},
		{
			name:    "one bounded table is not enough",
			query:   "SELECT * FROM traces t JOIN logs l ON l.trace_id = t.trace_id WHERE t.start_time > 1",
			wantErr: "fusionql: 1:24: JOIN l has no time relation to t and WHERE does not bound time; compare a time column of l with one of t (e.g. BETWEEN), or bound time in WHERE",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := Parse(tt.query)
			require.NoError(t, err)
			sql, args, err := DuckDB{}.Translate(q, TranslateOptions{Tenant: "acme"})
			require.Empty(t, sql)
			require.Nil(t, args)
			var perr *Error
			require.ErrorAs(t, err, &perr)
			require.Equal(t, tt.wantErr, err.Error())
		})
	}

	// Accepted without a window: related joins, single tables, and joins
	// whose every table is bounded in WHERE.
	for _, query := range []string{
		seedQuery2,
		"SELECT * FROM logs",
		"SELECT * FROM traces t JOIN logs l ON l.trace_id = t.trace_id WHERE t.start_time > 1 AND l.timestamp BETWEEN 1 AND 2",
		"SELECT * FROM traces t JOIN logs l ON l.trace_id = t.trace_id WHERE l.timestamp - INTERVAL '1m' < t.end_time",
	} {
		q, err := Parse(query)
		require.NoError(t, err)
		_, _, err = DuckDB{}.Translate(q, TranslateOptions{})
		require.NoError(t, err, query)
	}
}

func TestDuckDBAutoBoundOnlyUnboundedGroups(t *testing.T) {
	q, err := Parse("SELECT * FROM traces t JOIN logs l ON l.trace_id = t.trace_id WHERE t.start_time > 5")
	require.NoError(t, err)
	sql, args, err := DuckDB{}.Translate(q, TranslateOptions{DefaultTimeWindow: time.Minute, Now: testNow})
	require.NoError(t, err)
	require.Equal(t, "SELECT * FROM traces AS t JOIN logs AS l ON l.trace_id = t.trace_id WHERE t.start_time > ? AND l.timestamp BETWEEN ? AND ?", sql)
	require.Equal(t, []any{int64(5), testNow.Add(-time.Minute).UnixNano(), testNow.UnixNano()}, args)
}

func TestDuckDBNeedsValidation(t *testing.T) {
	q, err := ParseSyntax("SELECT * FROM nowhere")
	require.NoError(t, err)
	_, _, err = DuckDB{}.Translate(q, TranslateOptions{})
	require.ErrorIs(t, err, ErrNotValidated)
}

func TestDuckDBTranslateDoesNotModifyQuery(t *testing.T) {
	q, err := Parse(seedQuery1)
	require.NoError(t, err)
	before := q.String()
	opts := TranslateOptions{Tenant: "acme", MaxRows: 10, DefaultTimeWindow: time.Hour, Now: testNow}
	first, _, err := DuckDB{}.Translate(q, opts)
	require.NoError(t, err)
	second, _, err := DuckDB{}.Translate(q, opts)
	require.NoError(t, err)
	require.Equal(t, first, second)
	require.Equal(t, before, q.String())
}

func TestDuckDBTranslateConcurrently(t *testing.T) {
	q, err := Parse(seedQuery2)
	require.NoError(t, err)
	want, _, err := DuckDB{}.Translate(q, TranslateOptions{Tenant: "acme"})
	require.NoError(t, err)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, _, err := DuckDB{}.Translate(q, TranslateOptions{Tenant: "acme"})
			if err != nil || got != want {
				t.Errorf("concurrent Translate = %q, %v", got, err)
			}
		}()
	}
	wg.Wait()
}
