package tenantquota

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
)

const adminToken = "t0ken"

// startAdminProcessor starts a processor whose admin API listens on a free
// loopback port with a bearer token.
func startAdminProcessor(t *testing.T, edit func(*Config)) (*quotaProcessor, string) {
	t.Helper()
	cfg := testConfig()
	server := confighttp.NewDefaultServerConfig()
	server.NetAddr.Endpoint = "127.0.0.1:0"
	cfg.Admin = configoptional.Some(AdminConfig{ServerConfig: server, Token: adminToken})
	if edit != nil {
		edit(cfg)
	}
	p := newTestProcessor(t, cfg, newFakeClock())
	p.now = time.Now
	startTestProcessor(t, p)
	return p, "http://" + p.adminAddr
}

// call sends one admin request and returns the status and body.
func call(t *testing.T, method, url, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

func TestAdminAuth(t *testing.T) {
	_, base := startAdminProcessor(t, nil)
	for _, token := range []string{"", "wrong", adminToken + "x"} {
		code, body := call(t, http.MethodGet, base+"/tenants", token, "")
		assert.Equal(t, http.StatusUnauthorized, code, "token %q", token)
		assert.Contains(t, body, "bearer token")
	}
	code, _ := call(t, http.MethodGet, base+"/tenants", adminToken, "")
	assert.Equal(t, http.StatusOK, code)
}

func TestAdminRefusesInvalidOverrides(t *testing.T) {
	p, base := startAdminProcessor(t, func(cfg *Config) {
		cfg.Defaults.Traces.ItemsPerSecond = 10
	})
	for _, tt := range []struct {
		path, body, wantErr string
	}{
		{"/tenants/a/quota", `{"traces": {"items_per_second": 5`, "invalid JSON"},
		{"/tenants/a/quota", `[1, 2]`, "invalid JSON"},
		{"/tenants/a/quota", `{"traces": {"items_per_second": -5}}`, "'traces::items_per_second' must be a finite number >= 0, got -5"},
		{"/tenants/a/quota", `{"traces": {"items_per_second": 50, "items_burst": 10}}`, "'traces::items_burst' must be >= 'items_per_second'"},
		{"/tenants/a/quota", `{"traces": {"items_per_sec": 50}}`, "'traces' has invalid keys: items_per_sec"},
		{"/tenants/a/quota", `{"retention": "forever"}`, "'retention' time: invalid duration"},
		{"/tenants/a/quota", `{"logs": {"items_burst": 1.5}}`, "'logs::items_burst' must be a whole number, got 1.5"},
		{"/tenants/a/quota", `{}`, "must set at least one of"},
		{"/tenants/a/sampling", `{"rate": 1.5}`, "'rate' must be in [0, 1], got 1.5"},
		{"/tenants/a/sampling", `{"env": "gray"}`, "'rate' must be set"},
		{"/tenants/a/sampling", `{"rate": "half"}`, "rate"},
	} {
		code, body := call(t, http.MethodPut, base+tt.path, adminToken, tt.body)
		assert.Equal(t, http.StatusBadRequest, code, tt.body)
		assert.Contains(t, body, tt.wantErr, tt.body)
	}
	// Nothing was stored: "a" is still on the defaults.
	code, _ := call(t, http.MethodGet, base+"/tenants/a", adminToken, "")
	assert.Equal(t, http.StatusNotFound, code)
	assert.Equal(t, 10.0, p.store.limits("a").Traces.ItemsPerSecond)
}

func TestAdminOverrideLifecycle(t *testing.T) {
	p, base := startAdminProcessor(t, func(cfg *Config) {
		cfg.Defaults.Traces = SignalQuota{ItemsPerSecond: 1, ItemsBurst: 5}
	})
	ctx := tenantContext("new")
	_, err := p.processTraces(ctx, spans(5))
	require.NoError(t, err)
	_, err = p.processTraces(ctx, spans(50))
	require.Error(t, err, "over the default burst")

	// A new tenant's override is created; it takes effect before the reply.
	start := time.Now()
	code, body := call(t, http.MethodPut, base+"/tenants/new/quota", adminToken,
		`{"traces": {"items_per_second": 1000, "items_burst": 1000}, "retention": "720h"}`)
	require.Equal(t, http.StatusOK, code, body)
	var v tenantView
	require.NoError(t, json.Unmarshal([]byte(body), &v))
	assert.Equal(t, 1000.0, v.Limits.Traces.ItemsPerSecond)
	assert.Equal(t, "720h0m0s", v.Limits.Retention)
	assert.Contains(t, v.Overrides, "api")
	assert.Eventually(t, func() bool {
		_, err := p.processTraces(ctx, spans(50))
		return err == nil
	}, time.Second-time.Since(start), 10*time.Millisecond, "the new quota admits the request within 1 s")

	code, body = call(t, http.MethodPut, base+"/tenants/new/sampling", adminToken, `{"rate": 0.3, "env": "gray"}`)
	require.Equal(t, http.StatusOK, code, body)
	code, body = call(t, http.MethodPut, base+"/tenants/new/sampling", adminToken, `{"rate": 0.5}`)
	require.Equal(t, http.StatusOK, code, body)

	code, body = call(t, http.MethodGet, base+"/tenants/new", adminToken, "")
	require.Equal(t, http.StatusOK, code)
	v = tenantView{}
	require.NoError(t, json.Unmarshal([]byte(body), &v))
	assert.True(t, v.Tracked)
	assert.Equal(t, "closed", v.Breaker)
	assert.Equal(t, 0.5, v.Limits.SamplingRate)
	assert.Equal(t, map[string]float64{"gray": 0.3}, v.Limits.EnvSamplingRates)
	assert.Equal(t, int64(55), v.Accepted["traces"])

	code, body = call(t, http.MethodGet, base+"/tenants", adminToken, "")
	require.Equal(t, http.StatusOK, code)
	var list struct{ Tenants []tenantView }
	require.NoError(t, json.Unmarshal([]byte(body), &list))
	require.Len(t, list.Tenants, 1)
	assert.Equal(t, "new", list.Tenants[0].ID)

	code, _ = call(t, http.MethodDelete, base+"/tenants/new/overrides", adminToken, "")
	assert.Equal(t, http.StatusNoContent, code)
	assert.Equal(t, 1.0, tracesRate(t, p, "new"), "back to the defaults")
	code, _ = call(t, http.MethodDelete, base+"/tenants/new/overrides", adminToken, "")
	assert.Equal(t, http.StatusNotFound, code)
}
