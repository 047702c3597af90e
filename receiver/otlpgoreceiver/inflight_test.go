package otlpgoreceiver

import (
	"bytes"
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/testdata"
	"go.opentelemetry.io/otel/metric/noop"

	"github.com/otelfusion/otelfusion/pkg/otlpgo"
)

func TestReservation(t *testing.T) {
	ctx := context.Background()
	budget := newInflightBudget(100, noop.Int64UpDownCounter{})
	first, second := budget.reserve(), budget.reserve()

	require.True(t, first.grow(ctx, 60))
	require.True(t, first.grow(ctx, 0))
	assert.False(t, second.grow(ctx, 41), "only 40 bytes are free")
	assert.Zero(t, second.held, "a refused grow holds nothing")
	require.True(t, second.grow(ctx, 40))

	first.shrink(ctx, 20)
	assert.Equal(t, int64(40), first.held)
	require.True(t, second.grow(ctx, 20), "shrinking gives the bytes back")

	first.release(ctx)
	second.release(ctx)
	second.release(ctx)
	assert.Zero(t, first.held+second.held)
	assert.True(t, budget.reserve().grow(ctx, 100), "everything was given back")
}

// blockingLogs blocks the first ConsumeLogs until unblock is closed, so the
// request it serves keeps its reservation; later calls go straight through.
type blockingLogs struct {
	consumertest.LogsSink
	once    sync.Once
	entered chan struct{}
	unblock chan struct{}
}

func newBlockingLogs() *blockingLogs {
	return &blockingLogs{entered: make(chan struct{}), unblock: make(chan struct{})}
}

func (b *blockingLogs) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	first := false
	b.once.Do(func() { first = true })
	if first {
		close(b.entered)
		<-b.unblock
	}
	return b.LogsSink.ConsumeLogs(ctx, ld)
}

func (*blockingLogs) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func TestFusedInflightBudget(t *testing.T) {
	req := otlpgo.NewRequest()
	req.Logs = testdata.GenerateLogs(20)
	frame := encodeFrame(t, req, otlpgo.CompressionZstd)
	limits := createDefaultConfig().(*Config).Fused.Limits
	// What one request of this frame reserves: the body, then the decode.
	need := int64(len(frame)) + limits.decoderLimits().DecodeCost(frame)

	tests := []struct {
		name string
		// capacity is fused::max_inflight_bytes.
		capacity int64
		// maxFrame is fused::limits::max_frame_bytes, reserved for a body
		// of unknown length.
		maxFrame int
		// second is the body of the request sent while the first holds its
		// reservation in the pipeline.
		second     func() *bytes.Reader
		chunked    bool
		wantStatus int
		wantMsg    string
	}{
		{
			name:       "room for both",
			capacity:   2 * need,
			maxFrame:   limits.MaxFrameBytes,
			wantStatus: http.StatusOK,
		},
		{
			name:       "no room for the decode",
			capacity:   need + int64(len(frame)),
			maxFrame:   limits.MaxFrameBytes,
			wantStatus: http.StatusServiceUnavailable,
			wantMsg:    "'fused::max_inflight_bytes' (",
		},
		{
			name:       "no room for the body",
			capacity:   need + int64(len(frame)) - 1,
			maxFrame:   limits.MaxFrameBytes,
			wantStatus: http.StatusServiceUnavailable,
			wantMsg:    "'fused::max_inflight_bytes' (",
		},
		{
			name:       "unknown length reserves max_frame_bytes",
			capacity:   2 * need,
			maxFrame:   int(need) + 1,
			chunked:    true,
			wantStatus: http.StatusServiceUnavailable,
			wantMsg:    "'fused::max_inflight_bytes' (",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tel := componenttest.NewTelemetry()
			t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
			set := nopSettings()
			set.TelemetrySettings = tel.NewTelemetrySettings()

			cfg := fusedOnlyConfig()
			cfg.Fused.RetryAfter = 7 * time.Second
			cfg.Fused.MaxInflightBytes = tt.capacity
			cfg.Fused.Limits.MaxFrameBytes = tt.maxFrame
			logs := newBlockingLogs()
			url := startReceiver(t, cfg, set, pipelines{logs: logs})

			firstDone := make(chan httpResult, 1)
			go func() { firstDone <- postFrame(t, url, frame) }()
			select {
			case <-logs.entered:
			case <-time.After(10 * time.Second):
				t.Fatal("the first request never reached the pipeline")
			}
			assertCounter(t, tel, "otelcol_otlpgo_receiver_inflight_bytes", need)

			var second httpResult
			if tt.chunked {
				second = doRequest(t, http.MethodPost, url, otlpgo.ContentType, chunked{bytes.NewReader(frame)}, nil)
			} else {
				second = postFrame(t, url, frame)
			}
			require.Equal(t, tt.wantStatus, second.status, string(second.body))
			if tt.wantStatus == http.StatusServiceUnavailable {
				assert.Equal(t, "7", second.header.Get("Retry-After"))
				assert.Contains(t, decodeMessage(t, second), tt.wantMsg)
				assertCounter(t, tel, "otelcol_otlpgo_receiver_inflight_refused", 1)
			}

			close(logs.unblock)
			first := <-firstDone
			require.Equal(t, http.StatusOK, first.status, string(first.body))
			assertCounter(t, tel, "otelcol_otlpgo_receiver_inflight_bytes", 0)
			delivered := 2
			if tt.wantStatus == http.StatusServiceUnavailable {
				delivered = 1 // a refused request delivers nothing
			}
			assert.Equal(t, delivered*req.Logs.LogRecordCount(), logs.LogRecordCount())

			// With the first request done, the budget has room again.
			res := postFrame(t, url, frame)
			require.Equal(t, http.StatusOK, res.status, string(res.body))
			assertCounter(t, tel, "otelcol_otlpgo_receiver_inflight_bytes", 0)
		})
	}
}

func TestFusedLargerThanInflightBudget(t *testing.T) {
	logs := new(consumertest.LogsSink)
	frame := encodeFrame(t, testRequest(), otlpgo.CompressionZstd)
	cfg := fusedOnlyConfig()
	cfg.Fused.MaxInflightBytes = int64(len(frame))
	url := startReceiver(t, cfg, nopSettings(), pipelines{logs: logs})

	// No retry could help a frame that an empty budget cannot hold: 413.
	res := postFrame(t, url, frame)
	require.Equal(t, http.StatusRequestEntityTooLarge, res.status, string(res.body))
	assert.Contains(t, decodeMessage(t, res), "more than 'fused::max_inflight_bytes'")
	assert.Empty(t, res.header.Get("Retry-After"))
	assert.Empty(t, logs.AllLogs())
}

// TestFusedInflightConcurrent sends many frames at once into a budget with
// room for one, held a moment by a slow pipeline: each is answered 200 or
// 503, and every reservation is given back in the end.
func TestFusedInflightConcurrent(t *testing.T) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	set := nopSettings()
	set.TelemetrySettings = tel.NewTelemetrySettings()

	req := otlpgo.NewRequest()
	req.Logs = testdata.GenerateLogs(50)
	frame := encodeFrame(t, req, otlpgo.CompressionZstd)
	cfg := fusedOnlyConfig()
	need := int64(len(frame)) + cfg.Fused.Limits.decoderLimits().DecodeCost(frame)
	cfg.Fused.MaxInflightBytes = need
	logs := new(consumertest.LogsSink)
	slow, err := consumer.NewLogs(func(ctx context.Context, ld plog.Logs) error {
		time.Sleep(2 * time.Millisecond)
		return logs.ConsumeLogs(ctx, ld)
	})
	require.NoError(t, err)
	url := startReceiver(t, cfg, set, pipelines{logs: slow})

	const clients, perClient = 8, 10
	var (
		mu       sync.Mutex
		statuses = map[int]int{}
		wg       sync.WaitGroup
	)
	for range clients {
		wg.Go(func() {
			for range perClient {
				res := postFrame(t, url, frame)
				mu.Lock()
				statuses[res.status]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	t.Logf("answers by status: %v", statuses)

	assert.Equal(t, clients*perClient, statuses[http.StatusOK]+statuses[http.StatusServiceUnavailable], statuses)
	assert.Positive(t, statuses[http.StatusOK])
	assert.Positive(t, statuses[http.StatusServiceUnavailable])
	assert.Equal(t, statuses[http.StatusOK]*req.Logs.LogRecordCount(), logs.LogRecordCount())
	if refused := statuses[http.StatusServiceUnavailable]; refused > 0 {
		assertCounter(t, tel, "otelcol_otlpgo_receiver_inflight_refused", int64(refused))
	}
	assertCounter(t, tel, "otelcol_otlpgo_receiver_inflight_bytes", 0)
}
