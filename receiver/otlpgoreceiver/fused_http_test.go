package otlpgoreceiver

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/testdata"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/otelfusion/otelfusion/pkg/otlpgo"
)

func TestFusedAllSignals(t *testing.T) {
	for _, compression := range []otlpgo.Compression{otlpgo.CompressionNone, otlpgo.CompressionZstd} {
		t.Run(compression.String(), func(t *testing.T) {
			tel := componenttest.NewTelemetry()
			t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
			set := nopSettings()
			set.TelemetrySettings = tel.NewTelemetrySettings()

			traces, logs, metrics := new(consumertest.TracesSink), new(consumertest.LogsSink), new(consumertest.MetricsSink)
			url := startReceiver(t, fusedOnlyConfig(), set, pipelines{traces: traces, logs: logs, metrics: metrics})

			req := testRequest()
			frame := encodeFrame(t, req, compression)
			res := postFrame(t, url, frame)
			require.Equal(t, http.StatusOK, res.status, string(res.body))
			assert.Empty(t, res.header.Get("Retry-After"))

			spans, logRecords, dataPoints := req.Traces.SpanCount(), req.Logs.LogRecordCount(), req.Metrics.DataPointCount()
			assert.Equal(t, otlpgo.Response{
				Traces:  &otlpgo.SignalResult{Accepted: int64(spans)},
				Logs:    &otlpgo.SignalResult{Accepted: int64(logRecords)},
				Metrics: &otlpgo.SignalResult{Accepted: int64(dataPoints)},
			}, decodeResponse(t, res))

			assert.Equal(t, spans, traces.SpanCount())
			assert.Equal(t, logRecords, logs.LogRecordCount())
			assert.Equal(t, dataPoints, metrics.DataPointCount())
			assertTracesEqual(t, req.Traces, traces.AllTraces())
			assertLogsEqual(t, req.Logs, logs.AllLogs())
			assertMetricsEqual(t, req.Metrics, metrics.AllMetrics())

			assertCounter(t, tel, "otelcol_receiver_accepted_spans", int64(spans))
			assertCounter(t, tel, "otelcol_receiver_accepted_log_records", int64(logRecords))
			assertCounter(t, tel, "otelcol_receiver_accepted_metric_points", int64(dataPoints))
			assertCounter(t, tel, "otelcol_otlpgo_receiver_frames", 1)
			size, err := tel.GetMetric("otelcol_otlpgo_receiver_frame_size")
			require.NoError(t, err)
			hist := size.Data.(metricdata.Histogram[int64]).DataPoints
			require.Len(t, hist, 1)
			assert.Equal(t, uint64(1), hist[0].Count)
			assert.Equal(t, int64(len(frame)), hist[0].Sum)
		})
	}
}

func TestFusedOnlyPresentSignalsReported(t *testing.T) {
	traces, logs, metrics := new(consumertest.TracesSink), new(consumertest.LogsSink), new(consumertest.MetricsSink)
	url := startReceiver(t, fusedOnlyConfig(), nopSettings(), pipelines{traces: traces, logs: logs, metrics: metrics})

	req := otlpgo.NewRequest()
	req.Logs = testdata.GenerateLogs(2)
	res := postFrame(t, url, encodeFrame(t, req, otlpgo.CompressionZstd))
	require.Equal(t, http.StatusOK, res.status, string(res.body))
	assert.Equal(t, otlpgo.Response{Logs: &otlpgo.SignalResult{Accepted: 2}}, decodeResponse(t, res))
	assert.Empty(t, traces.AllTraces())
	assert.Empty(t, metrics.AllMetrics())
	assertLogsEqual(t, req.Logs, logs.AllLogs())
}

func TestFusedSignalWithoutPipeline(t *testing.T) {
	traces := new(consumertest.TracesSink)
	url := startReceiver(t, fusedOnlyConfig(), nopSettings(), pipelines{traces: traces})

	req := testRequest()
	res := postFrame(t, url, encodeFrame(t, req, otlpgo.CompressionZstd))
	require.Equal(t, http.StatusOK, res.status, string(res.body))
	assert.Equal(t, otlpgo.Response{
		Traces:  &otlpgo.SignalResult{Accepted: int64(req.Traces.SpanCount())},
		Logs:    &otlpgo.SignalResult{Rejected: int64(req.Logs.LogRecordCount()), Message: "no logs pipeline uses this receiver"},
		Metrics: &otlpgo.SignalResult{Rejected: int64(req.Metrics.DataPointCount()), Message: "no metrics pipeline uses this receiver"},
	}, decodeResponse(t, res))
	assertTracesEqual(t, req.Traces, traces.AllTraces())
}

func TestFusedMalformedFrames(t *testing.T) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	set := nopSettings()
	set.TelemetrySettings = tel.NewTelemetrySettings()

	traces, logs, metrics := new(consumertest.TracesSink), new(consumertest.LogsSink), new(consumertest.MetricsSink)
	url := startReceiver(t, fusedOnlyConfig(), set, pipelines{traces: traces, logs: logs, metrics: metrics})

	valid := encodeFrame(t, testRequest(), otlpgo.CompressionNone)
	mutate := func(change func(frame []byte) []byte) []byte {
		return change(bytes.Clone(valid))
	}

	tests := []struct {
		name    string
		frame   []byte
		reason  string
		message string
	}{
		{
			name:    "empty body",
			frame:   nil,
			reason:  "truncated",
			message: "header needs 16",
		},
		{
			name:    "truncated frame",
			frame:   valid[:len(valid)-3],
			reason:  "truncated",
			message: "body_len",
		},
		{
			name:    "truncated header",
			frame:   valid[:10],
			reason:  "truncated",
			message: "header needs 16",
		},
		{
			name:    "bad magic",
			frame:   mutate(func(f []byte) []byte { f[0] = 'X'; return f }),
			reason:  "bad_magic",
			message: "bad magic",
		},
		{
			name:    "unknown major version",
			frame:   mutate(func(f []byte) []byte { f[4] = 3; return f }),
			reason:  "unsupported_version",
			message: "version 3.0 not supported",
		},
		{
			name:    "unknown header flag",
			frame:   mutate(func(f []byte) []byte { f[6] |= 0x80; return f }),
			reason:  "unsupported_version",
			message: "unknown header flags",
		},
		{
			name: "declared body length beyond the frame",
			frame: mutate(func(f []byte) []byte {
				binary.LittleEndian.PutUint32(f[8:], uint32(len(f)))
				return f
			}),
			reason:  "truncated",
			message: "body_len",
		},
		{
			name: "declared section size beyond the body",
			frame: func() []byte {
				header, sections := splitFrame(t, valid)
				last := len(sections) - 1
				return joinFrame(header, sections, func(i, actual int) int {
					if i == last {
						return actual + 1000
					}
					return actual
				})
			}(),
			reason:  "truncated",
			message: "declares",
		},
		{
			name: "dictionary index out of range",
			frame: func() []byte {
				header, sections := splitFrame(t, valid)
				require.Equal(t, uint64(sectionTagDict), sections[0].tag)
				return joinFrame(header, sections[1:], nil)
			}(),
			reason:  "dict_index",
			message: "out of range",
		},
		{
			name:    "trailing bytes",
			frame:   append(bytes.Clone(valid), 0, 0, 0),
			reason:  "trailing_bytes",
			message: "3 bytes after the body",
		},
		{
			name:    "corrupt zstd body",
			frame:   mutate(func(f []byte) []byte { f[6] |= 1; return f }),
			reason:  "malformed",
			message: "zstd",
		},
	}
	wantReasons := map[string]int64{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := postFrame(t, url, tt.frame)
			require.Equal(t, http.StatusBadRequest, res.status, string(res.body))
			msg := decodeMessage(t, res)
			assert.True(t, strings.HasPrefix(msg, "otlpgo: section "), msg)
			assert.Contains(t, msg, tt.message)
			wantReasons[tt.reason]++
		})
	}
	assert.Empty(t, traces.AllTraces(), "no span of a malformed frame may reach a pipeline")
	assert.Empty(t, logs.AllLogs(), "no log of a malformed frame may reach a pipeline")
	assert.Empty(t, metrics.AllMetrics(), "no metric of a malformed frame may reach a pipeline")

	errs, err := tel.GetMetric("otelcol_otlpgo_receiver_decode_errors")
	require.NoError(t, err)
	gotReasons := map[string]int64{}
	for _, dp := range errs.Data.(metricdata.Sum[int64]).DataPoints {
		reason, _ := dp.Attributes.Value(attribute.Key("reason"))
		gotReasons[reason.AsString()] += dp.Value
	}
	assert.Equal(t, wantReasons, gotReasons)
}

// limitsRequest is a log frame that each decode limit can be set to refuse:
// records sharing one 200-byte string value (a dictionary entry referenced
// from every record), an array value and nested maps.
func limitsRequest() otlpgo.Request {
	req := otlpgo.NewRequest()
	records := req.Logs.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	blob := strings.Repeat("x", 200)
	for i := range 500 {
		record := records.AppendEmpty()
		record.Body().SetStr(blob)
		attrs := record.Attributes()
		attrs.PutStr("blob", blob)
		attrs.PutInt("index", int64(i))
		list := attrs.PutEmptySlice("list")
		for j := range 3 {
			list.AppendEmpty().SetInt(int64(j))
		}
		nested := attrs.PutEmptyMap("nested")
		for range 6 {
			nested = nested.PutEmptyMap("deeper")
		}
		nested.PutStr("bottom", "value")
	}
	return req
}

func TestFusedLimitExceeded(t *testing.T) {
	// Every limit a case does not test is generous, so only the tested one
	// can refuse the frame.
	generous := func() LimitsConfig {
		return LimitsConfig{
			MaxFrameBytes: 16 << 20, MaxBodyBytes: 16 << 20, MaxItems: 1 << 20, MaxDictEntries: 1 << 20,
			MaxStringBytes: 4 << 20, MaxDepth: 32, MaxMapEntries: 1024, MaxDecodedBytes: 32 << 20,
			MaxExpansion: 1 << 10, MaxAttributes: 1 << 20, MaxNestedValues: 1 << 20,
		}
	}
	frame := encodeFrame(t, limitsRequest(), otlpgo.CompressionZstd)

	tests := []struct {
		key    string
		limit  func(*LimitsConfig)
		frame  []byte
		reason string
	}{
		{key: "max_items", limit: func(l *LimitsConfig) { l.MaxItems = 2 }},
		{key: "max_dict_entries", limit: func(l *LimitsConfig) { l.MaxDictEntries = 1 }},
		{key: "max_string_bytes", limit: func(l *LimitsConfig) { l.MaxStringBytes = 100 }},
		{key: "max_depth", limit: func(l *LimitsConfig) { l.MaxDepth = 4 }, reason: "too_deep"},
		{key: "max_decoded_bytes", limit: func(l *LimitsConfig) { l.MaxDecodedBytes = 64 << 10 }},
		{key: "max_expansion", limit: func(l *LimitsConfig) { l.MaxExpansion = 1 }},
		{key: "max_attributes", limit: func(l *LimitsConfig) { l.MaxAttributes = 100 }},
		{key: "max_nested_values", limit: func(l *LimitsConfig) { l.MaxNestedValues = 100 }},
		{
			key:   "max_body_bytes",
			limit: func(*LimitsConfig) {},
			frame: func() []byte {
				f := bytes.Clone(frame)
				binary.LittleEndian.PutUint32(f[12:], 0xffffffff)
				return f
			}(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			tel := componenttest.NewTelemetry()
			t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
			set := nopSettings()
			set.TelemetrySettings = tel.NewTelemetrySettings()

			cfg := fusedOnlyConfig()
			cfg.Fused.Limits = generous()
			tt.limit(&cfg.Fused.Limits)
			traces, logs, metrics := new(consumertest.TracesSink), new(consumertest.LogsSink), new(consumertest.MetricsSink)
			url := startReceiver(t, cfg, set, pipelines{traces: traces, logs: logs, metrics: metrics})

			body := frame
			if tt.frame != nil {
				body = tt.frame
			}
			res := postFrame(t, url, body)
			require.Equal(t, http.StatusRequestEntityTooLarge, res.status, string(res.body))
			msg := decodeMessage(t, res)
			assert.True(t, strings.HasPrefix(msg, "frame over 'fused::limits::"+tt.key+"': otlpgo: section "), msg)
			assert.Empty(t, traces.AllTraces())
			assert.Empty(t, logs.AllLogs(), "no log of a frame over a limit may reach a pipeline")
			assert.Empty(t, metrics.AllMetrics())

			reason := tt.reason
			if reason == "" {
				reason = "limit_exceeded"
			}
			errs, err := tel.GetMetric("otelcol_otlpgo_receiver_decode_errors")
			require.NoError(t, err)
			points := errs.Data.(metricdata.Sum[int64]).DataPoints
			require.Len(t, points, 1)
			assert.Equal(t, int64(1), points[0].Value)
			assert.Equal(t, attribute.NewSet(attribute.String("reason", reason), attribute.String("limit", tt.key)), points[0].Attributes)
		})
	}
}

// chunked hides the length of a body, so the server cannot refuse it from
// Content-Length and has to count while reading.
type chunked struct{ io.Reader }

func TestFusedTooLarge(t *testing.T) {
	frame := encodeFrame(t, testRequest(), otlpgo.CompressionNone)
	require.Greater(t, len(frame), 1024)

	tests := []struct {
		name      string
		configure func(*Config)
		body      func() io.Reader
		message   string
	}{
		{
			name:      "over max_request_body_size",
			configure: func(cfg *Config) { cfg.Fused.ServerConfig.MaxRequestBodySize = 1024 },
			body:      func() io.Reader { return bytes.NewReader(frame) },
			message:   "'fused::max_request_body_size'",
		},
		{
			name:      "over max_request_body_size, chunked",
			configure: func(cfg *Config) { cfg.Fused.ServerConfig.MaxRequestBodySize = 1024 },
			body:      func() io.Reader { return chunked{bytes.NewReader(frame)} },
			message:   "'fused::max_request_body_size'",
		},
		{
			name:      "over max_frame_bytes",
			configure: func(cfg *Config) { cfg.Fused.Limits.MaxFrameBytes = 1024 },
			body:      func() io.Reader { return bytes.NewReader(frame) },
			message:   "'fused::limits::max_frame_bytes'",
		},
		{
			name:      "over max_frame_bytes, chunked",
			configure: func(cfg *Config) { cfg.Fused.Limits.MaxFrameBytes = 1024 },
			body:      func() io.Reader { return chunked{bytes.NewReader(frame)} },
			message:   "'fused::limits::max_frame_bytes'",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := fusedOnlyConfig()
			tt.configure(cfg)
			traces, logs, metrics := new(consumertest.TracesSink), new(consumertest.LogsSink), new(consumertest.MetricsSink)
			url := startReceiver(t, cfg, nopSettings(), pipelines{traces: traces, logs: logs, metrics: metrics})

			res := doRequest(t, http.MethodPost, url, otlpgo.ContentType, tt.body(), nil)
			require.Equal(t, http.StatusRequestEntityTooLarge, res.status, string(res.body))
			assert.Contains(t, decodeMessage(t, res), tt.message)
			assert.Empty(t, traces.AllTraces())
			assert.Empty(t, logs.AllLogs())
			assert.Empty(t, metrics.AllMetrics())
		})
	}
}

func TestFusedRefusesOtherRequests(t *testing.T) {
	traces := new(consumertest.TracesSink)
	url := startReceiver(t, fusedOnlyConfig(), nopSettings(), pipelines{traces: traces})
	frame := encodeFrame(t, testRequest(), otlpgo.CompressionZstd)

	tests := []struct {
		name        string
		method      string
		contentType string
		status      int
	}{
		{name: "GET", method: http.MethodGet, contentType: otlpgo.ContentType, status: http.StatusMethodNotAllowed},
		{name: "PUT", method: http.MethodPut, contentType: otlpgo.ContentType, status: http.StatusMethodNotAllowed},
		{name: "protobuf content type", method: http.MethodPost, contentType: "application/x-protobuf", status: http.StatusUnsupportedMediaType},
		{name: "no content type", method: http.MethodPost, contentType: "", status: http.StatusUnsupportedMediaType},
		{name: "content type with parameter", method: http.MethodPost, contentType: otlpgo.ContentType + "; charset=binary", status: http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := doRequest(t, tt.method, url, tt.contentType, bytes.NewReader(frame), nil)
			require.Equal(t, tt.status, res.status, string(res.body))
			if tt.status == http.StatusMethodNotAllowed {
				assert.Equal(t, http.MethodPost, res.header.Get("Allow"))
			}
			if tt.status != http.StatusOK {
				assert.NotEmpty(t, decodeMessage(t, res))
			}
		})
	}
	assert.Len(t, traces.AllTraces(), 1, "only the accepted request delivers")
}

func throttleError(t *testing.T, code codes.Code, delay time.Duration) error {
	t.Helper()
	st, err := status.New(code, "slow down").WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(delay)})
	require.NoError(t, err)
	return st.Err()
}

func TestFusedConsumerErrors(t *testing.T) {
	req := testRequest()
	spans, logRecords, dataPoints := int64(req.Traces.SpanCount()), int64(req.Logs.LogRecordCount()), int64(req.Metrics.DataPointCount())

	tests := []struct {
		name           string
		tracesErr      error
		logsErr        error
		metricsErr     error
		wantStatus     int
		wantRetryAfter string
		want           otlpgo.Response
	}{
		{
			name:           "throttled with RetryInfo",
			tracesErr:      throttleError(t, codes.ResourceExhausted, 3*time.Second),
			wantStatus:     http.StatusTooManyRequests,
			wantRetryAfter: "3",
			want: otlpgo.Response{
				Traces:  &otlpgo.SignalResult{Retryable: true, Message: "rpc error: code = ResourceExhausted desc = slow down"},
				Logs:    &otlpgo.SignalResult{Accepted: logRecords},
				Metrics: &otlpgo.SignalResult{Accepted: dataPoints},
			},
		},
		{
			name:           "throttled without RetryInfo",
			logsErr:        status.Error(codes.ResourceExhausted, "quota"),
			wantStatus:     http.StatusTooManyRequests,
			wantRetryAfter: "7",
			want: otlpgo.Response{
				Traces:  &otlpgo.SignalResult{Accepted: spans},
				Logs:    &otlpgo.SignalResult{Retryable: true, Message: "rpc error: code = ResourceExhausted desc = quota"},
				Metrics: &otlpgo.SignalResult{Accepted: dataPoints},
			},
		},
		{
			name:           "plain error is retryable",
			metricsErr:     errors.New("queue is full"),
			wantStatus:     http.StatusServiceUnavailable,
			wantRetryAfter: "7",
			want: otlpgo.Response{
				Traces:  &otlpgo.SignalResult{Accepted: spans},
				Logs:    &otlpgo.SignalResult{Accepted: logRecords},
				Metrics: &otlpgo.SignalResult{Retryable: true, Message: "queue is full"},
			},
		},
		{
			name:           "unavailable with RetryInfo",
			metricsErr:     throttleError(t, codes.Unavailable, 1500*time.Millisecond),
			wantStatus:     http.StatusServiceUnavailable,
			wantRetryAfter: "2",
			want: otlpgo.Response{
				Traces:  &otlpgo.SignalResult{Accepted: spans},
				Logs:    &otlpgo.SignalResult{Accepted: logRecords},
				Metrics: &otlpgo.SignalResult{Retryable: true, Message: "rpc error: code = Unavailable desc = slow down"},
			},
		},
		{
			name:           "throttle wins over unavailable",
			tracesErr:      errors.New("queue is full"),
			logsErr:        throttleError(t, codes.ResourceExhausted, 4*time.Second),
			wantStatus:     http.StatusTooManyRequests,
			wantRetryAfter: "4",
			want: otlpgo.Response{
				Traces:  &otlpgo.SignalResult{Retryable: true, Message: "queue is full"},
				Logs:    &otlpgo.SignalResult{Retryable: true, Message: "rpc error: code = ResourceExhausted desc = slow down"},
				Metrics: &otlpgo.SignalResult{Accepted: dataPoints},
			},
		},
		{
			name:       "permanent error rejects",
			logsErr:    consumererror.NewPermanent(errors.New("bad record")),
			wantStatus: http.StatusOK,
			want: otlpgo.Response{
				Traces:  &otlpgo.SignalResult{Accepted: spans},
				Logs:    &otlpgo.SignalResult{Rejected: logRecords, Message: "Permanent error: bad record"},
				Metrics: &otlpgo.SignalResult{Accepted: dataPoints},
			},
		},
		{
			name:       "non-retryable gRPC code rejects",
			tracesErr:  status.Error(codes.InvalidArgument, "bad span"),
			wantStatus: http.StatusOK,
			want: otlpgo.Response{
				Traces:  &otlpgo.SignalResult{Rejected: spans, Message: "rpc error: code = InvalidArgument desc = bad span"},
				Logs:    &otlpgo.SignalResult{Accepted: logRecords},
				Metrics: &otlpgo.SignalResult{Accepted: dataPoints},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := fusedOnlyConfig()
			cfg.Fused.RetryAfter = 7 * time.Second
			traces, logs, metrics := new(consumertest.TracesSink), new(consumertest.LogsSink), new(consumertest.MetricsSink)
			p := pipelines{traces: traces, logs: logs, metrics: metrics}
			if tt.tracesErr != nil {
				p.traces = consumertest.NewErr(tt.tracesErr)
			}
			if tt.logsErr != nil {
				p.logs = consumertest.NewErr(tt.logsErr)
			}
			if tt.metricsErr != nil {
				p.metrics = consumertest.NewErr(tt.metricsErr)
			}
			url := startReceiver(t, cfg, nopSettings(), p)

			res := postFrame(t, url, encodeFrame(t, req, otlpgo.CompressionZstd))
			require.Equal(t, tt.wantStatus, res.status, string(res.body))
			assert.Equal(t, tt.wantRetryAfter, res.header.Get("Retry-After"))
			assert.Equal(t, tt.want, decodeResponse(t, res))

			// The signals that were accepted reached their pipelines.
			if tt.tracesErr == nil {
				assertTracesEqual(t, req.Traces, traces.AllTraces())
			}
			if tt.logsErr == nil {
				assertLogsEqual(t, req.Logs, logs.AllLogs())
			}
			if tt.metricsErr == nil {
				assertMetricsEqual(t, req.Metrics, metrics.AllMetrics())
			}
		})
	}
}

// tenantRecorder remembers the X-Tenant-ID client metadata of each call.
type tenantRecorder struct {
	mu      sync.Mutex
	tenants [][]string
}

func (r *tenantRecorder) consumer(t *testing.T) consumer.Traces {
	t.Helper()
	c, err := consumer.NewTraces(func(ctx context.Context, _ ptrace.Traces) error {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.tenants = append(r.tenants, client.FromContext(ctx).Metadata.Get("X-Tenant-ID"))
		return nil
	})
	require.NoError(t, err)
	return c
}

func (r *tenantRecorder) seen() [][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tenants
}

func TestFusedIncludeMetadata(t *testing.T) {
	for _, include := range []bool{true, false} {
		t.Run(map[bool]string{true: "included", false: "not included"}[include], func(t *testing.T) {
			cfg := fusedOnlyConfig()
			cfg.Fused.ServerConfig.IncludeMetadata = include
			// The "metadata" tenant source turns metadata on by itself.
			cfg.Tenant.Sources = []TenantSource{TenantSourceAuth}
			recorder := &tenantRecorder{}
			url := startReceiver(t, cfg, nopSettings(), pipelines{traces: recorder.consumer(t)})

			req := otlpgo.NewRequest()
			req.Traces = testdata.GenerateTraces(1)
			res := doRequest(t, http.MethodPost, url, otlpgo.ContentType,
				bytes.NewReader(encodeFrame(t, req, otlpgo.CompressionZstd)),
				http.Header{"X-Tenant-Id": {"acme"}})
			require.Equal(t, http.StatusOK, res.status, string(res.body))

			want := [][]string{nil}
			if include {
				want = [][]string{{"acme"}}
			}
			assert.Equal(t, want, recorder.seen())
		})
	}
}

func TestFusedSignalWithoutItems(t *testing.T) {
	traces, logs := new(consumertest.TracesSink), new(consumertest.LogsSink)
	url := startReceiver(t, fusedOnlyConfig(), nopSettings(), pipelines{traces: traces, logs: logs})

	// A resource with no spans is present but carries nothing to deliver.
	req := otlpgo.NewRequest()
	req.Traces.ResourceSpans().AppendEmpty().Resource().Attributes().PutStr("service.name", "idle")
	req.Logs = testdata.GenerateLogs(1)
	res := postFrame(t, url, encodeFrame(t, req, otlpgo.CompressionZstd))
	require.Equal(t, http.StatusOK, res.status, string(res.body))
	assert.Equal(t, otlpgo.Response{
		Traces: &otlpgo.SignalResult{},
		Logs:   &otlpgo.SignalResult{Accepted: 1},
	}, decodeResponse(t, res))
	assert.Empty(t, traces.AllTraces())
	assert.Equal(t, 1, logs.LogRecordCount())
}

func TestFusedGzipContentEncoding(t *testing.T) {
	traces, logs, metrics := new(consumertest.TracesSink), new(consumertest.LogsSink), new(consumertest.MetricsSink)
	url := startReceiver(t, fusedOnlyConfig(), nopSettings(), pipelines{traces: traces, logs: logs, metrics: metrics})

	req := testRequest()
	var compressed bytes.Buffer
	zw := gzip.NewWriter(&compressed)
	_, err := zw.Write(encodeFrame(t, req, otlpgo.CompressionNone))
	require.NoError(t, err)
	require.NoError(t, zw.Close())

	res := doRequest(t, http.MethodPost, url, otlpgo.ContentType, &compressed, http.Header{"Content-Encoding": {"gzip"}})
	require.Equal(t, http.StatusOK, res.status, string(res.body))
	assertTracesEqual(t, req.Traces, traces.AllTraces())
	assertLogsEqual(t, req.Logs, logs.AllLogs())
	assertMetricsEqual(t, req.Metrics, metrics.AllMetrics())
}

// FuzzFusedHandler feeds arbitrary bodies to the handler: whatever comes in,
// it answers without panicking, and only a 200 delivers anything.
func FuzzFusedHandler(f *testing.F) {
	f.Add([]byte(nil))
	for _, compression := range []otlpgo.Compression{otlpgo.CompressionNone, otlpgo.CompressionZstd} {
		frame, err := otlpgo.AppendFrame(nil, testRequest(), otlpgo.EncodeOptions{Compression: compression})
		require.NoError(f, err)
		f.Add(frame)
		f.Add(frame[:len(frame)/2])
	}

	traces, logs, metrics := new(consumertest.TracesSink), new(consumertest.LogsSink), new(consumertest.MetricsSink)
	cfg := fusedOnlyConfig()
	cfg.Fused.Limits = LimitsConfig{
		MaxFrameBytes: 1 << 20, MaxBodyBytes: 4 << 20, MaxItems: 1000,
		MaxDictEntries: 1000, MaxStringBytes: 1 << 16, MaxDepth: 8, MaxMapEntries: 64,
		MaxDecodedBytes: 8 << 20, MaxExpansion: 16, MaxAttributes: 10000, MaxNestedValues: 10000,
	}
	r, err := newOtlpgoReceiver(cfg, nopSettings())
	require.NoError(f, err)
	r.nextTraces, r.nextLogs, r.nextMetrics = traces, logs, metrics

	f.Fuzz(func(t *testing.T, body []byte) {
		traces.Reset()
		logs.Reset()
		metrics.Reset()
		req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, otlpgo.HTTPPath, bytes.NewReader(body))
		req.Header.Set("Content-Type", otlpgo.ContentType)
		rec := httptest.NewRecorder()
		r.handleFused(rec, req)
		if rec.Code != http.StatusOK {
			assert.Contains(t, []int{http.StatusBadRequest, http.StatusRequestEntityTooLarge}, rec.Code, rec.Body.String())
			assert.Empty(t, traces.AllTraces())
			assert.Empty(t, logs.AllLogs())
			assert.Empty(t, metrics.AllMetrics())
		}
	})
}
