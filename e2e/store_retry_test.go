package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
)

// TestStoreHoldsEachItemOnceWhenDownstreamRetries: a collector stores what it
// receives and forwards it to a gateway that answers the first fused request
// 503. The fused exporter retries the frame; the store, written by its own
// exporter, holds each log record exactly once.
func TestStoreHoldsEachItemOnceWhenDownstreamRetries(t *testing.T) {
	var requests, refused atomic.Int64
	gateway := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if requests.Add(1) == 1 {
			refused.Add(1)
			w.Header().Set("Retry-After", "1")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"logs":{"retryable":true,"message":"try again"}}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"logs":{"accepted":4}}`))
	}))
	defer gateway.Close()

	httpPort, health, queryPort := freePort(t), freePort(t), freePort(t)
	config := fmt.Sprintf(`
extensions:
  health_check: {endpoint: 127.0.0.1:%d}
  fusionstore:
    path: %s/fusion.duckdb
    query: {endpoint: 127.0.0.1:%d}
receivers:
  otlpgo:
    protocols:
      http: {endpoint: 127.0.0.1:%d}
    fused: {endpoint: 127.0.0.1:%d}
exporters:
  fused:
    endpoint: %s
    flush: {timeout: 50ms}
    retry_on_failure: {enabled: true, initial_interval: 100ms, max_interval: 1s}
  fusionstore: {extension: fusionstore}
service:
  extensions: [health_check, fusionstore]
  pipelines:
    logs: {receivers: [otlpgo], exporters: [fused, fusionstore]}
`, health, t.TempDir(), queryPort, httpPort, freePort(t), gateway.URL)
	collector := startCollector(t, "store-retry", writeConfig(t, "store-retry", config), health)

	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "shop")
	records := rl.ScopeLogs().AppendEmpty().LogRecords()
	now := time.Now()
	for i := range 4 {
		lr := records.AppendEmpty()
		lr.SetTimestamp(pcommon.NewTimestampFromTime(now.Add(time.Duration(i) * time.Millisecond)))
		lr.Body().SetStr(fmt.Sprintf("record %d", i))
	}
	body, err := plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
	require.NoError(t, err)
	resp, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d/v1/logs", httpPort), "application/x-protobuf", bytes.NewReader(body))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	queryURL := fmt.Sprintf("http://127.0.0.1:%d/v1/query", queryPort)
	waitFor(t, 30*time.Second, "the retried frame to reach the gateway", func() bool { return requests.Load() >= 2 })
	waitFor(t, 30*time.Second, "the store to hold the records", func() bool { return countRows(t, queryURL, "logs", "default") >= 4 })
	time.Sleep(time.Second) // a second write, if any, would land by now
	stored := countRows(t, queryURL, "logs", "default")
	t.Logf("gateway: %d fused requests, %d answered 503; store: %d log rows for 4 records", requests.Load(), refused.Load(), stored)
	assert.Equal(t, int64(1), refused.Load())
	assert.Equal(t, 4, stored, "each record stored once")
	require.NoError(t, collector.stop())
}
