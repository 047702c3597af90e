package fusedexporter

import (
	"context"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/filestorage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/pdata/testdata"

	"github.com/otelfusion/otelfusion/exporter/fusedexporter/internal/metadata"
)

// extensionHost is a component.Host that offers the given extensions, as
// the collector's service does for the extensions a config enables.
type extensionHost struct {
	extensions map[component.ID]component.Component
}

func (h extensionHost) GetExtensions() map[component.ID]component.Component { return h.extensions }

// startFileStorage starts contrib's file_storage extension over dir.
func startFileStorage(t *testing.T, dir string) extension.Extension {
	t.Helper()
	factory := filestorage.NewFactory()
	cfg := factory.CreateDefaultConfig().(*filestorage.Config)
	cfg.Directory = dir
	cfg.Compaction.Directory = dir
	ext, err := factory.Create(context.Background(), extensiontest.NewNopSettings(factory.Type()), cfg)
	require.NoError(t, err)
	require.NoError(t, ext.Start(context.Background(), extensionHost{}))
	return ext
}

func TestPersistentQueueSurvivesRestart(t *testing.T) {
	addr := reserveAddr(t) // the receiver is down for the first run
	dir := t.TempDir()
	storageID := component.MustNewID("file_storage")

	cfg := testConfig("http://" + addr)
	queue := exporterhelper.NewDefaultQueueConfig()
	queue.StorageID = &storageID
	cfg.QueueConfig = configoptional.Some(queue)
	set := exportertest.NewNopSettings(metadata.Type)

	// First run: the pushes are queued on disk and cannot be delivered.
	storage := startFileStorage(t, dir)
	first := startPipelines(t, cfg, extensionHost{map[component.ID]component.Component{storageID: storage}}, set)
	td, ld := testdata.GenerateTraces(3), testdata.GenerateLogs(2)
	require.NoError(t, first.traces.ConsumeTraces(context.Background(), td))
	require.NoError(t, first.logs.ConsumeLogs(context.Background(), ld))
	time.Sleep(300 * time.Millisecond) // let the queue consumers fail a few attempts
	first.shutdown(t)
	require.NoError(t, storage.Shutdown(context.Background()))

	// Second run over the same directory, receiver up: the queue drains.
	fr := startFakeReceiver(t, addr, nil)
	storage = startFileStorage(t, dir)
	second := startPipelines(t, cfg, extensionHost{map[component.ID]component.Component{storageID: storage}}, set)
	want := [signalCount]int{signalTraces: td.SpanCount(), signalLogs: ld.LogRecordCount()}
	require.Eventually(t, func() bool { return fr.ingestedItems() == want }, 15*time.Second, 20*time.Millisecond)
	time.Sleep(300 * time.Millisecond)
	assert.Equal(t, want, fr.ingestedItems(), "delivered once, no duplicates")

	second.shutdown(t)
	require.NoError(t, storage.Shutdown(context.Background()))
}
