// Package tenantauthextension implements the tenantauth server
// authenticator: it maps a credential to the tenant it belongs to, or marks
// it as an admin's, by delegating the credential check to one authenticator
// per tenant (typically a bearertokenauth instance each). What it found is in
// client.Info.Auth under the names of internal/tenancy, where the otlpgo
// receiver, the query API and the tenant_quota admin API read it.
package tenantauthextension // import "github.com/otelfusion/otelfusion/extension/tenantauthextension"
