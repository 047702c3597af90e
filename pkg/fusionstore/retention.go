package fusionstore

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelfusion/otelfusion/pkg/fusionql"
)

// sweep deletes the rows past their retention: a tenant with an override
// keeps its rows for that long, every other tenant for the store's
// retention (0: forever). A row's age is measured on its table's time
// column (a span's start, a log's or a point's timestamp).
func (s *Store) sweep(ctx context.Context) (deleted int64, err error) {
	now := s.now()
	overrides := s.retentions()
	tenants := make([]string, 0, len(overrides))
	for tenant := range overrides {
		tenants = append(tenants, tenant)
	}
	sort.Strings(tenants)
	for _, t := range fusionql.Schema {
		table, timeCol := fmt.Sprintf("%q", t.Name), fmt.Sprintf("%q", t.TimeColumn)
		for _, tenant := range tenants {
			cutoff := now.Add(-overrides[tenant]).UnixNano()
			n, delErr := s.exec(ctx, "DELETE FROM "+table+" WHERE tenant = ? AND "+timeCol+" < ?", tenant, cutoff)
			deleted += n
			err = errors.Join(err, delErr)
		}
		if s.cfg.Retention <= 0 {
			continue
		}
		cutoff := now.Add(-s.cfg.Retention).UnixNano()
		query := "DELETE FROM " + table + " WHERE " + timeCol + " < ?"
		args := []any{cutoff}
		if len(tenants) > 0 {
			query += " AND tenant NOT IN (" + strings.TrimSuffix(strings.Repeat("?, ", len(tenants)), ", ") + ")"
			for _, tenant := range tenants {
				args = append(args, tenant)
			}
		}
		n, delErr := s.exec(ctx, query, args...)
		deleted += n
		err = errors.Join(err, delErr)
	}
	return deleted, err
}

func (s *Store) exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := s.db.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, fmt.Errorf("store: retention sweep: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// StartSweeper deletes the rows past their retention every sweep_interval,
// counting them in swept, until Stop is called on what it returns.
func StartSweeper(s *Store, logger *zap.Logger, swept metric.Int64Counter) *Periodic {
	return startSweeper(s, s.cfg.SweepInterval, logger, swept)
}

// startSweeper runs sweep every interval, counting deleted rows in swept.
func startSweeper(s *Store, interval time.Duration, logger *zap.Logger, swept metric.Int64Counter) *Periodic {
	return startPeriodic(interval, func(ctx context.Context) {
		n, err := s.sweep(ctx)
		if err != nil && ctx.Err() == nil {
			logger.Warn("Store retention sweep failed", zap.Error(err))
		}
		if n > 0 {
			swept.Add(ctx, n)
			logger.Debug("Store retention sweep", zap.Int64("deleted_rows", n))
		}
	})
}
