package fusionstore

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"

	"github.com/otelfusion/otelfusion/pkg/fusiongen"
)

func TestCheckpointWritesDatabaseFileWhileOpen(t *testing.T) {
	s := newTestStore(t, &testClock{t: fusiongen.BaseTime}, nil)
	fileSize := func() int64 {
		t.Helper()
		info, err := os.Stat(s.cfg.Path)
		require.NoError(t, err)
		return info.Size()
	}
	gen := fusiongen.New(3)
	var items int64
	for range 5 {
		td, ld := gen.Traces(1000), gen.Logs(1000)
		items += int64(td.SpanCount() + ld.LogRecordCount())
		require.NoError(t, s.AppendTraces(context.Background(), td))
		require.NoError(t, s.AppendLogs(context.Background(), ld))
	}
	// Appends go to the write-ahead log: the file has not grown yet.
	empty := fileSize()
	info, err := os.Stat(s.cfg.Path + ".wal")
	require.NoError(t, err)
	assert.Positive(t, info.Size())

	cp := startCheckpointer(s, 20*time.Millisecond, zap.NewNop())
	defer cp.Stop()
	require.Eventually(t, func() bool { return fileSize() > empty }, 10*time.Second, 20*time.Millisecond)
	t.Logf("database file: %d bytes before the checkpoint, %d after", empty, fileSize())
	assert.Equal(t, items, sqlRows(t, s, "SELECT (SELECT count(*) FROM traces) + (SELECT count(*) FROM logs)")[0][0])

	// Appends go on beside the checkpointer.
	require.NoError(t, s.AppendTraces(context.Background(), gen.Traces(10)))
}

func TestCheckpointAfterCloseIsShutdown(t *testing.T) {
	s := newTestStore(t, &testClock{t: time.Now()}, nil)
	require.NoError(t, s.Close())
	require.ErrorIs(t, s.checkpoint(t.Context()), ErrClosed)
}
