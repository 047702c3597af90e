package otlpgoreceiver

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/testdata"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelfusion/otelfusion/internal/sharedcomponent"
	"github.com/otelfusion/otelfusion/pkg/otlpgo"
	"github.com/otelfusion/otelfusion/receiver/otlpgoreceiver/internal/metadata"
)

// pipelines are the consumers of the pipelines that name the receiver; a nil
// one means no pipeline of that signal does.
type pipelines struct {
	traces  consumer.Traces
	logs    consumer.Logs
	metrics consumer.Metrics
}

// fusedOnlyConfig serves only fused frames, on a port the system picks.
func fusedOnlyConfig() *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.Fused.ServerConfig.NetAddr.Endpoint = "localhost:0"
	return cfg
}

// freeEndpoint returns a localhost address that was free a moment ago.
func freeEndpoint(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "localhost:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// startReceiver creates the receiver once per given pipeline, as the
// collector would, starts it and returns the fused URL. It shuts down at the
// end of the test.
func startReceiver(t *testing.T, cfg *Config, set receiver.Settings, p pipelines) string {
	t.Helper()
	ctx := context.Background()
	factory := NewFactory()
	var created []component.Component
	if p.traces != nil {
		r, err := factory.CreateTraces(ctx, set, cfg, p.traces)
		require.NoError(t, err)
		created = append(created, r)
	}
	if p.logs != nil {
		r, err := factory.CreateLogs(ctx, set, cfg, p.logs)
		require.NoError(t, err)
		created = append(created, r)
	}
	if p.metrics != nil {
		r, err := factory.CreateMetrics(ctx, set, cfg, p.metrics)
		require.NoError(t, err)
		created = append(created, r)
	}
	require.NotEmpty(t, created)
	t.Cleanup(func() {
		for _, r := range created {
			assert.NoError(t, r.Shutdown(context.Background()))
		}
	})
	for _, r := range created {
		require.NoError(t, r.Start(ctx, componenttest.NewNopHost()))
	}
	shared := created[0].(*sharedcomponent.Component[*otlpgoReceiver])
	return "http://" + shared.Unwrap().fusedAddr.String() + otlpgo.HTTPPath
}

func nopSettings() receiver.Settings {
	return receivertest.NewNopSettings(metadata.Type)
}

// testRequest carries all three signals with every metric type.
func testRequest() otlpgo.Request {
	return otlpgo.Request{
		Traces:  testdata.GenerateTraces(3),
		Logs:    testdata.GenerateLogs(4),
		Metrics: testdata.GenerateMetricsAllTypes(),
	}
}

func encodeFrame(t *testing.T, req otlpgo.Request, compression otlpgo.Compression) []byte {
	t.Helper()
	frame, err := otlpgo.AppendFrame(nil, req, otlpgo.EncodeOptions{Compression: compression})
	require.NoError(t, err)
	return frame
}

type httpResult struct {
	status int
	header http.Header
	body   []byte
}

func doRequest(t *testing.T, method, url, contentType string, body io.Reader, header http.Header) httpResult {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, url, body)
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	respBody, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return httpResult{status: resp.StatusCode, header: resp.Header, body: respBody}
}

func postFrame(t *testing.T, url string, frame []byte) httpResult {
	t.Helper()
	return doRequest(t, http.MethodPost, url, otlpgo.ContentType, bytes.NewReader(frame), nil)
}

func decodeResponse(t *testing.T, res httpResult) otlpgo.Response {
	t.Helper()
	assert.Equal(t, "application/json", res.header.Get("Content-Type"))
	var resp otlpgo.Response
	require.NoError(t, json.Unmarshal(res.body, &resp), string(res.body))
	return resp
}

func decodeMessage(t *testing.T, res httpResult) string {
	t.Helper()
	assert.Equal(t, "application/json", res.header.Get("Content-Type"))
	var body struct {
		Message string `json:"message"`
	}
	require.NoError(t, json.Unmarshal(res.body, &body), string(res.body))
	return body.Message
}

// The assert*Equal helpers compare the protobuf encoding, so any lost or
// changed field shows up. The receiver writes the tenant it decided into
// every resource: what was sent without a tenant arrives under the default.
func stampDefaultTenant(res pcommon.Resource) {
	res.Attributes().PutStr("tenant.id", "default")
}

func assertTracesEqual(t *testing.T, want ptrace.Traces, got []ptrace.Traces) {
	t.Helper()
	require.Len(t, got, 1)
	stamped := ptrace.NewTraces()
	want.CopyTo(stamped)
	for _, r := range stamped.ResourceSpans().All() {
		stampDefaultTenant(r.Resource())
	}
	wantPB, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(stamped)
	require.NoError(t, err)
	gotPB, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(got[0])
	require.NoError(t, err)
	assert.Equal(t, wantPB, gotPB)
}

func assertLogsEqual(t *testing.T, want plog.Logs, got []plog.Logs) {
	t.Helper()
	require.Len(t, got, 1)
	stamped := plog.NewLogs()
	want.CopyTo(stamped)
	for _, r := range stamped.ResourceLogs().All() {
		stampDefaultTenant(r.Resource())
	}
	wantPB, err := (&plog.ProtoMarshaler{}).MarshalLogs(stamped)
	require.NoError(t, err)
	gotPB, err := (&plog.ProtoMarshaler{}).MarshalLogs(got[0])
	require.NoError(t, err)
	assert.Equal(t, wantPB, gotPB)
}

func assertMetricsEqual(t *testing.T, want pmetric.Metrics, got []pmetric.Metrics) {
	t.Helper()
	require.Len(t, got, 1)
	stamped := pmetric.NewMetrics()
	want.CopyTo(stamped)
	for _, r := range stamped.ResourceMetrics().All() {
		stampDefaultTenant(r.Resource())
	}
	wantPB, err := (&pmetric.ProtoMarshaler{}).MarshalMetrics(stamped)
	require.NoError(t, err)
	gotPB, err := (&pmetric.ProtoMarshaler{}).MarshalMetrics(got[0])
	require.NoError(t, err)
	assert.Equal(t, wantPB, gotPB)
}

// Frame surgery for the malformed-input tests, following the layout in
// docs/protocol.md: a 16-byte header (magic, major, minor, flags, reserved,
// body_len u32le, raw_len u32le), then sections of uvarint tag, uvarint size
// and payload. It works on uncompressed frames only.

const (
	headerLen      = 16
	sectionTagDict = 1
)

type frameSection struct {
	tag     uint64
	payload []byte
}

func splitFrame(t *testing.T, frame []byte) (header []byte, sections []frameSection) {
	t.Helper()
	require.GreaterOrEqual(t, len(frame), headerLen)
	require.Zero(t, frame[6], "frame must be uncompressed")
	header = bytes.Clone(frame[:headerLen])
	body := frame[headerLen:]
	for len(body) > 0 {
		tag, n := binary.Uvarint(body)
		require.Positive(t, n)
		body = body[n:]
		size, n := binary.Uvarint(body)
		require.Positive(t, n)
		body = body[n:]
		require.LessOrEqual(t, size, uint64(len(body)))
		sections = append(sections, frameSection{tag: tag, payload: body[:size]})
		body = body[size:]
	}
	return header, sections
}

// joinFrame reassembles a frame; declaredSize lets a test lie about a
// section's size.
func joinFrame(header []byte, sections []frameSection, declaredSize func(i int, actual int) int) []byte {
	var body []byte
	for i, s := range sections {
		size := len(s.payload)
		if declaredSize != nil {
			size = declaredSize(i, size)
		}
		body = binary.AppendUvarint(body, s.tag)
		body = binary.AppendUvarint(body, uint64(size))
		body = append(body, s.payload...)
	}
	frame := bytes.Clone(header)
	binary.LittleEndian.PutUint32(frame[8:], uint32(len(body)))
	binary.LittleEndian.PutUint32(frame[12:], uint32(len(body)))
	return append(frame, body...)
}

// assertCounter checks the sum over all data points of an int64 counter.
func assertCounter(t *testing.T, tel *componenttest.Telemetry, name string, want int64) {
	t.Helper()
	m, err := tel.GetMetric(name)
	require.NoError(t, err)
	var got int64
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		got += dp.Value
	}
	assert.Equal(t, want, got, name)
}
