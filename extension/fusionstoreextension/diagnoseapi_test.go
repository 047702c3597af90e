package fusionstoreextension

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configauth"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelfusion/otelfusion/extension/fusionstoreextension/internal/metadata"
	"github.com/otelfusion/otelfusion/pkg/diagnose"
)

// slowCallTraces is tenant's orders traffic before end: two baseline traces
// whose database call takes 50 ms of a 100 ms entry span, and two in the
// incident window where it takes 250 ms of 300 ms.
func slowCallTraces(tenant string, end time.Time) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("tenant.id", tenant)
	rs.Resource().Attributes().PutStr("service.name", "orders")
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	for i, tr := range []struct {
		ago           time.Duration
		entryMs, dbMs int
	}{{40 * time.Minute, 100, 50}, {30 * time.Minute, 100, 50}, {10 * time.Minute, 300, 250}, {5 * time.Minute, 300, 250}} {
		start := end.Add(-tr.ago)
		entry := spans.AppendEmpty()
		entry.SetTraceID(pcommon.TraceID{byte(i + 1)})
		entry.SetSpanID(pcommon.SpanID{byte(i + 1), 1})
		entry.SetName("POST /orders")
		entry.SetKind(ptrace.SpanKindServer)
		entry.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
		entry.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(time.Duration(tr.entryMs) * time.Millisecond)))
		db := spans.AppendEmpty()
		db.SetTraceID(pcommon.TraceID{byte(i + 1)})
		db.SetSpanID(pcommon.SpanID{byte(i + 1), 2})
		db.SetParentSpanID(pcommon.SpanID{byte(i + 1), 1})
		db.SetName("SELECT order_items")
		db.SetKind(ptrace.SpanKindClient)
		db.SetStartTimestamp(pcommon.NewTimestampFromTime(start.Add(time.Millisecond)))
		db.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(time.Millisecond + time.Duration(tr.dbMs)*time.Millisecond)))
	}
	return td
}

func TestDiagnoseAPI(t *testing.T) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	set := extensiontest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	cfg, queryURL := storeConfig(t)
	url := strings.TrimSuffix(queryURL, QueryPath) + DiagnosePath
	store := startStore(t, cfg, componenttest.NewNopHost(), set)
	end := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	require.NoError(t, store.AppendTraces(context.Background(), slowCallTraces("acme", end)))
	body := func(s string) []byte { return []byte(s) }
	endText := end.Format(time.RFC3339)

	status, answer, header := postQuery(t, url, "acme", body(`{"service": "orders", "end": "`+endText+`"}`))
	require.Equal(t, http.StatusOK, status, answer)
	assert.Equal(t, "application/json", header.Get("Content-Type"))
	var report diagnose.Report
	require.NoError(t, json.Unmarshal([]byte(answer), &report))
	assert.Equal(t, int64(2), report.Baseline.Spans)
	assert.Equal(t, 300.0, report.Incident.MeanMs)
	require.NotEmpty(t, report.Candidates)
	assert.Equal(t, diagnose.KindLatency, report.Candidates[0].Kind)
	assert.Equal(t, "SELECT order_items", report.Candidates[0].Operation)
	assert.Equal(t, 1.0, report.Candidates[0].Share)
	assert.Len(t, report.Queries, 7)
	assert.Contains(t, answer, `r.start_time >= `, "queries unescaped")

	// The same request in Unix nanoseconds, with windows, as the tenant's
	// own query.
	status, answer, _ = postQuery(t, url, "acme", body(`{"service": "orders", "operation": "POST /orders", "window": "15m", "baseline": "1h", "end": "`+
		strings.TrimSpace(jsonInt(end.UnixNano()))+`", "limit": 1}`))
	require.Equal(t, http.StatusOK, status, answer)
	require.NoError(t, json.Unmarshal([]byte(answer), &report))
	assert.Len(t, report.Candidates, 1)

	tests := []struct {
		name       string
		tenant     string
		body       string
		wantStatus int
		contains   string
	}{
		{"no tenant", "", `{"service": "orders"}`, http.StatusBadRequest, "a query must name its tenant in the X-Tenant-ID header"},
		{"another tenant sees no traffic", "globex", `{"service": "orders", "end": "` + endText + `"}`, http.StatusUnprocessableEntity,
			`service \"orders\" has no entry spans (SERVER or CONSUMER) in the baseline window`},
		{"no service", "acme", `{}`, http.StatusBadRequest, "'service' is required"},
		{"bad window", "acme", `{"service": "orders", "window": "soon"}`, http.StatusBadRequest, "'window' must be a duration"},
		{"short baseline", "acme", `{"service": "orders", "baseline": "1ms"}`, http.StatusBadRequest, "'baseline' must be at least 1s"},
		{"bad end", "acme", `{"service": "orders", "end": "yesterday"}`, http.StatusBadRequest, "'end' must be RFC 3339 or Unix nanoseconds"},
		{"not JSON", "acme", `service=orders`, http.StatusBadRequest, "request body must be JSON"},
		{"too large", "acme", `{"service": "` + strings.Repeat("x", 5000) + `"}`, http.StatusRequestEntityTooLarge, "request body too large"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, answer, _ := postQuery(t, url, tc.tenant, body(tc.body))
			assert.Equal(t, tc.wantStatus, status, answer)
			assert.Contains(t, answer, tc.contains)
		})
	}

	req, err := http.NewRequest(http.MethodGet, url, http.NoBody)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)

	m, err := tel.GetMetric("otelcol_fusionstore_diagnoses")
	require.NoError(t, err)
	outcomes := map[string]int64{}
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		v, _ := dp.Attributes.Value(attribute.Key("outcome"))
		outcomes[v.AsString()] += dp.Value
	}
	// The refusals before the store is asked (tenant, body) are not diagnoses.
	assert.Equal(t, map[string]int64{"ok": 2, "no_traffic": 1, "invalid": 2}, outcomes)
}

func jsonInt(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestDiagnoseOutcome(t *testing.T) {
	outcome, status := diagnoseOutcome(nil)
	assert.Equal(t, "ok", outcome)
	assert.Equal(t, http.StatusOK, status)
	outcome, status = diagnoseOutcome(context.Canceled)
	assert.Equal(t, "cancelled", outcome)
	assert.Equal(t, 0, status)
	outcome, status = diagnoseOutcome(diagnose.ErrNoTraffic)
	assert.Equal(t, "no_traffic", outcome)
	assert.Equal(t, http.StatusUnprocessableEntity, status)
}

// TestDiagnoseAPIScope: the diagnosis API decides the tenant as the query
// API does. Only alpha has traffic.
func TestDiagnoseAPIScope(t *testing.T) {
	host := authHost(t)
	cfg, queryURL := storeConfig(t)
	var id component.ID
	require.NoError(t, id.UnmarshalText([]byte("tenantauth")))
	cfg.Query.Get().ServerConfig.Auth = configoptional.Some(confighttp.AuthConfig{Config: configauth.Config{AuthenticatorID: id}})
	store := startStore(t, cfg, host, extensiontest.NewNopSettings(metadata.Type))
	end := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	require.NoError(t, store.AppendTraces(context.Background(), slowCallTraces("alpha", end)))
	url := strings.TrimSuffix(queryURL, QueryPath) + DiagnosePath
	body := []byte(`{"service": "orders", "end": "` + end.Format(time.RFC3339) + `"}`)
	for _, tc := range []struct {
		name, token, tenant string
		wantStatus          int
	}{
		{"alpha's credential", "alpha", "", http.StatusOK},
		{"beta's credential sees no traffic", "beta", "", http.StatusUnprocessableEntity},
		{"alpha's credential naming beta", "alpha", "beta", http.StatusForbidden},
		{"no credential", "", "alpha", http.StatusUnauthorized},
		{"admin naming alpha", "ops", "alpha", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			header := http.Header{}
			if tc.token != "" {
				header.Set("Authorization", "Bearer "+tc.token+"-token")
			}
			if tc.tenant != "" {
				header.Set("X-Tenant-ID", tc.tenant)
			}
			status, answer, _ := postQueryWith(t, url, header, body)
			assert.Equal(t, tc.wantStatus, status, answer)
		})
	}
}

// FuzzParseDiagnoseRequest: any body parses or is refused with an error,
// never a panic, and a parsed window is what the body said.
func FuzzParseDiagnoseRequest(f *testing.F) {
	f.Add([]byte(`{"service": "orders", "window": "15m", "baseline": "1h", "end": "2026-11-01T12:00:00Z", "limit": 3}`))
	f.Add([]byte(`{"service": "orders", "end": "1793534400000000000"}`))
	f.Add([]byte(`{"window": "-5s", "end": "-1"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := parseDiagnoseRequest(body)
		if err != nil {
			return
		}
		var in diagnoseRequest
		if json.Unmarshal(body, &in) != nil {
			t.Fatalf("parsed %q that is no JSON request", body)
		}
		if in.Window != "" {
			want, _ := time.ParseDuration(in.Window)
			if req.Window != want {
				t.Fatalf("window %q parsed as %s", in.Window, req.Window)
			}
		}
	})
}
