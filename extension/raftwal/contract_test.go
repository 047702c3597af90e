package raftwal

import (
	"context"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/filestorage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/extension/xextension/storage"
)

// storageBackend opens a storage extension on dir; opening the same dir
// again must see what was written before.
type storageBackend struct {
	name string
	open func(t testing.TB, dir string) storage.Extension
}

func raftwalBackend() storageBackend {
	return storageBackend{name: "raftwal", open: func(t testing.TB, dir string) storage.Extension {
		return startExtension(t, fastConfig(dir, "node1"), nil)
	}}
}

func fileStorageBackend(fsync bool) storageBackend {
	name := "file_storage"
	if fsync {
		name += "_fsync"
	}
	return storageBackend{name: name, open: func(t testing.TB, dir string) storage.Extension {
		f := filestorage.NewFactory()
		cfg := f.CreateDefaultConfig().(*filestorage.Config)
		cfg.Directory, cfg.FSync = dir, fsync
		ext, err := f.Create(context.Background(), extensiontest.NewNopSettings(f.Type()), cfg)
		require.NoError(t, err)
		require.NoError(t, ext.Start(context.Background(), componenttest.NewNopHost()))
		t.Cleanup(func() { _ = ext.Shutdown(context.Background()) })
		return ext.(storage.Extension)
	}}
}

// TestStorageContract runs the same semantics against raftwal and
// contrib's file_storage.
func TestStorageContract(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		run  func(t *testing.T, b storageBackend)
	}{
		{"missing key reads nil", func(t *testing.T, b storageBackend) {
			c := getClient(t, b.open(t, t.TempDir()), "q")
			v, err := c.Get(ctx, "nope")
			require.NoError(t, err)
			assert.Nil(t, v)
			require.NoError(t, c.Delete(ctx, "nope"))
		}},
		{"set get overwrite delete", func(t *testing.T, b storageBackend) {
			c := getClient(t, b.open(t, t.TempDir()), "q")
			require.NoError(t, c.Set(ctx, "k", []byte("one")))
			v, err := c.Get(ctx, "k")
			require.NoError(t, err)
			assert.Equal(t, []byte("one"), v)
			require.NoError(t, c.Set(ctx, "k", []byte("two")))
			v, _ = c.Get(ctx, "k")
			assert.Equal(t, []byte("two"), v)
			require.NoError(t, c.Delete(ctx, "k"))
			v, err = c.Get(ctx, "k")
			require.NoError(t, err)
			assert.Nil(t, v)
		}},
		{"batch applies in order and reads in place", func(t *testing.T, b storageBackend) {
			c := getClient(t, b.open(t, t.TempDir()), "q")
			require.NoError(t, c.Set(ctx, "gone", []byte("x")))
			before := storage.GetOperation("a")
			after := storage.GetOperation("a")
			deleted := storage.GetOperation("gone")
			require.NoError(t, c.Batch(ctx, before, storage.SetOperation("a", []byte("1")), storage.SetOperation("b", []byte("2")),
				after, storage.DeleteOperation("gone"), deleted))
			assert.Nil(t, before.Value)
			assert.Equal(t, []byte("1"), after.Value)
			assert.Nil(t, deleted.Value)
			ga, gb := storage.GetOperation("a"), storage.GetOperation("b")
			require.NoError(t, c.Batch(ctx, ga, gb))
			assert.Equal(t, []byte("1"), ga.Value)
			assert.Equal(t, []byte("2"), gb.Value)
		}},
		{"clients are isolated", func(t *testing.T, b storageBackend) {
			ext := b.open(t, t.TempDir())
			one := getClient(t, ext, "one")
			two := getClient(t, ext, "two")
			other, err := ext.GetClient(ctx, component.KindExporter, component.MustNewID("debug"), "one")
			require.NoError(t, err)
			require.NoError(t, one.Set(ctx, "k", []byte("1")))
			require.NoError(t, two.Set(ctx, "k", []byte("2")))
			for c, want := range map[storage.Client][]byte{one: []byte("1"), two: []byte("2"), other: nil} {
				v, err := c.Get(ctx, "k")
				require.NoError(t, err)
				assert.Equal(t, want, v)
			}
		}},
		{"persists across restart", func(t *testing.T, b storageBackend) {
			dir := t.TempDir()
			ext := b.open(t, dir)
			c := getClient(t, ext, "q")
			for i := range 50 {
				require.NoError(t, c.Set(ctx, string(rune('a'+i%26))+string(rune('0'+i/26)), []byte{byte(i)}))
			}
			require.NoError(t, c.Delete(ctx, "a0"))
			require.NoError(t, c.Close(ctx))
			require.NoError(t, ext.Shutdown(ctx))

			c = getClient(t, b.open(t, dir), "q")
			v, err := c.Get(ctx, "b0")
			require.NoError(t, err)
			assert.Equal(t, []byte{1}, v)
			v, err = c.Get(ctx, "x1")
			require.NoError(t, err)
			assert.Equal(t, []byte{49}, v)
			v, err = c.Get(ctx, "a0")
			require.NoError(t, err)
			assert.Nil(t, v)
		}},
	}
	for _, b := range []storageBackend{raftwalBackend(), fileStorageBackend(true)} {
		t.Run(b.name, func(t *testing.T) {
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) { tc.run(t, b) })
			}
		})
	}
}
