package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeDiagnoseAPI answers POST /v1/diagnose with one report and records the
// request.
type fakeDiagnoseAPI struct {
	path, tenant string
	request      map[string]any
}

const fakeReport = `{"service":"orders","baseline":{"start":"2026-11-01T10:45:00Z","end":"2026-11-01T11:45:00Z","spans":2,"per_minute":0.03,"mean_ms":100,"p50_ms":100,"p99_ms":100,"errors":0,"error_rate":0},
"incident":{"start":"2026-11-01T11:45:00Z","end":"2026-11-01T12:00:00Z","spans":2,"per_minute":0.13,"mean_ms":300,"p50_ms":300,"p99_ms":300,"errors":0,"error_rate":0},
"change":"mean 100.0 -> 300.0 ms",
"candidates":[{"rank":1,"kind":"latency","score":1,"service":"orders","operation":"SELECT order_items","share":1,"share_of":"latency","baseline":50,"incident":250,"unit":"ms self time per trace","evidence":"self time per trace 50.0 ms -> 250.0 ms","trace_ids":["03010000000000000000000000000000"],"log_lines":["slow query on order 4711"]}],
"queries":["SELECT COUNT(*) FROM traces r","SELECT 1 FROM logs"]}`

func (f *fakeDiagnoseAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.path, f.tenant = r.URL.Path, r.Header.Get("X-Tenant-ID")
	body, _ := io.ReadAll(r.Body)
	_ = json.Unmarshal(body, &f.request)
	if f.request["service"] == "missing" {
		w.WriteHeader(http.StatusUnprocessableEntity)
		_, _ = w.Write([]byte(`{"error":"diagnose: no traffic to compare: service \"missing\" has no entry spans (SERVER or CONSUMER) in the baseline window"}`))
		return
	}
	_, _ = w.Write([]byte(fakeReport))
}

func TestDiagnoseCommand(t *testing.T) {
	api := &fakeDiagnoseAPI{}
	srv := httptest.NewServer(api)
	defer srv.Close()
	code, out, errOut := runCLI(t, "", "diagnose", "--endpoint", srv.URL, "--tenant", "acme", "--service", "orders",
		"--operation", "POST /orders", "--window", "10m", "--baseline", "30m", "--end", "2026-11-01T12:00:00Z", "--explain")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, "/v1/diagnose", api.path)
	assert.Equal(t, "acme", api.tenant)
	assert.Equal(t, map[string]any{"service": "orders", "operation": "POST /orders", "window": "10m0s", "baseline": "30m0s",
		"end": "2026-11-01T12:00:00Z", "limit": float64(10)}, api.request)
	assert.Equal(t, "-- query 1\nSELECT COUNT(*) FROM traces r;\n\n-- query 2\nSELECT 1 FROM logs;\n\n"+
		"diagnosis of orders: incident 2026-11-01T11:45:00Z – 2026-11-01T12:00:00Z against baseline 2026-11-01T10:45:00Z – 2026-11-01T11:45:00Z\n"+
		"    window  spans  per min  P50 ms  P99 ms  mean ms  error rate\n"+
		"  baseline      2     0.03   100.0   100.0    100.0       0.00%\n"+
		"  incident      2     0.13   300.0   300.0    300.0       0.00%\n"+
		"change: mean 100.0 -> 300.0 ms\n\n"+
		"rank  score  share         kind     cause                      evidence\n"+
		"1     1.00   100% latency  latency  orders SELECT order_items  self time per trace 50.0 ms -> 250.0 ms\n\n"+
		"#1 latency orders SELECT order_items\n"+
		"  trace 03010000000000000000000000000000\n"+
		"  log   slow query on order 4711\n", out)

	code, out, errOut = runCLI(t, "", "diagnose", "--endpoint", srv.URL, "--service", "orders", "--format", "json", "--explain")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, "default", api.tenant)
	assert.JSONEq(t, fakeReport, out)

	code, _, errOut = runCLI(t, "", "diagnose", "--endpoint", srv.URL, "--service", "missing")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, `service "missing" has no entry spans`)
	assert.Contains(t, errOut, "(HTTP 422)")
}

func TestDiagnoseUsage(t *testing.T) {
	for _, args := range [][]string{
		{"diagnose"},
		{"diagnose", "--service", "orders", "extra"},
		{"diagnose", "--service", "orders", "--format", "csv"},
		{"diagnose", "--service", "orders", "--end", "yesterday"},
		{"diagnose", "--service", "orders", "--window", "soon"},
	} {
		code, _, _ := runCLI(t, "", args...)
		assert.Equal(t, 2, code, args)
	}
}
