package tenantauthextension

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/component/componenttest"

	"github.com/otelfusion/otelfusion/extension/tenantauthextension/internal/metadata"
)

func TestFactory(t *testing.T) {
	f := NewFactory()
	assert.Equal(t, metadata.Type, f.Type())
	assert.Equal(t, metadata.ExtensionStability, f.Stability())
	cfg := f.CreateDefaultConfig()
	assert.NoError(t, componenttest.CheckConfigStruct(cfg))
	// Nothing is configured by default: a tenantauth must name someone.
	assert.EqualError(t, cfg.(*Config).Validate(), "at least one of 'tenants' or 'admins' must be set")
}
