package tenantquota

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/bearertokenauthextension"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configauth"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/extensiontest"

	"github.com/otelfusion/otelfusion/extension/tenantauthextension"
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

// extensionHost offers extensions to the processor, as the collector's
// service does for those a config enables.
type extensionHost map[component.ID]component.Component

func (h extensionHost) GetExtensions() map[component.ID]component.Component { return h }

// startExtension creates and starts one extension into host.
func startExtension(t *testing.T, host extensionHost, f extension.Factory, id component.ID, cfg component.Config) {
	t.Helper()
	set := extensiontest.NewNopSettings(f.Type())
	set.ID = id
	ext, err := f.Create(context.Background(), set, cfg)
	require.NoError(t, err)
	require.NoError(t, ext.Start(context.Background(), host))
	t.Cleanup(func() { assert.NoError(t, ext.Shutdown(context.Background())) })
	host[id] = ext
}

// TestAdminAuthExtension puts the admin API behind 'auth': contrib's
// bearertokenauth alone, and tenantauth over bearertokenauth (acme a
// tenant, ops an admin). The server must be built with the host's
// extensions for either to work.
func TestAdminAuthExtension(t *testing.T) {
	host := extensionHost{}
	bearer := bearertokenauthextension.NewFactory()
	for _, name := range []string{"acme", "ops"} {
		cfg := bearer.CreateDefaultConfig().(*bearertokenauthextension.Config)
		cfg.BearerToken = configopaque.String(name + "-token")
		startExtension(t, host, bearer, component.MustNewIDWithName("bearertokenauth", name), cfg)
	}
	tenantAuth := tenantauthextension.NewFactory()
	tenantAuthCfg := tenantAuth.CreateDefaultConfig()
	require.NoError(t, confmap.NewFromStringMap(map[string]any{
		"tenants": map[string]any{"acme": "bearertokenauth/acme"},
		"admins":  []any{"bearertokenauth/ops"},
	}).Unmarshal(tenantAuthCfg))
	startExtension(t, host, tenantAuth, component.MustNewID("tenantauth"), tenantAuthCfg)

	for _, tt := range []struct {
		authenticator string
		want          map[string]int // token → status
	}{
		{"bearertokenauth/ops", map[string]int{"": 401, "wrong": 401, "acme-token": 401, "ops-token": 200}},
		{"tenantauth", map[string]int{"": 401, "wrong": 401, "acme-token": 403, "ops-token": 200}},
	} {
		t.Run(tt.authenticator, func(t *testing.T) {
			cfg := testConfig()
			server := confighttp.NewDefaultServerConfig()
			server.NetAddr.Endpoint = "127.0.0.1:0"
			var id component.ID
			require.NoError(t, id.UnmarshalText([]byte(tt.authenticator)))
			server.Auth = configoptional.Some(confighttp.AuthConfig{Config: configauth.Config{AuthenticatorID: id}})
			cfg.Admin = configoptional.Some(AdminConfig{ServerConfig: server})
			p := newTestProcessor(t, cfg, newFakeClock())
			require.NoError(t, p.Start(context.Background(), host))
			t.Cleanup(func() { require.NoError(t, p.Shutdown(context.Background())) })
			base := "http://" + p.adminAddr

			for token, want := range tt.want {
				code, body := call(t, http.MethodGet, base+"/tenants", token, "")
				assert.Equal(t, want, code, "token %q: %s", token, body)
				if want == http.StatusForbidden {
					assert.Contains(t, body, `the credential is tenant \"acme\"'s: the admin API takes an admin's credential`)
				}
			}
			code, _ := call(t, http.MethodPut, base+"/tenants/acme/quota", "ops-token", `{"traces": {"items_per_second": 5, "items_burst": 5}}`)
			assert.Equal(t, http.StatusOK, code)
			if tt.authenticator == "tenantauth" {
				code, _ = call(t, http.MethodPut, base+"/tenants/acme/quota", "acme-token", `{"traces": {"items_per_second": 500, "items_burst": 500}}`)
				assert.Equal(t, http.StatusForbidden, code, "a tenant may not raise its own quota")
			}
		})
	}
}

func TestAdminAuthWithoutExtensions(t *testing.T) {
	// 'auth' names an authenticator the host does not offer: Start fails
	// and says which.
	cfg := testConfig()
	server := confighttp.NewDefaultServerConfig()
	server.NetAddr.Endpoint = "127.0.0.1:0"
	server.Auth = configoptional.Some(confighttp.AuthConfig{Config: configauth.Config{AuthenticatorID: component.MustNewID("tenantauth")}})
	cfg.Admin = configoptional.Some(AdminConfig{ServerConfig: server})
	p := newTestProcessor(t, cfg, newFakeClock())
	err := p.Start(context.Background(), extensionHost{})
	require.ErrorContains(t, err, `failed to resolve authenticator "tenantauth"`)
	require.NoError(t, p.Shutdown(context.Background()))
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
