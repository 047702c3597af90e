package otlpgoreceiver

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configauth"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.opentelemetry.io/collector/pdata/testdata"
	"go.opentelemetry.io/collector/receiver"

	"github.com/otelfusion/otelfusion/internal/sharedcomponent"
	"github.com/otelfusion/otelfusion/pkg/otlpgo"
)

// oneSpan is a trace of one span whose resource carries attrs.
func oneSpan(t *testing.T, attrs map[string]any) ptrace.Traces {
	t.Helper()
	td := testdata.GenerateTraces(1)
	res := td.ResourceSpans().At(0).Resource()
	for k, v := range attrs {
		require.NoError(t, res.Attributes().PutEmpty(k).FromRaw(v))
	}
	return td
}

// tenantsOf lists the tenant.id of every resource the sink received, and
// whether a retention attribute survived.
func tenantsOf(sink *consumertest.TracesSink) (tenants []string, retention []string) {
	for _, td := range sink.AllTraces() {
		for _, rs := range td.ResourceSpans().All() {
			v, _ := rs.Resource().Attributes().Get("tenant.id")
			tenants = append(tenants, v.AsString())
			if r, ok := rs.Resource().Attributes().Get("otelfusion.retention"); ok {
				retention = append(retention, r.AsString())
			}
		}
	}
	return tenants, retention
}

// fakeAuth accepts "Bearer <tenant>" for the tenants it knows and vouches for
// that tenant in the client info, as the tenantauth extension does.
type fakeAuth struct {
	component.StartFunc
	component.ShutdownFunc
	tenants map[string]bool
}

type fakeAuthData struct{ tenant string }

func (d fakeAuthData) GetAttribute(name string) any {
	if name == "tenant" {
		return d.tenant
	}
	return nil
}
func (fakeAuthData) GetAttributeNames() []string { return []string{"tenant"} }

func (a *fakeAuth) Authenticate(ctx context.Context, headers map[string][]string) (context.Context, error) {
	for k, vs := range headers {
		if http.CanonicalHeaderKey(k) != "Authorization" || len(vs) == 0 {
			continue
		}
		if tenant, ok := bytes.CutPrefix([]byte(vs[0]), []byte("Bearer ")); ok && a.tenants[string(tenant)] {
			info := client.FromContext(ctx)
			info.Auth = fakeAuthData{tenant: string(tenant)}
			return client.NewContext(ctx, info), nil
		}
	}
	return ctx, errors.New("no valid credential")
}

type authHost struct {
	component.Host
	exts map[component.ID]component.Component
}

func (h authHost) GetExtensions() map[component.ID]component.Component { return h.exts }

var fakeAuthID = component.MustNewID("fakeauth")

// startTenantReceiver starts a receiver with the fused endpoint and OTLP/HTTP
// on a host that has fakeAuth, and returns the fused and OTLP/HTTP trace URLs.
func startTenantReceiver(t *testing.T, edit func(*Config), set receiver.Settings, sink *consumertest.TracesSink) (fusedURL, otlpURL string) {
	t.Helper()
	cfg := fusedOnlyConfig()
	httpCfg := cfg.Protocols.HTTP.GetOrInsertDefault()
	httpCfg.ServerConfig.NetAddr.Endpoint = freeEndpoint(t)
	if edit != nil {
		edit(cfg)
	}
	require.NoError(t, cfg.Validate())
	r, err := NewFactory().CreateTraces(context.Background(), set, cfg, sink)
	require.NoError(t, err)
	host := authHost{Host: componenttest.NewNopHost(), exts: map[component.ID]component.Component{
		fakeAuthID: extension.Extension(&fakeAuth{tenants: map[string]bool{"alpha": true, "beta": true}}),
	}}
	require.NoError(t, r.Start(context.Background(), host))
	t.Cleanup(func() { assert.NoError(t, r.Shutdown(context.Background())) })
	fused := r.(*sharedcomponent.Component[*otlpgoReceiver]).Unwrap().fusedAddr.String()
	return "http://" + fused + otlpgo.HTTPPath, "http://" + httpCfg.ServerConfig.NetAddr.Endpoint + "/v1/traces"
}

// send posts td to the fused endpoint (as a frame) or to OTLP/HTTP (as
// protobuf) with the given headers, and returns the status.
func send(t *testing.T, url string, fused bool, td ptrace.Traces, header http.Header) httpResult {
	t.Helper()
	if fused {
		req := otlpgo.NewRequest()
		req.Traces = td
		return doRequest(t, http.MethodPost, url, otlpgo.ContentType, bytes.NewReader(encodeFrame(t, req, otlpgo.CompressionZstd)), header)
	}
	body, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	require.NoError(t, err)
	return doRequest(t, http.MethodPost, url, "application/x-protobuf", bytes.NewReader(body), header)
}

func withAuth(cfg *Config) {
	auth := configoptional.Some(confighttp.AuthConfig{Config: configauth.Config{AuthenticatorID: fakeAuthID}})
	cfg.Fused.ServerConfig.Auth = auth
	cfg.Protocols.HTTP.Get().ServerConfig.Auth = auth
}

// TestTenantDecidedByServer: on the fused endpoint and on OTLP/HTTP alike,
// the tenant every resource carries downstream is the one the server decided.
func TestTenantDecidedByServer(t *testing.T) {
	tests := []struct {
		name        string
		edit        func(*Config)
		header      http.Header
		resource    map[string]any
		wantStatus  int
		wantTenants []string // nil: nothing delivered
		wantKept    []string // retention attributes that reach the pipeline
		wantOverrid int64
	}{
		{
			name:        "header decides, the sender's attribute is overwritten",
			header:      http.Header{"X-Tenant-Id": {"alpha"}},
			resource:    map[string]any{"tenant.id": "beta", "otelfusion.retention": "8760h"},
			wantStatus:  http.StatusOK,
			wantTenants: []string{"alpha"},
			wantOverrid: 2, // the tenant, and the server-only retention attribute
		},
		{
			name:        "no header, no attribute: the default tenant",
			wantStatus:  http.StatusOK,
			wantTenants: []string{"default"},
		},
		{
			name:        "no header: a sender's attribute does not choose the tenant",
			resource:    map[string]any{"tenant.id": "beta"},
			wantStatus:  http.StatusOK,
			wantTenants: []string{"default"},
			wantOverrid: 1,
		},
		{
			name:       "no tenant and no default: refused",
			edit:       func(cfg *Config) { cfg.Tenant.DefaultTenant = "" },
			wantStatus: http.StatusUnauthorized,
		},
		{
			name:       "on_conflict refuse",
			edit:       func(cfg *Config) { cfg.Tenant.OnConflict = ConflictRefuse },
			header:     http.Header{"X-Tenant-Id": {"alpha"}},
			resource:   map[string]any{"tenant.id": "beta"},
			wantStatus: http.StatusForbidden,
		},
		{
			name:        "trusted agent tier: the resource attribute stands, retention too",
			edit:        func(cfg *Config) { cfg.Tenant.Sources = []TenantSource{TenantSourceResource} },
			header:      http.Header{"X-Tenant-Id": {"alpha"}},
			resource:    map[string]any{"tenant.id": "beta", "otelfusion.retention": "24h"},
			wantStatus:  http.StatusOK,
			wantTenants: []string{"beta"},
			wantKept:    []string{"24h"},
		},
		{
			name:        "authenticated tenant beats the header",
			edit:        withAuth,
			header:      http.Header{"Authorization": {"Bearer alpha"}, "X-Tenant-Id": {"beta"}},
			resource:    map[string]any{"tenant.id": "beta"},
			wantStatus:  http.StatusOK,
			wantTenants: []string{"alpha"},
			wantOverrid: 1,
		},
		{
			name:       "wrong credential",
			edit:       withAuth,
			header:     http.Header{"Authorization": {"Bearer gamma"}},
			wantStatus: http.StatusUnauthorized,
		},
		{
			name:       "no credential",
			edit:       withAuth,
			wantStatus: http.StatusUnauthorized,
		},
	}
	for _, tt := range tests {
		for _, fused := range []bool{true, false} {
			t.Run(tt.name+map[bool]string{true: "/fused", false: "/otlphttp"}[fused], func(t *testing.T) {
				sink := new(consumertest.TracesSink)
				tel := componenttest.NewTelemetry()
				t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
				set := nopSettings()
				set.TelemetrySettings = tel.NewTelemetrySettings()
				fusedURL, otlpURL := startTenantReceiver(t, tt.edit, set, sink)
				url := otlpURL
				if fused {
					url = fusedURL
				}
				res := send(t, url, fused, oneSpan(t, tt.resource), tt.header)
				require.Equal(t, tt.wantStatus, res.status, string(res.body))
				tenants, kept := tenantsOf(sink)
				assert.Equal(t, tt.wantTenants, tenants)
				assert.Equal(t, tt.wantKept, kept)
				if _, err := tel.GetMetric("otelcol_otlpgo_receiver_tenant_overrides"); err == nil || tt.wantOverrid > 0 {
					assertCounter(t, tel, "otelcol_otlpgo_receiver_tenant_overrides", tt.wantOverrid)
				}
			})
		}
	}
}

func TestTenantConfigValidate(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Tenant = TenantConfig{
		Sources:              []TenantSource{"header", TenantSourceAuth, TenantSourceAuth},
		AuthAttribute:        "",
		OnConflict:           "ignore",
		ServerOnlyAttributes: []string{""},
	}
	err := cfg.Tenant.validate()
	require.Error(t, err)
	for _, want := range []string{
		`'tenant::sources' has "header"`,
		`'tenant::sources' lists "auth" twice`,
		`'tenant::auth_attribute' must be set`,
		`'tenant::resource_attribute' must be set`,
		`'tenant::on_conflict' must be "overwrite" or "refuse", got "ignore"`,
	} {
		assert.Contains(t, err.Error(), want)
	}
	defaults := defaultTenantConfig()
	assert.NoError(t, defaults.validate())
}

// TestFusedNoTenantRefusedBeforeDecoding: where a tenant is required and the
// request names none, the fused endpoint answers 401 without reading the
// frame, so even a malformed body is not decoded.
func TestFusedNoTenantRefusedBeforeDecoding(t *testing.T) {
	sink := new(consumertest.TracesSink)
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	set := nopSettings()
	set.TelemetrySettings = tel.NewTelemetrySettings()
	fusedURL, _ := startTenantReceiver(t, func(cfg *Config) { cfg.Tenant.DefaultTenant = "" }, set, sink)
	res := doRequest(t, http.MethodPost, fusedURL, otlpgo.ContentType, bytes.NewReader([]byte("not a frame")), nil)
	require.Equal(t, http.StatusUnauthorized, res.status, string(res.body))
	assert.Zero(t, sink.SpanCount())
	_, err := tel.GetMetric("otelcol_otlpgo_receiver_frames")
	assert.Error(t, err, "no frame was read")
}
