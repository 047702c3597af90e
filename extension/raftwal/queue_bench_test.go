package raftwal

import (
	"context"
	"strconv"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/collector/extension/xextension/storage"
)

// BenchmarkQueuePath is one item's whole life in the collector's persistent
// queue, as its batches reach the storage client: enqueue (item and write
// index), read (read index, dispatched list, item) and delete (item and
// dispatched list). One op is one item, of 1 KiB or of 1 MiB (a batch of a
// few thousand spans, as the testbed queues them); raftwal runs one node, so
// what is measured is this extension's own cost per item beside
// file_storage's, not the network.
func BenchmarkQueuePath(b *testing.B) {
	stores := []struct {
		name string
		open func(b *testing.B) storage.Client
	}{
		{"raftwal_1node", func(b *testing.B) storage.Client {
			return getClient(b, startExtension(b, fastConfig(b.TempDir(), "node1"), nil), "q")
		}},
		{"file_storage_fsync", func(b *testing.B) storage.Client {
			return getClient(b, fileStorageBackend(true).open(b, b.TempDir()), "q")
		}},
	}
	for _, size := range []int{1 << 10, 1 << 20} {
		item := make([]byte, size)
		for i := range item {
			item[i] = byte(i * 7)
		}
		for _, store := range stores {
			b.Run(store.name+"/item="+strconv.Itoa(size), func(b *testing.B) {
				c := store.open(b)
				ctx := context.Background()
				b.ReportAllocs()
				cpu0 := processCPU(b)
				i := 0
				for b.Loop() {
					i++
					key, index := strconv.Itoa(i), []byte(strconv.Itoa(i))
					if err := c.Batch(ctx, storage.SetOperation(key, item), storage.SetOperation("wi", index)); err != nil {
						b.Fatal(err)
					}
					get := storage.GetOperation(key)
					if err := c.Batch(ctx, storage.SetOperation("ri", index), storage.SetOperation("di", index), get); err != nil {
						b.Fatal(err)
					}
					if len(get.Value) != len(item) {
						b.Fatalf("read %d bytes of item %d, want %d", len(get.Value), i, len(item))
					}
					if err := c.Batch(ctx, storage.DeleteOperation(key), storage.SetOperation("di", nil)); err != nil {
						b.Fatal(err)
					}
				}
				b.SetBytes(int64(size))
				b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
			})
		}
	}
}

// processCPU is the CPU time (user and system) the process has used: the
// extension's cost lies in Raft's goroutines and fsync, not in the
// benchmark's own, mostly waiting, goroutine.
func processCPU(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
