package fusionstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/otelfusion/otelfusion/pkg/fusionql"
)

// batch is one export's rows for one table, as columns in the table's
// order (fusionql.Schema).
type batch interface {
	columns() []column
}

// batchSource is the table function through which DuckDB reads the batch
// being appended: each INSERT … SELECT … FROM the function scans it a chunk
// at a time. Appends are serialised (Store.mu), so one source per table
// holds one batch at a time.
type batchSource struct {
	columnInfos []duckdb.ColumnInfo
	cols        []column
	rows        int
	next        int
}

var _ duckdb.ChunkTableSource = (*batchSource)(nil)

func (b *batchSource) ColumnInfos() []duckdb.ColumnInfo { return b.columnInfos }

// Cardinality tells the planner a batch is small beside a stored table
// (the prepared INSERTs are planned once, before any batch).
func (b *batchSource) Cardinality() *duckdb.CardinalityInfo {
	return &duckdb.CardinalityInfo{Cardinality: 1000}
}

func (b *batchSource) Init() { b.next = 0 }

func (b *batchSource) FillChunk(chunk duckdb.DataChunk) error {
	n := min(b.rows-b.next, duckdb.GetDataChunkCapacity())
	for i, c := range b.cols {
		if err := c.put(chunk, i, b.next, n); err != nil {
			return err
		}
	}
	b.next += n
	return chunk.SetSize(n)
}

// ingestTable is how one table takes batches: its source, registered as a
// table function on the store's append connection, and the prepared INSERT
// that reads it.
type ingestTable struct {
	source *batchSource
	insert *sql.Stmt
}

// sourceName is the table function of table t (not reachable from FusionQL).
func sourceName(t table) string { return "fusionstore_ingest_" + t.String() }

// sourceType is the type a column travels in from Go: maps and lists as
// JSON text, cast by the INSERT.
func sourceType(c fusionql.Column) (duckdb.TypeInfo, error) {
	switch c.Type {
	case fusionql.TypeInt, fusionql.TypeTimestamp, fusionql.TypeDuration:
		return duckdb.NewTypeInfo(duckdb.TYPE_BIGINT)
	case fusionql.TypeDouble:
		return duckdb.NewTypeInfo(duckdb.TYPE_DOUBLE)
	default:
		return duckdb.NewTypeInfo(duckdb.TYPE_VARCHAR)
	}
}

// selectList reads a source's columns as the table stores them.
func selectList(t *fusionql.Table) string {
	d := fusionql.DuckDB{}
	items := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		switch c.Type {
		case fusionql.TypeMap, fusionql.TypeList:
			items[i] = fmt.Sprintf("CAST(%q AS JSON)::%s AS %[1]q", c.Name, d.StoreType(c.Type))
		default:
			items[i] = fmt.Sprintf("%q", c.Name)
		}
	}
	return strings.Join(items, ", ")
}

// insertSQL is the INSERT of one batch into t: all its rows in one
// statement, so one transaction. With dedup it is dedupSpansSQL.
func insertSQL(t *fusionql.Table, source string, dedup bool) string {
	rows := "SELECT " + selectList(t) + " FROM " + source + "()"
	if dedup {
		return dedupSpansSQL(rows)
	}
	return fmt.Sprintf("INSERT INTO %q %s", t.Name, rows)
}

// prepareIngest registers the three tables' sources on conn and prepares
// their INSERTs.
func prepareIngest(ctx context.Context, conn *sql.Conn, dedupSpans bool) ([tableCount]ingestTable, error) {
	var tables [tableCount]ingestTable
	for t := range tableCount {
		schema, ok := fusionql.LookupTable(t.String())
		if !ok {
			return tables, fmt.Errorf("store: table %s is not in fusionql.Schema", t)
		}
		src := &batchSource{columnInfos: make([]duckdb.ColumnInfo, len(schema.Columns))}
		for i, c := range schema.Columns {
			ti, err := sourceType(c)
			if err != nil {
				return tables, err
			}
			src.columnInfos[i] = duckdb.ColumnInfo{Name: c.Name, T: ti}
		}
		err := duckdb.RegisterTableUDF(conn, sourceName(t), duckdb.ChunkTableFunction{
			BindArguments: func(map[string]any, ...any) (duckdb.ChunkTableSource, error) { return src, nil },
		})
		if err != nil {
			return tables, fmt.Errorf("store: registering the ingest source of %s: %w", t, err)
		}
		stmt, err := conn.PrepareContext(ctx, insertSQL(schema, sourceName(t), dedupSpans && t == tableTraces))
		if err != nil {
			return tables, fmt.Errorf("store: preparing the insert into %s: %w", t, err)
		}
		tables[t] = ingestTable{source: src, insert: stmt}
	}
	return tables, nil
}

// insertBatch stores b's rows in table t in one statement, with the
// statement's parameters (the de-duplicating insert has two). Called with Store.mu
// held.
func (it *ingestTable) insertBatch(ctx context.Context, b batch, rows int, args ...any) error {
	cols := b.columns()
	if len(cols) != len(it.source.columnInfos) {
		return fmt.Errorf("store: batch has %d columns, the table %d", len(cols), len(it.source.columnInfos))
	}
	it.source.cols, it.source.rows, it.source.next = cols, rows, 0
	defer func() { it.source.cols, it.source.rows = nil, 0 }()
	_, err := it.insert.ExecContext(ctx, args...)
	return err
}
