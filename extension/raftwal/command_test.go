package raftwal

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/extension/xextension/storage"
)

func TestEntryRoundTrip(t *testing.T) {
	batches := [][]kvOp{
		{{typ: storage.Set, key: "a", value: []byte("1")}, {typ: storage.Get, key: "a"}},
		{{typ: storage.Delete, key: "b"}, {typ: storage.Set, key: "c", value: []byte{}}},
	}
	got, err := decodeEntry(appendEntry(nil, batches))
	require.NoError(t, err)
	assert.Equal(t, batches, got)
}

func TestEntryCorrupt(t *testing.T) {
	good := appendEntry(nil, [][]kvOp{{{typ: storage.Set, key: "key", value: []byte("value")}}})
	tests := map[string][]byte{
		"empty":         nil,
		"version":       append([]byte{9}, good[1:]...),
		"truncated":     good[:len(good)-2],
		"trailing":      append(append([]byte{}, good...), 0),
		"huge count":    {entryVersion, 0xff, 0xff, 0xff, 0x7f},
		"unknown op":    {entryVersion, 1, 1, 7, 1, 'k'},
		"length beyond": {entryVersion, 1, 1, byte(storage.Set), 1, 'k', 100, 'v'},
		"long varint":   {entryVersion, 0x81, 0x00, 1, byte(storage.Delete), 1, 'k'},
	}
	for name, data := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := decodeEntry(data)
			require.ErrorIs(t, err, ErrCorruptEntry)
		})
	}
}

func FuzzDecodeEntry(f *testing.F) {
	f.Add(appendEntry(nil, [][]kvOp{{{typ: storage.Set, key: "k", value: []byte("v")}}}))
	f.Fuzz(func(t *testing.T, data []byte) {
		batches, err := decodeEntry(data)
		if err == nil {
			require.Equal(t, data, appendEntry(nil, batches))
		}
	})
}
