package raftwal

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/hashicorp/raft"
)

// A snapshot is the whole map (see README "Snapshot format"):
//
//	snapshot := version:u8 count:uvarint (keyLen:uvarint key valueLen:uvarint value)*
const snapshotVersion = 1

// kvSnapshot is a point-in-time copy of the map, written by Persist.
type kvSnapshot struct {
	data        map[string][]byte
	onPersisted func()
}

var _ raft.FSMSnapshot = (*kvSnapshot)(nil)

func (s *kvSnapshot) Persist(sink raft.SnapshotSink) error {
	w := bufio.NewWriter(sink)
	var buf []byte
	buf = append(buf, snapshotVersion)
	buf = binary.AppendUvarint(buf, uint64(len(s.data)))
	for k, v := range s.data {
		buf = binary.AppendUvarint(buf, uint64(len(k)))
		buf = append(buf, k...)
		buf = binary.AppendUvarint(buf, uint64(len(v)))
		buf = append(buf, v...)
		if len(buf) > 64<<10 {
			if _, err := w.Write(buf); err != nil {
				_ = sink.Cancel()
				return err
			}
			buf = buf[:0]
		}
	}
	if _, err := w.Write(buf); err != nil {
		_ = sink.Cancel()
		return err
	}
	if err := w.Flush(); err != nil {
		_ = sink.Cancel()
		return err
	}
	if err := sink.Close(); err != nil {
		return err
	}
	if s.onPersisted != nil {
		s.onPersisted()
	}
	return nil
}

func (s *kvSnapshot) Release() {}

// readSnapshot decodes a snapshot stream.
func readSnapshot(r io.Reader) (map[string][]byte, error) {
	br := bufio.NewReader(r)
	version, err := br.ReadByte()
	if err != nil {
		return nil, fmt.Errorf("%w: snapshot header: %w", ErrCorruptEntry, err)
	}
	if version != snapshotVersion {
		return nil, fmt.Errorf("%w: unknown snapshot version %d", ErrCorruptEntry, version)
	}
	count, err := binary.ReadUvarint(br)
	if err != nil {
		return nil, fmt.Errorf("%w: snapshot count: %w", ErrCorruptEntry, err)
	}
	data := make(map[string][]byte, min(count, 1<<16))
	readField := func(what string, i uint64) ([]byte, error) {
		n, err := binary.ReadUvarint(br)
		if err != nil {
			return nil, fmt.Errorf("%w: snapshot record %d %s length: %w", ErrCorruptEntry, i, what, err)
		}
		if n > 1<<30 {
			return nil, fmt.Errorf("%w: snapshot record %d %s length %d too large", ErrCorruptEntry, i, what, n)
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(br, b); err != nil {
			return nil, fmt.Errorf("%w: snapshot record %d %s: %w", ErrCorruptEntry, i, what, err)
		}
		return b, nil
	}
	for i := range count {
		k, err := readField("key", i)
		if err != nil {
			return nil, err
		}
		v, err := readField("value", i)
		if err != nil {
			return nil, err
		}
		data[string(k)] = v
	}
	if _, err := br.ReadByte(); err != io.EOF {
		return nil, fmt.Errorf("%w: trailing bytes after %d snapshot records", ErrCorruptEntry, count)
	}
	return data, nil
}
