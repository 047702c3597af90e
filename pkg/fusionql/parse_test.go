package fusionql

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// roundTripCorpus is valid FusionQL: every query must parse, validate, and
// survive print → parse unchanged.
var roundTripCorpus = []string{
	seedQuery1,
	seedQuery2,
	"SELECT * FROM traces",
	"select * from traces limit 10",
	"SELECT t.* FROM traces AS t",
	"SELECT t.*, l.body FROM traces t LEFT JOIN logs l ON l.trace_id = t.trace_id AND l.timestamp BETWEEN t.start_time AND t.end_time",
	"SELECT t.*, l.body FROM traces t LEFT OUTER JOIN logs AS l ON l.span_id = t.span_id AND l.timestamp >= t.start_time",
	"SELECT DISTINCT service_name FROM traces WHERE start_time > 1700000000000000000",
	"SELECT operation AS op, COUNT(*) AS n FROM traces GROUP BY operation HAVING COUNT(*) > 10 ORDER BY n DESC, op ASC LIMIT 5",
	"SELECT service_name, AVG(duration_ns), QUANTILE(duration_ns, 0.99), MIN(start_time), MAX(end_time) FROM traces GROUP BY service_name",
	"SELECT COUNT(DISTINCT trace_id), SUM(severity_number) FROM logs WHERE level IN ('ERROR', 'FATAL') AND body LIKE '%timeout%'",
	"SELECT name, value FROM metrics WHERE NOT (value < 0.5 OR value >= 1e+21) AND type != 'sum' AND name <> 'x'",
	"SELECT LOWER(service_name), UPPER(operation) FROM traces WHERE parent_span_id IS NULL OR status_code IS NOT NULL",
	"SELECT COALESCE(exemplar_trace_id, '') FROM metrics WHERE name NOT LIKE 'go_%' AND value NOT BETWEEN -1 AND 1 AND count NOT IN (1, 2, 3)",
	"SELECT value * 2 + 1, -value, - -value, (value - 1) / 3, count % 7 FROM metrics WHERE timestamp BETWEEN 1 AND 2",
	"SELECT \"name\", \"type\" AS \"Type\", metric.\"value\" \"v\" FROM \"metrics\" AS \"M x\"",
	"SELECT body FROM logs WHERE body = 'it''s' AND timestamp - INTERVAL '1h30m' > 1700000000000000000",
	"SELECT duration_ns FROM traces WHERE duration_ns > INTERVAL '1500ms' AND duration_ns < INTERVAL '2d' AND duration_ns != INTERVAL '0s'",
	"SELECT ABS(-1.5), 0.25, 3.0 FROM metrics",
	"SELECT span.operation FROM traces\nJOIN logs\n  ON span.trace_id = log.trace_id\n  AND log.timestamp BETWEEN span.start_time AND span.end_time\nWHERE NOT log.level = 'DEBUG'",
	"SELECT a.operation, b.operation FROM traces a JOIN traces b ON b.parent_span_id = a.span_id AND b.start_time BETWEEN a.start_time AND a.end_time",
	`SELECT "union".operation FROM traces AS "union" JOIN logs AS "cross" ON "cross".trace_id = "union".trace_id AND "cross".timestamp > "union".start_time`,
	"SeLeCt Operation FrOm Traces WhErE Service_Name = 'checkout' AnD (Duration_Ns > 5 oR Span_Kind = 'server');",
	// CASE, HAVING, OFFSET and TIME_BUCKET.
	"SELECT CASE WHEN duration_ns > INTERVAL '1s' THEN 'slow' WHEN duration_ns > INTERVAL '100ms' THEN 'ok' ELSE 'fast' END AS speed, COUNT(*) AS n " +
		"FROM traces GROUP BY CASE WHEN duration_ns > INTERVAL '1s' THEN 'slow' WHEN duration_ns > INTERVAL '100ms' THEN 'ok' ELSE 'fast' END ORDER BY n DESC",
	"SELECT CASE level WHEN 'ERROR' THEN 2 WHEN 'WARN' THEN 1 END FROM logs WHERE CASE WHEN severity_number > 16 THEN body ELSE '' END LIKE '%x%'",
	"SELECT body FROM logs ORDER BY CASE WHEN level = 'ERROR' THEN CASE WHEN severity_number > 17 THEN 0 ELSE 1 END ELSE 2 END, timestamp DESC LIMIT 10 OFFSET 20",
	"select case when value > 0 then value end, - case when value < 0 then value else 0.0 end from metrics where case type when 'sum' then sum else value end is null",
	"SELECT TIME_BUCKET(INTERVAL '1m', span.start_time) AS minute, COUNT(*) FROM traces GROUP BY minute ORDER BY minute",
	"SELECT TIME_BUCKET(INTERVAL '5m', timestamp), AVG(value) FROM metrics GROUP BY TIME_BUCKET(INTERVAL '5m', timestamp) HAVING AVG(value) > 0.5 AND COUNT(*) >= 3",
	"SELECT time_bucket(interval '100ms', duration_ns + INTERVAL '1ms') AS d, COUNT(*) FROM traces GROUP BY d HAVING d > INTERVAL '1s'",
	"SELECT start_time - start_time % INTERVAL '1m' AS m, COUNT(*) FROM traces GROUP BY start_time - start_time % INTERVAL '1m'",
	"SELECT COUNT(*) FROM logs HAVING COUNT(*) > 100",
	"SELECT name FROM metrics OFFSET 5",
	`SELECT operation AS "end", status_code AS "case" FROM traces LIMIT 0 OFFSET 0`,
	// Attribute access.
	"SELECT span.attributes['http.route'], span.resource['k8s.pod.name'] FROM traces WHERE span.attributes['http.response.status_code'] >= 500",
	"SELECT attributes['it''s'], resource[''] FROM logs WHERE attributes['n'] BETWEEN 1.5 AND 2 AND resource['x'] IN ('a', 'b') AND attributes['y'] IS NULL",
	"SELECT t.resource['k8s.pod.name'] AS pod, COUNT(*) FROM traces t JOIN metrics m ON m.resource['k8s.pod.name'] = t.resource['k8s.pod.name'] " +
		"AND m.timestamp BETWEEN t.start_time AND t.end_time GROUP BY t.resource['k8s.pod.name'] HAVING COUNT(*) > 1 ORDER BY t.resource['k8s.pod.name']",
	"SELECT CASE attributes['db.system'] WHEN 'postgresql' THEN 'sql' ELSE 'other' END, CASE WHEN (attributes['code']) > 499 THEN 1 END FROM traces",
	"SELECT LOWER(metric.resource['deployment.environment']), MAX(metric.attributes['cpu']) FROM metrics",
}

func TestParseRoundTrip(t *testing.T) {
	for _, text := range roundTripCorpus {
		t.Run(text, func(t *testing.T) {
			q, err := Parse(text)
			require.NoError(t, err)
			requireRoundTrip(t, q)
		})
	}
}

func TestParseCanonicalText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"select t.operation from traces t inner join logs l on t.trace_id=l.trace_id and l.timestamp between t.start_time and t.end_time",
			"SELECT t.operation FROM traces AS t JOIN logs AS l ON t.trace_id = l.trace_id AND l.timestamp BETWEEN t.start_time AND t.end_time"},
		{"SELECT value FROM metrics WHERE value <> 1 ORDER BY value ASC;", "SELECT value FROM metrics WHERE value != 1 ORDER BY value"},
		{"SELECT 1.50, 1e3, 2.5E-3 FROM metrics", "SELECT 1.5, 1000.0, 0.0025 FROM metrics"},
		{"SELECT duration_ns FROM traces WHERE duration_ns > INTERVAL '60000ms' + INTERVAL '1h 30m' + INTERVAL '7 ns'",
			"SELECT duration_ns FROM traces WHERE duration_ns > INTERVAL '1m' + INTERVAL '90m' + INTERVAL '7ns'"},
		{`SELECT "select" FROM traces AS "order"`, `SELECT "select" FROM traces AS "order"`},
		{"select case   when level='x' then 1 else 2 end c from logs offset 3",
			"SELECT CASE WHEN level = 'x' THEN 1 ELSE 2 END AS c FROM logs OFFSET 3"},
		{"select t.Attributes [ 'http.route' ] from traces t where resource['A']>1",
			"SELECT t.attributes['http.route'] FROM traces AS t WHERE resource['A'] > 1"},
		{"select time_bucket(interval '60s', timestamp) from logs having count(*)>1 limit 5 offset 10;",
			"SELECT TIME_BUCKET(INTERVAL '1m', timestamp) FROM logs HAVING COUNT(*) > 1 LIMIT 5 OFFSET 10"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			q, err := ParseSyntax(tt.in)
			require.NoError(t, err)
			require.Equal(t, tt.want, q.String())
		})
	}
}

func TestParseInterval(t *testing.T) {
	tests := []struct {
		text string
		want time.Duration
	}{
		{"200ms", 200 * time.Millisecond},
		{"1m", time.Minute},
		{"7ns", 7},
		{"3us", 3 * time.Microsecond},
		{"2d", 48 * time.Hour},
		{" 1h 30m ", 90 * time.Minute},
		{"0s", 0},
	}
	for _, tt := range tests {
		got, problem := parseInterval(tt.text)
		require.Empty(t, problem, tt.text)
		require.Equal(t, tt.want, got, tt.text)
	}
}

func TestParsePositions(t *testing.T) {
	q, err := Parse("SELECT t.operation\nFROM traces t\nWHERE t.duration_ns > 5")
	require.NoError(t, err)
	require.Equal(t, Position{Offset: 0, Line: 1, Col: 1}, q.Pos())
	require.Equal(t, Position{Offset: 24, Line: 2, Col: 6}, q.From.NamePos)
	where := q.Where.(*BinaryExpr)
	require.Equal(t, Position{Offset: 39, Line: 3, Col: 7}, where.Pos())
	require.Equal(t, Position{Offset: 41, Line: 3, Col: 9}, where.L.(*ColumnRef).NamePos)
	require.Equal(t, Position{Offset: 53, Line: 3, Col: 21}, where.OpPos)
}

func TestParsePositionsOfCaseHavingOffset(t *testing.T) {
	q, err := Parse("SELECT CASE level\n  WHEN 'x' THEN 1 END\nFROM logs GROUP BY level\nHAVING COUNT(*) > 1\nLIMIT 5 OFFSET 2")
	require.NoError(t, err)
	c := q.Items[0].Expr.(*CaseExpr)
	require.Equal(t, Position{Offset: 7, Line: 1, Col: 8}, c.Pos())
	require.Equal(t, Position{Offset: 20, Line: 2, Col: 3}, c.Whens[0].Pos())
	require.Equal(t, "WHEN 'x' THEN 1", c.Whens[0].String())
	require.Equal(t, Position{Offset: 65, Line: 4, Col: 1}, q.HavingPos)
	require.Equal(t, Position{Offset: 93, Line: 5, Col: 9}, q.Offset.Pos())
	require.Equal(t, int64(2), q.Offset.Count)
}

// TestParseRefused lists inputs FusionQL must refuse, with the exact error.
func TestParseRefused(t *testing.T) {
	tests := []struct {
		name, query, want string
	}{
		{"empty", "", "fusionql: 1:1: empty query, expected SELECT"},
		{"blank", "  \n ", "fusionql: 2:2: empty query, expected SELECT"},
		{"create", "CREATE TABLE x (a INT)", "fusionql: 1:1: CREATE is not allowed: FusionQL is read-only and accepts a single SELECT"},
		{"drop", "drop table traces", "fusionql: 1:1: DROP is not allowed: FusionQL is read-only and accepts a single SELECT"},
		{"alter", "ALTER TABLE traces ADD COLUMN x INT", "fusionql: 1:1: ALTER is not allowed: FusionQL is read-only and accepts a single SELECT"},
		{"insert", "INSERT INTO traces VALUES (1)", "fusionql: 1:1: INSERT is not allowed: FusionQL is read-only and accepts a single SELECT"},
		{"update", "UPDATE traces SET operation = 'x'", "fusionql: 1:1: UPDATE is not allowed: FusionQL is read-only and accepts a single SELECT"},
		{"delete", "DELETE FROM logs", "fusionql: 1:1: DELETE is not allowed: FusionQL is read-only and accepts a single SELECT"},
		{"with", "WITH x AS (SELECT 1) SELECT * FROM x", "fusionql: 1:1: WITH is not supported: a query is a single SELECT"},
		{"from first", "FROM traces SELECT *", "fusionql: 1:1: FROM is not supported: a query is a single SELECT"},
		{"pragma", "PRAGMA version", "fusionql: 1:1: PRAGMA is not allowed: FusionQL is read-only and accepts a single SELECT"},
		{"two statements", "SELECT * FROM traces; SELECT * FROM logs", "fusionql: 1:23: only one statement is allowed, found keyword SELECT after \";\""},
		{"statement after semicolon", "SELECT * FROM traces; DROP TABLE traces", "fusionql: 1:23: only one statement is allowed, found identifier drop after \";\""},
		{"double semicolon", "SELECT * FROM traces;;", "fusionql: 1:22: only one statement is allowed, found \";\" after \";\""},
		{"line comment", "SELECT * FROM traces -- hi", "fusionql: 1:22: comments are not allowed"},
		{"block comment", "SELECT * /* x */ FROM traces", "fusionql: 1:10: comments are not allowed"},
		{"trailing garbage", "SELECT * FROM traces LIMIT 5 xyz", "fusionql: 1:30: unexpected identifier xyz after the end of the query"},
		{"union", "SELECT * FROM traces UNION SELECT * FROM logs", "fusionql: 1:22: UNION is not supported"},
		{"unknown table", "SELECT * FROM spans", "fusionql: 1:15: unknown table \"spans\" (the tables are traces, logs and metrics)"},
		{"unknown table in join", "SELECT * FROM traces t JOIN events e ON e.id = t.trace_id", "fusionql: 1:29: unknown table \"events\" (the tables are traces, logs and metrics)"},
		{"unknown column", "SELECT span.operation FROM traces WHERE span.duraton_ns > 1", "fusionql: 1:46: unknown column \"duraton_ns\" in table traces"},
		{"unknown column unqualified", "SELECT nope FROM traces", "fusionql: 1:8: unknown column \"nope\" in table traces"},
		{"unknown column in joins", "SELECT nope FROM traces t JOIN logs l ON l.trace_id = t.trace_id AND l.timestamp > t.start_time", "fusionql: 1:8: unknown column \"nope\" in tables traces, logs"},
		{"column of other table", "SELECT l.value FROM logs l", "fusionql: 1:10: unknown column \"value\" in table logs"},
		{"ambiguous column", "SELECT service_name FROM traces t JOIN logs l ON l.trace_id = t.trace_id AND l.timestamp > t.start_time", "fusionql: 1:8: ambiguous column \"service_name\": it is in t and l; qualify it"},
		{"unknown alias", "SELECT x.operation FROM traces t", "fusionql: 1:8: unknown table or alias \"x\""},
		{"prefix of absent table", "SELECT log.body FROM traces", "fusionql: 1:8: \"log\" refers to table logs, which is not in FROM or JOIN here"},
		{"prefix ambiguous", "SELECT span.operation FROM traces a JOIN traces b ON a.span_id = b.parent_span_id AND b.start_time > a.start_time", "fusionql: 1:8: \"span\" is ambiguous: table traces appears more than once, use its alias"},
		{"joined later", "SELECT * FROM traces t JOIN logs l ON l.timestamp = m.timestamp JOIN metrics m ON m.timestamp = t.start_time", "fusionql: 1:53: \"m\" is joined later and cannot be used in this ON clause"},
		{"alias twice", "SELECT * FROM traces t JOIN logs t ON t.trace_id = t.trace_id", "fusionql: 1:34: table name or alias \"t\" is used twice"},
		{"unknown function", "SELECT SLEEP(10) FROM traces", "fusionql: 1:8: unknown function SLEEP (allowed: ABS, AVG, COALESCE, COUNT, LOWER, MAX, MIN, QUANTILE, SUM, TIME_BUCKET, UPPER)"},
		{"count star only", "SELECT SUM(*) FROM metrics", "fusionql: 1:8: only COUNT accepts *"},
		{"aggregate in where", "SELECT * FROM metrics WHERE SUM(value) > 1", "fusionql: 1:29: aggregate SUM is not allowed in WHERE"},
		{"nested aggregate", "SELECT SUM(COUNT(*)) FROM metrics", "fusionql: 1:12: aggregate COUNT cannot be nested in another aggregate"},
		{"wrong arity", "SELECT ABS(value, 1) FROM metrics", "fusionql: 1:8: ABS takes 1 argument, got 2"},
		{"quantile fraction", "SELECT QUANTILE(value, 2) FROM metrics", "fusionql: 1:8: QUANTILE needs a constant fraction between 0 and 1 as its second argument"},
		{"bad interval unit", "SELECT * FROM traces WHERE duration_ns > INTERVAL '5y'", "fusionql: 1:51: bad INTERVAL '5y': unknown unit \"y\" (use ns, us, ms, s, m, h or d)"},
		{"interval without unit", "SELECT * FROM traces WHERE duration_ns > INTERVAL '5'", "fusionql: 1:51: bad INTERVAL '5': missing unit after 5 (use ns, us, ms, s, m, h or d)"},
		{"interval not a string", "SELECT * FROM traces WHERE duration_ns > INTERVAL 5", "fusionql: 1:51: INTERVAL needs a quoted duration such as INTERVAL '5m', got number 5"},
		{"interval overflow", "SELECT * FROM traces WHERE duration_ns > INTERVAL '999999999d'", "fusionql: 1:51: bad INTERVAL '999999999d': out of range"},
		{"unterminated string", "SELECT * FROM logs WHERE body = 'oops", "fusionql: 1:33: unterminated string literal"},
		{"unterminated string multiline", "SELECT *\nFROM logs\nWHERE body = 'oops\nmore", "fusionql: 3:14: unterminated string literal"},
		{"unterminated identifier", "SELECT \"body FROM logs", "fusionql: 1:8: unterminated quoted identifier"},
		{"number with unit", "SELECT * FROM traces WHERE duration_ns > 200ms", "fusionql: 1:42: invalid number \"200ms\" (durations are written INTERVAL '200ms')"},
		{"integer overflow", "SELECT * FROM traces WHERE duration_ns > 99999999999999999999", "fusionql: 1:42: integer 99999999999999999999 is out of range"},
		{"bad character", "SELECT * FROM traces WHERE operation = `x`", "fusionql: 1:40: unexpected character '`'"},
		{"chained comparison", "SELECT * FROM metrics WHERE 1 < value < 2", "fusionql: 1:39: comparisons cannot be chained, add parentheses"},
		{"string arithmetic", "SELECT operation + 1 FROM traces", "fusionql: 1:18: cannot apply + to string and int"},
		{"timestamp sum", "SELECT start_time + end_time FROM traces", "fusionql: 1:19: cannot apply + to timestamp and timestamp"},
		{"compare string to number", "SELECT * FROM logs WHERE level = 3", "fusionql: 1:32: cannot compare string with int"},
		{"compare map", "SELECT * FROM logs WHERE attributes = 'x'", "fusionql: 1:37: cannot compare map with string"},
		{"where not a condition", "SELECT * FROM logs WHERE severity_number", "fusionql: 1:26: WHERE needs a condition, got a value of type int"},
		{"like on number", "SELECT * FROM logs WHERE severity_number LIKE 'x'", "fusionql: 1:42: LIKE needs strings, got int"},
		{"star in expression", "SELECT t.* + 1 FROM traces t", "fusionql: 1:8: t.* cannot be part of an expression"},
		{"star in where", "SELECT * FROM traces t WHERE t.* = 1", "fusionql: 1:30: t.* is only allowed as a select item"},
		{"star alias", "SELECT * AS everything FROM traces", "fusionql: 1:10: a * select item cannot have an alias"},
		{"missing from", "SELECT operation", "fusionql: 1:17: unexpected end of query, expected FROM"},
		{"union without AS", "SELECT * FROM traces union", "fusionql: 1:22: UNION is not supported"},
		{"comma join", "SELECT * FROM traces, logs", "fusionql: 1:21: a comma between tables is not supported, use JOIN ... ON"},
		{"missing on", "SELECT * FROM traces JOIN logs", "fusionql: 1:31: unexpected end of query, expected ON after the joined table"},
		{"negative limit", "SELECT * FROM traces LIMIT -1", "fusionql: 1:28: LIMIT needs a non-negative whole number, got \"-\""},
		{"empty in", "SELECT * FROM logs WHERE level IN ()", "fusionql: 1:36: IN needs at least one value"},
		{"case without when", "SELECT CASE END FROM traces", "fusionql: 1:13: unexpected keyword END, expected an expression"},
		{"case operand without when", "SELECT CASE level THEN 1 END FROM logs", "fusionql: 1:19: unexpected keyword THEN, expected WHEN"},
		{"case without then", "SELECT CASE WHEN 1 = 1 'x' END FROM traces", "fusionql: 1:24: unexpected string 'x', expected THEN"},
		{"case without end", "SELECT CASE WHEN 1 = 1 THEN 'x' FROM traces", "fusionql: 1:33: unexpected keyword FROM, expected WHEN, ELSE or END"},
		{"case when not a condition", "SELECT CASE WHEN severity_number THEN 1 END FROM logs", "fusionql: 1:18: WHEN needs a condition, got a value of type int"},
		{"case results mix", "SELECT CASE WHEN severity_number > 1 THEN 'x' ELSE 1 END FROM logs", "fusionql: 1:52: CASE results mix string and int"},
		{"case results mix with map", "SELECT CASE WHEN severity_number > 1 THEN attributes ELSE body END FROM logs", "fusionql: 1:59: CASE results mix map and string"},
		{"simple case compares", "SELECT CASE level WHEN 'x' THEN 1 WHEN 1 THEN 2 END FROM logs", "fusionql: 1:40: cannot compare string with int in CASE"},
		{"case as condition", "SELECT * FROM logs WHERE CASE WHEN level = 'x' THEN 1 END", "fusionql: 1:26: WHERE needs a condition, got a value of type int"},
		{"aggregate in case in group by", "SELECT COUNT(*) FROM logs GROUP BY CASE WHEN COUNT(*) > 1 THEN 1 END", "fusionql: 1:46: aggregate COUNT is not allowed in GROUP BY"},
		{"aggregate in case in where", "SELECT * FROM logs WHERE CASE WHEN COUNT(*) > 1 THEN 1 END = 1", "fusionql: 1:36: aggregate COUNT is not allowed in WHERE"},
		{"case keyword as alias", "SELECT operation AS end FROM traces", "fusionql: 1:21: unexpected keyword END, expected an alias after AS"},
		{"having without groups", "SELECT body FROM logs\nHAVING level = 'x'", "fusionql: 2:1: HAVING needs GROUP BY or an aggregate; to filter rows, use WHERE"},
		{"having not a condition", "SELECT level FROM logs GROUP BY level HAVING COUNT(*)", "fusionql: 1:46: HAVING needs a condition, got a value of type int"},
		{"offset negative", "SELECT * FROM traces LIMIT 1 OFFSET -1", "fusionql: 1:37: OFFSET needs a non-negative whole number, got \"-\""},
		{"offset not whole", "SELECT * FROM traces OFFSET 1.5", "fusionql: 1:29: OFFSET needs a non-negative whole number, got number 1.5"},
		{"offset overflow", "SELECT * FROM traces OFFSET 99999999999999999999", "fusionql: 1:29: OFFSET 99999999999999999999 is out of range"},
		{"offset before limit", "SELECT * FROM traces OFFSET 1 LIMIT 1", "fusionql: 1:31: LIMIT must come before OFFSET"},
		{"offset twice", "SELECT * FROM traces LIMIT 1 OFFSET 1 OFFSET 2", "fusionql: 1:39: unexpected keyword OFFSET after the end of the query"},
		{"time_bucket width not constant", "SELECT TIME_BUCKET(duration_ns, start_time) FROM traces", "fusionql: 1:8: TIME_BUCKET needs a constant INTERVAL greater than 0 as its first argument, such as INTERVAL '1m'"},
		{"time_bucket width zero", "SELECT TIME_BUCKET(INTERVAL '0s', start_time) FROM traces", "fusionql: 1:8: TIME_BUCKET needs a constant INTERVAL greater than 0 as its first argument, such as INTERVAL '1m'"},
		{"time_bucket of a string", "SELECT TIME_BUCKET(INTERVAL '1m', operation) FROM traces", "fusionql: 1:8: TIME_BUCKET needs a timestamp or duration as its second argument, got string"},
		{"time_bucket of an int", "SELECT TIME_BUCKET(INTERVAL '1m', severity_number) FROM logs", "fusionql: 1:8: TIME_BUCKET needs a timestamp or duration as its second argument, got int"},
		{"time_bucket arity", "SELECT TIME_BUCKET(INTERVAL '1m') FROM traces", "fusionql: 1:8: TIME_BUCKET takes 2 arguments, got 1"},
		{"time_bucket distinct", "SELECT TIME_BUCKET(DISTINCT INTERVAL '1m', start_time) FROM traces", "fusionql: 1:8: DISTINCT is only allowed in aggregates"},
		{"index a string column", "SELECT span.operation['x'] FROM traces", "fusionql: 1:22: span.operation is a string column, not a map: only attributes and resource can be indexed"},
		{"index with a number", "SELECT attributes[1] FROM traces", "fusionql: 1:19: the key in [...] must be a quoted string such as ['http.route'], got number 1"},
		{"index with a quoted identifier", `SELECT resource["k8s.pod.name"] FROM logs`, `fusionql: 1:17: the key in [...] must be a quoted string such as ['http.route'], got identifier "k8s.pod.name"`},
		{"index with a column", "SELECT attributes[operation] FROM traces", "fusionql: 1:19: the key in [...] must be a quoted string such as ['http.route'], got identifier operation"},
		{"index with an expression", "SELECT attributes['a' || 'b'] FROM traces", "fusionql: 1:23: unexpected character '|'"},
		{"index without close", "SELECT attributes['a' FROM traces", "fusionql: 1:23: unexpected keyword FROM, expected \"]\""},
		{"index twice", "SELECT attributes['a']['b'] FROM traces", "fusionql: 1:23: attribute values are strings and cannot be indexed again"},
		{"index a call", "SELECT LOWER(body)['x'] FROM logs", "fusionql: 1:19: only a map column can be indexed, as in span.attributes['http.route']"},
		{"index an alias", "SELECT attributes AS a FROM logs ORDER BY a['x']", "fusionql: 1:44: a is a select-list alias and cannot be indexed; index the column itself"},
		{"index ambiguous", "SELECT resource['x'] FROM traces t JOIN logs l ON l.trace_id = t.trace_id AND l.timestamp > t.start_time", "fusionql: 1:8: ambiguous column \"resource\": it is in t and l; qualify it"},
		{"index a NUL key", "SELECT attributes['a\x00'] FROM logs", "fusionql: 1:19: a map key cannot contain a NUL character"},
		{"attribute arithmetic", "SELECT attributes['n'] + 1 FROM logs", "fusionql: 1:24: cannot apply + to string and int"},
		{"attribute sum", "SELECT SUM(attributes['n']) FROM logs", "fusionql: 1:8: SUM needs a number or duration, got string"},
		{"attribute in BETWEEN with a string", "SELECT * FROM logs WHERE attributes['n'] BETWEEN 1 AND 'x'", "fusionql: 1:42: cannot compare int with string in BETWEEN"},
		{"too deep", "SELECT " + strings.Repeat("(", 300) + "1" + strings.Repeat(")", 300) + " FROM traces", "fusionql: 1:208: expression is nested too deeply"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := Parse(tt.query)
			require.Nil(t, q)
			require.Error(t, err)
			var perr *Error
			require.ErrorAs(t, err, &perr)
			require.Equal(t, tt.want, err.Error())
			require.Equal(t, perr.Pos.Line, strings.Count(tt.query[:perr.Pos.Offset], "\n")+1, "line of offset")
			require.Equal(t, perr.Pos.Col, perr.Pos.Offset-strings.LastIndex(tt.query[:perr.Pos.Offset], "\n"), "column of offset")
		})
	}
}

func TestParseLimits(t *testing.T) {
	// A long operator chain stays cheap to parse, validate and print.
	chain := "SELECT value FROM metrics WHERE value > 1" + strings.Repeat(" + 1", 16000)
	q, err := Parse(chain)
	require.NoError(t, err)
	require.Equal(t, chain, q.String())

	_, err = Parse("SELECT value FROM metrics WHERE value > 1" + strings.Repeat(" + 1", MaxQueryBytes/4))
	require.EqualError(t, err, "fusionql: 1:1: query is 65577 bytes long, more than the limit of 65536")
}
