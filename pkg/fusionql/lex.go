package fusionql

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

type tokenKind int

const (
	tokEOF tokenKind = iota
	tokError
	tokIdent       // unquoted identifier, folded to lower case
	tokQuotedIdent // "double-quoted" identifier, kept as written
	tokString      // 'single-quoted' string, unescaped
	tokNumber      // integer or decimal number, as written

	tokComma
	tokDot
	tokLParen
	tokRParen
	tokLBracket
	tokRBracket
	tokSemicolon
	tokStar
	tokPlus
	tokMinus
	tokSlash
	tokPercent
	tokEq
	tokNe // != or <>
	tokLt
	tokLe
	tokGt
	tokGe

	keywordsBegin
	tokSelect
	tokDistinct
	tokFrom
	tokAs
	tokJoin
	tokInner
	tokLeft
	tokOuter
	tokOn
	tokWhere
	tokGroup
	tokBy
	tokHaving
	tokOrder
	tokAsc
	tokDesc
	tokLimit
	tokOffset
	tokAnd
	tokOr
	tokNot
	tokBetween
	tokIn
	tokLike
	tokIs
	tokNull
	tokInterval
	tokCase
	tokWhen
	tokThen
	tokElse
	tokEnd
	keywordsEnd
)

// keywords maps the upper-case spelling of each reserved word to its token.
var keywords = map[string]tokenKind{
	"SELECT": tokSelect, "DISTINCT": tokDistinct, "FROM": tokFrom, "AS": tokAs,
	"JOIN": tokJoin, "INNER": tokInner, "LEFT": tokLeft, "OUTER": tokOuter, "ON": tokOn,
	"WHERE": tokWhere, "GROUP": tokGroup, "BY": tokBy, "HAVING": tokHaving,
	"ORDER": tokOrder, "ASC": tokAsc, "DESC": tokDesc, "LIMIT": tokLimit, "OFFSET": tokOffset,
	"AND": tokAnd, "OR": tokOr, "NOT": tokNot, "BETWEEN": tokBetween, "IN": tokIn,
	"LIKE": tokLike, "IS": tokIs, "NULL": tokNull, "INTERVAL": tokInterval,
	"CASE": tokCase, "WHEN": tokWhen, "THEN": tokThen, "ELSE": tokElse, "END": tokEnd,
}

var punctuation = map[tokenKind]string{
	tokComma: ",", tokDot: ".", tokLParen: "(", tokRParen: ")",
	tokLBracket: "[", tokRBracket: "]", tokSemicolon: ";",
	tokStar: "*", tokPlus: "+", tokMinus: "-", tokSlash: "/", tokPercent: "%",
	tokEq: "=", tokNe: "!=", tokLt: "<", tokLe: "<=", tokGt: ">", tokGe: ">=",
}

var singleCharTokens = map[byte]tokenKind{
	',': tokComma, '.': tokDot, '(': tokLParen, ')': tokRParen, '[': tokLBracket, ']': tokRBracket, ';': tokSemicolon,
	'*': tokStar, '+': tokPlus, '-': tokMinus, '/': tokSlash, '%': tokPercent,
	'=': tokEq, '<': tokLt, '>': tokGt,
}

func (k tokenKind) isKeyword() bool { return k > keywordsBegin && k < keywordsEnd }

type token struct {
	kind tokenKind
	pos  Position
	// text is the identifier or keyword (normalised), the unescaped string,
	// the number as written, or the message of a tokError.
	text string
}

// describe names the token for error messages.
func (t token) describe() string {
	switch {
	case t.kind == tokEOF:
		return "end of query"
	case t.kind == tokIdent:
		return "identifier " + t.text
	case t.kind == tokQuotedIdent:
		return "identifier " + quoteIdent(t.text)
	case t.kind == tokString:
		return "string " + quoteString(t.text)
	case t.kind == tokNumber:
		return "number " + t.text
	case t.kind.isKeyword():
		return "keyword " + t.text
	}
	return fmt.Sprintf("%q", punctuation[t.kind])
}

// lexer cuts the query into tokens on demand. After a tokError it keeps
// returning the same error.
type lexer struct {
	src       string
	off       int
	line      int
	lineStart int
	err       *token
}

func newLexer(src string) *lexer { return &lexer{src: src, line: 1} }

func (l *lexer) position(off int) Position {
	return Position{Offset: off, Line: l.line, Col: off - l.lineStart + 1}
}

func (l *lexer) newline(off int) {
	l.line++
	l.lineStart = off + 1
}

func (l *lexer) fail(pos Position, format string, args ...any) token {
	t := token{kind: tokError, pos: pos, text: fmt.Sprintf(format, args...)}
	l.err = &t
	return t
}

func (l *lexer) next() token {
	if l.err != nil {
		return *l.err
	}
	for l.off < len(l.src) {
		c := l.src[l.off]
		if c == '\n' {
			l.newline(l.off)
		} else if c != ' ' && c != '\t' && c != '\r' {
			break
		}
		l.off++
	}
	pos := l.position(l.off)
	if l.off >= len(l.src) {
		return token{kind: tokEOF, pos: pos}
	}
	c := l.src[l.off]
	switch {
	case isIdentStart(c):
		start := l.off
		for l.off < len(l.src) && isIdentPart(l.src[l.off]) {
			l.off++
		}
		word := l.src[start:l.off]
		if kind, ok := keywords[strings.ToUpper(word)]; ok {
			return token{kind: kind, pos: pos, text: strings.ToUpper(word)}
		}
		return token{kind: tokIdent, pos: pos, text: strings.ToLower(word)}
	case isDigit(c):
		return l.number(pos)
	case c == '\'':
		text, ok := l.quoted('\'')
		if !ok {
			return l.fail(pos, "unterminated string literal")
		}
		return token{kind: tokString, pos: pos, text: text}
	case c == '"':
		text, ok := l.quoted('"')
		if !ok {
			return l.fail(pos, "unterminated quoted identifier")
		}
		if text == "" {
			return l.fail(pos, "empty quoted identifier")
		}
		for _, r := range text {
			if r < ' ' || r == 0x7f {
				return l.fail(pos, "control character in quoted identifier")
			}
		}
		return token{kind: tokQuotedIdent, pos: pos, text: text}
	}
	two := ""
	if l.off+1 < len(l.src) {
		two = l.src[l.off : l.off+2]
	}
	switch two {
	case "--", "/*":
		return l.fail(pos, "comments are not allowed")
	case "!=", "<>":
		l.off += 2
		return token{kind: tokNe, pos: pos}
	case "<=":
		l.off += 2
		return token{kind: tokLe, pos: pos}
	case ">=":
		l.off += 2
		return token{kind: tokGe, pos: pos}
	}
	if kind, ok := singleCharTokens[c]; ok {
		l.off++
		return token{kind: kind, pos: pos}
	}
	r, _ := utf8.DecodeRuneInString(l.src[l.off:])
	return l.fail(pos, "unexpected character %q", r)
}

// number scans digits [ "." digits ] [ ("e"|"E") ["+"|"-"] digits ].
func (l *lexer) number(pos Position) token {
	start := l.off
	l.digits()
	if l.off+1 < len(l.src) && l.src[l.off] == '.' && isDigit(l.src[l.off+1]) {
		l.off++
		l.digits()
	}
	if l.off < len(l.src) && (l.src[l.off] == 'e' || l.src[l.off] == 'E') {
		exp := l.off + 1
		if exp < len(l.src) && (l.src[exp] == '+' || l.src[exp] == '-') {
			exp++
		}
		if exp < len(l.src) && isDigit(l.src[exp]) {
			l.off = exp
			l.digits()
		}
	}
	if l.off < len(l.src) && (isIdentPart(l.src[l.off]) || l.src[l.off] == '.') {
		end := l.off
		for end < len(l.src) && (isIdentPart(l.src[end]) || l.src[end] == '.') {
			end++
		}
		return l.fail(pos, "invalid number %q (durations are written INTERVAL '200ms')", l.src[start:end])
	}
	return token{kind: tokNumber, pos: pos, text: l.src[start:l.off]}
}

func (l *lexer) digits() {
	for l.off < len(l.src) && isDigit(l.src[l.off]) {
		l.off++
	}
}

// quoted scans a string enclosed in quote, where a doubled quote stands for
// one. It reports false when the input ends first.
func (l *lexer) quoted(quote byte) (string, bool) {
	var b strings.Builder
	for i := l.off + 1; i < len(l.src); i++ {
		c := l.src[i]
		if c == '\n' {
			l.newline(i)
		}
		if c != quote {
			b.WriteByte(c)
			continue
		}
		if i+1 < len(l.src) && l.src[i+1] == quote {
			b.WriteByte(quote)
			i++
			continue
		}
		l.off = i + 1
		return b.String(), true
	}
	return "", false
}

func isDigit(c byte) bool      { return c >= '0' && c <= '9' }
func isIdentStart(c byte) bool { return c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z') }
func isIdentPart(c byte) bool  { return isIdentStart(c) || isDigit(c) }
