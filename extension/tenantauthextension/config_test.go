package tenantauthextension

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/otelfusion/otelfusion/extension/tenantauthextension/internal/metadata"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	bearer := component.MustNewType("bearertokenauth")
	tests := []struct {
		name         string
		want         *Config
		wantErr      string // from Validate
		wantParseErr string // from Unmarshal
	}{
		{name: "gateway", want: &Config{
			Tenants: map[string]component.ID{
				"acme":   component.MustNewIDWithName("bearertokenauth", "acme"),
				"globex": component.MustNewIDWithName("bearertokenauth", "globex"),
			},
			Admins: []component.ID{component.NewIDWithName(bearer, "ops")},
		}},
		{name: "admins_only", want: &Config{
			Admins: []component.ID{component.NewIDWithName(bearer, "ops"), component.MustNewID("oidc")},
		}},
		{name: "empty", wantErr: "at least one of 'tenants' or 'admins' must be set"},
		{name: "empty_name", wantErr: "'tenants' must not name an empty tenant (it maps to bearertokenauth/nobody)"},
		{name: "shared", wantErr: "'tenants::globex' refers to bearertokenauth/shared, which 'tenants::acme' already uses"},
		{name: "tenant_and_admin", wantErr: "'admins[0]' refers to bearertokenauth/acme, which 'tenants::acme' already uses"},
		{name: "bad_id", wantParseErr: "tenants"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := createDefaultConfig().(*Config)
			sub, err := cm.Sub(component.NewIDWithName(metadata.Type, tt.name).String())
			require.NoError(t, err)
			err = sub.Unmarshal(cfg)
			if tt.wantParseErr != "" {
				require.ErrorContains(t, err, tt.wantParseErr)
				return
			}
			require.NoError(t, err)
			err = confmap.Validate(cfg)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, cfg)
		})
	}
}

func TestReferencesOrder(t *testing.T) {
	cfg := &Config{
		Tenants: map[string]component.ID{
			"zeta":  component.MustNewIDWithName("bearertokenauth", "z"),
			"alpha": component.MustNewIDWithName("bearertokenauth", "a"),
			"mid":   component.MustNewIDWithName("bearertokenauth", "m"),
		},
		Admins: []component.ID{component.MustNewIDWithName("bearertokenauth", "ops2"), component.MustNewIDWithName("bearertokenauth", "ops1")},
	}
	var keys []string
	for _, ref := range cfg.references() {
		keys = append(keys, ref.key())
	}
	assert.Equal(t, []string{"'tenants::alpha'", "'tenants::mid'", "'tenants::zeta'", "'admins[0]'", "'admins[1]'"}, keys)
}
