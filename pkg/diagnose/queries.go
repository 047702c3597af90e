package diagnose

import (
	"fmt"
	"strings"
)

// The attribute keys whose values are candidates. Resource keys are read
// from the resource of each span, span keys from the span.
var (
	// resourceKeys are where a span ran.
	resourceKeys = []string{"k8s.pod.name", "host.name", "service.version"}
	// statementKeys name the database statement, newest convention first.
	statementKeys = []string{"db.query.text", "db.statement"}
	// statementKey is how the report names the statement attribute.
	statementKey = "db.statement"
	// EntryKeys are the attributes of the service's entry spans whose values
	// may carry a traffic surge or concentrate the slow traces.
	EntryKeys = []string{"http.route", "app.tenant"}
)

// maxGroups caps the rows each aggregate query returns; a report built
// from a capped answer says so in its notes.
const maxGroups = 100000

// quote is a FusionQL string literal.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// entryFilter selects the entry spans (alias r) of the request in both
// windows.
func entryFilter(req Request, b bounds) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "r.service_name = %s AND r.span_kind IN ('SERVER', 'CONSUMER')", quote(req.Service))
	if req.Operation != "" {
		fmt.Fprintf(&sb, " AND r.operation = %s", quote(req.Operation))
	}
	fmt.Fprintf(&sb, " AND r.start_time >= %d AND r.start_time < %d", b.baselineStart, b.end)
	return sb.String()
}

// incidentCase is 1 for a row of the incident window, 0 for the baseline.
func incidentCase(column string, b bounds) string {
	return fmt.Sprintf("CASE WHEN %s >= %d THEN 1 ELSE 0 END", column, b.incidentStart)
}

// badCase is 1 for an entry span slower than the baseline's P99 or failed.
func badCase(threshold int64) string {
	return fmt.Sprintf("CASE WHEN r.duration_ns > %d OR r.status_code = 'ERROR' THEN 1 ELSE 0 END", threshold)
}

// changeQuery measures the entry spans in each window.
func changeQuery(req Request, b bounds) string {
	return "SELECT " + incidentCase("r.start_time", b) + " AS incident, COUNT(*) AS spans, AVG(r.duration_ns) AS mean_ns, " +
		"QUANTILE(r.duration_ns, 0.5) AS p50_ns, QUANTILE(r.duration_ns, 0.99) AS p99_ns, " +
		"SUM(CASE WHEN r.status_code = 'ERROR' THEN 1 ELSE 0 END) AS errors " +
		"FROM traces r WHERE " + entryFilter(req, b) + " GROUP BY incident"
}

// attrColumns are the attribute columns of a span alias: the resource
// keys, then the statement.
func attrColumns(alias string) []string {
	var cols []string
	for _, k := range resourceKeys {
		cols = append(cols, alias+".resource["+quote(k)+"]")
	}
	stmt := make([]string, len(statementKeys))
	for i, k := range statementKeys {
		stmt[i] = alias + ".attributes[" + quote(k) + "]"
	}
	return append(cols, "COALESCE("+strings.Join(stmt, ", ")+")")
}

// attrColumnCount is len(attrColumns(...)).
var attrColumnCount = len(attrColumns("d"))

// traceJoin joins the entry spans (r) to the spans of their traces (d)
// and each span to its parent (p), within the windows: a span starts at
// most one incident window after the end.
func traceJoin(req Request, b bounds) string {
	slack := b.end - b.incidentStart
	return " FROM traces r JOIN traces d ON d.trace_id = r.trace_id AND d.start_time BETWEEN r.start_time AND r.end_time" +
		fmt.Sprintf(" LEFT JOIN traces p ON p.trace_id = d.trace_id AND p.span_id = d.parent_span_id"+
			" AND p.start_time BETWEEN r.start_time AND r.end_time AND p.start_time >= %d AND p.start_time < %d",
			b.baselineStart, b.end+slack) +
		fmt.Sprintf(" WHERE %s AND d.start_time >= %d AND d.start_time < %d", entryFilter(req, b), b.baselineStart, b.end+slack)
}

// badIncident is true for a slow or failed entry span of the incident.
func badIncident(b bounds, threshold int64) string {
	return fmt.Sprintf("r.start_time >= %d AND (r.duration_ns > %d OR r.status_code = 'ERROR')", b.incidentStart, threshold)
}

// selfTimeQuery breaks the entry spans' traces down by span (d) and the
// span's parent (p). Summing d's duration into d's operation and
// subtracting it from p's gives every operation's self time, whose total is
// the entry spans' duration; err_edges counts failed spans under a failed
// parent, so an operation's own errors are its errors less its err_edges.
func selfTimeQuery(req Request, b bounds, threshold int64) string {
	return "SELECT " + incidentCase("r.start_time", b) + " AS incident, " + badCase(threshold) + " AS bad, " +
		"d.service_name AS d_service, d.operation AS d_operation, p.service_name AS p_service, p.operation AS p_operation, " +
		"COUNT(*) AS spans, SUM(d.duration_ns) AS duration_ns, " +
		"SUM(CASE WHEN d.status_code = 'ERROR' THEN 1 ELSE 0 END) AS errors, " +
		"SUM(CASE WHEN d.status_code = 'ERROR' AND p.status_code = 'ERROR' THEN 1 ELSE 0 END) AS err_edges, " +
		// Examples are read from the slow or failed incident traces only, so
		// the other rows cost no string comparison.
		"MIN(CASE WHEN " + badIncident(b, threshold) + " THEN d.trace_id END) AS trace_a, " +
		"MAX(CASE WHEN " + badIncident(b, threshold) + " THEN d.trace_id END) AS trace_b" +
		traceJoin(req, b) +
		" GROUP BY incident, bad, d_service, d_operation, p_service, p_operation" +
		fmt.Sprintf(" LIMIT %d", maxGroups)
}

// inList is a FusionQL list of string literals.
func inList(values []string) string {
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = quote(v)
	}
	return "(" + strings.Join(quoted, ", ") + ")"
}

// attrTimeQuery sums the duration of the spans (d) of services in the
// entry spans' traces by their attribute values, with two slow or failed
// incident traces per value. With attrChildQuery, which sums the durations
// of their children, it gives each value's self time; the two are apart so
// that each reads the attributes of the services' spans only.
func attrTimeQuery(req Request, b bounds, threshold int64, services []string) string {
	slack := b.end - b.incidentStart
	bad := badIncident(b, threshold)
	var sb strings.Builder
	sb.WriteString("SELECT " + incidentCase("r.start_time", b) + " AS incident, d.service_name AS g0, d.operation AS g1")
	for i, c := range attrColumns("d") {
		fmt.Fprintf(&sb, ", %s AS a%d", c, i)
	}
	sb.WriteString(", COUNT(*) AS spans, SUM(d.duration_ns) AS duration_ns, " +
		"MIN(CASE WHEN " + bad + " THEN d.trace_id END) AS trace_a, MAX(CASE WHEN " + bad + " THEN d.trace_id END) AS trace_b")
	sb.WriteString(" FROM traces r JOIN traces d ON d.trace_id = r.trace_id AND d.start_time BETWEEN r.start_time AND r.end_time")
	fmt.Fprintf(&sb, " WHERE %s AND d.start_time >= %d AND d.start_time < %d AND d.service_name IN %s",
		entryFilter(req, b), b.baselineStart, b.end+slack, inList(services))
	sb.WriteString(" GROUP BY incident, g0, g1")
	for i := range attrColumnCount {
		fmt.Fprintf(&sb, ", a%d", i)
	}
	fmt.Fprintf(&sb, " LIMIT %d", maxGroups)
	return sb.String()
}

// attrChildQuery sums the durations of the children (c) of the spans (p)
// of services in the entry spans' traces by p's attribute values.
func attrChildQuery(req Request, b bounds, services []string) string {
	slack := b.end - b.incidentStart
	var sb strings.Builder
	sb.WriteString("SELECT " + incidentCase("r.start_time", b) + " AS incident, p.service_name AS g0, p.operation AS g1")
	for i, c := range attrColumns("p") {
		fmt.Fprintf(&sb, ", %s AS a%d", c, i)
	}
	sb.WriteString(", SUM(c.duration_ns) AS duration_ns")
	sb.WriteString(" FROM traces r JOIN traces p ON p.trace_id = r.trace_id AND p.start_time BETWEEN r.start_time AND r.end_time")
	sb.WriteString(" JOIN traces c ON c.trace_id = p.trace_id AND c.parent_span_id = p.span_id AND c.start_time BETWEEN p.start_time AND p.end_time")
	fmt.Fprintf(&sb, " WHERE %s AND p.start_time >= %d AND p.start_time < %d AND c.start_time >= %d AND c.start_time < %d AND p.service_name IN %s",
		entryFilter(req, b), b.baselineStart, b.end+slack, b.baselineStart, b.end+slack, inList(services))
	sb.WriteString(" GROUP BY incident, g0, g1")
	for i := range attrColumnCount {
		fmt.Fprintf(&sb, ", a%d", i)
	}
	fmt.Fprintf(&sb, " LIMIT %d", maxGroups)
	return sb.String()
}

// entryQuery counts the entry spans by the values of EntryKeys.
func entryQuery(req Request, b bounds, threshold int64) string {
	var sb strings.Builder
	sb.WriteString("SELECT " + incidentCase("r.start_time", b) + " AS incident, " + badCase(threshold) + " AS bad")
	for i, k := range EntryKeys {
		fmt.Fprintf(&sb, ", r.attributes[%s] AS k%d", quote(k), i)
	}
	sb.WriteString(", COUNT(*) AS spans, MIN(r.trace_id) AS trace_a, MAX(r.trace_id) AS trace_b FROM traces r WHERE " + entryFilter(req, b))
	sb.WriteString(" GROUP BY incident, bad")
	for i := range EntryKeys {
		fmt.Fprintf(&sb, ", k%d", i)
	}
	fmt.Fprintf(&sb, " LIMIT %d", maxGroups)
	return sb.String()
}

// logQuery counts the log lines written during the entry spans, by
// service, level and body; the most severe come first, so a cap drops
// debug lines before errors.
func logQuery(req Request, b bounds, threshold int64) string {
	slack := b.end - b.incidentStart
	return "SELECT " + incidentCase("r.start_time", b) + " AS incident, " + badCase(threshold) + " AS bad, " +
		"l.service_name AS service, l.level AS level, l.body AS body, COUNT(*) AS lines, MAX(l.severity_number) AS severity, " +
		"MIN(l.trace_id) AS trace_id " +
		"FROM traces r JOIN logs l ON l.trace_id = r.trace_id AND l.timestamp BETWEEN r.start_time AND r.end_time " +
		"WHERE " + entryFilter(req, b) + fmt.Sprintf(" AND l.timestamp >= %d AND l.timestamp < %d", b.baselineStart, b.end+slack) +
		" GROUP BY incident, bad, service, level, body ORDER BY severity DESC, lines DESC" +
		fmt.Sprintf(" LIMIT %d", maxGroups)
}

// metricQuery sums the gauge and histogram points of services in each
// window: count, sum and sum of squares give each series' mean and
// standard deviation.
func metricQuery(services []string, b bounds) string {
	return "SELECT " + incidentCase("m.timestamp", b) + " AS incident, m.service_name AS service, m.name AS name, " +
		"COUNT(*) AS points, SUM(m.value) AS total, SUM(m.value * m.value) AS squares FROM metrics m " +
		"WHERE m.service_name IN " + inList(services) + " AND m.type IN ('gauge', 'histogram') AND m.value IS NOT NULL" +
		fmt.Sprintf(" AND m.timestamp >= %d AND m.timestamp < %d", b.baselineStart, b.end) +
		" GROUP BY incident, service, name" + fmt.Sprintf(" LIMIT %d", maxGroups)
}
