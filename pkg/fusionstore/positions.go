package fusionstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// positionsTable records, per source partition and table, the offset of the
// last export stored from it. FusionQL cannot name it.
const positionsTable = "source_positions"

// positionsDDL creates positionsTable with the rest of the schema.
const positionsDDL = "CREATE TABLE IF NOT EXISTS " + positionsTable +
	` (source VARCHAR, source_partition INTEGER, "table" VARCHAR, last_offset BIGINT, PRIMARY KEY (source, source_partition, "table"))`

// Position is where an export was read from in an ordered, replayable
// source: a Kafka topic partition and the offset of the record in it.
type Position struct {
	// Source names the ordered log, e.g. the Kafka topic.
	Source string
	// Partition is the partition of Source.
	Partition int32
	// Offset is the record's offset in the partition; for an export merged
	// from several records, the last one's.
	Offset int64
	// First is the first record's offset of a merged export; Offset for
	// one record.
	First int64
}

// String is the position as "source/partition@offset", or
// "source/partition@first-offset" for a merged export.
func (p Position) String() string {
	if p.First != p.Offset {
		return fmt.Sprintf("%s/%d@%d-%d", p.Source, p.Partition, p.First, p.Offset)
	}
	return fmt.Sprintf("%s/%d@%d", p.Source, p.Partition, p.Offset)
}

// ErrPositionOverlap is a merged export of which some records, not all,
// were stored already (at or below the position the store holds): it is
// not stored, and must be offered again record by record.
var ErrPositionOverlap = errors.New("fusionstore: the export's records are partly stored already; offer them one by one")

// PositionedAppender stores exports read from an ordered source exactly
// once: the rows and the position are written in one transaction, and an
// export at or below the position last stored for its partition and table is
// a replay, skipped; a merged export that straddles that position is
// refused with ErrPositionOverlap. A partition's exports must arrive in offset order (one
// consumer per partition, as a Kafka consumer group gives). Safe for
// concurrent use.
type PositionedAppender interface {
	// AppendTracesAt stores td read at pos, unless pos was already stored;
	// stored reports which.
	AppendTracesAt(ctx context.Context, td ptrace.Traces, pos Position) (stored bool, err error)
	// AppendLogsAt stores ld read at pos, unless pos was already stored.
	AppendLogsAt(ctx context.Context, ld plog.Logs, pos Position) (stored bool, err error)
	// AppendMetricsAt stores md read at pos, unless pos was already stored.
	AppendMetricsAt(ctx context.Context, md pmetric.Metrics, pos Position) (stored bool, err error)
}

var _ PositionedAppender = (*Store)(nil)

// positionKey identifies one row of positionsTable.
type positionKey struct {
	source    string
	partition int32
	table     table
}

// AppendTracesAt stores td, one row per span, with pos, in one transaction.
func (s *Store) AppendTracesAt(ctx context.Context, td ptrace.Traces, pos Position) (bool, error) {
	return s.appendAt(ctx, tableTraces, &s.spans, func() (int, map[string]time.Duration) { return s.spans.fill(s, td) }, pos)
}

// AppendLogsAt stores ld, one row per log record, with pos, in one
// transaction.
func (s *Store) AppendLogsAt(ctx context.Context, ld plog.Logs, pos Position) (bool, error) {
	return s.appendAt(ctx, tableLogs, &s.logs, func() (int, map[string]time.Duration) { return s.logs.fill(s, ld) }, pos)
}

// AppendMetricsAt stores md, one row per data point, with pos, in one
// transaction.
func (s *Store) AppendMetricsAt(ctx context.Context, md pmetric.Metrics, pos Position) (bool, error) {
	return s.appendAt(ctx, tableMetrics, &s.points, func() (int, map[string]time.Duration) { return s.points.fill(s, md) }, pos)
}

// LastPosition returns the offset last stored for a source partition and
// table ("traces", "logs" or "metrics"); ok is false when none was.
func (s *Store) LastPosition(ctx context.Context, source string, partition int32, tableName string) (offset int64, ok bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for t := range tableCount {
		if t.String() == tableName {
			return s.lastOffsetLocked(ctx, positionKey{source, partition, t})
		}
	}
	return 0, false, fmt.Errorf("fusionstore: no table %q", tableName)
}

// appendAt writes the export's rows and its position in one transaction on
// the append connection, or nothing when pos is a replay. The rows'
// retention overrides are remembered after the commit, as appendBatch does.
func (s *Store) appendAt(ctx context.Context, t table, b batch, fill func() (int, map[string]time.Duration), pos Position) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.appendConn == nil {
		return false, ErrClosed
	}
	key := positionKey{pos.Source, pos.Partition, t}
	last, known, err := s.lastOffsetLocked(ctx, key)
	if err != nil {
		return false, err
	}
	if known && pos.Offset <= last {
		return false, nil
	}
	if known && min(pos.First, pos.Offset) <= last {
		return false, fmt.Errorf("%w: %s, stored up to %d", ErrPositionOverlap, pos, last)
	}
	if err := s.execLocked(ctx, "BEGIN TRANSACTION"); err != nil {
		return false, fmt.Errorf("store: beginning the transaction of %s at %s: %w", t, pos, err)
	}
	overrides, err := s.insertLocked(ctx, t, b, fill)
	if err == nil {
		err = s.execLocked(ctx, "INSERT OR REPLACE INTO "+positionsTable+" VALUES (?, ?, ?, ?)",
			pos.Source, int64(pos.Partition), t.String(), pos.Offset)
	}
	if err == nil && s.beforeCommit != nil {
		err = s.beforeCommit()
	}
	if err == nil {
		err = s.execLocked(ctx, "COMMIT")
	}
	if err != nil {
		if rbErr := s.execLocked(ctx, "ROLLBACK"); rbErr != nil {
			err = errors.Join(err, rbErr)
		}
		return false, fmt.Errorf("store: storing %s at %s: %w", t, pos, err)
	}
	s.positions[key] = pos.Offset
	return true, s.rememberOverrides(overrides)
}

// lastOffsetLocked reads the stored position of key, from the cache once it
// has been read. Called with mu held.
func (s *Store) lastOffsetLocked(ctx context.Context, key positionKey) (int64, bool, error) {
	if s.positions == nil {
		s.positions = map[positionKey]int64{}
		if err := s.loadPositionsLocked(ctx); err != nil {
			s.positions = nil
			return 0, false, err
		}
	}
	offset, ok := s.positions[key]
	return offset, ok, nil
}

// loadPositionsLocked fills the cache from positionsTable. Every later
// change goes through appendAt under mu, so the cache stays exact.
func (s *Store) loadPositionsLocked(ctx context.Context) error {
	if s.db == nil {
		return ErrClosed
	}
	rows, err := s.db.QueryContext(ctx, `SELECT source, source_partition, "table", last_offset FROM `+positionsTable)
	if err != nil {
		return fmt.Errorf("store: reading %s: %w", positionsTable, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			source, tableName string
			partition         int32
			offset            int64
		)
		if err := rows.Scan(&source, &partition, &tableName, &offset); err != nil {
			return fmt.Errorf("store: reading %s: %w", positionsTable, err)
		}
		for t := range tableCount {
			if t.String() == tableName {
				s.positions[positionKey{source, partition, t}] = offset
			}
		}
	}
	return rows.Err()
}

// execLocked runs one statement on the append connection, so it joins the
// transaction the inserts run in. Called with mu held.
func (s *Store) execLocked(ctx context.Context, query string, args ...any) error {
	_, err := s.appendConn.ExecContext(context.WithoutCancel(ctx), query, args...)
	return err
}
