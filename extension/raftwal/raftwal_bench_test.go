package raftwal

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/collector/extension/xextension/storage"
)

// BenchmarkEnqueue writes the way the persistent queue enqueues: one batch
// of the item (1 KiB) and the write index, per request. It reports items/s
// and p50/p99 latency for raftwal (1 node, 3 nodes over loopback TCP, real
// disks) beside file_storage with fsync on and off, at 1 and 16 writers.
func BenchmarkEnqueue(b *testing.B) {
	stores := []struct {
		name string
		open func(b *testing.B) storage.Client
	}{
		{"raftwal_1node", func(b *testing.B) storage.Client {
			return getClient(b, startExtension(b, fastConfig(b.TempDir(), "node1"), nil), "q")
		}},
		{"raftwal_3node", func(b *testing.B) storage.Client {
			c := startCluster(b, 3)
			return getClient(b, c.exts[c.leader(b, 10*time.Second)], "q")
		}},
		{"file_storage_fsync", func(b *testing.B) storage.Client {
			return getClient(b, fileStorageBackend(true).open(b, b.TempDir()), "q")
		}},
		{"file_storage_nofsync", func(b *testing.B) storage.Client {
			return getClient(b, fileStorageBackend(false).open(b, b.TempDir()), "q")
		}},
	}
	item := make([]byte, 1024)
	for _, store := range stores {
		for _, writers := range []int{1, 16} {
			b.Run(fmt.Sprintf("%s/writers=%d", store.name, writers), func(b *testing.B) {
				c := store.open(b)
				ctx := context.Background()
				latencies := make([][]time.Duration, writers)
				var next atomic.Int64
				var wg sync.WaitGroup
				b.ResetTimer()
				start := time.Now()
				for w := range writers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for {
							i := next.Add(1)
							if i > int64(b.N) {
								return
							}
							t0 := time.Now()
							err := c.Batch(ctx, storage.SetOperation(strconv.FormatInt(i, 10), item),
								storage.SetOperation("wi"+strconv.Itoa(w), []byte(strconv.FormatInt(i, 10))))
							latencies[w] = append(latencies[w], time.Since(t0))
							if err != nil {
								b.Error(err)
								return
							}
						}
					}()
				}
				wg.Wait()
				elapsed := time.Since(start)
				b.StopTimer()
				all := slices.Concat(latencies...)
				slices.Sort(all)
				b.ReportMetric(float64(b.N)/elapsed.Seconds(), "items/s")
				b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
				b.ReportMetric(0, "ns/op")
			})
		}
	}
}
