package scenarios

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/open-telemetry/opentelemetry-collector-contrib/testbed/testbed"
	"github.com/otelfusion/otelfusion/pkg/otlpgo"
)

// The senders export synchronously, with no queue and no retry of their own:
// a send returns when the collector answered, so a collector that cannot keep
// up slows the load generator down (back-pressure) instead of filling a
// client-side queue. A refusal the collector marks retryable is returned as a
// plain error after a short pause, and the framework's load generator sends
// the same batch again; anything else is permanent.

// retryPause keeps a refused sender from spinning on the shared cores.
const retryPause = 50 * time.Millisecond

// sendTimeout bounds one request.
const sendTimeout = 10 * time.Second

// endpointSender holds what every sender shares: where it sends.
type endpointSender struct {
	host string
	port int
}

func (s endpointSender) GetEndpoint() net.Addr {
	addr, _ := net.ResolveTCPAddr("tcp", net.JoinHostPort(s.host, strconv.Itoa(s.port)))
	return addr
}

func (endpointSender) Flush() {}

func (endpointSender) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: false}
}

// encodedOTLP and encodedFrames hold the encoding of every pooled batch, for
// all senders (see rawgrpc.go).
var (
	encodedOTLP   encodedCache
	encodedFrames encodedCache
)

// grpcSender sends OTLP over gRPC: the encoded ExportRequest through the
// standard OTLP service methods.
type grpcSender struct {
	endpointSender
	conn *grpc.ClientConn
}

func (s *grpcSender) Start() error {
	conn, err := grpc.NewClient(s.GetEndpoint().String(),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(rawCodec{})))
	if err != nil {
		return err
	}
	s.conn = conn
	return nil
}

func (s *grpcSender) GenConfigYAMLStr() string {
	return fmt.Sprintf("\n  otlp:\n    protocols:\n      grpc:\n        endpoint: %q", s.GetEndpoint())
}

func (*grpcSender) ProtocolName() string { return "otlp" }

func (s *grpcSender) export(ctx context.Context, method string, body []byte, encodeErr error) error {
	if encodeErr != nil {
		return consumererror.NewPermanent(encodeErr)
	}
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	var resp rawMessage
	return grpcError(s.conn.Invoke(ctx, method, &rawMessage{data: body}, &resp))
}

func (s *grpcSender) ConsumeTraces(ctx context.Context, td ptrace.Traces) error {
	body, err := encodedOTLP.traces(td)
	return s.export(ctx, tracesExportMethod, body, err)
}

func (s *grpcSender) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	body, err := encodedOTLP.logs(ld)
	return s.export(ctx, logsExportMethod, body, err)
}

func (s *grpcSender) ConsumeMetrics(ctx context.Context, md pmetric.Metrics) error {
	body, err := encodedOTLP.metrics(md)
	return s.export(ctx, metricsExportMethod, body, err)
}

// grpcError classifies a gRPC answer the way OTLP exporters do.
func grpcError(err error) error {
	if err == nil {
		return nil
	}
	switch status.Code(err) {
	case codes.Unavailable, codes.ResourceExhausted, codes.Aborted, codes.DeadlineExceeded, codes.Canceled:
		time.Sleep(retryPause)
		return err
	default:
		return consumererror.NewPermanent(err)
	}
}

// httpSender sends OTLP/HTTP protobuf.
type httpSender struct {
	endpointSender
	client *http.Client
}

func (s *httpSender) Start() error {
	s.client = newHTTPClient()
	return nil
}

func newHTTPClient() *http.Client {
	return &http.Client{
		Timeout:   sendTimeout,
		Transport: &http.Transport{MaxIdleConns: 64, MaxIdleConnsPerHost: 64, IdleConnTimeout: time.Minute},
	}
}

func (s *httpSender) GenConfigYAMLStr() string {
	return fmt.Sprintf("\n  otlp:\n    protocols:\n      http:\n        endpoint: %q", s.GetEndpoint())
}

func (*httpSender) ProtocolName() string { return "otlp" }

func (s *httpSender) post(ctx context.Context, path, contentType string, body []byte) (int, []byte, error) {
	url := "http://" + s.GetEndpoint().String() + path
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, consumererror.NewPermanent(err)
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := s.client.Do(req)
	if err != nil {
		time.Sleep(retryPause)
		return 0, nil, err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	return resp.StatusCode, answer, err
}

func (s *httpSender) export(ctx context.Context, path string, body []byte, marshalErr error) error {
	if marshalErr != nil {
		return consumererror.NewPermanent(marshalErr)
	}
	code, answer, err := s.post(ctx, path, "application/x-protobuf", body)
	if err != nil {
		return err
	}
	return httpStatusError(code, answer)
}

// httpStatusError classifies an HTTP answer the way OTLP/HTTP exporters do.
func httpStatusError(code int, answer []byte) error {
	switch {
	case code == http.StatusOK:
		return nil
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable ||
		code == http.StatusBadGateway || code == http.StatusGatewayTimeout:
		time.Sleep(retryPause)
		return fmt.Errorf("HTTP %d: %.200s", code, answer)
	default:
		return consumererror.NewPermanent(fmt.Errorf("HTTP %d: %.200s", code, answer))
	}
}

func (s *httpSender) ConsumeTraces(ctx context.Context, td ptrace.Traces) error {
	body, err := encodedOTLP.traces(td)
	return s.export(ctx, "/v1/traces", body, err)
}

func (s *httpSender) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	body, err := encodedOTLP.logs(ld)
	return s.export(ctx, "/v1/logs", body, err)
}

func (s *httpSender) ConsumeMetrics(ctx context.Context, md pmetric.Metrics) error {
	body, err := encodedOTLP.metrics(md)
	return s.export(ctx, "/v1/metrics", body, err)
}

// fusedSender POSTs OTLP-GO frames (zstd) to the otlpgo receiver's
// /v1/fused. One frame may carry all three signals (SendFused); the
// per-signal Consume methods send frames of one signal.
type fusedSender struct {
	httpSender
	// stream, when set, sends stream-mode frames (streamsender.go).
	stream *fusedStream
}

func (s *fusedSender) GenConfigYAMLStr() string {
	return fmt.Sprintf("\n  otlpgo:\n    fused:\n      endpoint: %q", s.GetEndpoint())
}

func (*fusedSender) ProtocolName() string { return "otlpgo" }

// SendFused sends req as one frame. When the receiver refuses some signals
// for now, only those are sent again, until maxDelay has passed.
func (s *fusedSender) SendFused(ctx context.Context, req otlpgo.Request, maxDelay time.Duration) error {
	if s.stream != nil {
		return s.sendStream(ctx, req, maxDelay)
	}
	deadline := time.Now().Add(maxDelay)
	encode := func() ([]byte, error) {
		return otlpgo.AppendFrame(nil, req, otlpgo.EncodeOptions{Compression: otlpgo.CompressionZstd})
	}
	// The first attempt sends a pooled request, encoded once; a resend
	// carries only the refused signals, encoded afresh.
	frame, err := encodedFrames.get(req, encode)
	for {
		if err != nil {
			return consumererror.NewPermanent(err)
		}
		var code int
		var answer []byte
		code, answer, err = s.post(ctx, otlpgo.HTTPPath, otlpgo.ContentType, frame)
		if err == nil {
			var refused bool
			req, refused, err = refusedSignals(req, code, answer)
			if err == nil && !refused {
				return nil
			}
		}
		if consumererror.IsPermanent(err) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(retryPause)
		frame, err = encode()
	}
}

// refusedSignals reads a fused answer and returns the part of req to send
// again; refused is false when nothing needs resending.
func refusedSignals(req otlpgo.Request, code int, answer []byte) (otlpgo.Request, bool, error) {
	if code != http.StatusOK && code != http.StatusTooManyRequests && code != http.StatusServiceUnavailable {
		return req, false, consumererror.NewPermanent(fmt.Errorf("HTTP %d: %.200s", code, answer))
	}
	var resp otlpgo.Response
	if err := json.Unmarshal(answer, &resp); err != nil {
		return req, false, consumererror.NewPermanent(fmt.Errorf("HTTP %d: answer is not a fused response: %w", code, err))
	}
	again := otlpgo.NewRequest()
	var refused bool
	var rejected []error
	check := func(name string, result *otlpgo.SignalResult, move func()) {
		switch {
		case result == nil:
		case result.Retryable:
			refused = true
			move()
		case result.Rejected > 0:
			rejected = append(rejected, fmt.Errorf("%s: %d rejected: %s", name, result.Rejected, result.Message))
		}
	}
	check("traces", resp.Traces, func() { req.Traces.CopyTo(again.Traces) })
	check("logs", resp.Logs, func() { req.Logs.CopyTo(again.Logs) })
	check("metrics", resp.Metrics, func() { req.Metrics.CopyTo(again.Metrics) })
	if len(rejected) > 0 {
		return again, refused, consumererror.NewPermanent(errors.Join(rejected...))
	}
	if refused {
		return again, true, fmt.Errorf("HTTP %d: refused for now", code)
	}
	return again, false, nil
}

func (s *fusedSender) ConsumeTraces(ctx context.Context, td ptrace.Traces) error {
	req := otlpgo.NewRequest()
	req.Traces = td
	return s.SendFused(ctx, req, 0)
}

func (s *fusedSender) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	req := otlpgo.NewRequest()
	req.Logs = ld
	return s.SendFused(ctx, req, 0)
}

func (s *fusedSender) ConsumeMetrics(ctx context.Context, md pmetric.Metrics) error {
	req := otlpgo.NewRequest()
	req.Metrics = md
	return s.SendFused(ctx, req, 0)
}

// The three signal views of one sender: the framework's load generator picks
// the signal it generates from the interface its sender implements, so each
// view implements exactly one.

type tracesSender struct {
	testbed.DataSender
	consumer.Traces
}

type logsSender struct {
	testbed.DataSender
	consumer.Logs
}

type metricsSender struct {
	testbed.DataSender
	consumer.Metrics
}

// signalSender is a sender of all three signals.
type signalSender interface {
	testbed.DataSender
	consumer.Traces
	consumer.Logs
	consumer.Metrics
}

// forSignal returns the view of s that the framework's load generator sends
// signal with.
func forSignal(s signalSender, signal string) testbed.DataSender {
	switch signal {
	case "traces":
		return tracesSender{DataSender: s, Traces: s}
	case "logs":
		return logsSender{DataSender: s, Logs: s}
	default:
		return metricsSender{DataSender: s, Metrics: s}
	}
}
