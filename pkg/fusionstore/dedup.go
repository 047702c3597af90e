package fusionstore

// dedupSpansSQL is the INSERT of a batch of spans when dedup_spans is on:
// rows is the SELECT that reads the batch (with the schema's column names),
// and it runs as one statement, so a batch stores all its new spans or
// none. A span is a resend, and skipped, when its tenant already has a
// stored span with its trace_id, span_id and start_time (a resent span is
// the same span, so its start is too); of the batch's own spans with the
// same tenant, trace_id and span_id one is kept. Matching on start_time
// lets DuckDB hand the batch's range of start times to the scan of the
// stored spans, so the check reads the row groups of that range and its
// cost does not grow with the table. Spans lacking either id have no
// identity and are always stored.
func dedupSpansSQL(rows string) string {
	return `INSERT INTO traces WITH s AS MATERIALIZED (` + rows + `)
		SELECT * FROM s WHERE s.trace_id IS NULL OR s.span_id IS NULL
		UNION ALL
		SELECT s.* FROM s ANTI JOIN traces t
			ON t.tenant = s.tenant AND t.trace_id = s.trace_id AND t.span_id = s.span_id AND t.start_time = s.start_time
		WHERE s.trace_id IS NOT NULL AND s.span_id IS NOT NULL
		QUALIFY row_number() OVER (PARTITION BY s.tenant, s.trace_id, s.span_id) = 1`
}
