package fusionql

import "fmt"

// Position is a place in the query text. Line and Col are 1-based; Col counts
// bytes from the start of the line. Offset is the 0-based byte offset.
type Position struct {
	Offset int
	Line   int
	Col    int
}

func (p Position) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Col) }

// Error is the only error type the package returns for a bad query: what is
// wrong and where in the query text.
type Error struct {
	Pos Position
	Msg string
}

func (e *Error) Error() string { return fmt.Sprintf("fusionql: %s: %s", e.Pos, e.Msg) }

func errorf(pos Position, format string, args ...any) *Error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}
