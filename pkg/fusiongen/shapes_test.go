package fusiongen

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

func TestShapesCountsAreExact(t *testing.T) {
	for name, src := range map[string]Source{"telemetrygen": NewTelemetrygen(1), "high_cardinality": NewHighCardinality(1)} {
		for _, n := range []int{1, 7, 100, 1001} {
			require.Equal(t, n, src.Traces(n).SpanCount(), "%s traces %d", name, n)
			require.Equal(t, n, src.Logs(n).LogRecordCount(), "%s logs %d", name, n)
			require.Equal(t, n, src.Metrics(n).DataPointCount(), "%s metrics %d", name, n)
		}
	}
}

func TestShapesSameSeedSameData(t *testing.T) {
	for _, newSource := range []func(int64) Source{
		func(s int64) Source { return NewTelemetrygen(s) },
		func(s int64) Source { return NewHighCardinality(s) },
	} {
		a, b := newSource(3), newSource(3)
		require.Equal(t, tracesJSON(t, a.Traces(50)), tracesJSON(t, b.Traces(50)))
		require.Equal(t, logsJSON(t, a.Logs(50)), logsJSON(t, b.Logs(50)))
		require.Equal(t, metricsJSON(t, a.Metrics(50)), metricsJSON(t, b.Metrics(50)))
	}
}

// TestTelemetrygenShape: one resource, logs without observed time or trace
// context, one point per metric, timestamps to the nanosecond.
func TestTelemetrygenShape(t *testing.T) {
	g := NewTelemetrygen(1)
	ld := g.Logs(10)
	require.Equal(t, 1, ld.ResourceLogs().Len())
	lr := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(3)
	require.Zero(t, lr.ObservedTimestamp())
	require.True(t, lr.TraceID().IsEmpty())
	md := g.Metrics(10)
	require.Equal(t, 10, md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().Len())
	nanos := 0
	for i := range 10 {
		if ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(i).Timestamp()%1000 != 0 {
			nanos++
		}
	}
	require.Greater(t, nanos, 5, "timestamps carry nanoseconds")
}

// TestHighCardinalityShape: resources of many pods, twenty attributes each.
func TestHighCardinalityShape(t *testing.T) {
	g := NewHighCardinality(1)
	td := g.Traces(10000)
	pods := map[string]bool{}
	for i := range td.ResourceSpans().Len() {
		attrs := td.ResourceSpans().At(i).Resource().Attributes()
		require.Equal(t, 20, attrs.Len())
		name, _ := attrs.Get("k8s.pod.name")
		pods[name.Str()] = true
	}
	require.Equal(t, 1000, td.ResourceSpans().Len())
	require.Greater(t, len(pods), 800, "resources come from many pods")
}

func tracesJSON(t *testing.T, td ptrace.Traces) string {
	b, err := (&ptrace.JSONMarshaler{}).MarshalTraces(td)
	require.NoError(t, err)
	return string(b)
}

func logsJSON(t *testing.T, ld plog.Logs) string {
	b, err := (&plog.JSONMarshaler{}).MarshalLogs(ld)
	require.NoError(t, err)
	return string(b)
}

func metricsJSON(t *testing.T, md pmetric.Metrics) string {
	b, err := (&pmetric.JSONMarshaler{}).MarshalMetrics(md)
	require.NoError(t, err)
	return string(b)
}
