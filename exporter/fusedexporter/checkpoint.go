package fusedexporter

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/duckdb/duckdb-go/v2"
	"go.uber.org/zap"
)

// errCheckpointBusy is a checkpoint DuckDB refused because another write
// transaction (a retention sweep) was running; the next interval retries.
var errCheckpointBusy = errors.New("store: checkpoint skipped: another write transaction is running")

// checkpoint writes the write-ahead log into the database file. It holds mu,
// so no append is in flight (an appender commits only on Flush, under mu);
// appends wait for it. A plain CHECKPOINT never aborts or blocks other
// transactions: DuckDB refuses it instead when they conflict.
func (s *fusedStore) checkpoint(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == nil {
		return errShutdown
	}
	if _, err := s.db.ExecContext(ctx, "CHECKPOINT"); err != nil {
		var dbErr *duckdb.Error
		if errors.As(err, &dbErr) && dbErr.Type == duckdb.ErrorTypeTransaction {
			return fmt.Errorf("%w: %s", errCheckpointBusy, dbErr.Msg)
		}
		return fmt.Errorf("store: checkpoint: %w", err)
	}
	return nil
}

// startCheckpointer runs checkpoint every interval.
func startCheckpointer(s *fusedStore, interval time.Duration, logger *zap.Logger) *periodic {
	return startPeriodic(interval, func(ctx context.Context) {
		err := s.checkpoint(ctx)
		switch {
		case err == nil, ctx.Err() != nil:
		case errors.Is(err, errCheckpointBusy):
			logger.Debug("Store checkpoint skipped", zap.Error(err))
		default:
			logger.Warn("Store checkpoint failed", zap.Error(err))
		}
	})
}
