package fusionql

// ColumnType is the type of a column or expression as the validator sees it.
// Timestamps are BIGINT nanoseconds since the Unix epoch in the store, so
// timestamps, durations and intervals are all int64 nanoseconds underneath.
type ColumnType int

const (
	// TypeUnknown is given to references whose type the validator cannot know,
	// such as a select-list alias used in ORDER BY.
	TypeUnknown ColumnType = iota
	TypeString
	TypeInt
	TypeDouble
	// TypeTimestamp is nanoseconds since the Unix epoch (BIGINT).
	TypeTimestamp
	// TypeDuration is a length of time in nanoseconds (BIGINT); INTERVAL
	// literals and timestamp differences have this type.
	TypeDuration
	// TypeMap is a map of attributes, string keys to their values in OTLP
	// string form (MAP(VARCHAR, VARCHAR) in the store). Only an index
	// (attributes['http.route']) reads it; the value is a string.
	TypeMap
	// TypeList is a list value, such as histogram bucket counts.
	TypeList
	// TypeBool is the type of conditions.
	TypeBool
)

var columnTypeNames = [...]string{
	TypeUnknown:   "unknown",
	TypeString:    "string",
	TypeInt:       "int",
	TypeDouble:    "double",
	TypeTimestamp: "timestamp",
	TypeDuration:  "duration",
	TypeMap:       "map",
	TypeList:      "list",
	TypeBool:      "boolean",
}

func (t ColumnType) String() string {
	if t >= 0 && int(t) < len(columnTypeNames) {
		return columnTypeNames[t]
	}
	return "ColumnType(?)"
}

// Column is one column of a table.
type Column struct {
	Name string
	Type ColumnType
}

// Table describes one of the signal tables a query may read.
type Table struct {
	// Name is the table's name in the store and in FROM clauses.
	Name string
	// Prefix is the signal prefix that may qualify its columns in place of the
	// table name or alias: span.operation means traces.operation.
	Prefix string
	// TimeColumn is the column the time guard bounds when it adds a default
	// time window.
	TimeColumn string
	Columns    []Column
}

// Schema is the one description of the store's tables; the validator, the
// translator and the store's DDL all read it.
var Schema = []*Table{
	{
		Name: "traces", Prefix: "span", TimeColumn: "start_time",
		Columns: []Column{
			{"tenant", TypeString},
			{"trace_id", TypeString},
			{"span_id", TypeString},
			{"parent_span_id", TypeString},
			{"service_name", TypeString},
			{"operation", TypeString},
			{"span_kind", TypeString},
			{"status_code", TypeString},
			{"start_time", TypeTimestamp},
			{"end_time", TypeTimestamp},
			{"duration_ns", TypeDuration},
			{"timestamp_ns", TypeTimestamp},
			{"attributes", TypeMap},
			{"resource", TypeMap},
		},
	},
	{
		Name: "logs", Prefix: "log", TimeColumn: "timestamp",
		Columns: []Column{
			{"tenant", TypeString},
			{"timestamp", TypeTimestamp},
			{"trace_id", TypeString},
			{"span_id", TypeString},
			{"service_name", TypeString},
			{"operation", TypeString},
			{"level", TypeString},
			{"severity_number", TypeInt},
			{"body", TypeString},
			{"attributes", TypeMap},
			{"resource", TypeMap},
		},
	},
	{
		Name: "metrics", Prefix: "metric", TimeColumn: "timestamp",
		Columns: []Column{
			{"tenant", TypeString},
			{"timestamp", TypeTimestamp},
			{"service_name", TypeString},
			{"name", TypeString},
			{"type", TypeString},
			{"value", TypeDouble},
			{"attributes", TypeMap},
			{"resource", TypeMap},
			{"exemplar_trace_id", TypeString},
			{"exemplar_span_id", TypeString},
			{"count", TypeInt},
			{"sum", TypeDouble},
			{"buckets", TypeList},
		},
	},
}

// TenantColumn is the column every table carries for tenant scoping.
const TenantColumn = "tenant"

// LookupTable finds a table by its name.
func LookupTable(name string) (*Table, bool) {
	for _, t := range Schema {
		if t.Name == name {
			return t, true
		}
	}
	return nil, false
}

// tableByPrefix finds a table by its signal prefix (span, log, metric).
func tableByPrefix(prefix string) (*Table, bool) {
	for _, t := range Schema {
		if t.Prefix == prefix {
			return t, true
		}
	}
	return nil, false
}

// Column finds a column of the table by name.
func (t *Table) Column(name string) (Column, bool) {
	for _, c := range t.Columns {
		if c.Name == name {
			return c, true
		}
	}
	return Column{}, false
}

// isTimeColumn reports whether the column holds a point in time; the time
// guard looks for relations between such columns.
func (t *Table) isTimeColumn(name string) bool {
	c, ok := t.Column(name)
	return ok && c.Type == TypeTimestamp
}
