package fusionstoreexporter

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/pdata/testdata"

	"github.com/otelfusion/otelfusion/extension/fusionstoreextension"
	"github.com/otelfusion/otelfusion/internal/sourceposition"
	"github.com/otelfusion/otelfusion/pkg/fusionstore"
)

// TestPositionOnTheContextStoresOnce: an export consumed with a source
// position on its context is stored once however often it is replayed;
// one without a position is stored each time.
func TestPositionOnTheContextStoresOnce(t *testing.T) {
	ctx := context.Background()
	extFactory := fusionstoreextension.NewFactory()
	extCfg := extFactory.CreateDefaultConfig().(*fusionstoreextension.Config)
	extCfg.Store.Path = filepath.Join(t.TempDir(), "fusion.duckdb")
	extCfg.Query = configoptional.None[fusionstoreextension.QueryConfig]()
	ext, err := extFactory.Create(ctx, extensiontest.NewNopSettings(extFactory.Type()), extCfg)
	require.NoError(t, err)
	require.NoError(t, ext.Start(ctx, componenttest.NewNopHost()))

	p := startPipelines(t, noQueue(), extensionHost{defaultExtension: ext})
	td, ld, md := testdata.GenerateTraces(5), testdata.GenerateLogs(4), testdata.GenerateMetrics(3)
	at := func(offset int64) context.Context {
		return sourceposition.NewContext(ctx, fusionstore.Position{Source: "fused", Partition: 1, Offset: offset, First: offset})
	}
	for _, offset := range []int64{10, 10, 9, 11} {
		require.NoError(t, p.traces.ConsumeTraces(at(offset), td))
		require.NoError(t, p.logs.ConsumeLogs(at(offset), ld))
		require.NoError(t, p.metrics.ConsumeMetrics(at(offset), md))
	}
	require.NoError(t, p.logs.ConsumeLogs(ctx, ld))
	require.NoError(t, p.logs.ConsumeLogs(ctx, ld))

	for _, c := range p.components() {
		require.NoError(t, c.Shutdown(ctx))
	}
	require.NoError(t, ext.Shutdown(ctx))

	store, err := fusionstore.Open(ctx, &extCfg.Store)
	require.NoError(t, err)
	defer store.Close()
	for table, want := range map[string]int64{
		"traces":  int64(2 * td.SpanCount()),
		"logs":    int64(4 * ld.LogRecordCount()),
		"metrics": int64(2 * md.DataPointCount()),
	} {
		answer := &firstValue{}
		require.NoError(t, store.Query(ctx, "SELECT COUNT(*) AS n FROM "+table, "", fusionstore.QueryLimits{MaxRows: 1}, answer))
		assert.Equal(t, want, answer.value, table)
	}
}
