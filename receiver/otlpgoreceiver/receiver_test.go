package otlpgoreceiver

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.opentelemetry.io/collector/pdata/testdata"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/otelfusion/otelfusion/internal/sharedcomponent"
	"github.com/otelfusion/otelfusion/pkg/otlpgo"
	"github.com/otelfusion/otelfusion/receiver/otlpgoreceiver/internal/metadata"
)

func TestNewFactory(t *testing.T) {
	factory := NewFactory()
	assert.Equal(t, metadata.Type, factory.Type())
	assert.Equal(t, metadata.TracesStability, factory.TracesStability())
	assert.Equal(t, metadata.LogsStability, factory.LogsStability())
	assert.Equal(t, metadata.MetricsStability, factory.MetricsStability())
	assert.NoError(t, componenttest.CheckConfigStruct(factory.CreateDefaultConfig()))
}

// allProtocolsConfig serves gRPC, HTTP and fused frames on free ports.
func allProtocolsConfig(t *testing.T) *Config {
	t.Helper()
	cfg := fusedOnlyConfig()
	cfg.Protocols.GRPC.GetOrInsertDefault().NetAddr.Endpoint = freeEndpoint(t)
	cfg.Protocols.HTTP.GetOrInsertDefault().ServerConfig.NetAddr.Endpoint = freeEndpoint(t)
	return cfg
}

func TestOTLPGRPCThroughCoreReceiver(t *testing.T) {
	cfg := allProtocolsConfig(t)
	traces, logs, metrics := new(consumertest.TracesSink), new(consumertest.LogsSink), new(consumertest.MetricsSink)
	fusedURL := startReceiver(t, cfg, nopSettings(), pipelines{traces: traces, logs: logs, metrics: metrics})

	conn, err := grpc.NewClient(cfg.Protocols.GRPC.Get().NetAddr.Endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	td := testdata.GenerateTraces(2)
	_, err = ptraceotlp.NewGRPCClient(conn).Export(context.Background(), ptraceotlp.NewExportRequestFromTraces(td))
	require.NoError(t, err)
	assertTracesEqual(t, td, traces.AllTraces())

	// Fused frames land in the same sinks.
	req := otlpgo.NewRequest()
	req.Traces = testdata.GenerateTraces(1)
	res := postFrame(t, fusedURL, encodeFrame(t, req, otlpgo.CompressionZstd))
	require.Equal(t, http.StatusOK, res.status, string(res.body))
	assert.Equal(t, 3, traces.SpanCount())
}

func TestOTLPHTTPThroughCoreReceiver(t *testing.T) {
	cfg := allProtocolsConfig(t)
	traces, logs, metrics := new(consumertest.TracesSink), new(consumertest.LogsSink), new(consumertest.MetricsSink)
	startReceiver(t, cfg, nopSettings(), pipelines{traces: traces, logs: logs, metrics: metrics})

	md := testdata.GenerateMetricsAllTypes()
	body, err := pmetricotlp.NewExportRequestFromMetrics(md).MarshalProto()
	require.NoError(t, err)
	url := "http://" + cfg.Protocols.HTTP.Get().ServerConfig.NetAddr.Endpoint + "/v1/metrics"
	res := doRequest(t, http.MethodPost, url, "application/x-protobuf", bytes.NewReader(body), nil)
	require.Equal(t, http.StatusOK, res.status, string(res.body))
	assertMetricsEqual(t, md, metrics.AllMetrics())
}

func TestSharedInstanceAcrossPipelines(t *testing.T) {
	cfg := allProtocolsConfig(t)
	cfg.Fused.ServerConfig.NetAddr.Endpoint = freeEndpoint(t)
	ctx := context.Background()
	set := nopSettings()
	factory := NewFactory()

	traces, logs, metrics := new(consumertest.TracesSink), new(consumertest.LogsSink), new(consumertest.MetricsSink)
	tracesRcv, err := factory.CreateTraces(ctx, set, cfg, traces)
	require.NoError(t, err)
	logsRcv, err := factory.CreateLogs(ctx, set, cfg, logs)
	require.NoError(t, err)
	metricsRcv, err := factory.CreateMetrics(ctx, set, cfg, metrics)
	require.NoError(t, err)

	assert.Same(t, tracesRcv, logsRcv)
	assert.Same(t, tracesRcv, metricsRcv)
	assert.Equal(t, 1, receivers.Len())

	// Each pipeline starts the receiver; a second server would fail to bind.
	all := []component.Component{tracesRcv, logsRcv, metricsRcv}
	for _, r := range all {
		require.NoError(t, r.Start(ctx, componenttest.NewNopHost()))
	}

	req := testRequest()
	res := postFrame(t, "http://"+cfg.Fused.ServerConfig.NetAddr.Endpoint+otlpgo.HTTPPath, encodeFrame(t, req, otlpgo.CompressionZstd))
	require.Equal(t, http.StatusOK, res.status, string(res.body))
	assertTracesEqual(t, req.Traces, traces.AllTraces())
	assertLogsEqual(t, req.Logs, logs.AllLogs())
	assertMetricsEqual(t, req.Metrics, metrics.AllMetrics())

	// The servers stay up until the last pipeline shuts down.
	require.NoError(t, tracesRcv.Shutdown(ctx))
	require.NoError(t, logsRcv.Shutdown(ctx))
	conn, err := net.Dial("tcp", cfg.Fused.ServerConfig.NetAddr.Endpoint)
	require.NoError(t, err)
	require.NoError(t, conn.Close())
	require.NoError(t, metricsRcv.Shutdown(ctx))
	assert.Equal(t, 0, receivers.Len())
	_, err = net.Dial("tcp", cfg.Fused.ServerConfig.NetAddr.Endpoint)
	assert.Error(t, err, "fused server still listening after shutdown")
	_, err = net.Dial("tcp", cfg.Protocols.GRPC.Get().NetAddr.Endpoint)
	assert.Error(t, err, "gRPC server still listening after shutdown")
}

func TestSeparateConfigsSeparateInstances(t *testing.T) {
	ctx := context.Background()
	factory := NewFactory()
	first, err := factory.CreateTraces(ctx, nopSettings(), fusedOnlyConfig(), consumertest.NewNop())
	require.NoError(t, err)
	second, err := factory.CreateTraces(ctx, nopSettings(), fusedOnlyConfig(), consumertest.NewNop())
	require.NoError(t, err)
	assert.NotSame(t, first, second)
	assert.Equal(t, 2, receivers.Len())
	require.NoError(t, first.Shutdown(ctx))
	require.NoError(t, second.Shutdown(ctx))
	assert.Equal(t, 0, receivers.Len())
}

func TestShutdownWithoutStart(t *testing.T) {
	ctx := context.Background()
	factory := NewFactory()
	for name, cfg := range map[string]*Config{"fused only": fusedOnlyConfig(), "all protocols": allProtocolsConfig(t)} {
		t.Run(name, func(t *testing.T) {
			r, err := factory.CreateLogs(ctx, nopSettings(), cfg, consumertest.NewNop())
			require.NoError(t, err)
			require.NoError(t, r.Shutdown(ctx))
			require.NoError(t, r.Shutdown(ctx), "a second Shutdown is a no-op")
			assert.Equal(t, 0, receivers.Len())
		})
	}
}

func TestStartFailsWhenPortTaken(t *testing.T) {
	taken, err := net.Listen("tcp", "localhost:0")
	require.NoError(t, err)
	defer taken.Close()

	tests := map[string]func(*Config){
		"fused": func(cfg *Config) { cfg.Fused.ServerConfig.NetAddr.Endpoint = taken.Addr().String() },
		"grpc":  func(cfg *Config) { cfg.Protocols.GRPC.Get().NetAddr.Endpoint = taken.Addr().String() },
		"http":  func(cfg *Config) { cfg.Protocols.HTTP.Get().ServerConfig.NetAddr.Endpoint = taken.Addr().String() },
	}
	for name, configure := range tests {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			cfg := allProtocolsConfig(t)
			configure(cfg)
			r, err := NewFactory().CreateMetrics(ctx, nopSettings(), cfg, consumertest.NewNop())
			require.NoError(t, err)
			require.Error(t, r.Start(ctx, componenttest.NewNopHost()))
			require.NoError(t, r.Shutdown(ctx))
			assert.Equal(t, 0, receivers.Len())
		})
	}
}

func TestCoreReceiverIDStaysUnique(t *testing.T) {
	ctx := context.Background()
	set := nopSettings()
	set.ID = component.NewIDWithName(metadata.Type, "edge")
	r, err := NewFactory().CreateTraces(ctx, set, allProtocolsConfig(t), consumertest.NewNop())
	require.NoError(t, err)
	defer func() { require.NoError(t, r.Shutdown(ctx)) }()

	rcv := r.(*sharedcomponent.Component[*otlpgoReceiver]).Unwrap()
	assert.Equal(t, "otlp/otlpgo/edge", rcv.coreSettings.ID.String())
	assert.NotNil(t, rcv.core)
}

func TestFusedOnlyCreatesNoCoreReceiver(t *testing.T) {
	ctx := context.Background()
	r, err := NewFactory().CreateTraces(ctx, nopSettings(), fusedOnlyConfig(), consumertest.NewNop())
	require.NoError(t, err)
	defer func() { require.NoError(t, r.Shutdown(ctx)) }()
	assert.Nil(t, r.(*sharedcomponent.Component[*otlpgoReceiver]).Unwrap().core)
}
