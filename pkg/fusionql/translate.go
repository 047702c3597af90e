package fusionql

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Dialect turns a validated query into the SQL of one store.
type Dialect interface {
	// Translate returns the SQL text and the values of its ? parameters, in
	// order. It does not modify q and is safe for concurrent use. A query the
	// options refuse (see TranslateOptions) yields an *Error.
	Translate(q *Query, opts TranslateOptions) (string, []any, error)
}

// TranslateOptions are the store's policies, applied on top of what the user
// wrote.
type TranslateOptions struct {
	// Tenant, when not empty, limits every table of the query to this
	// tenant's rows (<table>.tenant = ?).
	Tenant string
	// MaxRows, when > 0, caps the result: the LIMIT becomes
	// min(user LIMIT, MaxRows) and is added when the query has none.
	MaxRows int
	// DefaultTimeWindow, when > 0, bounds the tables of a join that the time
	// guard would otherwise refuse to [Now-DefaultTimeWindow, Now].
	DefaultTimeWindow time.Duration
	// Now is the end of the default time window; zero means time.Now().
	Now time.Time
}

// ErrNotValidated is returned by Translate for a query from ParseSyntax that
// has not been through Validate.
var ErrNotValidated = errors.New("fusionql: query is not validated, use Parse or Validate first")

// DuckDB translates to DuckDB SQL. The store keeps timestamps as BIGINT
// nanoseconds, so INTERVAL literals become integer nanoseconds. Every value
// the user wrote becomes a ? parameter; only numbers the package formats
// itself (LIMIT, OFFSET, QUANTILE's fraction, TIME_BUCKET's width, and the
// position of a select item a GROUP BY or ORDER BY key repeats) and the
// quoted key of a map lookup are written inline.
type DuckDB struct{}

var _ Dialect = DuckDB{}

// extraCondition is a condition the translator adds for one table.
type extraCondition struct {
	text string
	args []any
}

func (DuckDB) Translate(q *Query, opts TranslateOptions) (string, []any, error) {
	if !q.validated {
		return "", nil, ErrNotValidated
	}
	tables := append([]*TableRef{q.From}, joinedTables(q)...)
	extras := make([][]extraCondition, len(tables))
	if opts.Tenant != "" {
		for i, t := range tables {
			extras[i] = append(extras[i], extraCondition{
				text: sqlIdent(t.bindingName()) + "." + TenantColumn + " = ?",
				args: []any{opts.Tenant},
			})
		}
	}
	if groups := analyseTime(q); groups.unguarded() {
		if opts.DefaultTimeWindow <= 0 {
			return "", nil, groups.guardError(q)
		}
		now := opts.Now
		if now.IsZero() {
			now = time.Now()
		}
		from, to := now.Add(-opts.DefaultTimeWindow).UnixNano(), now.UnixNano()
		for i, t := range tables {
			if groups.bounded[groups.group[i]] {
				continue
			}
			extras[i] = append(extras[i], extraCondition{
				text: sqlIdent(t.bindingName()) + "." + sqlIdent(t.table.TimeColumn) + " BETWEEN ? AND ?",
				args: []any{from, to},
			})
		}
	}

	w := &sqlWriter{tables: tables}
	w.str("SELECT ")
	if q.Distinct {
		w.str("DISTINCT ")
	}
	for i, item := range q.Items {
		if i > 0 {
			w.str(", ")
		}
		w.expr(item.Expr)
		if item.Alias != "" {
			w.str(" AS " + sqlIdent(item.Alias))
		}
	}
	w.str(" FROM ")
	w.table(q.From)
	// Conditions for LEFT JOINed tables go into their ON clause: in WHERE
	// they would drop the rows the LEFT JOIN keeps.
	var whereExtras []extraCondition
	whereExtras = append(whereExtras, extras[0]...)
	for i, j := range q.Joins {
		w.str(" " + j.Kind.String() + " ")
		w.table(j.Table)
		w.str(" ON ")
		if j.Kind == JoinLeft {
			w.condition(j.On, extras[i+1])
		} else {
			w.condition(j.On, nil)
			whereExtras = append(whereExtras, extras[i+1]...)
		}
	}
	if q.Where != nil || len(whereExtras) > 0 {
		w.str(" WHERE ")
		w.condition(q.Where, whereExtras)
	}
	var items []selectedSQL
	if len(q.GroupBy) > 0 || len(q.OrderBy) > 0 {
		items = selectedItems(q, tables)
	}
	if len(q.GroupBy) > 0 {
		w.str(" GROUP BY ")
		for i, e := range q.GroupBy {
			if i > 0 {
				w.str(", ")
			}
			w.key(e, items)
		}
	}
	if q.Having != nil {
		w.str(" HAVING ")
		w.expr(q.Having)
	}
	if len(q.OrderBy) > 0 {
		w.str(" ORDER BY ")
		for i, o := range q.OrderBy {
			if i > 0 {
				w.str(", ")
			}
			w.key(o.Expr, items)
			if o.Desc {
				w.str(" DESC")
			}
		}
	}
	limit := int64(-1)
	if q.Limit != nil {
		limit = q.Limit.Count
	}
	if opts.MaxRows > 0 && (limit < 0 || limit > int64(opts.MaxRows)) {
		limit = int64(opts.MaxRows)
	}
	if limit >= 0 {
		w.str(" LIMIT " + strconv.FormatInt(limit, 10))
	}
	// The row cap counts the rows after the skipped ones, so it still bounds
	// the answer.
	if q.Offset != nil {
		w.str(" OFFSET " + strconv.FormatInt(q.Offset.Count, 10))
	}
	return w.b.String(), w.args, nil
}

// selectedSQL is a select item as translated, to recognise it in GROUP BY
// and ORDER BY.
type selectedSQL struct {
	text string
	args []any
}

// selectedItems translates the select items up to the first star: after a
// star, an item's position in the output is not its position in the list.
func selectedItems(q *Query, tables []*TableRef) []selectedSQL {
	var items []selectedSQL
	for _, item := range q.Items {
		if _, ok := item.Expr.(*StarExpr); ok {
			break
		}
		w := &sqlWriter{tables: tables}
		w.expr(item.Expr)
		items = append(items, selectedSQL{text: w.b.String(), args: w.args})
	}
	return items
}

// key writes a GROUP BY or ORDER BY key. A key with parameters that repeats a
// select item is written as the item's position: DuckDB sees two ? as two
// different values, so the key would not match the item, and
// SELECT x % ?, COUNT(*) ... GROUP BY x % ? fails to bind.
func (w *sqlWriter) key(e Expr, items []selectedSQL) {
	k := &sqlWriter{tables: w.tables}
	k.expr(e)
	if len(k.args) > 0 {
		text := k.b.String()
		for i, item := range items {
			if item.text == text && slices.Equal(item.args, k.args) {
				w.str(strconv.Itoa(i + 1))
				return
			}
		}
	}
	w.str(k.b.String())
	w.args = append(w.args, k.args...)
}

// sqlWriter accumulates SQL text and its parameters in step, so the
// parameters are in the order of their ? marks.
type sqlWriter struct {
	b      strings.Builder
	args   []any
	tables []*TableRef
}

func (w *sqlWriter) str(s string) { w.b.WriteString(s) }

func (w *sqlWriter) param(v any) {
	w.b.WriteString("?")
	w.args = append(w.args, v)
}

func (w *sqlWriter) table(t *TableRef) {
	w.str(sqlIdent(t.table.Name))
	if t.Alias != "" {
		w.str(" AS " + sqlIdent(t.Alias))
	}
}

// condition writes user AND extra... , parenthesising a top-level OR.
func (w *sqlWriter) condition(user Expr, extras []extraCondition) {
	sep := ""
	if user != nil {
		if b, ok := user.(*BinaryExpr); ok && b.Op == OpOr && len(extras) > 0 {
			w.str("(")
			w.expr(user)
			w.str(")")
		} else {
			w.expr(user)
		}
		sep = " AND "
	}
	for _, extra := range extras {
		w.str(sep + extra.text)
		w.args = append(w.args, extra.args...)
		sep = " AND "
	}
}

func (w *sqlWriter) list(list []Expr) {
	for i, e := range list {
		if i > 0 {
			w.str(", ")
		}
		w.expr(e)
	}
}

func (w *sqlWriter) expr(e Expr) {
	switch n := e.(type) {
	case *ColumnRef:
		if n.binding < 0 {
			w.str(sqlIdent(n.Name))
			return
		}
		w.str(sqlIdent(w.tables[n.binding].bindingName()) + "." + sqlIdent(n.Name))
	case *IndexExpr:
		w.index(n)
	case *StarExpr:
		if n.Qualifier != "" {
			w.str(sqlIdent(w.tables[n.binding].bindingName()) + ".")
		}
		w.str("*")
	case *StringLit:
		w.param(n.Value)
	case *IntLit:
		w.param(n.Value)
	case *FloatLit:
		w.param(n.Value)
	case *IntervalLit:
		w.param(int64(n.Value))
	case *ParenExpr:
		w.str("(")
		w.expr(n.X)
		w.str(")")
	case *UnaryExpr:
		if n.Op == OpNot {
			w.str("NOT ")
		} else {
			w.str("- ")
		}
		w.expr(n.X)
	case *BinaryExpr:
		w.expr(n.L)
		w.str(" " + string(n.Op) + " ")
		w.expr(n.R)
	case *BetweenExpr:
		w.expr(n.X)
		w.str(not(n.Not) + " BETWEEN ")
		w.expr(n.Low)
		w.str(" AND ")
		w.expr(n.High)
	case *InExpr:
		w.expr(n.X)
		w.str(not(n.Not) + " IN (")
		w.list(n.List)
		w.str(")")
	case *LikeExpr:
		w.expr(n.X)
		w.str(not(n.Not) + " LIKE ")
		w.expr(n.Pattern)
	case *IsNullExpr:
		w.expr(n.X)
		if n.Not {
			w.str(" IS NOT NULL")
		} else {
			w.str(" IS NULL")
		}
	case *CallExpr:
		w.call(n)
	case *CaseExpr:
		w.str("CASE ")
		if n.Operand != nil {
			w.expr(n.Operand)
			w.str(" ")
		}
		for _, when := range n.Whens {
			w.str("WHEN ")
			w.expr(when.When)
			w.str(" THEN ")
			w.expr(when.Then)
			w.str(" ")
		}
		if n.Else != nil {
			w.str("ELSE ")
			w.expr(n.Else)
			w.str(" ")
		}
		w.str("END")
	}
}

func (w *sqlWriter) call(c *CallExpr) {
	if c.Name == "TIME_BUCKET" {
		w.timeBucket(c)
		return
	}
	fn := functions[c.Name]
	w.str(fn.duckdb + "(")
	switch {
	case c.Star:
		w.str("*")
	case c.Name == "QUANTILE":
		// DuckDB needs the fraction as a constant; it is a number the
		// validator checked, so it is written inline.
		w.expr(c.Args[0])
		f, _ := quantileFraction(c.Args[1])
		w.str(", " + formatFloat(f))
	default:
		if c.Distinct {
			w.str("DISTINCT ")
		}
		w.list(c.Args)
	}
	w.str(")")
}

// timeBucket writes TIME_BUCKET(width, t) as (t // width * width): integer
// division on BIGINT nanoseconds, exact where a DOUBLE would not be. DuckDB's
// // truncates towards zero, which is the bucket start for every time since
// 1970 (OTLP times are unsigned). The width is a validated number, written
// inline so that the same bucket is the same text wherever it appears.
func (w *sqlWriter) timeBucket(c *CallExpr) {
	width, _ := bucketWidth(c.Args[0])
	n := strconv.FormatInt(width, 10)
	w.str("(")
	if atomic(c.Args[1]) {
		w.expr(c.Args[1])
	} else {
		w.str("(")
		w.expr(c.Args[1])
		w.str(")")
	}
	w.str(" // " + n + " * " + n + ")")
}

// index writes a map lookup as map_extract_value(map, 'key'): the value, or
// NULL for a missing key (DuckDB's map_extract would give a list). The key
// is the one text of the user's written into the SQL, as a quoted literal
// (quotes doubled; the validator refuses a NUL), so that the same attribute
// is the same SQL in SELECT, GROUP BY, HAVING and ORDER BY, which DuckDB
// needs to match them. A comparison with a number reads the value with
// TRY_CAST, NULL when it is no number: as a DOUBLE against a double, and
// against an integer, duration or timestamp as a DECIMAL(38, 9), which holds
// every int64 and a fraction exactly, where a BIGINT cast would round '0.25'
// to 0 and a DOUBLE lose nanosecond timestamps.
func (w *sqlWriter) index(n *IndexExpr) {
	cast := ""
	switch n.cast {
	case TypeInt:
		cast = "DECIMAL(38, 9)"
	case TypeDouble:
		cast = "DOUBLE"
	}
	if cast != "" {
		w.str("TRY_CAST(")
	}
	w.str("map_extract_value(")
	w.expr(n.X)
	w.str(", '" + strings.ReplaceAll(n.Key.Value, "'", "''") + "')")
	if cast != "" {
		w.str(" AS " + cast + ")")
	}
}

// atomic reports whether e translates to SQL that needs no parentheses as
// an operand.
func atomic(e Expr) bool {
	switch e.(type) {
	case *ColumnRef, *IndexExpr, *CallExpr, *ParenExpr, *CaseExpr, *StringLit, *IntLit, *FloatLit, *IntervalLit:
		return true
	}
	return false
}

// sqlReserved are words DuckDB will not take as bare identifiers, plus
// FusionQL's own keywords.
var sqlReserved = map[string]bool{}

func init() {
	for _, word := range strings.Fields(`ALL ANALYSE ANALYZE AND ANY ARRAY AS ASC ASYMMETRIC BOTH CASE CAST
		CHECK COLLATE COLUMN CONSTRAINT CREATE DEFAULT DEFERRABLE DESC DESCRIBE DISTINCT DO ELSE END
		EXCEPT FALSE FETCH FOR FOREIGN FROM GRANT GROUP HAVING IN INITIALLY INTERSECT INTO LATERAL
		LEADING LIMIT NOT NULL OFFSET ON ONLY OR ORDER PIVOT PIVOT_LONGER PIVOT_WIDER PLACING PRIMARY
		QUALIFY REFERENCES RETURNING SELECT SHOW SOME SUMMARIZE SYMMETRIC TABLE THEN TO TRAILING TRUE
		UNION UNIQUE UNPIVOT USING VARIADIC WHEN WHERE WINDOW WITH`) {
		sqlReserved[word] = true
	}
	for word := range keywords {
		sqlReserved[word] = true
	}
}

// sqlIdent writes a name bare when DuckDB reads it back unchanged, and
// double-quoted otherwise.
func sqlIdent(name string) string {
	if isPlainIdent(name) && !sqlReserved[strings.ToUpper(name)] {
		return name
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
