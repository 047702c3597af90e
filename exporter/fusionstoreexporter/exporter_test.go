package fusionstoreexporter

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/testdata"
	"go.uber.org/goleak"

	"github.com/otelfusion/otelfusion/exporter/fusionstoreexporter/internal/metadata"
	"github.com/otelfusion/otelfusion/extension/fusionstoreextension"
	"github.com/otelfusion/otelfusion/pkg/fusionstore"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// extensionHost is a component.Host that offers the given extensions, as
// the collector's service does for the extensions a config enables.
type extensionHost map[component.ID]component.Component

func (h extensionHost) GetExtensions() map[component.ID]component.Component { return h }

// fakeStore is a fusionstore extension that records what it is given and
// fails with err when set.
type fakeStore struct {
	component.StartFunc
	component.ShutdownFunc

	mu                  sync.Mutex
	spans, logs, points int
	err                 error
}

var _ fusionstore.Appender = (*fakeStore)(nil)

func (f *fakeStore) AppendTraces(_ context.Context, td ptrace.Traces) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.spans += td.SpanCount()
	return nil
}

func (f *fakeStore) AppendLogs(_ context.Context, ld plog.Logs) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.logs += ld.LogRecordCount()
	return nil
}

func (f *fakeStore) AppendMetrics(_ context.Context, md pmetric.Metrics) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.points += md.DataPointCount()
	return nil
}

// pipelines are the three exporters the collector would build for one
// configuration named in a traces, a logs and a metrics pipeline.
type pipelines struct {
	traces  exporter.Traces
	logs    exporter.Logs
	metrics exporter.Metrics
}

// createPipelines creates the three exporters without starting them.
func createPipelines(t *testing.T, cfg *Config) *pipelines {
	t.Helper()
	require.NoError(t, cfg.Validate())
	factory := NewFactory()
	set := exportertest.NewNopSettings(metadata.Type)
	ctx := context.Background()
	p := &pipelines{}
	var err error
	p.traces, err = factory.CreateTraces(ctx, set, cfg)
	require.NoError(t, err)
	p.logs, err = factory.CreateLogs(ctx, set, cfg)
	require.NoError(t, err)
	p.metrics, err = factory.CreateMetrics(ctx, set, cfg)
	require.NoError(t, err)
	return p
}

func (p *pipelines) components() []component.Component {
	return []component.Component{p.traces, p.logs, p.metrics}
}

// startPipelines creates and starts the three exporters on host, shut
// down when the test ends.
func startPipelines(t *testing.T, cfg *Config, host component.Host) *pipelines {
	t.Helper()
	p := createPipelines(t, cfg)
	for _, c := range p.components() {
		require.NoError(t, c.Start(context.Background(), host))
		t.Cleanup(func() { assert.NoError(t, c.Shutdown(context.Background())) })
	}
	return p
}

// noQueue is the default configuration without a queue, so Consume*
// returns the append's result.
func noQueue() *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.QueueConfig = configoptional.None[exporterhelper.QueueBatchConfig]()
	cfg.RetryConfig.Enabled = false
	return cfg
}

func TestFactory(t *testing.T) {
	factory := NewFactory()
	assert.Equal(t, metadata.Type, factory.Type())
	assert.NoError(t, componenttest.CheckConfigStruct(factory.CreateDefaultConfig()))
	assert.Equal(t, metadata.TracesStability, factory.TracesStability())
	assert.Equal(t, metadata.LogsStability, factory.LogsStability())
	assert.Equal(t, metadata.MetricsStability, factory.MetricsStability())
}

func TestEachExportIsOneAppend(t *testing.T) {
	store := &fakeStore{}
	p := startPipelines(t, noQueue(), extensionHost{defaultExtension: store})
	ctx := context.Background()
	require.NoError(t, p.traces.ConsumeTraces(ctx, testdata.GenerateTraces(3)))
	require.NoError(t, p.logs.ConsumeLogs(ctx, testdata.GenerateLogs(2)))
	require.NoError(t, p.metrics.ConsumeMetrics(ctx, testdata.GenerateMetrics(2)))
	require.NoError(t, p.traces.ConsumeTraces(ctx, ptrace.NewTraces())) // empty: nothing to append
	assert.Equal(t, 3, store.spans)
	assert.Equal(t, 2, store.logs)
	assert.Equal(t, testdata.GenerateMetrics(2).DataPointCount(), store.points)
}

func TestAppendErrorIsTheExportsError(t *testing.T) {
	failure := errors.New("disk full")
	store := &fakeStore{err: failure}
	p := startPipelines(t, noQueue(), extensionHost{defaultExtension: store})
	assert.ErrorIs(t, p.logs.ConsumeLogs(context.Background(), testdata.GenerateLogs(1)), failure)
}

func TestStartFailsWithoutTheExtension(t *testing.T) {
	nopFactory := extensiontest.NewNopFactory()
	nop, err := nopFactory.Create(context.Background(), extensiontest.NewNopSettings(nopFactory.Type()), nopFactory.CreateDefaultConfig())
	require.NoError(t, err)
	tests := []struct {
		name string
		host extensionHost
		want string
	}{
		{
			name: "missing",
			host: extensionHost{component.MustNewIDWithName("fusionstore", "other"): &fakeStore{}},
			want: `'extension': no extension "fusionstore" is configured; add it under 'extensions' and to 'service::extensions'`,
		},
		{
			name: "not a fusionstore extension",
			host: extensionHost{defaultExtension: nop},
			want: `'extension': extension "fusionstore" is not a fusionstore extension`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := createPipelines(t, noQueue())
			for _, c := range p.components() {
				assert.EqualError(t, c.Start(context.Background(), tt.host), tt.want)
				assert.NoError(t, c.Shutdown(context.Background()))
			}
		})
	}
}

func TestShutdownWithoutStart(t *testing.T) {
	p := createPipelines(t, createDefaultConfig().(*Config))
	for _, c := range p.components() {
		assert.NoError(t, c.Shutdown(context.Background()))
	}
}

// TestWritesIntoTheExtensionsStore runs the exporter, queue on, against the
// real extension: what the pipelines export is in the database.
func TestWritesIntoTheExtensionsStore(t *testing.T) {
	ctx := context.Background()
	extFactory := fusionstoreextension.NewFactory()
	extCfg := extFactory.CreateDefaultConfig().(*fusionstoreextension.Config)
	extCfg.Store.Path = filepath.Join(t.TempDir(), "fusion.duckdb")
	extCfg.Query = configoptional.None[fusionstoreextension.QueryConfig]()
	ext, err := extFactory.Create(ctx, extensiontest.NewNopSettings(extFactory.Type()), extCfg)
	require.NoError(t, err)
	require.NoError(t, ext.Start(ctx, componenttest.NewNopHost()))

	p := createPipelines(t, createDefaultConfig().(*Config))
	host := extensionHost{defaultExtension: ext}
	for _, c := range p.components() {
		require.NoError(t, c.Start(ctx, host))
	}
	td, ld := testdata.GenerateTraces(5), testdata.GenerateLogs(4)
	require.NoError(t, p.traces.ConsumeTraces(ctx, td))
	require.NoError(t, p.logs.ConsumeLogs(ctx, ld))
	// Pipelines stop first (their queues drain), then the extension.
	for _, c := range p.components() {
		require.NoError(t, c.Shutdown(ctx))
	}
	require.NoError(t, ext.Shutdown(ctx))

	store, err := fusionstore.Open(ctx, &extCfg.Store)
	require.NoError(t, err)
	defer store.Close()
	for table, want := range map[string]int64{"traces": int64(td.SpanCount()), "logs": int64(ld.LogRecordCount())} {
		answer := &firstValue{}
		require.NoError(t, store.Query(ctx, "SELECT COUNT(*) AS n FROM "+table, "", fusionstore.QueryLimits{MaxRows: 1}, answer))
		assert.Equal(t, want, answer.value, table)
	}
}

// firstValue is an AnswerWriter that keeps the first value of the answer.
type firstValue struct{ value any }

func (f *firstValue) Begin([]string) error { return nil }

func (f *firstValue) Row(values []any) error {
	if f.value == nil {
		f.value = values[0]
	}
	return nil
}
