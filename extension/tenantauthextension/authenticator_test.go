package tenantauthextension

import (
	"context"
	"errors"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/extensionauth"
	"go.opentelemetry.io/collector/extension/extensiontest"

	"github.com/otelfusion/otelfusion/extension/tenantauthextension/internal/metadata"
	"github.com/otelfusion/otelfusion/internal/tenancy"
)

// fakeAuth accepts requests whose "authorization" source is one of its
// tokens, as bearertokenauth does, and counts its calls.
type fakeAuth struct {
	component.StartFunc
	component.ShutdownFunc
	tokens []string
	calls  int
	// inner, when set, is the client.AuthData the fake puts in the context
	// it returns, like an authenticator that names a subject.
	inner client.AuthData
}

var _ extensionauth.Server = (*fakeAuth)(nil)

func (f *fakeAuth) Authenticate(ctx context.Context, sources map[string][]string) (context.Context, error) {
	f.calls++
	for _, got := range sources["authorization"] {
		for _, want := range f.tokens {
			if got == "Bearer "+want {
				if f.inner != nil {
					info := client.FromContext(ctx)
					info.Auth = f.inner
					info.Metadata = client.NewMetadata(map[string][]string{"rewritten": {"by the delegate"}})
					ctx = client.NewContext(ctx, info)
				}
				return ctx, nil
			}
		}
	}
	return ctx, errors.New("bad token")
}

// notAuth is an extension that authenticates nothing.
type notAuth struct {
	component.StartFunc
	component.ShutdownFunc
}

// fakeHost offers a fixed set of extensions.
type fakeHost map[component.ID]component.Component

func (h fakeHost) GetExtensions() map[component.ID]component.Component { return h }

// subject is inner auth data with one attribute.
type subject string

func (s subject) GetAttribute(name string) any {
	if name == "subject" || name == tenancy.AuthTenantAttribute {
		return string(s)
	}
	return nil
}
func (subject) GetAttributeNames() []string { return []string{"subject", tenancy.AuthTenantAttribute} }

func bearerID(name string) component.ID { return component.MustNewIDWithName("bearertokenauth", name) }

// startAuth creates and starts a tenantauth over host.
func startAuth(t *testing.T, cfg *Config, host component.Host) (*tenantAuth, error) {
	t.Helper()
	require.NoError(t, cfg.Validate())
	set := extensiontest.NewNopSettings(metadata.Type)
	set.ID = component.NewID(metadata.Type)
	ext, err := NewFactory().Create(context.Background(), set, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, ext.Shutdown(context.Background())) })
	return ext.(*tenantAuth), ext.Start(context.Background(), host)
}

func bearer(token string) map[string][]string {
	return map[string][]string{"authorization": {"Bearer " + token}}
}

func TestAuthenticate(t *testing.T) {
	acme, globex, ops := &fakeAuth{tokens: []string{"a1", "a2"}}, &fakeAuth{tokens: []string{"g1"}}, &fakeAuth{tokens: []string{"o1"}}
	host := fakeHost{bearerID("acme"): acme, bearerID("globex"): globex, bearerID("ops"): ops}
	cfg := &Config{
		Tenants: map[string]component.ID{"acme": bearerID("acme"), "globex": bearerID("globex")},
		Admins:  []component.ID{bearerID("ops")},
	}
	auth, err := startAuth(t, cfg, host)
	require.NoError(t, err)

	addr := &net.TCPAddr{IP: net.IPv4(10, 0, 0, 7), Port: 5000}
	metadata := client.NewMetadata(map[string][]string{"x-tenant-id": {"globex"}})
	incoming := client.NewContext(context.Background(), client.Info{Addr: addr, Metadata: metadata})

	tests := []struct {
		name       string
		sources    map[string][]string
		wantTenant string
		wantAdmin  bool
		wantNames  []string
		wantErr    bool
	}{
		{name: "acme's first token", sources: bearer("a1"), wantTenant: "acme", wantNames: []string{"tenant"}},
		{name: "acme's second token", sources: bearer("a2"), wantTenant: "acme", wantNames: []string{"tenant"}},
		{name: "globex", sources: bearer("g1"), wantTenant: "globex", wantNames: []string{"tenant"}},
		{name: "admin", sources: bearer("o1"), wantAdmin: true, wantNames: []string{"admin"}},
		{name: "wrong token", sources: bearer("nope"), wantErr: true},
		{name: "no credential", sources: map[string][]string{}, wantErr: true},
		{name: "a token only close to one", sources: bearer("a1 "), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, err := auth.Authenticate(incoming, tt.sources)
			if tt.wantErr {
				require.ErrorIs(t, err, errNoMatch)
				assert.Nil(t, client.FromContext(ctx).Auth)
				return
			}
			require.NoError(t, err)
			info := client.FromContext(ctx)
			require.NotNil(t, info.Auth)
			assert.Equal(t, tt.wantTenant, tenancy.FromAuth(info, tenancy.AuthTenantAttribute))
			assert.Equal(t, tt.wantAdmin, tenancy.IsAdmin(info))
			assert.Equal(t, tt.wantNames, info.Auth.GetAttributeNames())
			assert.Equal(t, addr, info.Addr, "the incoming address is kept")
			assert.Equal(t, []string{"globex"}, info.Metadata.Get("X-Tenant-ID"), "the incoming metadata is kept")
			if tt.wantAdmin {
				assert.Nil(t, info.Auth.GetAttribute(tenancy.AuthTenantAttribute), "an admin names no tenant")
			} else {
				assert.Nil(t, info.Auth.GetAttribute(tenancy.AuthAdminAttribute), "a tenant is no admin")
			}
		})
	}
}

func TestAuthenticateOrder(t *testing.T) {
	// One token accepted by every authenticator: tenants by name come first,
	// and an admin is asked only when no tenant accepts.
	shared := []string{"same"}
	alpha, zeta, ops := &fakeAuth{tokens: shared}, &fakeAuth{tokens: shared}, &fakeAuth{tokens: []string{"same", "ops"}}
	host := fakeHost{bearerID("alpha"): alpha, bearerID("zeta"): zeta, bearerID("ops"): ops}
	cfg := &Config{
		Tenants: map[string]component.ID{"zeta": bearerID("zeta"), "alpha": bearerID("alpha")},
		Admins:  []component.ID{bearerID("ops")},
	}
	auth, err := startAuth(t, cfg, host)
	require.NoError(t, err)
	for range 3 {
		ctx, err := auth.Authenticate(context.Background(), bearer("same"))
		require.NoError(t, err)
		assert.Equal(t, "alpha", tenancy.FromAuth(client.FromContext(ctx), tenancy.AuthTenantAttribute))
	}
	assert.Equal(t, 3, alpha.calls)
	assert.Zero(t, zeta.calls, "later authenticators are not asked once one accepts")
	assert.Zero(t, ops.calls)

	ctx, err := auth.Authenticate(context.Background(), bearer("ops"))
	require.NoError(t, err)
	assert.True(t, tenancy.IsAdmin(client.FromContext(ctx)))
	assert.Equal(t, []int{4, 1, 1}, []int{alpha.calls, zeta.calls, ops.calls})
}

func TestAuthenticateCancelled(t *testing.T) {
	acme := &fakeAuth{tokens: []string{"a1"}}
	auth, err := startAuth(t, &Config{Tenants: map[string]component.ID{"acme": bearerID("acme")}}, fakeHost{bearerID("acme"): acme})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = auth.Authenticate(ctx, bearer("a1"))
	require.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, acme.calls)
}

func TestDelegateAuthData(t *testing.T) {
	acme := &fakeAuth{tokens: []string{"a1"}, inner: subject("alice")}
	auth, err := startAuth(t, &Config{Tenants: map[string]component.ID{"acme": bearerID("acme")}}, fakeHost{bearerID("acme"): acme})
	require.NoError(t, err)
	metadata := client.NewMetadata(map[string][]string{"x-tenant-id": {"acme"}})
	ctx, err := auth.Authenticate(client.NewContext(context.Background(), client.Info{Metadata: metadata}), bearer("a1"))
	require.NoError(t, err)
	info := client.FromContext(ctx)
	// The delegate's attributes stay readable, but never its "tenant".
	assert.Equal(t, "acme", info.Auth.GetAttribute(tenancy.AuthTenantAttribute))
	assert.Equal(t, "alice", info.Auth.GetAttribute("subject"))
	assert.Equal(t, []string{"tenant", "subject"}, info.Auth.GetAttributeNames())
	assert.Equal(t, []string{"acme"}, info.Metadata.Get("x-tenant-id"), "the incoming metadata, not the delegate's")
	assert.Empty(t, info.Metadata.Get("rewritten"))
}

func TestStartFailures(t *testing.T) {
	acme := &fakeAuth{tokens: []string{"a1"}}
	tests := []struct {
		name    string
		cfg     *Config
		host    fakeHost
		wantErr []string
	}{
		{
			name:    "missing tenant authenticator",
			cfg:     &Config{Tenants: map[string]component.ID{"acme": bearerID("acme"), "globex": bearerID("globex")}},
			host:    fakeHost{bearerID("acme"): acme},
			wantErr: []string{"'tenants::globex' refers to bearertokenauth/globex, which is not configured"},
		},
		{
			name:    "missing admin authenticator",
			cfg:     &Config{Admins: []component.ID{bearerID("ops")}},
			host:    fakeHost{},
			wantErr: []string{"'admins[0]' refers to bearertokenauth/ops, which is not configured"},
		},
		{
			name:    "not an authenticator",
			cfg:     &Config{Tenants: map[string]component.ID{"acme": component.MustNewID("health_check")}},
			host:    fakeHost{component.MustNewID("health_check"): &notAuth{}},
			wantErr: []string{"'tenants::acme' refers to health_check, which is not a server authenticator"},
		},
		{
			name:    "itself",
			cfg:     &Config{Admins: []component.ID{component.NewID(metadata.Type)}},
			host:    fakeHost{},
			wantErr: []string{"'admins[0]' refers to tenantauth itself"},
		},
		{
			name: "every fault is named",
			cfg: &Config{
				Tenants: map[string]component.ID{"acme": bearerID("acme"), "globex": bearerID("globex")},
				Admins:  []component.ID{bearerID("ops")},
			},
			host: fakeHost{},
			wantErr: []string{
				"'tenants::acme' refers to bearertokenauth/acme",
				"'tenants::globex' refers to bearertokenauth/globex",
				"'admins[0]' refers to bearertokenauth/ops",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			auth, err := startAuth(t, tt.cfg, tt.host)
			require.Error(t, err)
			for _, want := range tt.wantErr {
				assert.ErrorContains(t, err, want)
			}
			_, err = auth.Authenticate(context.Background(), bearer("a1"))
			assert.ErrorIs(t, err, errNoMatch, "an authenticator that did not start accepts nothing")
		})
	}
}

func TestDependencies(t *testing.T) {
	cfg := &Config{
		Tenants: map[string]component.ID{"globex": bearerID("globex"), "acme": bearerID("acme")},
		Admins:  []component.ID{bearerID("ops"), component.MustNewID("oidc")},
	}
	auth, err := startAuth(t, cfg, fakeHost{})
	require.Error(t, err)
	assert.Equal(t, []component.ID{bearerID("acme"), bearerID("globex"), bearerID("ops"), component.MustNewID("oidc")}, auth.Dependencies())
}

func TestShutdownWithoutStart(t *testing.T) {
	ext, err := NewFactory().Create(context.Background(), extensiontest.NewNopSettings(metadata.Type), &Config{Admins: []component.ID{bearerID("ops")}})
	require.NoError(t, err)
	assert.NoError(t, ext.Shutdown(context.Background()))
}
