package scenarios

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/open-telemetry/opentelemetry-collector-contrib/testbed/testbed"

	"github.com/otelfusion/otelfusion/internal/pdatautil"
)

// derivedMetricPrefixes name the metrics otelcol-fusion adds on its own: the
// fusion processor's RED and log-count metrics and the tenant quota
// processor's summaries. They were never sent, so the backend counts them
// apart and does not hand them to the framework's MockBackend, whose counts
// must equal what the load generator sent.
var derivedMetricPrefixes = []string{"fusion.", "otelfusion."}

// backendReceiver is the framework DataReceiver the collector under test
// exports to: a plain OTLP/gRPC server (and OTLP/HTTP, protobuf). It counts
// what it accepted per signal and hands it to the MockBackend's consumers:
// spans as counts (MockTraceConsumer.MockConsumeTraceData; building pdata
// for every span would make the backend, not the collector, the bottleneck
// of the saturation runs), log records and metrics as decoded pdata.
type backendReceiver struct {
	grpcPort, httpPort int

	derivedPoints         atomic.Uint64
	traces, logs, metrics atomic.Uint64

	grpcServer  *grpc.Server
	httpServer  *http.Server
	mockTraces  *testbed.MockTraceConsumer
	tracesNext  consumer.Traces
	logsNext    consumer.Logs
	metricsNext consumer.Metrics
}

var _ testbed.DataReceiver = (*backendReceiver)(nil)

func newBackendReceiver(grpcPort, httpPort int) *backendReceiver {
	return &backendReceiver{grpcPort: grpcPort, httpPort: httpPort}
}

func (r *backendReceiver) Start(tc consumer.Traces, mc consumer.Metrics, lc consumer.Logs) error {
	r.tracesNext, r.metricsNext, r.logsNext = tc, mc, lc
	r.mockTraces, _ = tc.(*testbed.MockTraceConsumer)
	r.derivedPoints.Store(0)
	r.traces.Store(0)
	r.logs.Store(0)
	r.metrics.Store(0)

	grpcListener, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", r.grpcPort))
	if err != nil {
		return err
	}
	httpListener, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", r.httpPort))
	if err != nil {
		grpcListener.Close()
		return err
	}
	r.grpcServer = grpc.NewServer(grpc.MaxRecvMsgSize(64<<20), grpc.ForceServerCodec(rawCodec{}))
	r.grpcServer.RegisterService(exportService("opentelemetry.proto.collector.trace.v1.TraceService", r.consumeTraces), r)
	r.grpcServer.RegisterService(exportService("opentelemetry.proto.collector.logs.v1.LogsService", r.consumeLogs), r)
	r.grpcServer.RegisterService(exportService("opentelemetry.proto.collector.metrics.v1.MetricsService", r.consumeMetricsRequest), r)
	go func() { _ = r.grpcServer.Serve(grpcListener) }()

	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/traces", r.serveHTTP(r.consumeTraces))
	mux.HandleFunc("POST /v1/logs", r.serveHTTP(r.consumeLogs))
	mux.HandleFunc("POST /v1/metrics", r.serveHTTP(r.consumeMetricsRequest))
	r.httpServer = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = r.httpServer.Serve(httpListener) }()
	return nil
}

// exportService describes an OTLP service whose one method, Export, takes
// the encoded request.
func exportService(name string, consume func(context.Context, []byte) error) *grpc.ServiceDesc {
	return &grpc.ServiceDesc{
		ServiceName: name,
		HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{{
			MethodName: "Export",
			Handler: func(_ any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
				var req rawMessage
				if err := dec(&req); err != nil {
					return nil, err
				}
				if err := consume(ctx, req.data); err != nil {
					return nil, status.Error(codes.Unavailable, err.Error())
				}
				// An empty Export*ServiceResponse encodes as no bytes.
				return &rawMessage{}, nil
			},
		}},
	}
}

func (r *backendReceiver) serveHTTP(consume func(context.Context, []byte) error) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		if err == nil {
			err = consume(req.Context(), body)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK)
	}
}

func (r *backendReceiver) consumeTraces(ctx context.Context, body []byte) error {
	if r.mockTraces == nil {
		req := ptraceotlp.NewExportRequest()
		if err := req.UnmarshalProto(body); err != nil {
			return err
		}
		n := req.Traces().SpanCount()
		if err := r.tracesNext.ConsumeTraces(ctx, req.Traces()); err != nil {
			return err
		}
		r.traces.Add(uint64(n))
		return nil
	}
	n, err := countLeaves(body)
	if err != nil {
		return err
	}
	if err := r.mockTraces.MockConsumeTraceData(n); err != nil {
		return err
	}
	r.traces.Add(uint64(n))
	return nil
}

func (r *backendReceiver) consumeLogs(ctx context.Context, body []byte) error {
	req := plogotlp.NewExportRequest()
	if err := req.UnmarshalProto(body); err != nil {
		return err
	}
	n := req.Logs().LogRecordCount()
	if err := r.logsNext.ConsumeLogs(ctx, req.Logs()); err != nil {
		return err
	}
	r.logs.Add(uint64(n))
	return nil
}

func (r *backendReceiver) consumeMetricsRequest(ctx context.Context, body []byte) error {
	req := pmetricotlp.NewExportRequest()
	if err := req.UnmarshalProto(body); err != nil {
		return err
	}
	return r.consumeMetrics(ctx, req.Metrics())
}

// ReceivedBySignal returns what the backend accepted so far, derived metrics
// excluded.
func (r *backendReceiver) ReceivedBySignal() signalCounts {
	return signalCounts{Traces: r.traces.Load(), Logs: r.logs.Load(), Metrics: r.metrics.Load()}
}

// consumeMetrics counts the derived metrics apart and passes the rest on.
func (r *backendReceiver) consumeMetrics(ctx context.Context, md pmetric.Metrics) error {
	var derived int
	rms := md.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		sms := rms.At(i).ScopeMetrics()
		for j := 0; j < sms.Len(); j++ {
			sms.At(j).Metrics().RemoveIf(func(m pmetric.Metric) bool {
				if !isDerived(m.Name()) {
					return false
				}
				derived += pdatautil.DataPointCount(m)
				return true
			})
		}
	}
	r.derivedPoints.Add(uint64(derived))
	n := md.DataPointCount()
	if n == 0 {
		return nil
	}
	if err := r.metricsNext.ConsumeMetrics(ctx, md); err != nil {
		return err
	}
	r.metrics.Add(uint64(n))
	return nil
}

func isDerived(name string) bool {
	for _, prefix := range derivedMetricPrefixes {
		if strings.HasPrefix(name, prefix) {
			return true
		}
	}
	return false
}

// DerivedPoints counts the data points of derived metrics received.
func (r *backendReceiver) DerivedPoints() uint64 { return r.derivedPoints.Load() }

func (r *backendReceiver) Stop() error {
	if r.grpcServer != nil {
		r.grpcServer.Stop()
	}
	if r.httpServer != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := r.httpServer.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	return nil
}

// GenConfigYAMLStr is the exporter the collector under test sends with: OTLP
// gRPC without compression (loopback; gzip would dominate both collectors'
// CPU profiles and hide the differences between them).
func (r *backendReceiver) GenConfigYAMLStr() string {
	return fmt.Sprintf(`
  otlp_grpc:
    endpoint: "127.0.0.1:%d"
    compression: none
    tls:
      insecure: true`, r.grpcPort)
}

func (*backendReceiver) ProtocolName() string { return "otlp_grpc" }
