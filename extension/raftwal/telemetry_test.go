package raftwal

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelfusion/otelfusion/extension/raftwal/internal/metadata"
)

func TestTelemetry(t *testing.T) {
	tel := componenttest.NewTelemetry()
	defer func() { require.NoError(t, tel.Shutdown(context.Background())) }()
	set := extensiontest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	ext, err := newWALExtension(fastConfig(t.TempDir(), "node1"), set)
	require.NoError(t, err)
	require.NoError(t, ext.Start(context.Background(), componenttest.NewNopHost()))
	defer func() { require.NoError(t, ext.Shutdown(context.Background())) }()
	c := getClient(t, ext, "q")
	require.NoError(t, c.Set(context.Background(), "k", []byte("v")))

	gauge := func(name string) metricdata.Gauge[int64] {
		m, err := tel.GetMetric(name)
		require.NoError(t, err, name)
		return m.Data.(metricdata.Gauge[int64])
	}
	require.Eventually(t, func() bool {
		role := gauge("otelcol_raftwal_role").DataPoints
		if len(role) != 1 {
			return false
		}
		v, _ := role[0].Attributes.Value("role")
		return v.AsString() == "leader"
	}, 5*time.Second, 20*time.Millisecond)
	require.Positive(t, gauge("otelcol_raftwal_term").DataPoints[0].Value)
	require.Positive(t, gauge("otelcol_raftwal_commit_index").DataPoints[0].Value)
	require.Positive(t, gauge("otelcol_raftwal_applied_index").DataPoints[0].Value)
	require.Positive(t, gauge("otelcol_raftwal_wal_bytes").DataPoints[0].Value)
	latency, err := tel.GetMetric("otelcol_raftwal_apply_latency")
	require.NoError(t, err)
	require.Equal(t, uint64(1), latency.Data.(metricdata.Histogram[float64]).DataPoints[0].Count)
}
