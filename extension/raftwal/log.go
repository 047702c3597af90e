package raftwal

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/go-hclog"
	wal "github.com/hashicorp/raft-wal"
	"github.com/hashicorp/raft-wal/metadb"
	"go.uber.org/zap"
)

// cleanMarker is written on a clean shutdown and removed at open, so an
// open without it knows the previous run crashed and the tail was repaired.
const cleanMarker = "CLEAN_SHUTDOWN"

// openLogStore opens the segmented WAL that is both raft's LogStore and its
// StableStore. raft-wal checks each commit's CRC32-C on open and cuts a torn
// or corrupt tail back to the last valid commit; we only report it.
func openLogStore(dir string, segmentSize int, logger *zap.Logger, hlog hclog.Logger) (*logStore, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	marker := filepath.Join(dir, cleanMarker)
	_, statErr := os.Stat(marker)
	crashed := errors.Is(statErr, fs.ErrNotExist) && hasSegments(dir)
	meta := &metadb.BoltMetaDB{}
	store, err := wal.Open(dir, wal.WithSegmentSize(segmentSize), wal.WithLogger(hlog), wal.WithMetaStore(meta))
	if err != nil {
		_ = meta.Close()
		return nil, err
	}
	if crashed {
		last, _ := store.LastIndex()
		logger.Warn("raftwal: previous run did not shut down cleanly; WAL tail checked and any torn or corrupt records after the last CRC-valid commit were cut",
			zap.String("directory", dir), zap.Uint64("last_index", last))
	}
	_ = os.Remove(marker)
	return &logStore{WAL: store, meta: meta, dir: dir}, nil
}

// logStore is the WAL with the meta database it was opened on: raft-wal's
// Close leaves that database (and its file lock) open, so we close it.
type logStore struct {
	*wal.WAL
	meta *metadb.BoltMetaDB
	dir  string
}

// Close closes the WAL and its meta database and marks the shutdown clean.
func (s *logStore) Close() error {
	if err := errors.Join(s.WAL.Close(), s.meta.Close()); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(s.dir, cleanMarker), nil, 0o600)
}

func hasSegments(dir string) bool {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".wal") {
			return true
		}
	}
	return false
}

// dirBytes sums the sizes of the regular files under dir.
func dirBytes(dir string) int64 {
	var total int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if info, err := d.Info(); err == nil {
			total += info.Size()
		}
		return nil
	})
	return total
}
