package fusedexporter

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/testdata"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/goleak"

	"github.com/otelfusion/otelfusion/exporter/fusedexporter/internal/metadata"
	"github.com/otelfusion/otelfusion/pkg/otlpgo"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// pushAll pushes traces, logs and metrics concurrently, as three pipelines
// would, and returns their export results.
func pushAll(p *pipelines, td ptrace.Traces, ld plog.Logs, md pmetric.Metrics) [signalCount]error {
	var errs [signalCount]error
	var wg sync.WaitGroup
	ctx := context.Background()
	wg.Go(func() { errs[signalTraces] = p.traces.ConsumeTraces(ctx, td) })
	wg.Go(func() { errs[signalLogs] = p.logs.ConsumeLogs(ctx, ld) })
	wg.Go(func() { errs[signalMetrics] = p.metrics.ConsumeMetrics(ctx, md) })
	wg.Wait()
	return errs
}

func assertTracesEqual(t *testing.T, want, got ptrace.Traces) {
	t.Helper()
	wantJSON, err := (&ptrace.JSONMarshaler{}).MarshalTraces(want)
	require.NoError(t, err)
	gotJSON, err := (&ptrace.JSONMarshaler{}).MarshalTraces(got)
	require.NoError(t, err)
	assert.JSONEq(t, string(wantJSON), string(gotJSON))
}

func assertLogsEqual(t *testing.T, want, got plog.Logs) {
	t.Helper()
	wantJSON, err := (&plog.JSONMarshaler{}).MarshalLogs(want)
	require.NoError(t, err)
	gotJSON, err := (&plog.JSONMarshaler{}).MarshalLogs(got)
	require.NoError(t, err)
	assert.JSONEq(t, string(wantJSON), string(gotJSON))
}

func assertMetricsEqual(t *testing.T, want, got pmetric.Metrics) {
	t.Helper()
	wantJSON, err := (&pmetric.JSONMarshaler{}).MarshalMetrics(want)
	require.NoError(t, err)
	gotJSON, err := (&pmetric.JSONMarshaler{}).MarshalMetrics(got)
	require.NoError(t, err)
	assert.JSONEq(t, string(wantJSON), string(gotJSON))
}

func TestCoalescesThreeSignalsIntoOneRequest(t *testing.T) {
	fr := startFakeReceiver(t, "", nil)
	cfg := testConfig(fr.endpoint())
	cfg.Flush.Timeout = 300 * time.Millisecond
	p := startNopPipelines(t, cfg)

	td, ld, md := testdata.GenerateTraces(3), testdata.GenerateLogs(4), testdata.GenerateMetrics(2)
	errs := pushAll(p, td, ld, md)
	for s, err := range errs {
		require.NoError(t, err, signal(s).String())
	}

	got := fr.received()
	require.Len(t, got, 1, "one fused request for all three signals")
	assertTracesEqual(t, td, got[0].req.Traces)
	assertLogsEqual(t, ld, got[0].req.Logs)
	assertMetricsEqual(t, md, got[0].req.Metrics)
}

func TestMergesPushesOfOneSignal(t *testing.T) {
	fr := startFakeReceiver(t, "", nil)
	cfg := testConfig(fr.endpoint())
	cfg.Flush.Timeout = 300 * time.Millisecond
	p := startNopPipelines(t, cfg)

	first, second := testdata.GenerateTraces(2), testdata.GenerateTraces(5)
	var wg sync.WaitGroup
	wg.Go(func() { assert.NoError(t, p.traces.ConsumeTraces(context.Background(), first)) })
	wg.Go(func() { assert.NoError(t, p.traces.ConsumeTraces(context.Background(), second)) })
	wg.Wait()

	got := fr.received()
	require.Len(t, got, 1)
	assert.Equal(t, 7, got[0].req.Traces.SpanCount())
	assert.Equal(t, 2, first.SpanCount(), "pushed data is lent, not consumed")
	assert.Equal(t, 5, second.SpanCount())
}

func TestMaxItemsFlushesEarly(t *testing.T) {
	fr := startFakeReceiver(t, "", nil)
	cfg := testConfig(fr.endpoint())
	cfg.Flush.Timeout = time.Minute
	cfg.Flush.MaxItems = 10

	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	set := exportertest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	p := startPipelines(t, cfg, componenttest.NewNopHost(), set)

	start := time.Now()
	require.NoError(t, p.traces.ConsumeTraces(context.Background(), testdata.GenerateTraces(10)))
	assert.Less(t, time.Since(start), 10*time.Second, "max_items must not wait for flush.timeout")
	require.Len(t, fr.received(), 1)

	flushes, err := tel.GetMetric("otelcol_exporter_fused_flushes")
	require.NoError(t, err)
	sum := flushes.Data.(metricdata.Sum[int64])
	require.Len(t, sum.DataPoints, 1)
	reason, _ := sum.DataPoints[0].Attributes.Value(attribute.Key("reason"))
	assert.Equal(t, string(flushMaxItems), reason.AsString())
}

func TestPartialRefusalResendsOnlyRefusedSignal(t *testing.T) {
	fr := startFakeReceiver(t, "", func(n int, req otlpgo.Request) answer {
		if n > 0 {
			return answer{status: http.StatusOK, response: acceptAll(req)}
		}
		resp := acceptAll(req)
		resp.Logs = &otlpgo.SignalResult{Retryable: true, Message: "logs store unavailable"}
		return answer{status: http.StatusServiceUnavailable, retryAfter: 1, response: resp}
	})
	cfg := testConfig(fr.endpoint())
	cfg.Flush.Timeout = 300 * time.Millisecond
	p := startNopPipelines(t, cfg)

	td, ld, md := testdata.GenerateTraces(3), testdata.GenerateLogs(4), testdata.GenerateMetrics(2)
	errs := pushAll(p, td, ld, md)
	for s, err := range errs {
		require.NoError(t, err, signal(s).String())
	}

	got := fr.received()
	require.Len(t, got, 2)
	retry := got[1].req
	assert.Equal(t, 0, retry.Traces.ResourceSpans().Len(), "traces were accepted and must not be re-sent")
	assert.Equal(t, 0, retry.Metrics.ResourceMetrics().Len(), "metrics were accepted and must not be re-sent")
	assertLogsEqual(t, ld, retry.Logs)
	assert.GreaterOrEqual(t, got[1].at.Sub(got[0].at), 900*time.Millisecond, "Retry-After honoured")
	assert.Equal(t, [signalCount]int{td.SpanCount(), ld.LogRecordCount(), md.DataPointCount()}, fr.ingestedItems(),
		"every item ingested exactly once")
}

func TestThrottledRequestWaitsForRetryAfter(t *testing.T) {
	fr := startFakeReceiver(t, "", func(n int, req otlpgo.Request) answer {
		if n > 0 {
			return answer{status: http.StatusOK, response: acceptAll(req)}
		}
		return answer{status: http.StatusTooManyRequests, retryAfter: 1, response: &otlpgo.Response{
			Logs: &otlpgo.SignalResult{Retryable: true, Message: "tenant over quota"},
		}}
	})
	p := startNopPipelines(t, testConfig(fr.endpoint()))

	ld := testdata.GenerateLogs(5)
	require.NoError(t, p.logs.ConsumeLogs(context.Background(), ld))

	got := fr.received()
	require.Len(t, got, 2)
	// The configured backoff is 10ms; only Retry-After explains a 1s gap.
	assert.GreaterOrEqual(t, got[1].at.Sub(got[0].at), 900*time.Millisecond)
	assert.Equal(t, ld.LogRecordCount(), fr.ingestedItems()[signalLogs])
}

func TestBadRequestIsPermanent(t *testing.T) {
	fr := startFakeReceiver(t, "", func(int, otlpgo.Request) answer {
		return answer{status: http.StatusBadRequest, response: &otlpgo.Response{
			Traces: &otlpgo.SignalResult{Message: "frame truncated"},
		}}
	})
	p := startNopPipelines(t, testConfig(fr.endpoint()))

	err := p.traces.ConsumeTraces(context.Background(), testdata.GenerateTraces(2))
	require.Error(t, err)
	assert.True(t, consumererror.IsPermanent(err), "400 must not be retried: %v", err)
	assert.ErrorContains(t, err, "HTTP 400")
	assert.ErrorContains(t, err, "frame truncated")
	time.Sleep(100 * time.Millisecond)
	assert.Len(t, fr.received(), 1)
}

func TestRejectedItemsArePermanent(t *testing.T) {
	fr := startFakeReceiver(t, "", func(_ int, req otlpgo.Request) answer {
		resp := acceptAll(req)
		resp.Metrics = &otlpgo.SignalResult{Accepted: 1, Rejected: 1, Message: "histogram bounds unsorted"}
		return answer{status: http.StatusOK, response: resp}
	})
	cfg := testConfig(fr.endpoint())
	cfg.Flush.Timeout = 300 * time.Millisecond
	p := startNopPipelines(t, cfg)

	errs := pushAll(p, testdata.GenerateTraces(1), testdata.GenerateLogs(1), testdata.GenerateMetrics(1))
	require.NoError(t, errs[signalTraces])
	require.NoError(t, errs[signalLogs])
	require.Error(t, errs[signalMetrics])
	assert.True(t, consumererror.IsPermanent(errs[signalMetrics]))
	assert.ErrorContains(t, errs[signalMetrics], "receiver rejected 1 of 2 metric data points: histogram bounds unsorted")
	assert.Len(t, fr.received(), 1)
}

func TestRetriesUntilReceiverIsBack(t *testing.T) {
	addr := reserveAddr(t)
	p := startNopPipelines(t, testConfig("http://"+addr))

	md := testdata.GenerateMetrics(3)
	done := make(chan error, 1)
	go func() { done <- p.metrics.ConsumeMetrics(context.Background(), md) }()

	time.Sleep(300 * time.Millisecond) // a few refused connections
	fr := startFakeReceiver(t, addr, nil)

	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(15 * time.Second):
		t.Fatal("push did not complete after the receiver came back")
	}
	assert.Len(t, fr.received(), 1)
	assert.Equal(t, md.DataPointCount(), fr.ingestedItems()[signalMetrics])
}

func TestTooLargeFrameIsSplit(t *testing.T) {
	fr := startFakeReceiver(t, "", func(_ int, req otlpgo.Request) answer {
		counts := itemCounts(req)
		if counts[signalTraces]+counts[signalLogs]+counts[signalMetrics] > 5 {
			return answer{status: http.StatusRequestEntityTooLarge}
		}
		return answer{status: http.StatusOK, response: acceptAll(req)}
	})
	cfg := testConfig(fr.endpoint())
	cfg.Flush.Timeout = 300 * time.Millisecond
	p := startNopPipelines(t, cfg)

	errs := pushAll(p, testdata.GenerateTraces(4), testdata.GenerateLogs(4), testdata.GenerateMetrics(1))
	require.NoError(t, errs[signalTraces])
	require.NoError(t, errs[signalLogs])
	require.NoError(t, errs[signalMetrics])
	assert.Equal(t, [signalCount]int{4, 4, 2}, fr.ingestedItems())
}

func TestCancelledPushIsNotSent(t *testing.T) {
	fr := startFakeReceiver(t, "", nil)
	cfg := testConfig(fr.endpoint())
	cfg.Flush.Timeout = time.Minute
	p := startNopPipelines(t, cfg)

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := p.traces.ConsumeTraces(ctx, testdata.GenerateTraces(1))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 5*time.Second)

	p.shutdown(t) // flushes what is gathered: the abandoned push is skipped
	assert.Empty(t, fr.received())
}

func TestCancelledPushReturnsWhileRequestInFlight(t *testing.T) {
	release := make(chan struct{})
	fr := startFakeReceiver(t, "", func(_ int, req otlpgo.Request) answer {
		<-release
		return answer{status: http.StatusOK, response: acceptAll(req)}
	})
	cfg := testConfig(fr.endpoint())
	cfg.Flush.Timeout = 10 * time.Millisecond
	p := startNopPipelines(t, cfg)

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := p.logs.ConsumeLogs(ctx, testdata.GenerateLogs(1))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	close(release)
}

func TestSharedInstancePerConfig(t *testing.T) {
	fr := startFakeReceiver(t, "", nil)
	before := exporters.Len()

	cfg := testConfig(fr.endpoint())
	p := startNopPipelines(t, cfg)
	assert.Equal(t, before+1, exporters.Len(), "traces, logs and metrics share one instance")

	other := startNopPipelines(t, testConfig(fr.endpoint()))
	assert.Equal(t, before+2, exporters.Len(), "another configuration gets its own instance")

	p.shutdown(t)
	other.shutdown(t)
	assert.Equal(t, before, exporters.Len())
}

func TestShutdownWithoutStart(t *testing.T) {
	factory := NewFactory()
	cfg := testConfig("http://127.0.0.1:1")
	exp, err := factory.CreateTraces(context.Background(), exportertest.NewNopSettings(metadata.Type), cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Shutdown(context.Background()))
}

func TestFlushesWhenEveryQueueConsumerWaits(t *testing.T) {
	fr := startFakeReceiver(t, "", nil)
	cfg := testConfig(fr.endpoint())
	cfg.Flush.Timeout = time.Minute
	queue := exporterhelper.NewDefaultQueueConfig()
	queue.NumConsumers = 2
	cfg.QueueConfig = configoptional.Some(queue)
	p := startNopPipelines(t, cfg)

	require.NoError(t, p.traces.ConsumeTraces(context.Background(), testdata.GenerateTraces(1)))
	require.NoError(t, p.traces.ConsumeTraces(context.Background(), testdata.GenerateTraces(1)))
	require.Eventually(t, func() bool { return fr.ingestedItems()[signalTraces] == 2 }, 10*time.Second, 10*time.Millisecond,
		"no third traces push can come, so the flush must not wait for flush.timeout")
}
