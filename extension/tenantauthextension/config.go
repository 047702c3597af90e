package tenantauthextension // import "github.com/otelfusion/otelfusion/extension/tenantauthextension"

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.opentelemetry.io/collector/component"
)

// Config maps credentials to tenants by naming, for each tenant and for the
// operators, the server authenticator that checks their credential.
type Config struct {
	// Tenants maps a tenant name to the ID of the server authenticator (for
	// example a bearertokenauth instance) that accepts that tenant's
	// credential.
	Tenants map[string]component.ID `mapstructure:"tenants"`

	// Admins are the IDs of server authenticators that accept operator
	// credentials: an admin is tied to no tenant and may span tenants where
	// an API allows it.
	Admins []component.ID `mapstructure:"admins"`

	// prevent unkeyed literal initialization
	_ struct{}
}

var _ component.Config = (*Config)(nil)

// Validate checks that something is configured, that every tenant has a
// name, and that no authenticator is named twice (the second use could
// never match).
func (cfg *Config) Validate() error {
	var errs error
	if len(cfg.Tenants) == 0 && len(cfg.Admins) == 0 {
		errs = errors.Join(errs, errors.New("at least one of 'tenants' or 'admins' must be set"))
	}
	usedBy := map[component.ID]string{}
	for _, ref := range cfg.references() {
		if ref.tenant == "" && !ref.admin {
			errs = errors.Join(errs, fmt.Errorf("'tenants' must not name an empty tenant (it maps to %s)", ref.id))
			continue
		}
		if strings.TrimSpace(ref.tenant) != ref.tenant {
			errs = errors.Join(errs, fmt.Errorf("%s: a tenant name must not start or end with white space", ref.key()))
		}
		if first, ok := usedBy[ref.id]; ok {
			errs = errors.Join(errs, fmt.Errorf("%s refers to %s, which %s already uses", ref.key(), ref.id, first))
			continue
		}
		usedBy[ref.id] = ref.key()
	}
	return errs
}

// reference is one authenticator the config names, and whose credential it
// stands for.
type reference struct {
	id     component.ID
	tenant string // "" for an admin
	admin  bool
	index  int // position in 'admins'
}

// key is the YAML key of the reference, as errors quote it.
func (r reference) key() string {
	if r.admin {
		return fmt.Sprintf("'admins[%d]'", r.index)
	}
	return fmt.Sprintf("'tenants::%s'", r.tenant)
}

// references lists the authenticators in the order Authenticate tries them:
// tenants by name, then admins as listed. Tenants come first so that a
// credential configured for both is given the narrower scope.
func (cfg *Config) references() []reference {
	names := make([]string, 0, len(cfg.Tenants))
	for name := range cfg.Tenants {
		names = append(names, name)
	}
	slices.Sort(names)
	refs := make([]reference, 0, len(names)+len(cfg.Admins))
	for _, name := range names {
		refs = append(refs, reference{id: cfg.Tenants[name], tenant: name})
	}
	for i, id := range cfg.Admins {
		refs = append(refs, reference{id: id, admin: true, index: i})
	}
	return refs
}
