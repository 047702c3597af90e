package tenantauthextension

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/bearertokenauthextension"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configauth"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/extensiontest"

	"github.com/otelfusion/otelfusion/extension/tenantauthextension/internal/metadata"
	"github.com/otelfusion/otelfusion/internal/tenancy"
)

// TestWithBearerTokenAuth composes tenantauth with contrib's bearertokenauth
// behind a confighttp server, as a collector config does.
func TestWithBearerTokenAuth(t *testing.T) {
	ctx := context.Background()
	host := fakeHost{}
	startExtension := func(f extension.Factory, id component.ID, cfg component.Config) {
		t.Helper()
		set := extensiontest.NewNopSettings(f.Type())
		set.ID = id
		ext, err := f.Create(ctx, set, cfg)
		require.NoError(t, err)
		require.NoError(t, ext.Start(ctx, host))
		t.Cleanup(func() { assert.NoError(t, ext.Shutdown(context.Background())) })
		host[id] = ext
	}
	bearerFactory := bearertokenauthextension.NewFactory()
	for name, token := range map[string]string{"acme": "acme-token", "globex": "globex-token", "ops": "ops-token"} {
		cfg := bearerFactory.CreateDefaultConfig().(*bearertokenauthextension.Config)
		cfg.BearerToken = configopaque.String(token)
		startExtension(bearerFactory, bearerID(name), cfg)
	}
	tenantAuthID := component.NewID(metadata.Type)
	startExtension(NewFactory(), tenantAuthID, &Config{
		Tenants: map[string]component.ID{"acme": bearerID("acme"), "globex": bearerID("globex")},
		Admins:  []component.ID{bearerID("ops")},
	})

	// The handler answers with what the authenticator vouched for.
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := client.FromContext(r.Context())
		fmt.Fprintf(w, "tenant=%s admin=%t addr=%t", tenancy.FromAuth(info, tenancy.AuthTenantAttribute), tenancy.IsAdmin(info), info.Addr != nil)
	})
	serverCfg := confighttp.NewDefaultServerConfig()
	serverCfg.NetAddr.Endpoint = "127.0.0.1:0"
	serverCfg.Auth = configoptional.Some(confighttp.AuthConfig{Config: configauth.Config{AuthenticatorID: tenantAuthID}})
	ln, err := serverCfg.ToListener(ctx)
	require.NoError(t, err)
	srv, err := serverCfg.ToServer(ctx, host.GetExtensions(), componenttest.NewNopTelemetrySettings(), handler)
	require.NoError(t, err)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { assert.NoError(t, srv.Close()) })
	url := "http://" + ln.Addr().(*net.TCPAddr).String() + "/"

	tests := []struct {
		authorization string
		wantStatus    int
		wantBody      string
	}{
		{"", http.StatusUnauthorized, "the credential matches no tenant and no admin"},
		{"Bearer wrong", http.StatusUnauthorized, "the credential matches no tenant and no admin"},
		{"Basic acme-token", http.StatusUnauthorized, "the credential matches no tenant and no admin"},
		{"Bearer acme-token", http.StatusOK, "tenant=acme admin=false addr=true"},
		{"Bearer globex-token", http.StatusOK, "tenant=globex admin=false addr=true"},
		{"Bearer ops-token", http.StatusOK, "tenant= admin=true addr=true"},
	}
	for _, tt := range tests {
		t.Run(tt.authorization, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, url, http.NoBody)
			require.NoError(t, err)
			if tt.authorization != "" {
				req.Header.Set("Authorization", tt.authorization)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			assert.Equal(t, tt.wantStatus, resp.StatusCode)
			assert.Equal(t, tt.wantBody, strings.TrimSpace(string(body)))
		})
	}
}
