package fusionstore

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelfusion/otelfusion/pkg/fusiongen"
)

func countRows(t *testing.T, s *Store, table string) int64 {
	t.Helper()
	return sqlRows(t, s, "SELECT count(*) FROM "+table)[0][0].(int64)
}

func TestAppendAtSkipsReplays(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t, &testClock{t: fusiongen.BaseTime}, nil)
	gen := fusiongen.New(7)
	td, ld, md := gen.Traces(10), gen.Logs(6), gen.Metrics(4)

	steps := []struct {
		name       string
		append     func(Position) (bool, error)
		pos        Position
		wantStored bool
	}{
		{"traces at 5", func(p Position) (bool, error) { return s.AppendTracesAt(ctx, td, p) }, Position{"fused", 0, 5, 5}, true},
		{"traces replayed at 5", func(p Position) (bool, error) { return s.AppendTracesAt(ctx, td, p) }, Position{"fused", 0, 5, 5}, false},
		{"traces replayed below", func(p Position) (bool, error) { return s.AppendTracesAt(ctx, td, p) }, Position{"fused", 0, 3, 3}, false},
		{"logs of the same record", func(p Position) (bool, error) { return s.AppendLogsAt(ctx, ld, p) }, Position{"fused", 0, 5, 5}, true},
		{"metrics of the same record", func(p Position) (bool, error) { return s.AppendMetricsAt(ctx, md, p) }, Position{"fused", 0, 5, 5}, true},
		{"traces of another partition", func(p Position) (bool, error) { return s.AppendTracesAt(ctx, td, p) }, Position{"fused", 1, 2, 2}, true},
		{"traces of another topic", func(p Position) (bool, error) { return s.AppendTracesAt(ctx, td, p) }, Position{"other", 0, 5, 5}, true},
		{"traces next", func(p Position) (bool, error) { return s.AppendTracesAt(ctx, td, p) }, Position{"fused", 0, 6, 6}, true},
	}
	for _, step := range steps {
		stored, err := step.append(step.pos)
		require.NoError(t, err, step.name)
		assert.Equal(t, step.wantStored, stored, step.name)
	}
	// A merged export: wholly new is stored, straddling is refused, wholly
	// old is skipped.
	stored, err := s.AppendTracesAt(ctx, td, Position{"fused", 0, 12, 7})
	require.NoError(t, err)
	assert.True(t, stored)
	_, err = s.AppendTracesAt(ctx, td, Position{"fused", 0, 15, 10})
	require.ErrorIs(t, err, ErrPositionOverlap)
	stored, err = s.AppendTracesAt(ctx, td, Position{"fused", 0, 12, 9})
	require.NoError(t, err)
	assert.False(t, stored)
	assert.Equal(t, int64(5*td.SpanCount()), countRows(t, s, "traces"))
	assert.Equal(t, int64(ld.LogRecordCount()), countRows(t, s, "logs"))
	assert.Equal(t, int64(md.DataPointCount()), countRows(t, s, "metrics"))

	offset, ok, err := s.LastPosition(ctx, "fused", 0, "traces")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, int64(12), offset)
	_, ok, err = s.LastPosition(ctx, "fused", 2, "traces")
	require.NoError(t, err)
	assert.False(t, ok)
	_, _, err = s.LastPosition(ctx, "fused", 0, "spans")
	require.Error(t, err)
}

// TestAppendAtFailedCommitStoresNothing: rows and position go together, so
// after a failed commit the replay is stored, once.
func TestAppendAtFailedCommitStoresNothing(t *testing.T) {
	for _, dedup := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "dedup_spans"}[dedup], func(t *testing.T) {
			ctx := context.Background()
			s := newTestStore(t, &testClock{t: fusiongen.BaseTime}, func(c *Config) { c.DedupSpans = dedup })
			td := fusiongen.New(3).Traces(25)
			pos := Position{"fused", 4, 100, 100}

			injected := errors.New("injected")
			s.beforeCommit = func() error { return injected }
			stored, err := s.AppendTracesAt(ctx, td, pos)
			require.ErrorIs(t, err, injected)
			assert.False(t, stored)
			assert.Equal(t, int64(0), countRows(t, s, "traces"))
			assert.Equal(t, int64(0), countRows(t, s, positionsTable))

			s.beforeCommit = nil
			stored, err = s.AppendTracesAt(ctx, td, pos)
			require.NoError(t, err)
			assert.True(t, stored)
			stored, err = s.AppendTracesAt(ctx, td, pos)
			require.NoError(t, err)
			assert.False(t, stored)
			assert.Equal(t, int64(td.SpanCount()), countRows(t, s, "traces"))

			// Plain appends still work on the connection after the rollback.
			require.NoError(t, s.AppendTraces(ctx, fusiongen.New(4).Traces(5)))
			assert.Equal(t, int64(td.SpanCount()+5), countRows(t, s, "traces"))
		})
	}
}

// TestAppendAtPositionsSurviveReopen: a restarted store still skips what it
// stored before.
func TestAppendAtPositionsSurviveReopen(t *testing.T) {
	ctx := context.Background()
	cfg := NewDefaultConfig()
	cfg.Path = filepath.Join(t.TempDir(), "fusion.duckdb")
	ld := fusiongen.New(5).Logs(12)
	pos := Position{"fused", 2, 41, 41}

	s, err := Open(ctx, &cfg)
	require.NoError(t, err)
	stored, err := s.AppendLogsAt(ctx, ld, pos)
	require.NoError(t, err)
	require.True(t, stored)
	require.NoError(t, s.Close())

	s, err = Open(ctx, &cfg)
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()
	stored, err = s.AppendLogsAt(ctx, ld, pos)
	require.NoError(t, err)
	assert.False(t, stored)
	assert.Equal(t, int64(ld.LogRecordCount()), countRows(t, s, "logs"))

	require.NoError(t, s.Close())
	_, err = s.AppendLogsAt(ctx, ld, Position{"fused", 2, 42, 42})
	require.ErrorIs(t, err, ErrClosed)
}
