package raftwal

import (
	"io"
	"sync"

	"github.com/hashicorp/raft"
	"go.opentelemetry.io/collector/extension/xextension/storage"
)

// kvFSM is the replicated state: the key/value map every client sees. Apply
// runs on raft's FSM goroutine; get and len may run concurrently with it.
type kvFSM struct {
	mu   sync.RWMutex
	data map[string][]byte
	// onSnapshot is called after a snapshot is persisted.
	onSnapshot func()
}

var _ raft.FSM = (*kvFSM)(nil)

func newKVFSM() *kvFSM {
	return &kvFSM{data: map[string][]byte{}}
}

// applyResult is what Apply returns for an entry: per batch, the values of
// its Get operations in order.
type applyResult struct {
	gets [][][]byte
	err  error
}

// Apply applies one entry: every batch in it, each whole and in order.
func (f *kvFSM) Apply(l *raft.Log) any {
	if l.Type != raft.LogCommand {
		return nil
	}
	batches, err := decodeEntry(l.Data)
	if err != nil {
		return applyResult{err: err}
	}
	res := applyResult{gets: make([][][]byte, len(batches))}
	f.mu.Lock()
	for i, batch := range batches {
		for _, op := range batch {
			switch op.typ {
			case storage.Get:
				res.gets[i] = append(res.gets[i], cloneBytes(f.data[op.key]))
			case storage.Set:
				f.data[op.key] = op.value
			case storage.Delete:
				delete(f.data, op.key)
			}
		}
	}
	f.mu.Unlock()
	return res
}

// get returns a copy of the value at key, nil when missing.
func (f *kvFSM) get(key string) []byte {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return cloneBytes(f.data[key])
}

// Snapshot copies the map (values are never mutated in place, so a shallow
// copy is enough) for Persist to write out while Apply goes on.
func (f *kvFSM) Snapshot() (raft.FSMSnapshot, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	copied := make(map[string][]byte, len(f.data))
	for k, v := range f.data {
		copied[k] = v
	}
	return &kvSnapshot{data: copied, onPersisted: f.onSnapshot}, nil
}

// Restore replaces the state with a snapshot.
func (f *kvFSM) Restore(r io.ReadCloser) error {
	defer r.Close()
	data, err := readSnapshot(r)
	if err != nil {
		return err
	}
	f.mu.Lock()
	f.data = data
	f.mu.Unlock()
	return nil
}

func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}
