package fusedexporter

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/otelfusion/otelfusion/pkg/fusionql"
)

// Sentinel errors of query execution; the query API maps them to statuses.
var (
	// errQueryTimeout is a query interrupted at 'store::query::query_timeout'.
	errQueryTimeout = errors.New("query exceeded 'query_timeout'")
)

// queryResult is the answer to one query: column names and rows of JSON-able
// values (string, int64, float64, *big.Int, bool, []any or nil).
type queryResult struct {
	Columns []string `json:"columns"`
	Rows    [][]any  `json:"rows"`
}

// queryLimits are the policies applied to every query.
type queryLimits struct {
	timeout           time.Duration
	maxRows           int
	defaultTimeWindow time.Duration
}

// query parses, validates and translates text, then runs it scoped to
// tenant (every tenant when empty). A *fusionql.Error is the user's
// mistake; errQueryTimeout wraps a timeout.
func (s *fusedStore) query(ctx context.Context, text, tenant string, limits queryLimits) (*queryResult, error) {
	parsed, err := fusionql.Parse(text)
	if err != nil {
		return nil, err
	}
	sqlText, args, err := fusionql.DuckDB{}.Translate(parsed, fusionql.TranslateOptions{
		Tenant:            tenant,
		MaxRows:           limits.maxRows,
		DefaultTimeWindow: limits.defaultTimeWindow,
		Now:               s.now(),
	})
	if err != nil {
		return nil, err
	}
	if limits.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, limits.timeout)
		defer cancel()
	}
	result, err := s.run(ctx, sqlText, args, limits.maxRows)
	if err != nil && ctx.Err() != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("%w (%s)", errQueryTimeout, limits.timeout)
		}
		return nil, ctx.Err()
	}
	return result, err
}

// run executes translated SQL and reads at most maxRows rows (all when 0).
func (s *fusedStore) run(ctx context.Context, sqlText string, args []any, maxRows int) (*queryResult, error) {
	rows, err := s.db.QueryContext(ctx, sqlText, args...)
	if err != nil {
		return nil, fmt.Errorf("store: query failed: %w", err)
	}
	defer rows.Close()
	columns, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	result := &queryResult{Columns: columns, Rows: [][]any{}}
	for rows.Next() {
		if maxRows > 0 && len(result.Rows) >= maxRows {
			break
		}
		values := make([]any, len(columns))
		ptrs := make([]any, len(columns))
		for i := range values {
			ptrs[i] = &values[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		for i, v := range values {
			values[i] = plainValue(v)
		}
		result.Rows = append(result.Rows, values)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: query failed: %w", err)
	}
	return result, nil
}

// plainValue turns the driver's values into ones JSON and CSV print as users
// expect: big integers stay exact, decimals become floats.
func plainValue(v any) any {
	switch x := v.(type) {
	case []byte:
		return string(x)
	case duckdb.Decimal:
		return x.Float64()
	case *big.Int:
		if x.IsInt64() {
			return x.Int64()
		}
		return x
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case []any:
		for i := range x {
			x[i] = plainValue(x[i])
		}
		return x
	case int32:
		return int64(x)
	case int16:
		return int64(x)
	case int8:
		return int64(x)
	case uint32:
		return int64(x)
	case uint16:
		return int64(x)
	case uint8:
		return int64(x)
	case float32:
		return float64(x)
	default:
		return v
	}
}
