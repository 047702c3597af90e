package fusedexporter

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"

	"github.com/otelfusion/otelfusion/exporter/fusedexporter/internal/metadata"
	"github.com/otelfusion/otelfusion/pkg/otlpgo"
)

// answer is what the fake receiver replies to one fused request.
type answer struct {
	status     int
	retryAfter int // seconds; 0 leaves the header out
	response   *otlpgo.Response
}

// received is one fused request as the fake receiver decoded it.
type received struct {
	at  time.Time
	req otlpgo.Request
}

// fakeReceiver decodes fused frames the way the fused receiver does and
// answers with whatever respond decides (everything accepted by default). It
// counts the items each signal had ingested, which tests compare with what
// was pushed to prove nothing was lost or duplicated.
type fakeReceiver struct {
	t       *testing.T
	server  *httptest.Server
	respond func(n int, req otlpgo.Request) answer

	mu       sync.Mutex
	requests []received
	ingested [signalCount]int
}

// startFakeReceiver serves on addr ("" picks a free port).
func startFakeReceiver(t *testing.T, addr string, respond func(n int, req otlpgo.Request) answer) *fakeReceiver {
	t.Helper()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	require.NoError(t, err)
	fr := &fakeReceiver{t: t, respond: respond}
	fr.server = httptest.NewUnstartedServer(http.HandlerFunc(fr.serve))
	fr.server.Listener.Close()
	fr.server.Listener = ln
	fr.server.Start()
	t.Cleanup(fr.server.Close)
	return fr
}

func (fr *fakeReceiver) endpoint() string { return fr.server.URL }

func (fr *fakeReceiver) serve(w http.ResponseWriter, r *http.Request) {
	assert.Equal(fr.t, http.MethodPost, r.Method)
	assert.Equal(fr.t, otlpgo.HTTPPath, r.URL.Path)
	if r.Header.Get("Content-Type") != otlpgo.ContentType {
		w.WriteHeader(http.StatusUnsupportedMediaType)
		return
	}
	frame, err := io.ReadAll(r.Body)
	if !assert.NoError(fr.t, err) {
		return
	}
	req, err := otlpgo.Decode(frame, otlpgo.DefaultLimits())
	if !assert.NoError(fr.t, err) {
		w.WriteHeader(http.StatusBadRequest)
		return
	}

	fr.mu.Lock()
	n := len(fr.requests)
	fr.requests = append(fr.requests, received{at: time.Now(), req: req})
	fr.mu.Unlock()

	a := answer{status: http.StatusOK, response: acceptAll(req)}
	if fr.respond != nil {
		a = fr.respond(n, req)
	}
	if a.status < 300 || retryableStatus(a.status) {
		fr.ingest(a.response)
	}
	if a.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(a.retryAfter))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.status)
	if a.response != nil {
		assert.NoError(fr.t, json.NewEncoder(w).Encode(a.response))
	}
}

func (fr *fakeReceiver) ingest(resp *otlpgo.Response) {
	if resp == nil {
		return
	}
	fr.mu.Lock()
	defer fr.mu.Unlock()
	for s := range signalCount {
		if r := signalResult(*resp, s); r != nil && !r.Retryable {
			fr.ingested[s] += int(r.Accepted)
		}
	}
}

func (fr *fakeReceiver) received() []received {
	fr.mu.Lock()
	defer fr.mu.Unlock()
	return append([]received(nil), fr.requests...)
}

func (fr *fakeReceiver) ingestedItems() [signalCount]int {
	fr.mu.Lock()
	defer fr.mu.Unlock()
	return fr.ingested
}

// itemCounts counts the spans, log records and data points of req.
func itemCounts(req otlpgo.Request) [signalCount]int {
	return [signalCount]int{
		signalTraces:  req.Traces.SpanCount(),
		signalLogs:    req.Logs.LogRecordCount(),
		signalMetrics: req.Metrics.DataPointCount(),
	}
}

// acceptAll answers every signal present in req as fully ingested.
func acceptAll(req otlpgo.Request) *otlpgo.Response {
	resp := &otlpgo.Response{}
	counts := itemCounts(req)
	if req.Traces.ResourceSpans().Len() > 0 {
		resp.Traces = &otlpgo.SignalResult{Accepted: int64(counts[signalTraces])}
	}
	if req.Logs.ResourceLogs().Len() > 0 {
		resp.Logs = &otlpgo.SignalResult{Accepted: int64(counts[signalLogs])}
	}
	if req.Metrics.ResourceMetrics().Len() > 0 {
		resp.Metrics = &otlpgo.SignalResult{Accepted: int64(counts[signalMetrics])}
	}
	return resp
}

// reserveAddr returns a local address with nothing listening on it: a
// receiver that is down until startFakeReceiver is given that address.
func reserveAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// testConfig is a fast configuration: short flush window and backoff, no
// queue (so Consume* returns the export result), bounded retries.
func testConfig(endpoint string) *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.ClientConfig.Endpoint = endpoint
	cfg.ClientConfig.Timeout = 5 * time.Second
	cfg.Flush.Timeout = 100 * time.Millisecond
	cfg.QueueConfig = configoptional.None[exporterhelper.QueueBatchConfig]()
	cfg.RetryConfig.InitialInterval = 10 * time.Millisecond
	cfg.RetryConfig.MaxInterval = 50 * time.Millisecond
	cfg.RetryConfig.MaxElapsedTime = 20 * time.Second
	return cfg
}

// pipelines are the three exporters the collector would build for one
// configuration named in a traces, a logs and a metrics pipeline.
type pipelines struct {
	traces   exporter.Traces
	logs     exporter.Logs
	metrics  exporter.Metrics
	stopOnce sync.Once
}

func startPipelines(t *testing.T, cfg *Config, host component.Host, set exporter.Settings) *pipelines {
	t.Helper()
	require.NoError(t, cfg.Validate())
	factory := NewFactory()
	ctx := context.Background()
	p := &pipelines{}
	var err error
	p.traces, err = factory.CreateTraces(ctx, set, cfg)
	require.NoError(t, err)
	p.logs, err = factory.CreateLogs(ctx, set, cfg)
	require.NoError(t, err)
	p.metrics, err = factory.CreateMetrics(ctx, set, cfg)
	require.NoError(t, err)
	for _, c := range []component.Component{p.traces, p.logs, p.metrics} {
		require.NoError(t, c.Start(ctx, host))
	}
	t.Cleanup(func() { p.shutdown(t) })
	return p
}

func startNopPipelines(t *testing.T, cfg *Config) *pipelines {
	t.Helper()
	return startPipelines(t, cfg, componenttest.NewNopHost(), exportertest.NewNopSettings(metadata.Type))
}

// shutdown stops the three exporters once, in pipeline order.
func (p *pipelines) shutdown(t *testing.T) {
	t.Helper()
	p.stopOnce.Do(func() {
		for _, c := range []component.Component{p.traces, p.logs, p.metrics} {
			assert.NoError(t, c.Shutdown(context.Background()))
		}
	})
}
