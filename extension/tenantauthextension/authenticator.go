package tenantauthextension // import "github.com/otelfusion/otelfusion/extension/tenantauthextension"

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/extensionauth"
	"go.opentelemetry.io/collector/extension/extensioncapabilities"
)

// errNoMatch is returned when no tenant's and no admin's authenticator
// accepts the request. Servers answer it with 401 (HTTP) or Unauthenticated
// (gRPC), with this text as the message, so it names no tenant.
var errNoMatch = errors.New("the credential matches no tenant and no admin")

// tenantAuth is a server authenticator that delegates the credential check
// to the authenticators its config names and records whose credential it
// was in client.Info.Auth.
type tenantAuth struct {
	id   component.ID
	refs []reference

	// checkers are the resolved authenticators, in refs order; set by Start,
	// read-only afterwards, so Authenticate may run concurrently.
	checkers []checker
}

// checker is one resolved authenticator and the identity it vouches for.
type checker struct {
	reference
	server extensionauth.Server
}

var (
	_ extensionauth.Server            = (*tenantAuth)(nil)
	_ extensioncapabilities.Dependent = (*tenantAuth)(nil)
	_ extension.Extension             = (*tenantAuth)(nil)
)

func newTenantAuth(cfg *Config, set extension.Settings) *tenantAuth {
	return &tenantAuth{id: set.ID, refs: cfg.references()}
}

// Dependencies returns the referenced authenticators, so the collector
// starts them before this extension.
func (a *tenantAuth) Dependencies() []component.ID {
	ids := make([]component.ID, 0, len(a.refs))
	for _, ref := range a.refs {
		ids = append(ids, ref.id)
	}
	slices.SortFunc(ids, func(x, y component.ID) int { return strings.Compare(x.String(), y.String()) })
	return slices.Compact(ids)
}

// Start resolves every referenced authenticator among the host's extensions.
func (a *tenantAuth) Start(_ context.Context, host component.Host) error {
	extensions := host.GetExtensions()
	checkers := make([]checker, 0, len(a.refs))
	var errs error
	for _, ref := range a.refs {
		if ref.id == a.id {
			errs = errors.Join(errs, fmt.Errorf("%s refers to %s itself", ref.key(), a.id))
			continue
		}
		ext, ok := extensions[ref.id]
		if !ok {
			errs = errors.Join(errs, fmt.Errorf("%s refers to %s, which is not configured (or not listed in 'service::extensions')", ref.key(), ref.id))
			continue
		}
		server, ok := ext.(extensionauth.Server)
		if !ok {
			errs = errors.Join(errs, fmt.Errorf("%s refers to %s, which is not a server authenticator", ref.key(), ref.id))
			continue
		}
		checkers = append(checkers, checker{reference: ref, server: server})
	}
	if errs != nil {
		return fmt.Errorf("%s: %w", a.id, errs)
	}
	a.checkers = checkers
	return nil
}

// Shutdown has nothing to release: the referenced authenticators are
// extensions of their own, stopped by the collector.
func (a *tenantAuth) Shutdown(context.Context) error {
	return nil
}

// Authenticate tries the tenants' authenticators by tenant name, then the
// admins' as listed; the first that accepts decides. The returned context
// carries the incoming client.Info (address, metadata) with Auth naming the
// tenant, or marking the request as an admin's.
func (a *tenantAuth) Authenticate(ctx context.Context, sources map[string][]string) (context.Context, error) {
	for _, c := range a.checkers {
		if err := ctx.Err(); err != nil {
			return ctx, err
		}
		authenticated, err := c.server.Authenticate(ctx, sources)
		if err != nil {
			continue
		}
		info := client.FromContext(ctx)
		info.Auth = newAuthData(c.tenant, c.admin, client.FromContext(authenticated).Auth)
		return client.NewContext(authenticated, info), nil
	}
	return ctx, errNoMatch
}
