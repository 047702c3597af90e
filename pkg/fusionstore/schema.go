package fusionstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/otelfusion/otelfusion/pkg/fusionql"
)

// schemaDDL creates the tables FusionQL's schema describes (the DuckDB
// dialect generates them) and the store's own retention table.
func schemaDDL() []string {
	return append(fusionql.DuckDB{}.SchemaDDL(),
		"CREATE TABLE IF NOT EXISTS "+retentionTable+" (tenant VARCHAR PRIMARY KEY, retention_ns BIGINT)",
		positionsDDL)
}

// storedColumn is a column as the database file has it.
type storedColumn struct{ name, typ string }

// checkSchema compares the signal tables of the database file with
// fusionql.Schema, column by column. CREATE TABLE IF NOT EXISTS leaves a
// table from an older version as it was, and rows appended to it would land
// in the wrong columns or fail; a file whose tables differ is refused with
// the first difference, rather than migrated: the old attribute columns were
// JSON text where the store now keeps maps, which no ALTER TABLE turns into
// the columns the appenders write.
func (s *Store) checkSchema(ctx context.Context) error {
	d := fusionql.DuckDB{}
	for _, table := range fusionql.Schema {
		stored, err := s.storedColumns(ctx, table.Name)
		if err != nil {
			return err
		}
		want := make([]storedColumn, len(table.Columns))
		for i, c := range table.Columns {
			want[i] = storedColumn{c.Name, d.StoreType(c.Type)}
		}
		if problem := columnMismatch(stored, want); problem != "" {
			return fmt.Errorf("%w: %q, table %s: %s; the file was written by another version of the store: "+
				"move it aside (or export what it holds) and start with a new file", ErrSchemaMismatch, s.cfg.Path, table.Name, problem)
		}
	}
	return nil
}

// columnMismatch describes the first difference between the columns a table
// has and those it should have, or returns "".
func columnMismatch(stored, want []storedColumn) string {
	for i, w := range want {
		if i >= len(stored) {
			return fmt.Sprintf("column %d should be %s %s and is missing", i+1, w.name, w.typ)
		}
		if got := stored[i]; got != w {
			return fmt.Sprintf("column %d is %s %s where the schema has %s %s", i+1, got.name, got.typ, w.name, w.typ)
		}
	}
	if len(stored) > len(want) {
		extra := make([]string, 0, len(stored)-len(want))
		for _, c := range stored[len(want):] {
			extra = append(extra, c.name+" "+c.typ)
		}
		return "it has columns the schema lacks: " + strings.Join(extra, ", ")
	}
	return ""
}

func (s *Store) storedColumns(ctx context.Context, table string) ([]storedColumn, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT column_name, data_type FROM information_schema.columns
		WHERE table_catalog = current_database() AND table_schema = 'main' AND table_name = ? ORDER BY ordinal_position`, table)
	if err != nil {
		return nil, fmt.Errorf("store: reading the columns of %s: %w", table, err)
	}
	defer rows.Close()
	var cols []storedColumn
	for rows.Next() {
		var c storedColumn
		if err := rows.Scan(&c.name, &c.typ); err != nil {
			return nil, fmt.Errorf("store: reading the columns of %s: %w", table, err)
		}
		cols = append(cols, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: reading the columns of %s: %w", table, err)
	}
	return cols, nil
}
