package otlpgoreceiver // import "github.com/otelfusion/otelfusion/receiver/otlpgoreceiver"

import (
	"errors"
	"fmt"
	"slices"

	"github.com/otelfusion/otelfusion/internal/tenancy"
)

// TenantSource names where the receiver may learn a request's tenant.
type TenantSource string

const (
	// TenantSourceAuth is the tenant an auth extension vouched for: the
	// attribute 'auth_attribute' of the request's client info (the tenantauth
	// extension sets it from the credential).
	TenantSourceAuth TenantSource = "auth"
	// TenantSourceMetadata is the request header 'metadata_key'. Trust it only
	// where something in front of the receiver sets it (an auth proxy).
	TenantSourceMetadata TenantSource = "metadata"
	// TenantSourceResource is the resource attribute 'resource_attribute' as
	// the sender wrote it. Trust it only from senders that are yours, such as
	// an agent tier that already decided each item's tenant.
	TenantSourceResource TenantSource = "resource"
)

// ConflictAction says what happens to a resource whose sender wrote a tenant
// other than the one the receiver decided.
type ConflictAction string

const (
	// ConflictOverwrite replaces the sender's value and counts it.
	ConflictOverwrite ConflictAction = "overwrite"
	// ConflictRefuse refuses the whole request (403, gRPC PermissionDenied).
	ConflictRefuse ConflictAction = "refuse"
)

// maxTenantIDBytes bounds a tenant name taken from a request.
const maxTenantIDBytes = 256

// TenantConfig decides the tenant of every item the receiver takes, once, from
// what the server authenticated, and writes it into the resource attribute
// every later component reads.
type TenantConfig struct {
	// Sources are tried in order; the first that names a tenant decides.
	// Each of "auth", "metadata", "resource" at most once.
	Sources []TenantSource `mapstructure:"sources"`

	// AuthAttribute is the client info auth attribute holding the tenant.
	AuthAttribute string `mapstructure:"auth_attribute"`

	// MetadataKey is the request header naming the tenant for the "metadata"
	// source. The receiver includes request metadata whenever this source is
	// listed.
	MetadataKey string `mapstructure:"metadata_key"`

	// ResourceAttribute is the resource attribute the decided tenant is
	// written to (and read from, for the "resource" source).
	ResourceAttribute string `mapstructure:"resource_attribute"`

	// DefaultTenant is the tenant of requests no source names. Empty refuses
	// them: 401, gRPC Unauthenticated.
	DefaultTenant string `mapstructure:"default_tenant"`

	// OnConflict is "overwrite" or "refuse": what to do with a resource whose
	// sender wrote another tenant than the decided one.
	OnConflict ConflictAction `mapstructure:"on_conflict"`

	// ServerOnlyAttributes are resource attributes only server components may
	// write (the per-tenant retention tenant_quota hands to the store). They
	// are removed from what senders send unless "resource" is a source.
	ServerOnlyAttributes []string `mapstructure:"server_only_attributes"`

	// prevent unkeyed literal initialization
	_ struct{}
}

func defaultTenantConfig() TenantConfig {
	return TenantConfig{
		Sources:              []TenantSource{TenantSourceAuth, TenantSourceMetadata},
		AuthAttribute:        tenancy.AuthTenantAttribute,
		MetadataKey:          tenancy.Header,
		ResourceAttribute:    tenancy.ResourceAttribute,
		DefaultTenant:        tenancy.DefaultTenant,
		OnConflict:           ConflictOverwrite,
		ServerOnlyAttributes: []string{tenancy.RetentionAttribute},
	}
}

// validate checks the tenant section for Config.Validate; errors name the
// YAML key from the receiver down, so the section is not a Validator itself.
func (tc *TenantConfig) validate() error {
	var errs []error
	if len(tc.Sources) == 0 {
		errs = append(errs, errors.New("'tenant::sources' must name at least one of \"auth\", \"metadata\", \"resource\""))
	}
	seen := map[TenantSource]bool{}
	for _, s := range tc.Sources {
		switch s {
		case TenantSourceAuth, TenantSourceMetadata, TenantSourceResource:
		default:
			errs = append(errs, fmt.Errorf("'tenant::sources' has %q, want \"auth\", \"metadata\" or \"resource\"", s))
			continue
		}
		if seen[s] {
			errs = append(errs, fmt.Errorf("'tenant::sources' lists %q twice", s))
		}
		seen[s] = true
	}
	if seen[TenantSourceAuth] && tc.AuthAttribute == "" {
		errs = append(errs, errors.New("'tenant::auth_attribute' must be set when \"auth\" is a source"))
	}
	if seen[TenantSourceMetadata] && tc.MetadataKey == "" {
		errs = append(errs, errors.New("'tenant::metadata_key' must be set when \"metadata\" is a source"))
	}
	if tc.ResourceAttribute == "" {
		errs = append(errs, errors.New("'tenant::resource_attribute' must be set"))
	}
	if len(tc.DefaultTenant) > maxTenantIDBytes {
		errs = append(errs, fmt.Errorf("'tenant::default_tenant' is longer than %d bytes", maxTenantIDBytes))
	}
	switch tc.OnConflict {
	case ConflictOverwrite, ConflictRefuse:
	default:
		errs = append(errs, fmt.Errorf("'tenant::on_conflict' must be %q or %q, got %q", ConflictOverwrite, ConflictRefuse, tc.OnConflict))
	}
	if slices.Contains(tc.ServerOnlyAttributes, tc.ResourceAttribute) {
		errs = append(errs, errors.New("'tenant::server_only_attributes' must not hold 'tenant::resource_attribute'"))
	}
	return errors.Join(errs...)
}

func (tc *TenantConfig) uses(s TenantSource) bool { return slices.Contains(tc.Sources, s) }
