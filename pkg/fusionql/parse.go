package fusionql

import (
	"math"
	"strconv"
	"strings"
)

// Limits on what the parser accepts, so that hostile input costs little.
const (
	// MaxQueryBytes is the longest query text accepted.
	MaxQueryBytes = 64 << 10
	// maxDepth bounds the parser's recursion (nested parentheses, unary
	// operators).
	maxDepth = 200
)

// writeStatements are statements that change the store or its settings; the
// parser names them in its error instead of a bare syntax error.
var writeStatements = map[string]bool{
	"CREATE": true, "DROP": true, "ALTER": true, "TRUNCATE": true, "RENAME": true,
	"INSERT": true, "UPDATE": true, "DELETE": true, "MERGE": true, "REPLACE": true, "UPSERT": true,
	"COPY": true, "ATTACH": true, "DETACH": true, "INSTALL": true, "LOAD": true, "PRAGMA": true,
	"SET": true, "RESET": true, "CALL": true, "EXPORT": true, "IMPORT": true, "VACUUM": true,
	"CHECKPOINT": true, "GRANT": true, "REVOKE": true, "BEGIN": true, "COMMIT": true, "ROLLBACK": true,
}

// otherStatements are read-only SQL forms FusionQL does not have.
var otherStatements = map[string]bool{
	"WITH": true, "VALUES": true, "TABLE": true, "FROM": true, "EXPLAIN": true,
	"DESCRIBE": true, "SHOW": true, "SUMMARIZE": true, "USE": true, "PIVOT": true, "UNPIVOT": true,
}

// unsupportedClauses are SQL words that may follow a query but that FusionQL
// does not have.
var unsupportedClauses = map[string]bool{
	"UNION": true, "INTERSECT": true, "EXCEPT": true, "WINDOW": true,
	"QUALIFY": true, "FETCH": true, "RIGHT": true, "FULL": true, "CROSS": true, "NATURAL": true,
	"USING": true, "INTO": true,
}

// Parse parses a query and validates it against Schema. It is what a server
// calls with user input; every error is an *Error.
func Parse(query string) (*Query, error) {
	q, err := ParseSyntax(query)
	if err != nil {
		return nil, err
	}
	if err := Validate(q); err != nil {
		return nil, err
	}
	return q, nil
}

// ParseSyntax parses a query without looking at the schema: table, column and
// function names are not checked. Translate refuses its result until
// Validate has run.
func ParseSyntax(query string) (q *Query, err error) {
	if len(query) > MaxQueryBytes {
		return nil, errorf(Position{Line: 1, Col: 1}, "query is %d bytes long, more than the limit of %d", len(query), MaxQueryBytes)
	}
	p := &parser{lex: newLexer(query), starAt: -1}
	defer func() {
		if r := recover(); r != nil {
			perr, ok := r.(*Error)
			if !ok {
				panic(r)
			}
			q, err = nil, perr
		}
	}()
	p.next()
	return p.parseQuery(), nil
}

// parser is a recursive-descent parser over the lexer's tokens with one token
// of look-ahead. It reports an error by panicking with an *Error, which
// ParseSyntax recovers.
type parser struct {
	lex    *lexer
	tok    token
	peeked *token
	depth  int
	// starAt is the offset where a select item starts; t.* is allowed only
	// there.
	starAt int
}

func (p *parser) next() {
	if p.peeked != nil {
		p.tok, p.peeked = *p.peeked, nil
	} else {
		p.tok = p.lex.next()
	}
	if p.tok.kind == tokError {
		panic(&Error{Pos: p.tok.pos, Msg: p.tok.text})
	}
}

func (p *parser) peek() token {
	if p.peeked == nil {
		t := p.lex.next()
		p.peeked = &t
	}
	return *p.peeked
}

func (p *parser) failf(pos Position, format string, args ...any) {
	panic(errorf(pos, format, args...))
}

func (p *parser) unexpected(want string) {
	p.failf(p.tok.pos, "unexpected %s, expected %s", p.tok.describe(), want)
}

func (p *parser) expect(kind tokenKind, want string) Position {
	if p.tok.kind != kind {
		p.unexpected(want)
	}
	pos := p.tok.pos
	p.next()
	return pos
}

func (p *parser) enter() {
	p.depth++
	if p.depth > maxDepth {
		p.failf(p.tok.pos, "expression is nested too deeply")
	}
}

func (p *parser) leave() { p.depth-- }

func (p *parser) parseQuery() *Query {
	if p.tok.kind != tokSelect {
		word := strings.ToUpper(p.tok.text)
		switch {
		case p.tok.kind == tokEOF:
			p.failf(p.tok.pos, "empty query, expected SELECT")
		case p.tok.kind == tokIdent && writeStatements[word]:
			p.failf(p.tok.pos, "%s is not allowed: FusionQL is read-only and accepts a single SELECT", word)
		case (p.tok.kind == tokIdent || p.tok.kind == tokFrom) && otherStatements[word]:
			p.failf(p.tok.pos, "%s is not supported: a query is a single SELECT", word)
		}
		p.unexpected("SELECT")
	}
	q := &Query{SelectPos: p.tok.pos}
	p.next()
	if p.tok.kind == tokDistinct {
		q.Distinct = true
		p.next()
	}
	for {
		q.Items = append(q.Items, p.parseSelectItem())
		if p.tok.kind != tokComma {
			break
		}
		p.next()
	}
	p.expect(tokFrom, "FROM")
	q.From = p.parseTableRef()
	if p.tok.kind == tokComma {
		p.failf(p.tok.pos, "a comma between tables is not supported, use JOIN ... ON")
	}
	for p.tok.kind == tokJoin || p.tok.kind == tokInner || p.tok.kind == tokLeft {
		q.Joins = append(q.Joins, p.parseJoin())
	}
	if p.tok.kind == tokWhere {
		p.next()
		q.Where = p.parseExpr(precOr)
	}
	if p.tok.kind == tokGroup {
		p.next()
		p.expect(tokBy, "BY")
		q.GroupBy = p.parseExprList()
	}
	if p.tok.kind == tokHaving {
		q.HavingPos = p.tok.pos
		p.next()
		q.Having = p.parseExpr(precOr)
	}
	if p.tok.kind == tokOrder {
		p.next()
		p.expect(tokBy, "BY")
		for {
			item := &OrderItem{Expr: p.parseExpr(precOr)}
			if p.tok.kind == tokAsc {
				p.next()
			} else if p.tok.kind == tokDesc {
				item.Desc = true
				p.next()
			}
			q.OrderBy = append(q.OrderBy, item)
			if p.tok.kind != tokComma {
				break
			}
			p.next()
		}
	}
	if p.tok.kind == tokLimit {
		q.Limit = &Limit{LimitPos: p.tok.pos}
		p.next()
		q.Limit.Count = p.parseCount("LIMIT")
	}
	if p.tok.kind == tokOffset {
		q.Offset = &Offset{OffsetPos: p.tok.pos}
		p.next()
		q.Offset.Count = p.parseCount("OFFSET")
		if p.tok.kind == tokLimit {
			p.failf(p.tok.pos, "LIMIT must come before OFFSET")
		}
	}
	if p.tok.kind == tokSemicolon {
		p.next()
		if p.tok.kind != tokEOF {
			p.failf(p.tok.pos, "only one statement is allowed, found %s after \";\"", p.tok.describe())
		}
	}
	if p.tok.kind != tokEOF {
		if p.tok.kind == tokIdent && unsupportedClauses[strings.ToUpper(p.tok.text)] {
			p.failf(p.tok.pos, "%s is not supported", strings.ToUpper(p.tok.text))
		}
		p.failf(p.tok.pos, "unexpected %s after the end of the query", p.tok.describe())
	}
	return q
}

// parseCount reads the whole number after LIMIT or OFFSET.
func (p *parser) parseCount(clause string) int64 {
	if p.tok.kind != tokNumber || strings.ContainsAny(p.tok.text, ".eE") {
		p.failf(p.tok.pos, "%s needs a non-negative whole number, got %s", clause, p.tok.describe())
	}
	n, err := strconv.ParseInt(p.tok.text, 10, 64)
	if err != nil {
		p.failf(p.tok.pos, "%s %s is out of range", clause, p.tok.text)
	}
	p.next()
	return n
}

func (p *parser) parseSelectItem() *SelectItem {
	if p.tok.kind == tokStar {
		item := &SelectItem{Expr: &StarExpr{StarPos: p.tok.pos}}
		p.next()
		p.noStarAlias()
		return item
	}
	p.starAt = p.tok.pos.Offset
	item := &SelectItem{Expr: p.parseExpr(precOr)}
	p.starAt = -1
	if _, ok := item.Expr.(*StarExpr); ok {
		p.noStarAlias()
		return item
	}
	Inspect(item.Expr, func(e Expr) bool {
		if star, ok := e.(*StarExpr); ok {
			p.failf(star.StarPos, "%s cannot be part of an expression", star)
		}
		return true
	})
	if p.tok.kind == tokAs {
		p.next()
		if p.tok.kind != tokIdent && p.tok.kind != tokQuotedIdent {
			p.unexpected("an alias after AS")
		}
	}
	if p.tok.kind == tokIdent || p.tok.kind == tokQuotedIdent {
		item.Alias, item.AliasPos = p.tok.text, p.tok.pos
		p.next()
	}
	return item
}

func (p *parser) noStarAlias() {
	if p.tok.kind == tokAs || p.tok.kind == tokIdent || p.tok.kind == tokQuotedIdent {
		p.failf(p.tok.pos, "a * select item cannot have an alias")
	}
}

func (p *parser) parseTableRef() *TableRef {
	if p.tok.kind != tokIdent && p.tok.kind != tokQuotedIdent {
		p.unexpected("a table name")
	}
	t := &TableRef{NamePos: p.tok.pos, Name: p.tok.text}
	p.next()
	if p.tok.kind == tokDot {
		p.failf(p.tok.pos, "qualified table names are not supported, use traces, logs or metrics")
	}
	explicit := p.tok.kind == tokAs
	if explicit {
		p.next()
		if p.tok.kind != tokIdent && p.tok.kind != tokQuotedIdent {
			p.unexpected("an alias after AS")
		}
	}
	if p.tok.kind == tokIdent || p.tok.kind == tokQuotedIdent {
		// Without AS, a word like UNION or CROSS is more likely SQL we lack
		// than an alias.
		if !explicit && p.tok.kind == tokIdent && unsupportedClauses[strings.ToUpper(p.tok.text)] {
			p.failf(p.tok.pos, "%s is not supported", strings.ToUpper(p.tok.text))
		}
		t.Alias, t.AliasPos = p.tok.text, p.tok.pos
		p.next()
	}
	return t
}

func (p *parser) parseJoin() *Join {
	j := &Join{JoinPos: p.tok.pos}
	switch p.tok.kind {
	case tokInner:
		p.next()
	case tokLeft:
		j.Kind = JoinLeft
		p.next()
		if p.tok.kind == tokOuter {
			p.next()
		}
	}
	p.expect(tokJoin, "JOIN")
	j.Table = p.parseTableRef()
	p.expect(tokOn, "ON after the joined table")
	j.On = p.parseExpr(precOr)
	return j
}

func (p *parser) parseExprList() []Expr {
	list := []Expr{p.parseExpr(precOr)}
	for p.tok.kind == tokComma {
		p.next()
		list = append(list, p.parseExpr(precOr))
	}
	return list
}

// Operator precedence, loosest first. NOT binds looser than comparisons, so
// NOT a = b is NOT (a = b); comparisons do not chain.
const (
	precOr = iota + 1
	precAnd
	precNot
	precCompare
	precAdd
	precMul
)

var binaryOps = map[tokenKind]struct {
	op   BinaryOp
	prec int
}{
	tokOr: {OpOr, precOr}, tokAnd: {OpAnd, precAnd},
	tokEq: {OpEq, precCompare}, tokNe: {OpNe, precCompare},
	tokLt: {OpLt, precCompare}, tokLe: {OpLe, precCompare},
	tokGt: {OpGt, precCompare}, tokGe: {OpGe, precCompare},
	tokPlus: {OpAdd, precAdd}, tokMinus: {OpSub, precAdd},
	tokStar: {OpMul, precMul}, tokSlash: {OpDiv, precMul}, tokPercent: {OpMod, precMul},
}

// parseExpr parses an expression whose operators all bind at least as
// tightly as minPrec (precedence climbing).
func (p *parser) parseExpr(minPrec int) Expr {
	p.enter()
	defer p.leave()
	var left Expr
	if p.tok.kind == tokNot && minPrec <= precNot {
		pos := p.tok.pos
		p.next()
		left = &UnaryExpr{OpPos: pos, Op: OpNot, X: p.parseExpr(precNot)}
	} else {
		left = p.parseUnary()
	}
	compared := false
	for {
		prec := 0
		op, isBinary := binaryOps[p.tok.kind]
		if isBinary {
			prec = op.prec
		}
		if p.atPredicate() {
			prec = precCompare
		}
		if prec == 0 || prec < minPrec {
			return left
		}
		if prec == precCompare {
			if compared {
				p.failf(p.tok.pos, "comparisons cannot be chained, add parentheses")
			}
			compared = true
			left = p.parsePredicate(left)
			continue
		}
		pos := p.tok.pos
		p.next()
		left = &BinaryExpr{L: left, OpPos: pos, Op: op.op, R: p.parseExpr(prec + 1)}
	}
}

// atPredicate reports whether a BETWEEN, IN, LIKE or IS predicate starts at
// the current token.
func (p *parser) atPredicate() bool {
	switch p.tok.kind {
	case tokBetween, tokIn, tokLike, tokIs:
		return true
	case tokNot:
		switch p.peek().kind {
		case tokBetween, tokIn, tokLike:
			return true
		}
	}
	return false
}

func (p *parser) parsePredicate(left Expr) Expr {
	if op, ok := binaryOps[p.tok.kind]; ok {
		pos := p.tok.pos
		p.next()
		return &BinaryExpr{L: left, OpPos: pos, Op: op.op, R: p.parseExpr(precAdd)}
	}
	negated := false
	if p.tok.kind == tokNot {
		negated = true
		p.next()
	}
	pos := p.tok.pos
	switch p.tok.kind {
	case tokBetween:
		p.next()
		low := p.parseExpr(precAdd)
		p.expect(tokAnd, "AND in BETWEEN")
		return &BetweenExpr{X: left, Not: negated, BetweenPos: pos, Low: low, High: p.parseExpr(precAdd)}
	case tokIn:
		p.next()
		p.expect(tokLParen, `"(" after IN`)
		if p.tok.kind == tokRParen {
			p.failf(p.tok.pos, "IN needs at least one value")
		}
		list := p.parseExprList()
		p.expect(tokRParen, `"," or ")"`)
		return &InExpr{X: left, Not: negated, InPos: pos, List: list}
	case tokLike:
		p.next()
		return &LikeExpr{X: left, Not: negated, LikePos: pos, Pattern: p.parseExpr(precAdd)}
	}
	// IS [NOT] NULL
	p.next()
	is := &IsNullExpr{X: left, IsPos: pos}
	if p.tok.kind == tokNot {
		is.Not = true
		p.next()
	}
	p.expect(tokNull, "NULL")
	return is
}

func (p *parser) parseUnary() Expr {
	if p.tok.kind != tokMinus {
		return p.parsePrimary()
	}
	p.enter()
	defer p.leave()
	pos := p.tok.pos
	p.next()
	return &UnaryExpr{OpPos: pos, Op: OpNeg, X: p.parseUnary()}
}

// parsePrimary parses an operand and the map index that may follow a column:
// attributes['http.route'].
func (p *parser) parsePrimary() Expr {
	x := p.parseOperand()
	if p.tok.kind != tokLBracket {
		return x
	}
	ref, ok := x.(*ColumnRef)
	if !ok {
		p.failf(p.tok.pos, "only a map column can be indexed, as in span.attributes['http.route']")
	}
	idx := &IndexExpr{X: ref, LBrack: p.tok.pos}
	p.next()
	if p.tok.kind != tokString {
		p.failf(p.tok.pos, "the key in [...] must be a quoted string such as ['http.route'], got %s", p.tok.describe())
	}
	idx.Key = &StringLit{LitPos: p.tok.pos, Value: p.tok.text}
	p.next()
	p.expect(tokRBracket, `"]"`)
	if p.tok.kind == tokLBracket {
		p.failf(p.tok.pos, "attribute values are strings and cannot be indexed again")
	}
	return idx
}

func (p *parser) parseOperand() Expr {
	tok := p.tok
	switch tok.kind {
	case tokNumber:
		p.next()
		if !strings.ContainsAny(tok.text, ".eE") {
			n, err := strconv.ParseInt(tok.text, 10, 64)
			if err != nil {
				p.failf(tok.pos, "integer %s is out of range", tok.text)
			}
			return &IntLit{LitPos: tok.pos, Value: n}
		}
		f, err := strconv.ParseFloat(tok.text, 64)
		if err != nil || math.IsInf(f, 0) {
			p.failf(tok.pos, "number %s is out of range", tok.text)
		}
		return &FloatLit{LitPos: tok.pos, Value: f}
	case tokString:
		p.next()
		return &StringLit{LitPos: tok.pos, Value: tok.text}
	case tokInterval:
		p.next()
		if p.tok.kind != tokString {
			p.failf(p.tok.pos, "INTERVAL needs a quoted duration such as INTERVAL '5m', got %s", p.tok.describe())
		}
		d, problem := parseInterval(p.tok.text)
		if problem != "" {
			p.failf(p.tok.pos, "bad INTERVAL %s: %s", quoteString(p.tok.text), problem)
		}
		p.next()
		return &IntervalLit{IntervalPos: tok.pos, Value: d}
	case tokLParen:
		p.next()
		x := p.parseExpr(precOr)
		p.expect(tokRParen, `")"`)
		return &ParenExpr{LParen: tok.pos, X: x}
	case tokIdent, tokQuotedIdent:
		if tok.kind == tokIdent && p.peek().kind == tokLParen {
			return p.parseCall()
		}
		p.next()
		if p.tok.kind != tokDot {
			return &ColumnRef{NamePos: tok.pos, Name: tok.text}
		}
		p.next()
		switch p.tok.kind {
		case tokStar:
			star := &StarExpr{StarPos: tok.pos, Qualifier: tok.text}
			if tok.pos.Offset != p.starAt {
				p.failf(tok.pos, "%s is only allowed as a select item", star)
			}
			p.next()
			return star
		case tokIdent, tokQuotedIdent:
			ref := &ColumnRef{QualifierPos: tok.pos, Qualifier: tok.text, NamePos: p.tok.pos, Name: p.tok.text}
			p.next()
			return ref
		}
		p.unexpected(`a column name after "."`)
	case tokCase:
		return p.parseCase()
	case tokStar:
		p.failf(tok.pos, "* is only allowed as a select item or in COUNT(*)")
	}
	p.unexpected("an expression")
	return nil
}

func (p *parser) parseCall() Expr {
	call := &CallExpr{NamePos: p.tok.pos, Name: strings.ToUpper(p.tok.text)}
	p.next() // name
	p.next() // (
	switch p.tok.kind {
	case tokStar:
		call.Star = true
		p.next()
	case tokRParen:
	default:
		if p.tok.kind == tokDistinct {
			call.Distinct = true
			p.next()
		}
		call.Args = p.parseExprList()
	}
	p.expect(tokRParen, `"," or ")"`)
	return call
}

// parseCase parses CASE [operand] WHEN x THEN y {WHEN x THEN y} [ELSE z] END.
func (p *parser) parseCase() Expr {
	c := &CaseExpr{CasePos: p.tok.pos}
	p.next() // CASE
	if p.tok.kind != tokWhen {
		c.Operand = p.parseExpr(precOr)
		if p.tok.kind != tokWhen {
			p.unexpected("WHEN")
		}
	}
	for p.tok.kind == tokWhen {
		w := &WhenClause{WhenPos: p.tok.pos}
		p.next()
		w.When = p.parseExpr(precOr)
		p.expect(tokThen, "THEN")
		w.Then = p.parseExpr(precOr)
		c.Whens = append(c.Whens, w)
	}
	if p.tok.kind == tokElse {
		p.next()
		c.Else = p.parseExpr(precOr)
	}
	p.expect(tokEnd, "WHEN, ELSE or END")
	return c
}
