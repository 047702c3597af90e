package fusionstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/duckdb/duckdb-go/v2"
	"go.uber.org/zap"
)

// checkpoint writes the write-ahead log into the database file. It holds mu,
// so no append is in flight (an appender commits only on Flush, under mu);
// appends wait for it. A plain CHECKPOINT never aborts or blocks other
// transactions: DuckDB refuses it instead when they conflict.
func (s *Store) checkpoint(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == nil {
		return ErrClosed
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

// StartCheckpointer writes the write-ahead log into the database file every
// checkpoint_interval until Stop is called on what it returns; with
// checkpoint_interval 0 it does nothing (DuckDB checkpoints on its own).
func StartCheckpointer(s *Store, logger *zap.Logger) *Periodic {
	if s.cfg.CheckpointInterval <= 0 {
		return nil
	}
	return startCheckpointer(s, s.cfg.CheckpointInterval, logger)
}

// startCheckpointer runs checkpoint every interval.
func startCheckpointer(s *Store, interval time.Duration, logger *zap.Logger) *Periodic {
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
