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

func TestEntrySizeIsExact(t *testing.T) {
	for _, valueLen := range []int{0, 1, 127, 128, sharedValueMin, 1 << 20} {
		batches := [][]kvOp{
			{{typ: storage.Set, key: "item", value: make([]byte, valueLen)}, {typ: storage.Set, key: "wi", value: []byte("7")}},
			{{typ: storage.Get, key: "item"}, {typ: storage.Delete, key: string(make([]byte, 200))}},
		}
		data := appendEntry(nil, batches)
		assert.Len(t, data, entrySize(batches), "value of %d bytes", valueLen)
		// Grown once: at most the allocator's rounding (a page) beyond the
		// size, where doubling would leave a quarter or more unused.
		assert.LessOrEqual(t, cap(data), len(data)+8192, "value of %d bytes", valueLen)
	}
}

// Large values alias the entry; small ones are copied so they do not keep an
// entry of large items alive.
func TestDecodedValuesAliasOnlyWhenLarge(t *testing.T) {
	large := make([]byte, sharedValueMin)
	data := appendEntry(nil, [][]kvOp{{
		{typ: storage.Set, key: "item", value: large},
		{typ: storage.Set, key: "wi", value: []byte("7")},
	}})
	got, err := decodeEntry(data)
	require.NoError(t, err)
	for i := range data {
		data[i] = 0xee
	}
	assert.Equal(t, []byte("7"), got[0][1].value)
	assert.Equal(t, byte(0xee), got[0][0].value[0])
	assert.Len(t, got[0][0].value, sharedValueMin)
}
