package fusedexporter

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/exporter/exportertest"

	"github.com/otelfusion/otelfusion/exporter/fusedexporter/internal/metadata"
)

func TestFactory(t *testing.T) {
	factory := NewFactory()
	assert.Equal(t, metadata.Type, factory.Type())
	assert.NoError(t, componenttest.CheckConfigStruct(factory.CreateDefaultConfig()))
	assert.Equal(t, metadata.TracesStability, factory.TracesStability())
	assert.Equal(t, metadata.LogsStability, factory.LogsStability())
	assert.Equal(t, metadata.MetricsStability, factory.MetricsStability())
}

func TestDefaultConfigNeedsEndpoint(t *testing.T) {
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	assert.EqualError(t, cfg.Validate(), "'endpoint' must be set")
	cfg.ClientConfig.Endpoint = "http://localhost:4319"
	assert.NoError(t, cfg.Validate())
}

func TestLifecycleWithDefaultQueue(t *testing.T) {
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	cfg.ClientConfig.Endpoint = "http://127.0.0.1:1"
	set := exportertest.NewNopSettings(metadata.Type)
	p := startPipelines(t, cfg, componenttest.NewNopHost(), set)
	p.shutdown(t)
	require.Zero(t, exporters.Len())
}
