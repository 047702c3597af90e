package raftwal

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelfusion/otelfusion/extension/raftwal/internal/metadata"
)

// crashWriterEnv makes the test binary a writer that prints each key once
// its Set returned, until it is killed.
const crashWriterEnv = "RAFTWAL_CRASH_WRITER_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashWriterEnv); dir != "" {
		os.Exit(runCrashWriter(dir))
	}
	goleak.VerifyTestMain(m)
}

// runCrashWriter writes keys 0, 1, 2, … and prints each once Set returned.
func runCrashWriter(dir string) int {
	ctx := context.Background()
	ext, err := newWALExtension(fastConfig(dir, "node1"), extensiontest.NewNopSettings(metadata.Type))
	if err == nil {
		err = ext.Start(ctx, componenttest.NewNopHost())
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	c, err := ext.GetClient(ctx, component.KindExporter, exporterID, "q")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	out := bufio.NewWriter(os.Stdout)
	for i := 0; ; i++ {
		if err := c.Set(ctx, strconv.Itoa(i), []byte(strconv.Itoa(i))); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Fprintln(out, i)
		out.Flush()
	}
}

// TestKillDuringWritesLosesNothingAcknowledged kills -9 a process writing
// through raftwal and checks every acknowledged key after a restart.
func TestKillDuringWritesLosesNothingAcknowledged(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashWriterEnv+"="+dir)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	acked := -1
	sc := bufio.NewScanner(stdout)
	deadline := time.Now().Add(20 * time.Second)
	for sc.Scan() && acked < 300 && time.Now().Before(deadline) {
		acked, err = strconv.Atoi(sc.Text())
		require.NoError(t, err)
	}
	require.NoError(t, cmd.Process.Kill())
	for sc.Scan() {
		// Keys printed before the kill landed are acknowledged too.
		if n, err := strconv.Atoi(sc.Text()); err == nil {
			acked = n
		}
	}
	_ = cmd.Wait()
	require.GreaterOrEqual(t, acked, 1, "writer made progress")

	core, logs := observer.New(zapcore.WarnLevel)
	ext := startExtension(t, fastConfig(dir, "node1"), zap.New(core))
	c := getClient(t, ext, "q")
	for i := 0; i <= acked; i++ {
		v, err := c.Get(context.Background(), strconv.Itoa(i))
		require.NoError(t, err)
		require.Equal(t, strconv.Itoa(i), string(v), "acknowledged key %d of %d", i, acked)
	}
	assert.Equal(t, 1, logs.FilterMessageSnippet("did not shut down cleanly").Len())
	t.Logf("%d acknowledged writes survived kill -9", acked+1)
}

// TestTornTailIsCutBack truncates the last WAL segment mid-record; the node
// still starts, warns, and has every entry before the torn one.
func TestTornTailIsCutBack(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := fastConfig(dir, "node1")
	ext := startExtension(t, cfg, nil)
	c := getClient(t, ext, "q")
	for i := range 100 {
		require.NoError(t, c.Set(ctx, strconv.Itoa(i), make([]byte, 100)))
	}
	require.NoError(t, ext.Shutdown(ctx))

	segments, err := filepath.Glob(filepath.Join(dir, "wal", "*.wal"))
	require.NoError(t, err)
	require.NotEmpty(t, segments)
	sort.Strings(segments)
	last := segments[len(segments)-1]
	used := lastWrittenOffset(t, last)
	// Cut in the middle of the final record and drop the clean-shutdown mark,
	// as a crash mid-write would leave it.
	require.NoError(t, os.Truncate(last, used-60))
	require.NoError(t, os.Remove(filepath.Join(dir, "wal", cleanMarker)))

	core, logs := observer.New(zapcore.WarnLevel)
	ext = startExtension(t, cfg, zap.New(core))
	c = getClient(t, ext, "q")
	assert.Equal(t, 1, logs.FilterMessageSnippet("torn or corrupt").Len())
	present := 0
	for i := range 100 {
		v, err := c.Get(ctx, strconv.Itoa(i))
		require.NoError(t, err)
		if v != nil {
			require.Equal(t, present, i, "only a suffix may be lost")
			present++
		}
	}
	assert.GreaterOrEqual(t, present, 98)
	t.Logf("%d of 100 entries before the torn record kept", present)
	require.NoError(t, c.Set(ctx, "after", []byte("ok")), "the repaired WAL accepts writes")
}

// lastWrittenOffset is the end of the data in a segment file (the file may
// be longer: zero padding after it).
func lastWrittenOffset(t *testing.T, path string) int64 {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	end := len(data)
	for end > 0 && data[end-1] == 0 {
		end--
	}
	return int64(end)
}
