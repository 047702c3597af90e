package fusionstore

// dedupSpansSQL is the INSERT of a batch of spans when dedup_spans is on:
// rows is the SELECT that reads the batch (with the schema's column names),
// and it runs as one statement, so a batch stores all its new spans or
// none. A span is a resend, and skipped, when its tenant already has a
// stored span with its trace_id, span_id and start_time (a resent span is
// the same span, so its start is too); of the batch's own spans with the
// same tenant, trace_id and span_id one is kept. Matching on start_time
// bounds the stored spans read: the statement's two parameters are the
// batch's lowest and highest start time, a filter DuckDB applies to the
// scan of the stored spans with its per-row-group min/max, so the check
// reads only the row groups of the batch's time range and its cost does not
// grow with the table. Spans lacking either id have no identity and are
// always stored.
func dedupSpansSQL(rows string) string {
	return `INSERT INTO traces WITH s AS MATERIALIZED (` + rows + `)
		SELECT * FROM s WHERE s.trace_id IS NULL OR s.span_id IS NULL
		UNION ALL
		SELECT s.* FROM s ANTI JOIN (SELECT tenant, trace_id, span_id, start_time FROM traces WHERE start_time BETWEEN $1 AND $2) t
			ON t.tenant = s.tenant AND t.trace_id = s.trace_id AND t.span_id = s.span_id AND t.start_time = s.start_time
		WHERE s.trace_id IS NOT NULL AND s.span_id IS NOT NULL
		QUALIFY row_number() OVER (PARTITION BY s.tenant, s.trace_id, s.span_id) = 1`
}
