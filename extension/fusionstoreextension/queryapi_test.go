package fusionstoreextension

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/bearertokenauthextension"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configauth"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelfusion/otelfusion/extension/fusionstoreextension/internal/metadata"
	"github.com/otelfusion/otelfusion/extension/tenantauthextension"
	"github.com/otelfusion/otelfusion/pkg/fusionql"
	"github.com/otelfusion/otelfusion/pkg/fusionstore"
)

// storeConfig is a configuration in the test's temp dir with the query API
// on a free loopback port; it returns the query URL too.
func storeConfig(t *testing.T) (*Config, string) {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	cfg.Store.Path = filepath.Join(t.TempDir(), "fusion.duckdb")
	cfg.Query.Get().ServerConfig.NetAddr.Endpoint = reserveAddr(t)
	cfg.Query.Get().ServerConfig.MaxRequestBodySize = 4096
	return cfg, "http://" + cfg.Query.Get().ServerConfig.NetAddr.Endpoint + QueryPath
}

// startStore creates and starts the extension on host, shut down when the
// test ends.
func startStore(t *testing.T, cfg *Config, host component.Host, set extension.Settings) fusionstore.Appender {
	t.Helper()
	require.NoError(t, confmap.Validate(cfg))
	ext, err := NewFactory().Create(context.Background(), set, cfg)
	require.NoError(t, err)
	require.NoError(t, ext.Start(context.Background(), host))
	t.Cleanup(func() { assert.NoError(t, ext.Shutdown(context.Background())) })
	return ext.(fusionstore.Appender)
}

func startNopStore(t *testing.T, cfg *Config) fusionstore.Appender {
	t.Helper()
	return startStore(t, cfg, componenttest.NewNopHost(), extensiontest.NewNopSettings(metadata.Type))
}

// postQuery sends body to url with an optional tenant header and returns
// status and body.
func postQuery(t *testing.T, url, tenant string, body []byte) (int, string, http.Header) {
	t.Helper()
	header := http.Header{}
	if tenant != "" {
		header.Set("X-Tenant-ID", tenant)
	}
	return postQueryWith(t, url, header, body)
}

// postQueryWith sends body to url with the given headers (a tenant header
// of any value, a credential) and returns status and body.
func postQueryWith(t *testing.T, url string, header http.Header, body []byte) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header = header.Clone()
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(data), resp.Header
}

func queryBody(t *testing.T, query, format string) []byte {
	t.Helper()
	b, err := json.Marshal(queryRequest{Query: query, Format: format})
	require.NoError(t, err)
	return b
}

func TestQueryAPI(t *testing.T) {
	cfg, url := storeConfig(t)
	store := startNopStore(t, cfg)
	now := time.Now()
	ctx := context.Background()
	require.NoError(t, store.AppendTraces(ctx, tenantTraces("acme", now.Add(-time.Minute))))
	require.NoError(t, store.AppendTraces(ctx, tenantTraces("globex", now.Add(-2*time.Minute))))
	require.NoError(t, store.AppendLogs(ctx, tenantLogs("acme", now)))

	const q = "SELECT span.service_name, span.duration_ns FROM traces ORDER BY span.service_name"
	tests := []struct {
		name       string
		tenant     string
		body       []byte
		wantStatus int
		wantBody   string // exact when wantJSON is false
		wantJSON   bool
		contains   string
	}{
		{name: "json", tenant: "globex", body: queryBody(t, q, "json"), wantStatus: 200, wantJSON: true,
			wantBody: `{"columns":["service_name","duration_ns"],"rows":[["svc-globex",1000000]]}`},
		{name: "no tenant is refused", body: queryBody(t, q, "json"), wantStatus: 400,
			contains: "a query must name its tenant in the X-Tenant-ID header"},
		{name: "json is the default format", tenant: "acme", body: queryBody(t, q, ""), wantStatus: 200, wantJSON: true,
			wantBody: `{"columns":["service_name","duration_ns"],"rows":[["svc-acme",1000000]]}`},
		{name: "csv, one tenant", tenant: "globex", body: queryBody(t, q, "csv"), wantStatus: 200,
			wantBody: "service_name,duration_ns\nsvc-globex,1000000\n"},
		{name: "unknown tenant sees nothing", tenant: "initech", body: queryBody(t, q, "json"), wantStatus: 200, wantJSON: true,
			wantBody: `{"columns":["service_name","duration_ns"],"rows":[]}`},
		{name: "unknown column", tenant: "acme", body: queryBody(t, "SELECT span.nope FROM traces", "json"), wantStatus: 400, contains: `fusionql: 1:13: unknown column "nope"`},
		{name: "syntax error", tenant: "acme", body: queryBody(t, "SELECT FROM", "json"), wantStatus: 400, contains: "fusionql: 1:"},
		{name: "not JSON", tenant: "acme", body: []byte("SELECT 1"), wantStatus: 400, contains: "request body must be JSON"},
		{name: "bad format", tenant: "acme", body: queryBody(t, q, "xml"), wantStatus: 400, contains: `'format' must be "json" or "csv", got "xml"`},
		{name: "too large", tenant: "acme", body: queryBody(t, q+strings.Repeat(" ", 5000), "json"), wantStatus: 413, contains: "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body, header := postQuery(t, url, tt.tenant, tt.body)
			require.Equal(t, tt.wantStatus, status, body)
			switch {
			case tt.contains != "":
				var answer queryError
				require.NoError(t, json.Unmarshal([]byte(body), &answer))
				assert.Contains(t, answer.Error, tt.contains)
				assert.Equal(t, "application/json", header.Get("Content-Type"))
			case tt.wantJSON:
				assert.JSONEq(t, tt.wantBody, body)
			default:
				assert.Equal(t, tt.wantBody, body)
			}
		})
	}

	resp, err := http.Get(url)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}

func TestQueryOutcome(t *testing.T) {
	tests := []struct {
		err         error
		wantOutcome string
		wantStatus  int
	}{
		{err: nil, wantOutcome: "ok", wantStatus: http.StatusOK},
		{err: fmt.Errorf("%w (1024 bytes) after 3 rows", fusionstore.ErrAnswerTooLarge), wantOutcome: "truncated", wantStatus: http.StatusOK},
		{err: &fusionql.Error{Msg: "unknown column"}, wantOutcome: "invalid", wantStatus: http.StatusBadRequest},
		{err: fmt.Errorf("%w (5s)", fusionstore.ErrQueryTimeout), wantOutcome: "timeout", wantStatus: http.StatusGatewayTimeout},
		{err: fmt.Errorf("%w: Out of Memory Error", fusionstore.ErrMemoryLimit), wantOutcome: "memory_limit", wantStatus: http.StatusInsufficientStorage},
		{err: context.Canceled, wantOutcome: "cancelled", wantStatus: 0},
		{err: errors.New("disk on fire"), wantOutcome: "failed", wantStatus: http.StatusInternalServerError},
	}
	for _, tt := range tests {
		t.Run(tt.wantOutcome, func(t *testing.T) {
			outcome, status := queryOutcome(tt.err)
			assert.Equal(t, tt.wantOutcome, outcome)
			assert.Equal(t, tt.wantStatus, status)
		})
	}
}

func TestStoreTelemetry(t *testing.T) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	set := extensiontest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	cfg, url := storeConfig(t)
	store := startStore(t, cfg, componenttest.NewNopHost(), set)
	ctx := context.Background()
	require.NoError(t, store.AppendTraces(ctx, tenantTraces("acme", time.Now())))
	require.NoError(t, store.AppendLogs(ctx, tenantLogs("acme", time.Now())))
	require.NoError(t, store.AppendLogs(ctx, tenantLogs("acme", time.Now())))
	postQuery(t, url, "acme", queryBody(t, "SELECT COUNT(*) FROM logs", ""))
	postQuery(t, url, "acme", queryBody(t, "SELECT nope FROM logs", ""))

	sums := func(name, key string) map[string]int64 {
		t.Helper()
		m, err := tel.GetMetric(name)
		require.NoError(t, err)
		out := map[string]int64{}
		for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
			v, _ := dp.Attributes.Value(attribute.Key(key))
			out[v.AsString()] += dp.Value
		}
		return out
	}
	assert.Equal(t, map[string]int64{"traces": 1, "logs": 2}, sums("otelcol_fusionstore_rows", "table"))
	assert.Equal(t, map[string]int64{"ok": 1, "invalid": 1}, sums("otelcol_fusionstore_queries", "outcome"))
}

func TestStartFailureReleasesStore(t *testing.T) {
	cfg, _ := storeConfig(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	cfg.Query.Get().ServerConfig.NetAddr.Endpoint = busy.Addr().String()
	ext, err := NewFactory().Create(context.Background(), extensiontest.NewNopSettings(metadata.Type), cfg)
	require.NoError(t, err)
	require.Error(t, ext.Start(context.Background(), componenttest.NewNopHost()))
	require.NoError(t, ext.Shutdown(context.Background()))

	// The database file is closed: it opens again.
	s, err := fusionstore.Open(context.Background(), &cfg.Store)
	require.NoError(t, err)
	require.NoError(t, s.Close())
}

// authHost starts contrib's bearertokenauth once per token name (the token
// is "<name>-token") and a tenantauth over them: tenants alpha and beta,
// admin ops. bearertokenauth/plain stands for an authenticator that names
// no tenant.
func authHost(t *testing.T) extensionHost {
	t.Helper()
	ctx := context.Background()
	host := extensionHost{extensions: map[component.ID]component.Component{}}
	start := func(f extension.Factory, id component.ID, cfg component.Config) {
		t.Helper()
		set := extensiontest.NewNopSettings(f.Type())
		set.ID = id
		ext, err := f.Create(ctx, set, cfg)
		require.NoError(t, err)
		require.NoError(t, ext.Start(ctx, host))
		t.Cleanup(func() { assert.NoError(t, ext.Shutdown(context.Background())) })
		host.extensions[id] = ext
	}
	bearer := bearertokenauthextension.NewFactory()
	for _, name := range []string{"alpha", "beta", "ops", "plain"} {
		cfg := bearer.CreateDefaultConfig().(*bearertokenauthextension.Config)
		cfg.BearerToken = configopaque.String(name + "-token")
		start(bearer, component.MustNewIDWithName("bearertokenauth", name), cfg)
	}
	tenantAuth := tenantauthextension.NewFactory()
	cfg := tenantAuth.CreateDefaultConfig()
	require.NoError(t, confmap.NewFromStringMap(map[string]any{
		"tenants": map[string]any{"alpha": "bearertokenauth/alpha", "beta": "bearertokenauth/beta"},
		"admins":  []any{"bearertokenauth/ops"},
	}).Unmarshal(cfg))
	start(tenantAuth, component.MustNewID("tenantauth"), cfg)
	return host
}

// TestQueryAPIScope pins who sees which tenant's rows: alpha has 2 spans,
// beta 3, and 1 span carries no tenant at all (only an admin's unscoped
// query sees it).
func TestQueryAPIScope(t *testing.T) {
	host := authHost(t)
	now := time.Now()
	fill := func(store fusionstore.Appender) {
		t.Helper()
		for tenant, spans := range map[string]int{"alpha": 2, "beta": 3, "": 1} {
			for range spans {
				require.NoError(t, store.AppendTraces(context.Background(), tenantTraces(tenant, now)))
			}
		}
	}
	// One query API per authenticator: none, tenantauth, a plain bearer token.
	urls := map[string]string{}
	for _, authenticator := range []string{"", "tenantauth", "bearertokenauth/plain"} {
		cfg, url := storeConfig(t)
		if authenticator != "" {
			var id component.ID
			require.NoError(t, id.UnmarshalText([]byte(authenticator)))
			cfg.Query.Get().ServerConfig.Auth = configoptional.Some(confighttp.AuthConfig{
				Config: configauth.Config{AuthenticatorID: id},
			})
		}
		fill(startStore(t, cfg, host, extensiontest.NewNopSettings(metadata.Type)))
		urls[authenticator] = url
	}

	const noHeader = "\x00" // the tenant header is not sent
	tests := []struct {
		name          string
		authenticator string // the query API's 'auth', "" for none
		token         string // sent as Authorization: Bearer, "" for none
		tenant        string // the X-Tenant-ID header; noHeader for none
		wantStatus    int
		wantRows      int
		wantError     string
	}{
		// No auth: the header is required and decides.
		{name: "none", tenant: noHeader, wantStatus: 400, wantError: "a query must name its tenant in the X-Tenant-ID header"},
		{name: "empty", tenant: "", wantStatus: 400, wantError: "the X-Tenant-ID header is empty: it must name a tenant"},
		{name: "alpha", tenant: "alpha", wantStatus: 200, wantRows: 2},
		{name: "beta", tenant: "beta", wantStatus: 200, wantRows: 3},
		{name: "unknown tenant", tenant: "gamma", wantStatus: 200, wantRows: 0},

		// tenantauth: a tenant's credential sees its own tenant only.
		{name: "no credential", authenticator: "tenantauth", tenant: "alpha", wantStatus: 401},
		{name: "wrong credential", authenticator: "tenantauth", token: "nope", tenant: "alpha", wantStatus: 401},
		{name: "alpha credential", authenticator: "tenantauth", token: "alpha-token", tenant: noHeader, wantStatus: 200, wantRows: 2},
		{name: "alpha credential, alpha header", authenticator: "tenantauth", token: "alpha-token", tenant: "alpha", wantStatus: 200, wantRows: 2},
		{name: "beta credential", authenticator: "tenantauth", token: "beta-token", tenant: noHeader, wantStatus: 200, wantRows: 3},
		{name: "alpha credential, beta header", authenticator: "tenantauth", token: "alpha-token", tenant: "beta", wantStatus: 403,
			wantError: `the credential is tenant "alpha"'s and may not query tenant "beta" named in the X-Tenant-ID header`},
		{name: "alpha credential, empty header", authenticator: "tenantauth", token: "alpha-token", tenant: "", wantStatus: 400,
			wantError: "the X-Tenant-ID header is empty"},
		// An admin's credential picks a tenant with the header, or sees all.
		{name: "admin", authenticator: "tenantauth", token: "ops-token", tenant: noHeader, wantStatus: 200, wantRows: 6},
		{name: "admin, beta header", authenticator: "tenantauth", token: "ops-token", tenant: "beta", wantStatus: 200, wantRows: 3},
		{name: "admin, empty header", authenticator: "tenantauth", token: "ops-token", tenant: "", wantStatus: 400,
			wantError: "the X-Tenant-ID header is empty"},

		// An authenticator that names no tenant: as without auth.
		{name: "plain credential, none", authenticator: "bearertokenauth/plain", token: "plain-token", tenant: noHeader, wantStatus: 400,
			wantError: "a query must name its tenant in the X-Tenant-ID header"},
		{name: "plain credential, alpha", authenticator: "bearertokenauth/plain", token: "plain-token", tenant: "alpha", wantStatus: 200, wantRows: 2},
		{name: "plain, no credential", authenticator: "bearertokenauth/plain", tenant: "alpha", wantStatus: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header := http.Header{}
			if tt.token != "" {
				header.Set("Authorization", "Bearer "+tt.token)
			}
			if tt.tenant != noHeader {
				header["X-Tenant-Id"] = []string{tt.tenant}
			}
			status, body, _ := postQueryWith(t, urls[tt.authenticator], header, queryBody(t, "SELECT span.service_name FROM traces", ""))
			require.Equal(t, tt.wantStatus, status, body)
			if status == http.StatusUnauthorized {
				return // the authenticator's answer, not the query API's
			}
			if tt.wantError != "" {
				var answer queryError
				require.NoError(t, json.Unmarshal([]byte(body), &answer))
				assert.Contains(t, answer.Error, tt.wantError)
				return
			}
			var result queryAnswer
			require.NoError(t, json.Unmarshal([]byte(body), &result))
			assert.Len(t, result.Rows, tt.wantRows)
		})
	}
}

func TestQueryAPIRepeatedTenantHeader(t *testing.T) {
	cfg, url := storeConfig(t)
	startNopStore(t, cfg)
	header := http.Header{"X-Tenant-Id": {"alpha", "beta"}}
	status, body, _ := postQueryWith(t, url, header, queryBody(t, "SELECT span.service_name FROM traces", ""))
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, body, "the X-Tenant-ID header must name one tenant, got 2")
}
