package raftwal

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/xextension/storage"
)

func TestClusterReplicatesAndFailsOver(t *testing.T) {
	ctx := context.Background()
	c := startCluster(t, 3)
	lead := c.leader(t, 10*time.Second)
	lc := getClient(t, c.exts[lead], "q")

	// Concurrent writers: each batch is atomic and acknowledged by a quorum.
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				key := fmt.Sprintf("w%d-%d", w, i)
				assert.NoError(t, lc.Batch(ctx, storage.SetOperation(key, []byte(key)), storage.SetOperation("wi"+key, []byte{1})))
			}
		}()
	}
	wg.Wait()

	// Writes and reads on a follower fail with the retryable ErrNotLeader,
	// and GetClient there waits for leadership.
	follower := (lead + 1) % 3
	fc := &client{node: c.exts[follower].node, prefix: keyPrefix(component.KindExporter, exporterID, "q")}
	assert.ErrorIs(t, fc.Set(ctx, "k", []byte("v")), ErrNotLeader)
	_, err := fc.Get(ctx, "w0-0")
	assert.ErrorIs(t, err, ErrNotLeader)
	waitCtx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	_, err = c.exts[follower].GetClient(waitCtx, component.KindExporter, exporterID, "q")
	cancel()
	assert.ErrorIs(t, err, ErrNotLeader)

	// The leader goes away: a new one is elected and has every acknowledged write.
	c.stop(t, lead)
	start := time.Now()
	next := c.leader(t, 5*time.Second)
	t.Logf("new leader n%d after %v", next, time.Since(start))
	nc := getClient(t, c.exts[next], "q")
	for w := range 8 {
		for i := range 25 {
			key := fmt.Sprintf("w%d-%d", w, i)
			v, err := nc.Get(ctx, key)
			require.NoError(t, err)
			require.Equal(t, []byte(key), v, key)
		}
	}
	// Two of three still form a quorum.
	require.NoError(t, nc.Set(ctx, "after", []byte("failover")))

	// The old leader rejoins from its disk (no bootstrap) and catches up.
	c.exts[lead] = startExtension(t, c.cfgs[lead], nil)
	require.Eventually(t, func() bool {
		return c.exts[lead].node.fsm.get(keyPrefix(component.KindExporter, exporterID, "q")+"after") != nil
	}, 10*time.Second, 20*time.Millisecond)
}

func TestSnapshotsBoundTheLog(t *testing.T) {
	ctx := context.Background()
	cfg := fastConfig(t.TempDir(), "node1")
	cfg.SnapshotThreshold, cfg.TrailingLogs, cfg.SnapshotInterval = 50, 10, 50*time.Millisecond
	ext := startExtension(t, cfg, nil)
	c := getClient(t, ext, "q")
	for i := range 300 {
		require.NoError(t, c.Set(ctx, fmt.Sprintf("k%d", i%20), []byte{byte(i)}))
	}
	require.Eventually(t, func() bool {
		first, _ := ext.node.logs.FirstIndex()
		return first > 100
	}, 10*time.Second, 50*time.Millisecond, "log compacted after snapshots")
	require.NoError(t, ext.Shutdown(ctx))

	ext = startExtension(t, cfg, nil)
	c = getClient(t, ext, "q")
	v, err := c.Get(ctx, "k19")
	require.NoError(t, err)
	assert.Equal(t, []byte{byte(299 % 256)}, v)
}
