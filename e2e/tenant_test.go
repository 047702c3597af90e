package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/otelfusion/otelfusion/pkg/otlpgo"
)

// tenantSpans is n spans of one resource with the given attributes, timed
// now so that no retention removes them.
func tenantSpans(n int, resource map[string]any) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "shop")
	for k, v := range resource {
		_ = rs.Resource().Attributes().PutEmpty(k).FromRaw(v)
	}
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	now := time.Now()
	for i := range n {
		s := spans.AppendEmpty()
		s.SetName("GET /")
		s.SetTraceID(pcommon.TraceID{0: 0x7e, 1: byte(n), 2: byte(len(resource)), 15: byte(i + 1), 14: byte(now.UnixNano())})
		s.SetSpanID(pcommon.SpanID{0: 0x5e, 7: byte(i + 1)})
		s.SetStartTimestamp(pcommon.NewTimestampFromTime(now.Add(-time.Duration(i+1) * time.Millisecond)))
		s.SetEndTimestamp(pcommon.NewTimestampFromTime(now))
	}
	return td
}

// postTraces sends td as a fused frame (fused) or as OTLP/HTTP protobuf, with
// headers, and returns the status.
func postTraces(t *testing.T, url string, fused bool, td ptrace.Traces, headers map[string]string) int {
	t.Helper()
	var body []byte
	contentType := "application/x-protobuf"
	if fused {
		req := otlpgo.NewRequest()
		req.Traces = td
		frame, err := otlpgo.AppendFrame(nil, req, otlpgo.EncodeOptions{Compression: otlpgo.CompressionZstd})
		require.NoError(t, err)
		body, contentType = frame, otlpgo.ContentType
	} else {
		var err error
		body, err = ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
		require.NoError(t, err)
	}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", contentType)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	return resp.StatusCode
}

// spanCountAs asks the query API for COUNT(*) over traces with headers; the
// count is -1 unless the answer is 200.
func spanCountAs(t *testing.T, url string, headers map[string]string) (status, count int) {
	t.Helper()
	body, err := json.Marshal(map[string]string{"query": "SELECT COUNT(*) FROM traces"})
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header[http.CanonicalHeaderKey(k)] = []string{v} // an empty value is sent as such
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var answer struct {
		Rows [][]any `json:"rows"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&answer)
	if resp.StatusCode != http.StatusOK || len(answer.Rows) != 1 {
		return resp.StatusCode, -1
	}
	return resp.StatusCode, int(answer.Rows[0][0].(float64))
}

// TestCrossTenantWriteAndQueryScope: a client cannot write into another
// tenant's rows, choose its retention, or read past its tenant. Through the
// built binary, first with the query API open on loopback (header scoped),
// then restarted on the same store with per-tenant credentials and an admin.
func TestCrossTenantWriteAndQueryScope(t *testing.T) {
	dir := t.TempDir()
	fusedPort, httpPort, health, queryPort := freePort(t), freePort(t), freePort(t), freePort(t)
	base := fmt.Sprintf(`
extensions:
  health_check: {endpoint: 127.0.0.1:%d}
  bearertokenauth/alpha: {token: alpha-secret}
  bearertokenauth/beta: {token: beta-secret}
  bearertokenauth/ops: {token: ops-secret}
  tenantauth:
    tenants: {alpha: bearertokenauth/alpha, beta: bearertokenauth/beta}
    admins: [bearertokenauth/ops]
  fusionstore:
    path: %s/fusion.duckdb
    sweep_interval: 500ms
    query:
      endpoint: 127.0.0.1:%d
%%s
receivers:
  otlpgo:
    protocols:
      http: {endpoint: 127.0.0.1:%d}
    fused: {endpoint: 127.0.0.1:%d}
exporters:
  fusionstore: {extension: fusionstore}
service:
  extensions: [health_check, bearertokenauth/alpha, bearertokenauth/beta, bearertokenauth/ops, tenantauth, fusionstore]
  pipelines:
    traces: {receivers: [otlpgo], exporters: [fusionstore]}
`, health, filepath.ToSlash(dir), queryPort, httpPort, fusedPort)
	open := writeConfig(t, "open", fmt.Sprintf(base, ""))
	withAuth := writeConfig(t, "auth", fmt.Sprintf(base, "      auth: {authenticator: tenantauth}"))

	fusedURL := fmt.Sprintf("http://127.0.0.1:%d/v1/fused", fusedPort)
	otlpURL := fmt.Sprintf("http://127.0.0.1:%d/v1/traces", httpPort)
	queryURL := fmt.Sprintf("http://127.0.0.1:%d/v1/query", queryPort)

	collector := startCollector(t, "open", open, health)
	sends := []struct {
		fused    bool
		header   map[string]string
		resource map[string]any
		spans    int
	}{
		// The header says alpha, the data says beta: alpha's rows.
		{true, map[string]string{"X-Tenant-ID": "alpha"}, map[string]any{"tenant.id": "beta"}, 3},
		// The header alone: alpha's rows, not the empty tenant's.
		{true, map[string]string{"X-Tenant-ID": "alpha"}, nil, 2},
		// beta, asking for a 1 ns retention that would empty its rows at the
		// next sweep: a sender's retention is stripped.
		{true, map[string]string{"X-Tenant-ID": "beta"}, map[string]any{"otelfusion.retention": "1ns"}, 4},
		{false, map[string]string{"X-Tenant-ID": "beta"}, map[string]any{"tenant.id": "alpha", "otelfusion.retention": "1ns"}, 1},
		// Nothing names a tenant: the default one, never another.
		{false, nil, map[string]any{"tenant.id": "alpha"}, 6},
	}
	for _, s := range sends {
		require.Equal(t, http.StatusOK, postTraces(t, map[bool]string{true: fusedURL, false: otlpURL}[s.fused], s.fused, tenantSpans(s.spans, s.resource), s.header))
	}
	want := map[string]int{"alpha": 5, "beta": 5, "default": 6}
	waitFor(t, 30*time.Second, "all spans stored", func() bool {
		for tenant, n := range want {
			if _, got := spanCountAs(t, queryURL, map[string]string{"X-Tenant-ID": tenant}); got != n {
				return false
			}
		}
		return true
	})
	time.Sleep(1500 * time.Millisecond) // three sweeps: a 1 ns retention would have emptied beta
	for tenant, n := range want {
		status, got := spanCountAs(t, queryURL, map[string]string{"X-Tenant-ID": tenant})
		assert.Equal(t, http.StatusOK, status)
		assert.Equal(t, n, got, "rows of tenant %s", tenant)
	}
	for _, tt := range []struct {
		name    string
		headers map[string]string
		status  int
	}{
		{"no tenant header", nil, http.StatusBadRequest},
		{"empty tenant header", map[string]string{"X-Tenant-ID": ""}, http.StatusBadRequest},
	} {
		status, count := spanCountAs(t, queryURL, tt.headers)
		assert.Equal(t, tt.status, status, tt.name)
		assert.Equal(t, -1, count, tt.name)
	}
	t.Logf("open query API: alpha %d, beta %d, default %d rows; no header and empty header refused with 400", want["alpha"], want["beta"], want["default"])
	require.NoError(t, collector.stop())

	collector = startCollector(t, "auth", withAuth, health)
	defer func() { require.NoError(t, collector.stop()) }()
	for _, tt := range []struct {
		name    string
		headers map[string]string
		status  int
		count   int
	}{
		{"no credential", nil, http.StatusUnauthorized, -1},
		{"wrong credential", map[string]string{"Authorization": "Bearer nope"}, http.StatusUnauthorized, -1},
		{"alpha's credential", map[string]string{"Authorization": "Bearer alpha-secret"}, http.StatusOK, 5},
		{"alpha's credential naming alpha", map[string]string{"Authorization": "Bearer alpha-secret", "X-Tenant-ID": "alpha"}, http.StatusOK, 5},
		{"alpha's credential naming beta", map[string]string{"Authorization": "Bearer alpha-secret", "X-Tenant-ID": "beta"}, http.StatusForbidden, -1},
		{"beta's credential", map[string]string{"Authorization": "Bearer beta-secret"}, http.StatusOK, 5},
		{"admin, every tenant", map[string]string{"Authorization": "Bearer ops-secret"}, http.StatusOK, 16},
		{"admin naming beta", map[string]string{"Authorization": "Bearer ops-secret", "X-Tenant-ID": "beta"}, http.StatusOK, 5},
		{"admin, empty tenant header", map[string]string{"Authorization": "Bearer ops-secret", "X-Tenant-ID": ""}, http.StatusBadRequest, -1},
	} {
		status, count := spanCountAs(t, queryURL, tt.headers)
		assert.Equal(t, tt.status, status, tt.name)
		assert.Equal(t, tt.count, count, tt.name)
		t.Logf("query API with auth, %s: status %d, rows %d", tt.name, status, count)
	}
}
