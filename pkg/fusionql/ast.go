package fusionql

import "time"

// Node is any part of a parsed query. String prints it back as canonical
// FusionQL text that parses to the same tree (see printer.go).
type Node interface {
	// Pos is where the node starts in the query text.
	Pos() Position
	String() string
}

// Expr is a node that has a value.
type Expr interface {
	Node
	exprNode()
}

// Query is one SELECT statement. It is not modified after Parse returns, so
// it may be translated from several goroutines at once.
type Query struct {
	SelectPos Position
	Distinct  bool
	Items     []*SelectItem
	From      *TableRef
	Joins     []*Join
	Where     Expr // nil when absent
	GroupBy   []Expr
	HavingPos Position
	Having    Expr // nil when absent
	OrderBy   []*OrderItem
	Limit     *Limit  // nil when absent
	Offset    *Offset // nil when absent

	// validated is set by Validate once every reference is resolved.
	validated bool
}

func (q *Query) Pos() Position { return q.SelectPos }

// SelectItem is one entry of the select list.
type SelectItem struct {
	Expr     Expr
	Alias    string // "" when absent
	AliasPos Position
}

func (s *SelectItem) Pos() Position { return s.Expr.Pos() }

// TableRef names a table in FROM or JOIN, with an optional alias.
type TableRef struct {
	NamePos  Position
	Name     string
	Alias    string // "" when absent
	AliasPos Position

	table *Table // set by Validate
}

func (t *TableRef) Pos() Position { return t.NamePos }

// bindingName is the name the table is known by in the query: its alias if
// it has one, otherwise its table name.
func (t *TableRef) bindingName() string {
	if t.Alias != "" {
		return t.Alias
	}
	return t.Name
}

// JoinKind says which rows a JOIN keeps.
type JoinKind int

const (
	JoinInner JoinKind = iota // JOIN, INNER JOIN
	JoinLeft                  // LEFT JOIN, LEFT OUTER JOIN
)

func (k JoinKind) String() string {
	if k == JoinLeft {
		return "LEFT JOIN"
	}
	return "JOIN"
}

// Join is one JOIN ... ON ... clause.
type Join struct {
	JoinPos Position // the first keyword (LEFT, INNER or JOIN)
	Kind    JoinKind
	Table   *TableRef
	On      Expr
}

func (j *Join) Pos() Position { return j.JoinPos }

// OrderItem is one ORDER BY key.
type OrderItem struct {
	Expr Expr
	Desc bool
}

func (o *OrderItem) Pos() Position { return o.Expr.Pos() }

// Limit is the LIMIT clause.
type Limit struct {
	LimitPos Position
	Count    int64
}

func (l *Limit) Pos() Position { return l.LimitPos }

// Offset is the OFFSET clause: how many rows of the ordered answer to skip.
type Offset struct {
	OffsetPos Position
	Count     int64
}

func (o *Offset) Pos() Position { return o.OffsetPos }

// ColumnRef is a column, optionally qualified by a table, alias or signal
// prefix: operation, t.operation, traces.operation, span.operation.
type ColumnRef struct {
	QualifierPos Position
	Qualifier    string // "" when unqualified
	NamePos      Position
	Name         string

	// Set by Validate. binding indexes the query's tables (0 is FROM, i is
	// Joins[i-1]); -1 means the name is a select-list alias.
	binding int
	typ     ColumnType
}

func (c *ColumnRef) Pos() Position {
	if c.Qualifier != "" {
		return c.QualifierPos
	}
	return c.NamePos
}

// IndexExpr reads one key of a map column: span.attributes['http.route'],
// t.resource['k8s.pod.name']. The value is a string, NULL when the key is
// missing; compared with a number it is read as that number.
type IndexExpr struct {
	X      *ColumnRef
	LBrack Position
	Key    *StringLit

	// cast is set by Validate when a comparison reads the value as a
	// number: TypeInt (an exact decimal, see sqlWriter.index) or
	// TypeDouble; TypeUnknown keeps the string.
	cast ColumnType
}

func (i *IndexExpr) Pos() Position { return i.X.Pos() }

// StarExpr is * or t.* in a select list.
type StarExpr struct {
	StarPos   Position // the qualifier's position when qualified
	Qualifier string

	binding int // set by Validate when qualified
}

func (s *StarExpr) Pos() Position { return s.StarPos }

// StringLit is a 'single-quoted' string.
type StringLit struct {
	LitPos Position
	Value  string
}

func (s *StringLit) Pos() Position { return s.LitPos }

// IntLit is an integer literal; it is never negative (see UnaryExpr).
type IntLit struct {
	LitPos Position
	Value  int64
}

func (i *IntLit) Pos() Position { return i.LitPos }

// FloatLit is a literal with a fraction or an exponent.
type FloatLit struct {
	LitPos Position
	Value  float64
}

func (f *FloatLit) Pos() Position { return f.LitPos }

// IntervalLit is INTERVAL '<n><unit>...', a duration in nanoseconds.
type IntervalLit struct {
	IntervalPos Position
	Value       time.Duration
}

func (i *IntervalLit) Pos() Position { return i.IntervalPos }

// ParenExpr is a parenthesised expression; it is kept so that printing
// reproduces the grouping the user wrote.
type ParenExpr struct {
	LParen Position
	X      Expr
}

func (p *ParenExpr) Pos() Position { return p.LParen }

// UnaryOp is - or NOT.
type UnaryOp string

const (
	OpNeg UnaryOp = "-"
	OpNot UnaryOp = "NOT"
)

// UnaryExpr is -x or NOT x.
type UnaryExpr struct {
	OpPos Position
	Op    UnaryOp
	X     Expr
}

func (u *UnaryExpr) Pos() Position { return u.OpPos }

// BinaryOp is an infix operator.
type BinaryOp string

const (
	OpOr  BinaryOp = "OR"
	OpAnd BinaryOp = "AND"
	OpEq  BinaryOp = "="
	OpNe  BinaryOp = "!="
	OpLt  BinaryOp = "<"
	OpLe  BinaryOp = "<="
	OpGt  BinaryOp = ">"
	OpGe  BinaryOp = ">="
	OpAdd BinaryOp = "+"
	OpSub BinaryOp = "-"
	OpMul BinaryOp = "*"
	OpDiv BinaryOp = "/"
	OpMod BinaryOp = "%"
)

func (op BinaryOp) isComparison() bool {
	switch op {
	case OpEq, OpNe, OpLt, OpLe, OpGt, OpGe:
		return true
	}
	return false
}

// BinaryExpr is L op R.
type BinaryExpr struct {
	L     Expr
	OpPos Position
	Op    BinaryOp
	R     Expr
}

func (b *BinaryExpr) Pos() Position { return b.L.Pos() }

// BetweenExpr is X [NOT] BETWEEN Low AND High.
type BetweenExpr struct {
	X          Expr
	Not        bool
	BetweenPos Position
	Low, High  Expr
}

func (b *BetweenExpr) Pos() Position { return b.X.Pos() }

// InExpr is X [NOT] IN (List...).
type InExpr struct {
	X     Expr
	Not   bool
	InPos Position
	List  []Expr
}

func (i *InExpr) Pos() Position { return i.X.Pos() }

// LikeExpr is X [NOT] LIKE Pattern.
type LikeExpr struct {
	X       Expr
	Not     bool
	LikePos Position
	Pattern Expr
}

func (l *LikeExpr) Pos() Position { return l.X.Pos() }

// IsNullExpr is X IS [NOT] NULL.
type IsNullExpr struct {
	X     Expr
	IsPos Position
	Not   bool
}

func (i *IsNullExpr) Pos() Position { return i.X.Pos() }

// CallExpr is a call of an allow-listed function: NAME([DISTINCT] args) or
// COUNT(*).
type CallExpr struct {
	NamePos  Position
	Name     string // upper case
	Distinct bool
	Star     bool
	Args     []Expr
}

func (c *CallExpr) Pos() Position { return c.NamePos }

// CaseExpr is CASE [Operand] WHEN ... THEN ... [ELSE Else] END. Without an
// Operand (the searched form) each When is a condition; with one (the simple
// form) each When is a value compared with the Operand.
type CaseExpr struct {
	CasePos Position
	Operand Expr // nil in the searched form
	Whens   []*WhenClause
	Else    Expr // nil when absent: the result is then NULL
}

func (c *CaseExpr) Pos() Position { return c.CasePos }

// WhenClause is one WHEN When THEN Then arm of a CASE.
type WhenClause struct {
	WhenPos Position
	When    Expr
	Then    Expr
}

func (w *WhenClause) Pos() Position { return w.WhenPos }

func (*ColumnRef) exprNode()   {}
func (*IndexExpr) exprNode()   {}
func (*StarExpr) exprNode()    {}
func (*StringLit) exprNode()   {}
func (*IntLit) exprNode()      {}
func (*FloatLit) exprNode()    {}
func (*IntervalLit) exprNode() {}
func (*ParenExpr) exprNode()   {}
func (*UnaryExpr) exprNode()   {}
func (*BinaryExpr) exprNode()  {}
func (*BetweenExpr) exprNode() {}
func (*InExpr) exprNode()      {}
func (*LikeExpr) exprNode()    {}
func (*IsNullExpr) exprNode()  {}
func (*CallExpr) exprNode()    {}
func (*CaseExpr) exprNode()    {}

// Inspect calls visit for e and, while visit returns true, for each of its
// sub-expressions in the order they appear in the text.
func Inspect(e Expr, visit func(Expr) bool) {
	if e == nil || !visit(e) {
		return
	}
	for _, child := range children(e) {
		Inspect(child, visit)
	}
}

func children(e Expr) []Expr {
	switch n := e.(type) {
	case *IndexExpr:
		return []Expr{n.X, n.Key}
	case *ParenExpr:
		return []Expr{n.X}
	case *UnaryExpr:
		return []Expr{n.X}
	case *BinaryExpr:
		return []Expr{n.L, n.R}
	case *BetweenExpr:
		return []Expr{n.X, n.Low, n.High}
	case *InExpr:
		return append([]Expr{n.X}, n.List...)
	case *LikeExpr:
		return []Expr{n.X, n.Pattern}
	case *IsNullExpr:
		return []Expr{n.X}
	case *CallExpr:
		return n.Args
	case *CaseExpr:
		var list []Expr
		if n.Operand != nil {
			list = append(list, n.Operand)
		}
		for _, w := range n.Whens {
			list = append(list, w.When, w.Then)
		}
		if n.Else != nil {
			list = append(list, n.Else)
		}
		return list
	}
	return nil
}
