package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"
)

// diagnosis is the part of the diagnosis API's report the test reads.
type diagnosis struct {
	Baseline struct {
		Spans  int64   `json:"spans"`
		MeanMs float64 `json:"mean_ms"`
	} `json:"baseline"`
	Incident struct {
		Spans  int64   `json:"spans"`
		MeanMs float64 `json:"mean_ms"`
	} `json:"incident"`
	Candidates []struct {
		Kind      string   `json:"kind"`
		Service   string   `json:"service"`
		Operation string   `json:"operation"`
		Share     float64  `json:"share"`
		TraceIDs  []string `json:"trace_ids"`
		LogLines  []string `json:"log_lines"`
	} `json:"candidates"`
	Queries []string `json:"queries"`
	Error   string   `json:"error"`
}

func postDiagnose(t *testing.T, url, tenant string, request map[string]any) (int, diagnosis) {
	t.Helper()
	body, err := json.Marshal(request)
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("X-Tenant-ID", tenant)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var d diagnosis
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&d))
	return resp.StatusCode, d
}

// TestDiagnoseOverTheStore sends an order service's traces through the
// SDK: 20 baseline requests whose database call takes 50 of 100 ms, then 10
// in the last 15 minutes where it takes 250 of 300 ms and the service logs a
// WARN; the diagnosis API names the call with the whole latency increase.
func TestDiagnoseOverTheStore(t *testing.T) {
	collector, queryURL, endpoint := startStoreCollector(t, "diagnose")
	diagnoseURL := strings.TrimSuffix(queryURL, "/v1/query") + "/v1/diagnose"
	sent := &sentTelemetry{}
	app := newStoreApp(t, endpoint, "orders", "acme", sent)
	now := time.Now()
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	request := func(order int, start time.Time, dbMs int, warn bool) {
		ctx, entry := app.tracer.Start(context.Background(), "POST /orders", trace.WithTimestamp(start), trace.WithSpanKind(trace.SpanKindServer))
		_, db := app.tracer.Start(ctx, "SELECT order_items", trace.WithTimestamp(start.Add(ms(1))), trace.WithSpanKind(trace.SpanKindClient))
		db.End(trace.WithTimestamp(start.Add(ms(1 + dbMs))))
		if warn {
			app.log(ctx, "WARN", start.Add(ms(2)), fmt.Sprintf("slow query on order_items for order %d took %d ms", order, dbMs))
		}
		entry.End(trace.WithTimestamp(start.Add(ms(50 + dbMs))))
	}
	for i := range 20 {
		request(i, now.Add(-50*time.Minute+time.Duration(i)*time.Minute), 50, false)
	}
	for i := range 10 {
		request(100+i, now.Add(-12*time.Minute+time.Duration(i)*time.Minute), 250, true)
	}
	app.flush(t, nil)
	require.Eventually(t, func() bool { return countRows(t, queryURL, "traces", "acme") == 60 }, 30*time.Second, 100*time.Millisecond,
		"the store never held the 60 spans")

	status, d := postDiagnose(t, diagnoseURL, "acme", map[string]any{"service": "orders", "window": "15m", "baseline": "1h"})
	require.Equal(t, http.StatusOK, status, d.Error)
	assert.Equal(t, int64(20), d.Baseline.Spans)
	assert.Equal(t, int64(10), d.Incident.Spans)
	assert.InDelta(t, 100.0, d.Baseline.MeanMs, 1e-6)
	assert.InDelta(t, 300.0, d.Incident.MeanMs, 1e-6)
	require.NotEmpty(t, d.Candidates)
	top := d.Candidates[0]
	assert.Equal(t, "latency", top.Kind)
	assert.Equal(t, "orders", top.Service)
	assert.Equal(t, "SELECT order_items", top.Operation)
	assert.InDelta(t, 1.0, top.Share, 1e-9)
	assert.Len(t, top.TraceIDs, 2)
	assert.Len(t, top.LogLines, 3)
	assert.Len(t, d.Queries, 7)

	// Another tenant's diagnosis sees none of it.
	status, d = postDiagnose(t, diagnoseURL, "globex", map[string]any{"service": "orders"})
	assert.Equal(t, http.StatusUnprocessableEntity, status)
	assert.Contains(t, d.Error, `service "orders" has no entry spans`)
	assert.NoError(t, collector.stop(), "a clean exit on SIGINT")
}
