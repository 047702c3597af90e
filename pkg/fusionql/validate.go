package fusionql

import (
	"fmt"
	"strings"
)

// Validate checks a parsed query against Schema and resolves every column to
// the table it reads: aliases, table names and the span./log./metric.
// prefixes all lead to one of the query's tables. It also checks types,
// function names and where aggregates may appear. Parse calls it.
func Validate(q *Query) (err error) {
	defer func() {
		if r := recover(); r != nil {
			verr, ok := r.(*Error)
			if !ok {
				panic(r)
			}
			err = verr
		}
	}()
	c := &checker{q: q, tables: append([]*TableRef{q.From}, joinedTables(q)...)}
	c.run()
	q.validated = true
	return nil
}

func joinedTables(q *Query) []*TableRef {
	refs := make([]*TableRef, len(q.Joins))
	for i, j := range q.Joins {
		refs[i] = j.Table
	}
	return refs
}

// checker walks a query once, panicking with an *Error at the first problem.
type checker struct {
	q      *Query
	tables []*TableRef
	// visible is how many of tables the current clause may use: an ON clause
	// sees only the tables joined so far.
	visible int
	// clause names the clause being checked, for messages.
	clause     string
	aggAllowed bool
	inAgg      bool
	// aliases are the select-list aliases, usable in GROUP BY, HAVING and
	// ORDER BY.
	aliases map[string]ColumnType
}

func (c *checker) run() {
	seen := map[string]bool{}
	for _, ref := range c.tables {
		table, ok := LookupTable(ref.Name)
		if !ok {
			panic(errorf(ref.NamePos, "unknown table %q (the tables are traces, logs and metrics)", ref.Name))
		}
		ref.table = table
		name, pos := ref.bindingName(), ref.NamePos
		if ref.Alias != "" {
			pos = ref.AliasPos
		}
		if seen[name] {
			panic(errorf(pos, "table name or alias %q is used twice", name))
		}
		seen[name] = true
	}
	for i, j := range c.q.Joins {
		c.visible, c.clause = i+2, "ON"
		c.condition(j.On)
	}
	c.visible = len(c.tables)
	if c.q.Where != nil {
		c.clause = "WHERE"
		c.condition(c.q.Where)
	}
	c.clause, c.aggAllowed = "the select list", true
	for _, item := range c.q.Items {
		if star, ok := item.Expr.(*StarExpr); ok {
			star.binding = -1
			if star.Qualifier != "" {
				star.binding = c.qualifier(star.Qualifier, star.StarPos)
			}
			continue
		}
		t := c.expr(item.Expr)
		if item.Alias != "" {
			if c.aliases == nil {
				c.aliases = map[string]ColumnType{}
			}
			c.aliases[item.Alias] = t
		}
	}
	c.clause, c.aggAllowed = "GROUP BY", false
	for _, e := range c.q.GroupBy {
		c.expr(e)
	}
	c.clause, c.aggAllowed = "HAVING", true
	if c.q.Having != nil {
		c.condition(c.q.Having)
		c.havingNeedsGroups()
	}
	c.clause = "ORDER BY"
	for _, o := range c.q.OrderBy {
		c.expr(o.Expr)
	}
}

// havingNeedsGroups refuses HAVING in a query that forms no groups: without
// GROUP BY and without an aggregate there is nothing for HAVING to filter
// that WHERE could not, and DuckDB would refuse the columns it names. With an
// aggregate but no GROUP BY the whole input is one group, as in SQL.
func (c *checker) havingNeedsGroups() {
	if len(c.q.GroupBy) > 0 || hasAggregate(c.q.Having) {
		return
	}
	for _, item := range c.q.Items {
		if hasAggregate(item.Expr) {
			return
		}
	}
	panic(errorf(c.q.HavingPos, "HAVING needs GROUP BY or an aggregate; to filter rows, use WHERE"))
}

// hasAggregate reports whether e calls an aggregate function.
func hasAggregate(e Expr) bool {
	found := false
	Inspect(e, func(x Expr) bool {
		if call, ok := x.(*CallExpr); ok {
			if fn, ok := functions[call.Name]; ok && fn.aggregate {
				found = true
			}
		}
		return !found
	})
	return found
}

func (c *checker) condition(e Expr) {
	if t := c.expr(e); t != TypeBool && t != TypeUnknown {
		panic(errorf(e.Pos(), "%s needs a condition, got a value of type %s", c.clause, t))
	}
}

// expr checks e and returns its type.
func (c *checker) expr(e Expr) ColumnType {
	switch n := e.(type) {
	case *ColumnRef:
		return c.column(n)
	case *IndexExpr:
		return c.index(n)
	case *StarExpr:
		panic(errorf(n.StarPos, "%s is only allowed as a select item", n))
	case *StringLit:
		return TypeString
	case *IntLit:
		return TypeInt
	case *FloatLit:
		return TypeDouble
	case *IntervalLit:
		return TypeDuration
	case *ParenExpr:
		return c.expr(n.X)
	case *UnaryExpr:
		t := c.expr(n.X)
		if n.Op == OpNot {
			c.needBool(n.X, t, "NOT")
			return TypeBool
		}
		if !isNumeric(t) {
			panic(errorf(n.OpPos, "cannot negate a %s value", t))
		}
		return t
	case *BinaryExpr:
		return c.binary(n)
	case *BetweenExpr:
		types := c.compared([]Expr{n.X, n.Low, n.High})
		for _, bt := range types[1:] {
			if !comparable(types[0], bt) {
				panic(errorf(n.BetweenPos, "cannot compare %s with %s in BETWEEN", types[0], bt))
			}
		}
		return TypeBool
	case *InExpr:
		types := c.compared(append([]Expr{n.X}, n.List...))
		for i, v := range n.List {
			if vt := types[i+1]; !comparable(types[0], vt) {
				panic(errorf(v.Pos(), "cannot compare %s with %s in IN", types[0], vt))
			}
		}
		return TypeBool
	case *LikeExpr:
		for _, side := range []Expr{n.X, n.Pattern} {
			if t := c.expr(side); t != TypeString && t != TypeUnknown {
				panic(errorf(n.LikePos, "LIKE needs strings, got %s", t))
			}
		}
		return TypeBool
	case *IsNullExpr:
		c.expr(n.X)
		return TypeBool
	case *CallExpr:
		return c.call(n)
	case *CaseExpr:
		return c.caseExpr(n)
	}
	panic(fmt.Sprintf("fusionql: unexpected node %T", e))
}

// caseExpr checks both forms of CASE: the searched form wants a condition
// after each WHEN, the simple form a value comparable with its operand. The
// results must agree on a type, as in COALESCE.
func (c *checker) caseExpr(n *CaseExpr) ColumnType {
	result := TypeUnknown
	if n.Operand != nil {
		values := []Expr{n.Operand}
		for _, w := range n.Whens {
			values = append(values, w.When)
		}
		types := c.compared(values)
		for i, w := range n.Whens {
			if !comparable(types[0], types[i+1]) {
				panic(errorf(w.When.Pos(), "cannot compare %s with %s in CASE", types[0], types[i+1]))
			}
		}
	}
	for _, w := range n.Whens {
		if n.Operand == nil {
			c.needBool(w.When, c.expr(w.When), "WHEN")
		}
		result = c.caseResult(result, w.Then)
	}
	if n.Else != nil {
		result = c.caseResult(result, n.Else)
	}
	return result
}

func (c *checker) caseResult(sofar ColumnType, e Expr) ColumnType {
	t := c.expr(e)
	u, ok := unify(sofar, t)
	if !ok {
		panic(errorf(e.Pos(), "CASE results mix %s and %s", sofar, t))
	}
	return u
}

// unify gives the type of a value that is either an a or a b: numbers widen
// int < duration < double, and an integer may stand for a timestamp.
func unify(a, b ColumnType) (ColumnType, bool) {
	switch {
	case a == TypeUnknown:
		return b, true
	case b == TypeUnknown || a == b:
		return a, true
	case isNumeric(a) && isNumeric(b):
		if a == TypeDouble || b == TypeDouble {
			return TypeDouble, true
		}
		return TypeDuration, true
	case a == TypeTimestamp && b == TypeInt, a == TypeInt && b == TypeTimestamp:
		return TypeTimestamp, true
	}
	return 0, false
}

func (c *checker) needBool(e Expr, t ColumnType, op string) {
	if t != TypeBool && t != TypeUnknown {
		panic(errorf(e.Pos(), "%s needs a condition, got a value of type %s", op, t))
	}
}

// index checks a map lookup: the column must be a map of a table (not a
// select-list alias), and the key goes into the SQL as a quoted literal, so
// it may not hold a NUL. The value is a string until a comparison casts it.
func (c *checker) index(n *IndexExpr) ColumnType {
	t := c.column(n.X)
	if n.X.binding < 0 {
		panic(errorf(n.LBrack, "%s is a select-list alias and cannot be indexed; index the column itself", quoteIdent(n.X.Name)))
	}
	if t != TypeMap {
		panic(errorf(n.LBrack, "%s is a %s column, not a map: only attributes and resource can be indexed", n.X, t))
	}
	if strings.IndexByte(n.Key.Value, 0) >= 0 {
		panic(errorf(n.Key.LitPos, "a map key cannot contain a NUL character"))
	}
	return TypeString
}

// attributeAs gives the type an attribute value e (of type self) takes when
// compared with a value of type other: compared with a number it is read as
// one (an exact decimal, or a DOUBLE against a double), and otherwise stays
// a string. It records the cast on the index for the translator.
func attributeAs(e Expr, self, other ColumnType) ColumnType {
	idx := attributeIndex(e)
	if idx == nil {
		return self
	}
	switch other {
	case TypeDouble:
		idx.cast = TypeDouble
	case TypeInt, TypeDuration, TypeTimestamp:
		idx.cast = TypeInt
	default:
		idx.cast = TypeUnknown
		return self
	}
	return idx.cast
}

// attributeIndex is the map lookup e is, inside any parentheses, or nil.
func attributeIndex(e Expr) *IndexExpr {
	for {
		switch n := e.(type) {
		case *ParenExpr:
			e = n.X
		case *IndexExpr:
			return n
		default:
			return nil
		}
	}
}

// compared checks values that are compared with each other (BETWEEN, IN, a
// simple CASE) and returns their types, attribute values read as the widest
// number among the others when there is one.
func (c *checker) compared(values []Expr) []ColumnType {
	types := make([]ColumnType, len(values))
	for i, v := range values {
		types[i] = c.expr(v)
	}
	other := TypeUnknown
	for i, v := range values {
		if attributeIndex(v) != nil {
			continue // an attribute follows the others
		}
		switch {
		case types[i] == TypeDouble:
			other = TypeDouble
		case other == TypeUnknown && (types[i] == TypeInt || types[i] == TypeDuration || types[i] == TypeTimestamp):
			other = TypeInt
		}
	}
	for i, v := range values {
		types[i] = attributeAs(v, types[i], other)
	}
	return types
}

func (c *checker) binary(b *BinaryExpr) ColumnType {
	l, r := c.expr(b.L), c.expr(b.R)
	switch {
	case b.Op == OpAnd || b.Op == OpOr:
		c.needBool(b.L, l, string(b.Op))
		c.needBool(b.R, r, string(b.Op))
		return TypeBool
	case b.Op.isComparison():
		l, r = attributeAs(b.L, l, r), attributeAs(b.R, r, l)
		if !comparable(l, r) {
			panic(errorf(b.OpPos, "cannot compare %s with %s", l, r))
		}
		return TypeBool
	}
	t, ok := arithmetic(b.Op, l, r)
	if !ok {
		panic(errorf(b.OpPos, "cannot apply %s to %s and %s", b.Op, l, r))
	}
	return t
}

// comparable reports whether values of the two types may be compared.
// Timestamps compare with integers because both are nanoseconds.
func comparable(a, b ColumnType) bool {
	switch {
	case a == TypeUnknown || b == TypeUnknown:
		return true
	case a == TypeMap || a == TypeList || b == TypeMap || b == TypeList:
		return false
	case a == b:
		return true
	case isNumeric(a) && isNumeric(b):
		return true
	case a == TypeTimestamp:
		return b == TypeInt
	case b == TypeTimestamp:
		return a == TypeInt
	}
	return false
}

// arithmetic gives the type of a op b: timestamp ± duration is a timestamp,
// timestamp - timestamp and timestamp % duration a duration, and numbers
// widen int < duration < double.
func arithmetic(op BinaryOp, a, b ColumnType) (ColumnType, bool) {
	intLike := func(t ColumnType) bool { return t == TypeInt || t == TypeDuration || t == TypeUnknown }
	switch {
	case a == TypeTimestamp && b == TypeTimestamp:
		return TypeDuration, op == OpSub
	case a == TypeTimestamp && intLike(b) && op == OpMod:
		// How far into a bucket of width b: start_time % INTERVAL '1m'.
		return TypeDuration, true
	case a == TypeTimestamp && intLike(b):
		return TypeTimestamp, op == OpAdd || op == OpSub
	case intLike(a) && b == TypeTimestamp:
		return TypeTimestamp, op == OpAdd
	case !isNumeric(a) || !isNumeric(b):
		return 0, false
	case a == TypeUnknown || b == TypeUnknown:
		return TypeUnknown, true
	case a == TypeDouble || b == TypeDouble:
		return TypeDouble, true
	case a == TypeDuration && b == TypeDuration && (op == OpDiv || op == OpMod):
		return TypeInt, op == OpDiv
	case a == TypeDuration || b == TypeDuration:
		return TypeDuration, true
	}
	return TypeInt, true
}

func (c *checker) call(call *CallExpr) ColumnType {
	fn, ok := functions[call.Name]
	if !ok {
		panic(errorf(call.NamePos, "unknown function %s (allowed: %s)", call.Name, functionNames()))
	}
	if fn.aggregate {
		if !c.aggAllowed {
			panic(errorf(call.NamePos, "aggregate %s is not allowed in %s", call.Name, c.clause))
		}
		if c.inAgg {
			panic(errorf(call.NamePos, "aggregate %s cannot be nested in another aggregate", call.Name))
		}
		c.inAgg = true
		defer func() { c.inAgg = false }()
	}
	if call.Star {
		if call.Name != "COUNT" {
			panic(errorf(call.NamePos, "only COUNT accepts *"))
		}
		return TypeInt
	}
	if call.Distinct && !fn.aggregate {
		panic(errorf(call.NamePos, "DISTINCT is only allowed in aggregates"))
	}
	if n := len(call.Args); n < fn.minArgs || (fn.maxArgs >= 0 && n > fn.maxArgs) {
		panic(errorf(call.NamePos, "%s takes %s, got %d", call.Name, arity(fn), n))
	}
	args := make([]ColumnType, len(call.Args))
	for i, a := range call.Args {
		args[i] = c.expr(a)
	}
	t, problem := fn.check(call, args)
	if problem != "" {
		panic(errorf(call.NamePos, "%s", problem))
	}
	return t
}

func arity(fn *function) string {
	switch {
	case fn.maxArgs < 0:
		return fmt.Sprintf("at least %d arguments", fn.minArgs)
	case fn.minArgs == 1 && fn.maxArgs == 1:
		return "1 argument"
	case fn.minArgs == fn.maxArgs:
		return fmt.Sprintf("%d arguments", fn.minArgs)
	}
	return fmt.Sprintf("%d to %d arguments", fn.minArgs, fn.maxArgs)
}

// column resolves a column reference and returns its type.
func (c *checker) column(ref *ColumnRef) ColumnType {
	if ref.Qualifier != "" {
		ref.binding = c.qualifier(ref.Qualifier, ref.QualifierPos)
		table := c.tables[ref.binding].table
		col, ok := table.Column(ref.Name)
		if !ok {
			panic(errorf(ref.NamePos, "unknown column %q in table %s", ref.Name, table.Name))
		}
		ref.typ = col.Type
		return col.Type
	}
	var found []int
	for i := 0; i < c.visible; i++ {
		if col, ok := c.tables[i].table.Column(ref.Name); ok {
			found = append(found, i)
			ref.typ = col.Type
		}
	}
	switch len(found) {
	case 1:
		ref.binding = found[0]
		return ref.typ
	case 0:
		if t, ok := c.aliases[ref.Name]; ok && c.clause != "the select list" {
			ref.binding, ref.typ = -1, t
			return t
		}
		var names []string
		for _, t := range c.tables[:c.visible] {
			names = append(names, t.table.Name)
		}
		what := "table " + names[0]
		if len(names) > 1 {
			what = "tables " + strings.Join(names, ", ")
		}
		panic(errorf(ref.NamePos, "unknown column %q in %s", ref.Name, what))
	}
	var names []string
	for _, i := range found {
		names = append(names, c.tables[i].bindingName())
	}
	panic(errorf(ref.NamePos, "ambiguous column %q: it is in %s; qualify it", ref.Name, strings.Join(names, " and ")))
}

// qualifier finds the table a qualifier names: an alias or unaliased table
// name first, then a table name or signal prefix (span, log, metric) that
// matches exactly one of the visible tables.
func (c *checker) qualifier(name string, pos Position) int {
	for i, ref := range c.tables {
		if ref.bindingName() == name {
			if i >= c.visible {
				panic(errorf(pos, "%q is joined later and cannot be used in this ON clause", name))
			}
			return i
		}
	}
	table, ok := tableByPrefix(name)
	if !ok {
		table, ok = LookupTable(name)
	}
	if !ok {
		panic(errorf(pos, "unknown table or alias %q", name))
	}
	found := -1
	for i := 0; i < c.visible; i++ {
		if c.tables[i].table != table {
			continue
		}
		if found >= 0 {
			panic(errorf(pos, "%q is ambiguous: table %s appears more than once, use its alias", name, table.Name))
		}
		found = i
	}
	if found < 0 {
		panic(errorf(pos, "%q refers to table %s, which is not in FROM or JOIN here", name, table.Name))
	}
	return found
}
