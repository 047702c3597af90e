package fusedexporter

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

// Sentinel errors of query execution; the query API maps them to statuses.
var (
	// errQueryTimeout is a query interrupted at 'store::query::query_timeout'.
	errQueryTimeout = errors.New("query exceeded 'query_timeout'")
	// errMemoryLimit is a query DuckDB stopped for want of memory: it
	// needed more than 'store::memory_limit' and could not spill the rest.
	errMemoryLimit = errors.New("query needed more memory than 'store::memory_limit' allows " +
		"(after spilling up to 'store::max_temp_directory_size' to disk); narrow it or raise the limits")
	// errAnswerTooLarge is an answer cut short at
	// 'store::query::max_response_bytes'; the rows after it are not sent.
	errAnswerTooLarge = errors.New("answer exceeded 'store::query::max_response_bytes'")
)

// answerWriter receives one answer as its rows are scanned: begin once with
// the column names, then row for each row in order. An error from either
// stops the scan, and query returns it. row must not keep values: the slice
// is reused for the next row.
type answerWriter interface {
	begin(columns []string) error
	row(values []any) error
}

// queryLimits are the policies applied to every query.
type queryLimits struct {
	timeout           time.Duration
	maxRows           int
	maxResponseBytes  int64
	defaultTimeWindow time.Duration
}

// query parses, validates and translates text, then runs it scoped to
// tenant (every tenant when empty), handing the answer to answer row by row.
// A *fusionql.Error is the user's mistake; errQueryTimeout and
// errMemoryLimit wrap the limits it hit.
func (s *fusedStore) query(ctx context.Context, text, tenant string, limits queryLimits, answer answerWriter) error {
	parsed, err := fusionql.Parse(text)
	if err != nil {
		return err
	}
	sqlText, args, err := fusionql.DuckDB{}.Translate(parsed, fusionql.TranslateOptions{
		Tenant:            tenant,
		MaxRows:           limits.maxRows,
		DefaultTimeWindow: limits.defaultTimeWindow,
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
	if limits.timeout > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, limits.timeout)
		defer cancel()
	}
	err = s.run(runCtx, sqlText, args, limits.maxRows, answer)
	stopGuard()
	switch {
	case err == nil, errors.Is(err, errAnswerTooLarge):
		return err
	case errors.Is(context.Cause(ctx), errMemoryLimit):
		return context.Cause(ctx)
	case runCtx.Err() != nil:
		if errors.Is(runCtx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("%w (%s)", errQueryTimeout, limits.timeout)
		}
		return runCtx.Err()
	}
	var dbErr *duckdb.Error
	if errors.As(err, &dbErr) && dbErr.Type == duckdb.ErrorTypeOutOfMemory {
		// DuckDB's first line says what failed; the rest is advice on its
		// own settings, which the configuration sets instead.
		msg, _, _ := strings.Cut(dbErr.Msg, "\n")
		return fmt.Errorf("%w: %s", errMemoryLimit, msg)
	}
	return err
}

// run executes translated SQL and hands at most maxRows rows (all when 0) to
// answer as they are scanned. DuckDB has computed the whole result (within
// its memory_limit) by the time the first row is read; nothing here holds
// more than one row.
func (s *fusedStore) run(ctx context.Context, sqlText string, args []any, maxRows int, answer answerWriter) error {
	rows, err := s.db.QueryContext(ctx, sqlText, args...)
	if err != nil {
		return fmt.Errorf("store: query failed: %w", err)
	}
	defer rows.Close()
	columns, err := rows.Columns()
	if err != nil {
		return err
	}
	if err := answer.begin(columns); err != nil {
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
		if err := answer.row(values); err != nil {
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
