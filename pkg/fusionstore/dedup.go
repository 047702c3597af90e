package fusionstore

import (
	"database/sql/driver"
	"fmt"
	"strings"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/otelfusion/otelfusion/pkg/fusionql"
)

// dedupSpansSQL is what the traces appender runs on each flush when
// dedup_spans is on. DuckDB's query appender hands it the buffered rows as
// the temporary table appended_data (columns col1, col2, …, renamed here to
// the schema's), and it runs as one statement: a flush stores all its new
// spans or none. A span is new when no stored span of its tenant has its
// trace_id and span_id, and only one of the flush's spans with those ids is kept. Spans
// lacking either id have no identity and are always stored (NULL equals
// nothing in the join, and the QUALIFY lets them through).
func dedupSpansSQL() string {
	var names []string
	for _, t := range fusionql.Schema {
		if t.Name != tableTraces.String() {
			continue
		}
		for _, c := range t.Columns {
			names = append(names, fmt.Sprintf("%q", c.Name))
		}
	}
	return `INSERT INTO traces SELECT s.* FROM appended_data AS s(` + strings.Join(names, ", ") + `)
		WHERE NOT EXISTS (SELECT 1 FROM traces t WHERE t.tenant = s.tenant AND t.trace_id = s.trace_id AND t.span_id = s.span_id)
		QUALIFY s.trace_id IS NULL OR s.span_id IS NULL
			OR row_number() OVER (PARTITION BY s.tenant, s.trace_id, s.span_id) = 1`
}

// newTracesAppender is the appender of the traces table: a plain one, or
// with dedup_spans one that runs dedupSpansSQL on each flush.
func newTracesAppender(conn driver.Conn, dedup bool) (*duckdb.Appender, error) {
	if !dedup {
		return duckdb.NewAppenderFromConn(conn, "", tableTraces.String())
	}
	return duckdb.NewTableAppender(conn, dedupSpansSQL(), "", "", tableTraces.String(), nil)
}
