package fusionql

import (
	"fmt"
	"strings"
)

// StoreType is how the DuckDB store holds each FusionQL column type, as
// DuckDB spells it in information_schema.columns: timestamps and durations
// as BIGINT nanoseconds, attribute maps as MAP(VARCHAR, VARCHAR) of the
// values' OTLP string form.
func (DuckDB) StoreType(t ColumnType) string {
	switch t {
	case TypeInt, TypeTimestamp, TypeDuration:
		return "BIGINT"
	case TypeDouble:
		return "DOUBLE"
	case TypeList:
		return "BIGINT[]"
	case TypeMap:
		return "MAP(VARCHAR, VARCHAR)"
	default:
		return "VARCHAR"
	}
}

// SchemaDDL returns the CREATE TABLE IF NOT EXISTS statements of the tables
// Schema describes, in its column order, so that the store and the language
// translated for it cannot drift apart.
func (d DuckDB) SchemaDDL() []string {
	stmts := make([]string, 0, len(Schema))
	for _, t := range Schema {
		cols := make([]string, len(t.Columns))
		for i, c := range t.Columns {
			cols[i] = fmt.Sprintf("%q %s", c.Name, d.StoreType(c.Type))
		}
		stmts = append(stmts, fmt.Sprintf("CREATE TABLE IF NOT EXISTS %q (%s)", t.Name, strings.Join(cols, ", ")))
	}
	return stmts
}
