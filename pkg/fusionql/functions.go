package fusionql

import (
	"sort"
	"strings"
)

// function is one entry of the allow-list. check returns the result type for
// the argument types, or a problem to report at the call.
type function struct {
	aggregate bool
	// minArgs and maxArgs bound the argument count; maxArgs < 0 means any.
	minArgs, maxArgs int
	check            func(call *CallExpr, args []ColumnType) (ColumnType, string)
	// duckdb is the function's name in DuckDB SQL.
	duckdb string
}

// functions is the allow-list; anything else is an unknown function.
var functions = map[string]*function{
	"ABS":      {minArgs: 1, maxArgs: 1, check: numericSame, duckdb: "ABS"},
	"COUNT":    {aggregate: true, minArgs: 1, maxArgs: 1, check: countType, duckdb: "COUNT"},
	"SUM":      {aggregate: true, minArgs: 1, maxArgs: 1, check: numericSame, duckdb: "SUM"},
	"AVG":      {aggregate: true, minArgs: 1, maxArgs: 1, check: numericDouble, duckdb: "AVG"},
	"MIN":      {aggregate: true, minArgs: 1, maxArgs: 1, check: orderableSame, duckdb: "MIN"},
	"MAX":      {aggregate: true, minArgs: 1, maxArgs: 1, check: orderableSame, duckdb: "MAX"},
	"LOWER":    {minArgs: 1, maxArgs: 1, check: stringSame, duckdb: "LOWER"},
	"UPPER":    {minArgs: 1, maxArgs: 1, check: stringSame, duckdb: "UPPER"},
	"COALESCE": {minArgs: 2, maxArgs: -1, check: coalesceType, duckdb: "COALESCE"},
	"QUANTILE": {aggregate: true, minArgs: 2, maxArgs: 2, check: quantileType, duckdb: "quantile_cont"},
	// TIME_BUCKET has no DuckDB function: it is integer arithmetic on
	// nanoseconds (see sqlWriter.call).
	"TIME_BUCKET": {minArgs: 2, maxArgs: 2, check: timeBucketType},
}

func functionNames() string {
	names := make([]string, 0, len(functions))
	for name := range functions {
		names = append(names, name)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func isNumeric(t ColumnType) bool {
	return t == TypeInt || t == TypeDouble || t == TypeDuration || t == TypeUnknown
}

func numericSame(call *CallExpr, args []ColumnType) (ColumnType, string) {
	if !isNumeric(args[0]) {
		return 0, call.Name + " needs a number or duration, got " + args[0].String()
	}
	return args[0], ""
}

func numericDouble(call *CallExpr, args []ColumnType) (ColumnType, string) {
	if _, problem := numericSame(call, args); problem != "" {
		return 0, problem
	}
	return TypeDouble, ""
}

func countType(*CallExpr, []ColumnType) (ColumnType, string) { return TypeInt, "" }

func orderableSame(call *CallExpr, args []ColumnType) (ColumnType, string) {
	switch args[0] {
	case TypeMap, TypeList, TypeBool:
		return 0, call.Name + " cannot order " + args[0].String() + " values"
	}
	return args[0], ""
}

func stringSame(call *CallExpr, args []ColumnType) (ColumnType, string) {
	if args[0] != TypeString && args[0] != TypeUnknown {
		return 0, call.Name + " needs a string, got " + args[0].String()
	}
	return TypeString, ""
}

func coalesceType(call *CallExpr, args []ColumnType) (ColumnType, string) {
	result := TypeUnknown
	for _, t := range args {
		if !comparable(result, t) {
			return 0, "COALESCE arguments mix " + result.String() + " and " + t.String()
		}
		if result == TypeUnknown {
			result = t
		}
	}
	return result, ""
}

// quantileType wants QUANTILE(x, fraction) with a constant fraction, because
// DuckDB's quantile_cont needs the fraction at plan time.
func quantileType(call *CallExpr, args []ColumnType) (ColumnType, string) {
	if !isNumeric(args[0]) {
		return 0, "QUANTILE needs a number or duration, got " + args[0].String()
	}
	if _, ok := quantileFraction(call.Args[1]); !ok {
		return 0, "QUANTILE needs a constant fraction between 0 and 1 as its second argument"
	}
	return TypeDouble, ""
}

func quantileFraction(e Expr) (float64, bool) {
	var f float64
	switch lit := e.(type) {
	case *IntLit:
		f = float64(lit.Value)
	case *FloatLit:
		f = lit.Value
	default:
		return 0, false
	}
	return f, f >= 0 && f <= 1
}

// timeBucketType wants TIME_BUCKET(INTERVAL '1m', t) with a constant width
// greater than zero and t a timestamp or duration; the bucket has t's type.
// The width must be constant so that the translation can write it inline:
// the same bucket then reads the same in SELECT, GROUP BY and ORDER BY, and
// DuckDB matches them.
func timeBucketType(call *CallExpr, args []ColumnType) (ColumnType, string) {
	if _, ok := bucketWidth(call.Args[0]); !ok {
		return 0, "TIME_BUCKET needs a constant INTERVAL greater than 0 as its first argument, such as INTERVAL '1m'"
	}
	switch args[1] {
	case TypeTimestamp, TypeDuration, TypeUnknown:
		return args[1], ""
	}
	return 0, "TIME_BUCKET needs a timestamp or duration as its second argument, got " + args[1].String()
}

// bucketWidth is the width of a TIME_BUCKET in nanoseconds.
func bucketWidth(e Expr) (int64, bool) {
	interval, ok := e.(*IntervalLit)
	if !ok || interval.Value <= 0 {
		return 0, false
	}
	return int64(interval.Value), true
}
