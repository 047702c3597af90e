// Package fusionql implements FusionQL, a read-only SQL subset that joins
// the traces, logs and metrics tables of the embedded store.
//
// A query goes through four steps, one file each: the lexer (lex.go) cuts
// the text into tokens with positions, the parser (parse.go) builds the tree
// of ast.go, the validator (validate.go) resolves names against Schema
// (schema.go) and checks types, and a Dialect (translate.go) turns the tree
// into parameterised SQL for the store, applying tenant scoping, the row cap
// and the time guard (timeguard.go). Every node prints back to FusionQL text
// that parses to the same tree (printer.go).
//
// Every problem with a query is an *Error carrying its Position in the text.
// The language is described in docs/fusionql.md.
package fusionql
