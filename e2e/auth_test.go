package e2e

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/otelfusion/otelfusion/pkg/fusiongen"
	"github.com/otelfusion/otelfusion/pkg/otlpgo"
)

// The credentials of the auth scenario: a bearer token per tenant and one
// for the operators, each checked by its own bearertokenauth instance behind
// tenantauth.
const (
	acmeToken   = "acme-e2e-token"
	globexToken = "globex-e2e-token"
	opsToken    = "ops-e2e-token"
)

// authGateway is a running collector with tenantauth on every server.
type authGateway struct {
	collector                       *collectorProcess
	fusedURL, otlpHTTPURL, queryURL string
	adminURL, grpcEndpoint          string
}

// startAuthGateway starts the binary with bearertokenauth per tenant and
// tenantauth on the fused endpoint, OTLP/gRPC, OTLP/HTTP, the query API and
// the tenant_quota admin API; the receiver trusts only the credential.
func startAuthGateway(t *testing.T) *authGateway {
	t.Helper()
	grpcPort, httpPort, fusedPort, queryPort, adminPort, health := freePort(t), freePort(t), freePort(t), freePort(t), freePort(t), freePort(t)
	config := fmt.Sprintf(`
extensions:
  health_check: {endpoint: 127.0.0.1:%d}
  bearertokenauth/acme: {token: %s}
  bearertokenauth/globex: {token: %s}
  bearertokenauth/ops: {token: %s}
  tenantauth:
    tenants: {acme: bearertokenauth/acme, globex: bearertokenauth/globex}
    admins: [bearertokenauth/ops]
  fusionstore:
    path: %s/fusion.duckdb
    query: {endpoint: 127.0.0.1:%d, auth: {authenticator: tenantauth}}
receivers:
  otlpgo:
    protocols:
      grpc: {endpoint: 127.0.0.1:%d, auth: {authenticator: tenantauth}}
      http: {endpoint: 127.0.0.1:%d, auth: {authenticator: tenantauth}}
    fused: {endpoint: 127.0.0.1:%d, auth: {authenticator: tenantauth}}
    tenant: {sources: [auth], default_tenant: ""}
processors:
  tenant_quota:
    admin: {endpoint: 127.0.0.1:%d, auth: {authenticator: tenantauth}}
exporters:
  fusionstore: {extension: fusionstore}
service:
  extensions: [health_check, bearertokenauth/acme, bearertokenauth/globex, bearertokenauth/ops, tenantauth, fusionstore]
  pipelines:
    traces: {receivers: [otlpgo], processors: [tenant_quota], exporters: [fusionstore]}
    logs: {receivers: [otlpgo], processors: [tenant_quota], exporters: [fusionstore]}
    metrics: {receivers: [otlpgo], processors: [tenant_quota], exporters: [fusionstore]}
%s
`, health, acmeToken, globexToken, opsToken, filepath.ToSlash(t.TempDir()), queryPort,
		grpcPort, httpPort, fusedPort, adminPort, telemetry(freePort(t)))
	return &authGateway{
		collector:    startCollector(t, "auth", writeConfig(t, "auth", config), health),
		fusedURL:     fmt.Sprintf("http://127.0.0.1:%d%s", fusedPort, otlpgo.HTTPPath),
		otlpHTTPURL:  fmt.Sprintf("http://127.0.0.1:%d/v1/traces", httpPort),
		queryURL:     fmt.Sprintf("http://127.0.0.1:%d/v1/query", queryPort),
		adminURL:     fmt.Sprintf("http://127.0.0.1:%d", adminPort),
		grpcEndpoint: fmt.Sprintf("127.0.0.1:%d", grpcPort),
	}
}

// bearerHeader is the Authorization header of token, none for "".
func bearerHeader(token string) http.Header {
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	return h
}

// authPost sends body to url with headers and returns status and body.
func authPost(t *testing.T, method, url, contentType string, body []byte, headers http.Header) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header = headers.Clone()
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(data)
}

// sentByTenant counts what the scenario sent and the gateway accepted, per
// tenant: the expected rows.
type sentByTenant map[string]struct{ spans, logs, points int }

func (s sentByTenant) add(tenant string, spans, logs, points int) {
	c := s[tenant]
	c.spans, c.logs, c.points = c.spans+spans, c.logs+logs, c.points+points
	s[tenant] = c
}

// claimTenant writes tenant.id into every resource, as a sender trying to
// file its data under another tenant would.
func claimTenant(td ptrace.Traces, ld plog.Logs, md pmetric.Metrics, tenant string) {
	for i := range td.ResourceSpans().Len() {
		td.ResourceSpans().At(i).Resource().Attributes().PutStr("tenant.id", tenant)
	}
	for i := range ld.ResourceLogs().Len() {
		ld.ResourceLogs().At(i).Resource().Attributes().PutStr("tenant.id", tenant)
	}
	for i := range md.ResourceMetrics().Len() {
		md.ResourceMetrics().At(i).Resource().Attributes().PutStr("tenant.id", tenant)
	}
}

// TestAuthOnEveryEndpoint: through the built binary, with a bearer token per
// tenant behind tenantauth on every server, each endpoint refuses a missing
// or wrong credential (401, gRPC Unauthenticated) and takes a right one;
// data is filed under the credential's tenant whatever tenant.id it carries;
// a tenant's credential queries only its own rows and cannot name another
// tenant (403); only the operators' credential reaches the tenant_quota admin
// API.
func TestAuthOnEveryEndpoint(t *testing.T) {
	gw := startAuthGateway(t)
	gen := fusiongen.New(7)
	gen.SetStart(time.Now().Add(-time.Minute))
	sent := sentByTenant{}

	t.Run("fused", func(t *testing.T) {
		frame := func(claim string) ([]byte, int, int, int) {
			req := otlpgo.NewRequest()
			req.Traces, req.Logs, req.Metrics = gen.Traces(40), gen.Logs(30), gen.Metrics(20)
			claimTenant(req.Traces, req.Logs, req.Metrics, claim)
			b, err := otlpgo.AppendFrame(nil, req, otlpgo.EncodeOptions{Compression: otlpgo.CompressionZstd})
			require.NoError(t, err)
			return b, req.Traces.SpanCount(), req.Logs.LogRecordCount(), req.Metrics.DataPointCount()
		}
		for _, tt := range []struct {
			name, token, tenant string
			want                int
		}{
			{"no credential", "", "", http.StatusUnauthorized},
			{"wrong credential", "nope", "", http.StatusUnauthorized},
			{"acme, claiming globex in tenant.id", acmeToken, "acme", http.StatusOK},
			{"globex", globexToken, "globex", http.StatusOK},
			{"ops: an admin names no tenant", opsToken, "", http.StatusUnauthorized},
		} {
			body, spans, logs, points := frame("globex")
			status, answer := authPost(t, http.MethodPost, gw.fusedURL, otlpgo.ContentType, body, bearerHeader(tt.token))
			assert.Equal(t, tt.want, status, "%s: %s", tt.name, answer)
			if status == http.StatusOK {
				var resp otlpgo.Response
				require.NoError(t, json.Unmarshal([]byte(answer), &resp), answer)
				sent.add(tt.tenant, spans, logs, points)
			}
			t.Logf("fused, %s: %d", tt.name, status)
		}
	})

	t.Run("otlp_http", func(t *testing.T) {
		for _, tt := range []struct {
			name, token, tenant string
			want                int
		}{
			{"no credential", "", "", http.StatusUnauthorized},
			{"wrong credential", "nope", "", http.StatusUnauthorized},
			{"acme", acmeToken, "acme", http.StatusOK},
		} {
			td := gen.Traces(15)
			claimTenant(td, plog.NewLogs(), pmetric.NewMetrics(), "globex")
			body, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
			require.NoError(t, err)
			status, answer := authPost(t, http.MethodPost, gw.otlpHTTPURL, "application/x-protobuf", body, bearerHeader(tt.token))
			assert.Equal(t, tt.want, status, "%s: %s", tt.name, answer)
			if status == http.StatusOK {
				sent.add(tt.tenant, td.SpanCount(), 0, 0)
			}
			t.Logf("OTLP/HTTP, %s: %d", tt.name, status)
		}
	})

	t.Run("otlp_grpc", func(t *testing.T) {
		conn, err := grpc.NewClient(gw.grpcEndpoint, grpc.WithTransportCredentials(insecure.NewCredentials()))
		require.NoError(t, err)
		defer conn.Close()
		client := ptraceotlp.NewGRPCClient(conn)
		for _, tt := range []struct {
			name, token, tenant string
			want                codes.Code
		}{
			{"no credential", "", "", codes.Unauthenticated},
			{"wrong credential", "nope", "", codes.Unauthenticated},
			{"globex", globexToken, "globex", codes.OK},
		} {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if tt.token != "" {
				ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tt.token)
			}
			td := gen.Traces(25)
			claimTenant(td, plog.NewLogs(), pmetric.NewMetrics(), "acme")
			_, err := client.Export(ctx, ptraceotlp.NewExportRequestFromTraces(td))
			cancel()
			assert.Equal(t, tt.want, status.Code(err), "%s: %v", tt.name, err)
			if err == nil {
				sent.add(tt.tenant, td.SpanCount(), 0, 0)
			}
			t.Logf("OTLP/gRPC, %s: %s", tt.name, status.Code(err))
		}
	})

	// count asks the query API for one number as the given caller; -1 unless
	// the answer is 200.
	count := func(t *testing.T, query string, headers http.Header) (int, int) {
		t.Helper()
		body, err := json.Marshal(map[string]string{"query": query})
		require.NoError(t, err)
		status, answer := authPost(t, http.MethodPost, gw.queryURL, "application/json", body, headers)
		if status != http.StatusOK {
			return status, -1
		}
		var result struct{ Rows [][]float64 }
		require.NoError(t, json.Unmarshal([]byte(answer), &result), answer)
		require.Len(t, result.Rows, 1)
		return status, int(result.Rows[0][0])
	}
	withTenant := func(token, tenant string) http.Header {
		h := bearerHeader(token)
		h["X-Tenant-Id"] = []string{tenant}
		return h
	}
	total := sent["acme"].spans + sent["globex"].spans
	require.Positive(t, sent["acme"].spans)
	require.Positive(t, sent["globex"].spans)
	waitFor(t, 60*time.Second, "every accepted span in the store", func() bool {
		_, n := count(t, "SELECT COUNT(*) FROM traces", bearerHeader(opsToken))
		return n == total
	})

	t.Run("query", func(t *testing.T) {
		const spans = "SELECT COUNT(*) FROM traces"
		for _, tt := range []struct {
			name       string
			headers    http.Header
			wantStatus int
			wantCount  int
		}{
			{"no credential", bearerHeader(""), http.StatusUnauthorized, -1},
			{"wrong credential", bearerHeader("nope"), http.StatusUnauthorized, -1},
			{"acme sees acme's rows only", bearerHeader(acmeToken), http.StatusOK, sent["acme"].spans},
			{"acme naming acme", withTenant(acmeToken, "acme"), http.StatusOK, sent["acme"].spans},
			{"acme naming globex", withTenant(acmeToken, "globex"), http.StatusForbidden, -1},
			{"globex sees globex's rows only", bearerHeader(globexToken), http.StatusOK, sent["globex"].spans},
			{"globex naming acme", withTenant(globexToken, "acme"), http.StatusForbidden, -1},
			{"ops sees every tenant", bearerHeader(opsToken), http.StatusOK, total},
			{"ops naming globex", withTenant(opsToken, "globex"), http.StatusOK, sent["globex"].spans},
		} {
			status, n := count(t, spans, tt.headers)
			assert.Equal(t, tt.wantStatus, status, tt.name)
			assert.Equal(t, tt.wantCount, n, tt.name)
			t.Logf("query, %s: %d, %d spans", tt.name, status, n)
		}
		// Logs and metrics of the fused frames are filed the same way.
		_, logs := count(t, "SELECT COUNT(*) FROM logs", bearerHeader(acmeToken))
		assert.Equal(t, sent["acme"].logs, logs, "acme's log records")
		_, points := count(t, "SELECT COUNT(*) FROM metrics", bearerHeader(globexToken))
		assert.Equal(t, sent["globex"].points, points, "globex's metric points")
	})

	t.Run("tenant_quota_admin", func(t *testing.T) {
		for _, tt := range []struct {
			name, token string
			want        int
		}{
			{"no credential", "", http.StatusUnauthorized},
			{"wrong credential", "nope", http.StatusUnauthorized},
			{"a tenant's credential", acmeToken, http.StatusForbidden},
			{"the operators' credential", opsToken, http.StatusOK},
		} {
			status, body := authPost(t, http.MethodGet, gw.adminURL+"/tenants", "", nil, bearerHeader(tt.token))
			assert.Equal(t, tt.want, status, "%s: %s", tt.name, body)
			if status == http.StatusOK {
				// tenant_quota saw the tenants the receiver decided, no other.
				var list struct {
					Tenants []struct {
						ID string `json:"id"`
					} `json:"tenants"`
				}
				require.NoError(t, json.Unmarshal([]byte(body), &list))
				var ids []string
				for _, tenant := range list.Tenants {
					ids = append(ids, tenant.ID)
				}
				assert.ElementsMatch(t, []string{"acme", "globex"}, ids)
			}
			t.Logf("tenant_quota admin, %s: %d", tt.name, status)
		}
		status, body := authPost(t, http.MethodPut, gw.adminURL+"/tenants/acme/quota", "application/json",
			[]byte(`{"traces": {"items_per_second": 1000000}}`), bearerHeader(acmeToken))
		assert.Equal(t, http.StatusForbidden, status, "a tenant may not change its own quota: %s", body)
	})

	assert.NoError(t, gw.collector.stop(), "a clean exit on SIGINT")
}

// TestGatewayMultitenantExampleValidates runs `otelcol-fusion validate` on
// docs/examples/gateway-multitenant.yaml with generated TLS files and tokens,
// so the documented gateway keeps matching the components.
func TestGatewayMultitenantExampleValidates(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := writeSelfSignedCert(t, dir)
	example, err := filepath.Abs(filepath.Join("..", "docs", "examples", "gateway-multitenant.yaml"))
	require.NoError(t, err)
	validate := func(env ...string) (string, error) {
		cmd := exec.Command(collectorBinary, "validate", "--config", example)
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	env := []string{
		"TLS_CERT_FILE=" + certFile, "TLS_KEY_FILE=" + keyFile,
		"ACME_TOKEN=acme-secret", "GLOBEX_TOKEN=globex-secret", "OPS_TOKEN=ops-secret",
		"OTELFUSION_DATA_DIR=" + dir,
	}
	out, err := validate(env...)
	require.NoError(t, err, out)

	// validate does check: without the operators' token the config is refused.
	out, err = validate(append(env, "OPS_TOKEN=")...)
	require.Error(t, err, out)
	assert.Contains(t, out, "bearertokenauth/ops")
}

// writeSelfSignedCert writes a loopback server certificate and its key.
func writeSelfSignedCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "otelcol-fusion e2e"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	certFile, keyFile = filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600))
	return certFile, keyFile
}
