package fusionql

import (
	"strconv"
	"strings"
	"time"
)

// The printer writes canonical FusionQL: upper-case keywords, single spaces,
// explicit AS, INTERVALs in their largest whole unit. Parentheses are printed
// only where the query has a ParenExpr, which is enough because the parser
// gives every operator its operands at the precedence the printer assumes.

func (q *Query) String() string {
	var b strings.Builder
	b.WriteString("SELECT ")
	if q.Distinct {
		b.WriteString("DISTINCT ")
	}
	for i, item := range q.Items {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(item.String())
	}
	b.WriteString(" FROM ")
	b.WriteString(q.From.String())
	for _, j := range q.Joins {
		b.WriteString(" ")
		b.WriteString(j.String())
	}
	if q.Where != nil {
		b.WriteString(" WHERE ")
		writeExpr(&b, q.Where)
	}
	if len(q.GroupBy) > 0 {
		b.WriteString(" GROUP BY ")
		writeList(&b, q.GroupBy)
	}
	if q.Having != nil {
		b.WriteString(" HAVING ")
		writeExpr(&b, q.Having)
	}
	if len(q.OrderBy) > 0 {
		b.WriteString(" ORDER BY ")
		for i, o := range q.OrderBy {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(o.String())
		}
	}
	if q.Limit != nil {
		b.WriteString(" ")
		b.WriteString(q.Limit.String())
	}
	if q.Offset != nil {
		b.WriteString(" ")
		b.WriteString(q.Offset.String())
	}
	return b.String()
}

func writeList(b *strings.Builder, list []Expr) {
	for i, e := range list {
		if i > 0 {
			b.WriteString(", ")
		}
		writeExpr(b, e)
	}
}

func (s *SelectItem) String() string {
	if s.Alias == "" {
		return s.Expr.String()
	}
	return s.Expr.String() + " AS " + quoteIdent(s.Alias)
}

func (t *TableRef) String() string {
	if t.Alias == "" {
		return quoteIdent(t.Name)
	}
	return quoteIdent(t.Name) + " AS " + quoteIdent(t.Alias)
}

func (j *Join) String() string {
	return j.Kind.String() + " " + j.Table.String() + " ON " + j.On.String()
}

func (o *OrderItem) String() string {
	if o.Desc {
		return o.Expr.String() + " DESC"
	}
	return o.Expr.String()
}

func (l *Limit) String() string { return "LIMIT " + strconv.FormatInt(l.Count, 10) }

func (o *Offset) String() string { return "OFFSET " + strconv.FormatInt(o.Count, 10) }

func (w *WhenClause) String() string {
	var b strings.Builder
	writeWhen(&b, w)
	return b.String()
}

func (c *ColumnRef) String() string   { return exprString(c) }
func (i *IndexExpr) String() string   { return exprString(i) }
func (s *StarExpr) String() string    { return exprString(s) }
func (s *StringLit) String() string   { return exprString(s) }
func (i *IntLit) String() string      { return exprString(i) }
func (f *FloatLit) String() string    { return exprString(f) }
func (i *IntervalLit) String() string { return exprString(i) }
func (p *ParenExpr) String() string   { return exprString(p) }
func (u *UnaryExpr) String() string   { return exprString(u) }
func (b *BinaryExpr) String() string  { return exprString(b) }
func (b *BetweenExpr) String() string { return exprString(b) }
func (i *InExpr) String() string      { return exprString(i) }
func (l *LikeExpr) String() string    { return exprString(l) }
func (i *IsNullExpr) String() string  { return exprString(i) }
func (c *CallExpr) String() string    { return exprString(c) }
func (c *CaseExpr) String() string    { return exprString(c) }

func exprString(e Expr) string {
	var b strings.Builder
	writeExpr(&b, e)
	return b.String()
}

// writeExpr prints into one builder, so that long operator chains cost time
// linear in their length.
func writeExpr(b *strings.Builder, e Expr) {
	switch n := e.(type) {
	case *ColumnRef:
		if n.Qualifier != "" {
			b.WriteString(quoteIdent(n.Qualifier) + ".")
		}
		b.WriteString(quoteIdent(n.Name))
	case *IndexExpr:
		writeExpr(b, n.X)
		b.WriteString("[" + quoteString(n.Key.Value) + "]")
	case *StarExpr:
		if n.Qualifier != "" {
			b.WriteString(quoteIdent(n.Qualifier) + ".")
		}
		b.WriteString("*")
	case *StringLit:
		b.WriteString(quoteString(n.Value))
	case *IntLit:
		b.WriteString(strconv.FormatInt(n.Value, 10))
	case *FloatLit:
		b.WriteString(formatFloat(n.Value))
	case *IntervalLit:
		b.WriteString("INTERVAL " + quoteString(formatInterval(n.Value)))
	case *ParenExpr:
		b.WriteString("(")
		writeExpr(b, n.X)
		b.WriteString(")")
	case *UnaryExpr:
		if n.Op == OpNot {
			b.WriteString("NOT ")
		} else if startsWithMinus(n.X) {
			b.WriteString("- ") // "--" would start a comment
		} else {
			b.WriteString("-")
		}
		writeExpr(b, n.X)
	case *BinaryExpr:
		writeExpr(b, n.L)
		b.WriteString(" " + string(n.Op) + " ")
		writeExpr(b, n.R)
	case *BetweenExpr:
		writeExpr(b, n.X)
		b.WriteString(not(n.Not) + " BETWEEN ")
		writeExpr(b, n.Low)
		b.WriteString(" AND ")
		writeExpr(b, n.High)
	case *InExpr:
		writeExpr(b, n.X)
		b.WriteString(not(n.Not) + " IN (")
		writeList(b, n.List)
		b.WriteString(")")
	case *LikeExpr:
		writeExpr(b, n.X)
		b.WriteString(not(n.Not) + " LIKE ")
		writeExpr(b, n.Pattern)
	case *IsNullExpr:
		writeExpr(b, n.X)
		if n.Not {
			b.WriteString(" IS NOT NULL")
		} else {
			b.WriteString(" IS NULL")
		}
	case *CallExpr:
		b.WriteString(n.Name + "(")
		if n.Distinct {
			b.WriteString("DISTINCT ")
		}
		if n.Star {
			b.WriteString("*")
		}
		writeList(b, n.Args)
		b.WriteString(")")
	case *CaseExpr:
		b.WriteString("CASE ")
		if n.Operand != nil {
			writeExpr(b, n.Operand)
			b.WriteString(" ")
		}
		for _, w := range n.Whens {
			writeWhen(b, w)
			b.WriteString(" ")
		}
		if n.Else != nil {
			b.WriteString("ELSE ")
			writeExpr(b, n.Else)
			b.WriteString(" ")
		}
		b.WriteString("END")
	}
}

func writeWhen(b *strings.Builder, w *WhenClause) {
	b.WriteString("WHEN ")
	writeExpr(b, w.When)
	b.WriteString(" THEN ")
	writeExpr(b, w.Then)
}

// startsWithMinus reports whether e prints with a leading "-": a unary minus,
// or an operator expression whose leftmost operand is one.
func startsWithMinus(e Expr) bool {
	for {
		switch n := e.(type) {
		case *UnaryExpr:
			return n.Op == OpNeg
		case *BinaryExpr:
			e = n.L
		case *BetweenExpr:
			e = n.X
		case *InExpr:
			e = n.X
		case *LikeExpr:
			e = n.X
		case *IsNullExpr:
			e = n.X
		default:
			return false
		}
	}
}

func not(negated bool) string {
	if negated {
		return " NOT"
	}
	return ""
}

// quoteIdent prints a name bare when it would lex back as the same
// identifier, and double-quoted otherwise.
func quoteIdent(name string) string {
	if isPlainIdent(name) {
		if _, reserved := keywords[strings.ToUpper(name)]; !reserved {
			return name
		}
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// isPlainIdent reports whether name is lower-case letters, digits and
// underscores, not starting with a digit.
func isPlainIdent(name string) bool {
	if name == "" || isDigit(name[0]) {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c == '_' || (c >= 'a' && c <= 'z') || isDigit(c)) {
			return false
		}
	}
	return true
}

func quoteString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// formatFloat prints the shortest text that parses back to f and still lexes
// as a float, not an integer.
func formatFloat(f float64) string {
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return s
}

// intervalUnits is largest first, for printing in the largest whole unit.
var intervalUnits = []struct {
	name string
	size time.Duration
}{
	{"d", 24 * time.Hour},
	{"h", time.Hour},
	{"m", time.Minute},
	{"s", time.Second},
	{"ms", time.Millisecond},
	{"us", time.Microsecond},
	{"ns", time.Nanosecond},
}

func formatInterval(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	for _, u := range intervalUnits {
		if d%u.size == 0 {
			return strconv.FormatInt(int64(d/u.size), 10) + u.name
		}
	}
	return strconv.FormatInt(int64(d), 10) + "ns"
}

// parseInterval reads the text of an INTERVAL literal: one or more
// <digits><unit> parts, optionally separated by spaces ('1h 30m').
func parseInterval(text string) (time.Duration, string) {
	var total time.Duration
	i, parts := 0, 0
	for {
		for i < len(text) && text[i] == ' ' {
			i++
		}
		if i == len(text) {
			break
		}
		start := i
		for i < len(text) && isDigit(text[i]) {
			i++
		}
		if start == i {
			return 0, "want a whole number followed by a unit, such as '200ms'"
		}
		digits := text[start:i]
		for i < len(text) && text[i] == ' ' {
			i++
		}
		unitStart := i
		for i < len(text) && text[i] >= 'a' && text[i] <= 'z' {
			i++
		}
		unit := text[unitStart:i]
		var size time.Duration
		for _, u := range intervalUnits {
			if u.name == unit {
				size = u.size
			}
		}
		if size == 0 {
			if unit == "" {
				return 0, "missing unit after " + digits + " (use ns, us, ms, s, m, h or d)"
			}
			return 0, "unknown unit " + strconv.Quote(unit) + " (use ns, us, ms, s, m, h or d)"
		}
		n, err := strconv.ParseInt(digits, 10, 64)
		if err != nil || n > int64((1<<63-1)/size) || total > (1<<63-1)-time.Duration(n)*size {
			return 0, "out of range"
		}
		total += time.Duration(n) * size
		parts++
	}
	if parts == 0 {
		return 0, "want a whole number followed by a unit, such as '200ms'"
	}
	return total, ""
}
