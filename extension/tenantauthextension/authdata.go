package tenantauthextension // import "github.com/otelfusion/otelfusion/extension/tenantauthextension"

import (
	"slices"

	"go.opentelemetry.io/collector/client"

	"github.com/otelfusion/otelfusion/internal/tenancy"
)

// authData is what tenantauth puts in client.Info.Auth: the tenant a
// credential belongs to (tenancy.AuthTenantAttribute), or the admin mark
// (tenancy.AuthAdminAttribute). Attributes the delegated authenticator set
// (an OIDC subject, say) stay readable under their own names.
type authData struct {
	tenant string
	admin  bool
	inner  client.AuthData // the delegated authenticator's, may be nil
}

var _ client.AuthData = (*authData)(nil)

func newAuthData(tenant string, admin bool, inner client.AuthData) *authData {
	return &authData{tenant: tenant, admin: admin, inner: inner}
}

// GetAttribute answers the tenant and admin attributes itself and any other
// name from the delegated authenticator.
func (d *authData) GetAttribute(name string) any {
	switch name {
	case tenancy.AuthTenantAttribute:
		if d.tenant == "" {
			return nil
		}
		return d.tenant
	case tenancy.AuthAdminAttribute:
		if !d.admin {
			return nil
		}
		return true
	}
	if d.inner == nil {
		return nil
	}
	return d.inner.GetAttribute(name)
}

// GetAttributeNames lists the attributes that have a value.
func (d *authData) GetAttributeNames() []string {
	var names []string
	if d.tenant != "" {
		names = append(names, tenancy.AuthTenantAttribute)
	}
	if d.admin {
		names = append(names, tenancy.AuthAdminAttribute)
	}
	if d.inner != nil {
		for _, name := range d.inner.GetAttributeNames() {
			if name != tenancy.AuthTenantAttribute && name != tenancy.AuthAdminAttribute && !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
	}
	return names
}
