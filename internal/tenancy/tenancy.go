// Package tenancy holds the names every otelfusion component agrees on for
// tenant identity, and reads the identity an authenticator vouched for.
//
// The tenant of an item is decided once, by the otlpgo receiver, from what the
// server authenticated (the client info an auth extension filled in, or a
// header the deployment trusts). The receiver writes it into the resource
// attribute ResourceAttribute of every resource, overwriting what a sender
// wrote; every later component (tenant_quota, fusion, the store) reads that
// attribute and nothing else.
package tenancy // import "github.com/otelfusion/otelfusion/internal/tenancy"

import (
	"go.opentelemetry.io/collector/client"
)

const (
	// ResourceAttribute is the resource attribute that carries the tenant
	// downstream of the receiver.
	ResourceAttribute = "tenant.id"

	// Header is the request header that names a tenant where the deployment
	// trusts it (behind an auth proxy, or from the agent tier).
	Header = "X-Tenant-ID"

	// AuthTenantAttribute is the client.AuthData attribute in which the
	// tenantauth extension puts the tenant a credential belongs to.
	AuthTenantAttribute = "tenant"

	// AuthAdminAttribute is the client.AuthData attribute the tenantauth
	// extension sets to true for an operator credential, which may span
	// tenants where an API allows it (the query API).
	AuthAdminAttribute = "admin"

	// RetentionAttribute is the resource attribute through which tenant_quota
	// tells the store a tenant's retention. Only server components write it:
	// the receiver removes it from what senders send.
	RetentionAttribute = "otelfusion.retention"

	// DefaultTenant is the tenant of data whose request names none, where the
	// config allows such requests (the loopback default config).
	DefaultTenant = "default"
)

// FromAuth returns the tenant the request's authenticator vouched for in
// attribute, "" when there is none (no auth, or an authenticator that proves
// only that the caller may connect).
func FromAuth(info client.Info, attribute string) string {
	if info.Auth == nil || attribute == "" {
		return ""
	}
	if v, ok := info.Auth.GetAttribute(attribute).(string); ok {
		return v
	}
	return ""
}

// IsAdmin reports whether the request's authenticator marked it as an
// operator's.
func IsAdmin(info client.Info) bool {
	if info.Auth == nil {
		return false
	}
	switch v := info.Auth.GetAttribute(AuthAdminAttribute).(type) {
	case bool:
		return v
	case string:
		return v == "true"
	}
	return false
}

// FromMetadata returns the first non-empty value of header key in the
// request's client metadata, "" when there is none.
func FromMetadata(info client.Info, key string) string {
	if key == "" {
		return ""
	}
	for _, v := range info.Metadata.Get(key) {
		if v != "" {
			return v
		}
	}
	return ""
}
