package fusionstore

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/otelfusion/otelfusion/pkg/fusionql"
)

// AnswerWriter receives one answer as its rows are scanned: Begin once with
// the column names, then Row for each row in order. An error from either
// stops the scan, and Query returns it. Row must not keep values: the slice
// is reused for the next row. Called from the querying goroutine only.
type AnswerWriter interface {
	// Begin receives the column names, before any row.
	Begin(columns []string) error
	// Row receives the values of one row, in column order.
	Row(values []any) error
}

// QueryLimits are the policies applied to a query.
type QueryLimits struct {
	// Timeout bounds the query's run time; 0 is no bound.
	Timeout time.Duration
	// MaxRows caps the rows of the answer (the query's LIMIT becomes at
	// most this); 0 is no cap.
	MaxRows int
	// DefaultTimeWindow bounds tables of a join that set no time range of
	// their own to the last DefaultTimeWindow; 0 refuses such queries.
	DefaultTimeWindow time.Duration
}

// Query parses, validates and translates text, then runs it scoped to
// tenant (every tenant when empty), handing the answer to answer row by row.
// A *fusionql.Error is the user's mistake; ErrQueryTimeout and
// ErrMemoryLimit wrap the limits it hit; an error answer returned is
// returned as it is (ErrAnswerTooLarge from a StreamedAnswer).
func (s *Store) Query(ctx context.Context, text, tenant string, limits QueryLimits, answer AnswerWriter) error {
	parsed, err := fusionql.Parse(text)
	if err != nil {
		return err
	}
	sqlText, args, err := fusionql.DuckDB{}.Translate(parsed, fusionql.TranslateOptions{
		Tenant:            tenant,
		MaxRows:           limits.MaxRows,
		DefaultTimeWindow: limits.DefaultTimeWindow,
		Now:               s.now(),
	})
	if err != nil {
		return err
	}
	ctx, interrupt := context.WithCancelCause(ctx)
	defer interrupt(nil)
	stopGuard := func() {}
	if baseline, ok := s.queryMemory.enter(s.nativeMemory); ok {
		stopGuard = guardMemory(ctx, interrupt, baseline, s.cfg.MemoryLimit, s.nativeMemory)
	}
	defer s.queryMemory.leave()
	runCtx := ctx
	if limits.Timeout > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, limits.Timeout)
		defer cancel()
	}
	err = s.run(runCtx, sqlText, args, limits.MaxRows, answer)
	stopGuard()
	switch {
	case err == nil, errors.Is(err, ErrAnswerTooLarge):
		return err
	case errors.Is(context.Cause(ctx), ErrMemoryLimit):
		return context.Cause(ctx)
	case runCtx.Err() != nil:
		if errors.Is(runCtx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("%w (%s)", ErrQueryTimeout, limits.Timeout)
		}
		return runCtx.Err()
	}
	var dbErr *duckdb.Error
	if errors.As(err, &dbErr) && dbErr.Type == duckdb.ErrorTypeOutOfMemory {
		// DuckDB's first line says what failed; the rest is advice on its
		// own settings, which the configuration sets instead.
		msg, _, _ := strings.Cut(dbErr.Msg, "\n")
		return fmt.Errorf("%w: %s", ErrMemoryLimit, msg)
	}
	return err
}

// run executes translated SQL and hands at most maxRows rows (all when 0) to
// answer as they are scanned. DuckDB has computed the whole result (within
// its memory_limit) by the time the first row is read; nothing here holds
// more than one row.
func (s *Store) run(ctx context.Context, sqlText string, args []any, maxRows int, answer AnswerWriter) error {
	rows, err := s.db.QueryContext(ctx, sqlText, args...)
	if err != nil {
		return fmt.Errorf("store: query failed: %w", err)
	}
	defer rows.Close()
	columns, err := rows.Columns()
	if err != nil {
		return err
	}
	if err := answer.Begin(columns); err != nil {
		return err
	}
	values := make([]any, len(columns))
	ptrs := make([]any, len(columns))
	for i := range values {
		ptrs[i] = &values[i]
	}
	for n := 0; rows.Next(); n++ {
		if maxRows > 0 && n >= maxRows {
			break
		}
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		for i, v := range values {
			values[i] = plainValue(v)
		}
		if err := answer.Row(values); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: query failed: %w", err)
	}
	return nil
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
