package fusionstoreextension

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/extension/extensiontest"

	"github.com/otelfusion/otelfusion/extension/fusionstoreextension/internal/metadata"
	"github.com/otelfusion/otelfusion/pkg/fusionstore"
)

func TestFactory(t *testing.T) {
	factory := NewFactory()
	assert.Equal(t, metadata.Type, factory.Type())
	assert.Equal(t, metadata.ExtensionStability, factory.Stability())
	assert.NoError(t, componenttest.CheckConfigStruct(factory.CreateDefaultConfig()))
}

func TestShutdownWithoutStart(t *testing.T) {
	cfg, _ := storeConfig(t)
	ext, err := NewFactory().Create(context.Background(), extensiontest.NewNopSettings(metadata.Type), cfg)
	require.NoError(t, err)
	assert.NoError(t, ext.Shutdown(context.Background()))
	assert.NoError(t, ext.Shutdown(context.Background()))
	// Before Start there is no store to append to.
	assert.ErrorIs(t, ext.(fusionstore.Appender).AppendTraces(context.Background(), tenantTraces("acme", time.Now())), fusionstore.ErrClosed)
}

func TestLifecycle(t *testing.T) {
	cfg, _ := storeConfig(t)
	cfg.Query = configoptional.None[QueryConfig]()
	ext, err := NewFactory().Create(context.Background(), extensiontest.NewNopSettings(metadata.Type), cfg)
	require.NoError(t, err)
	require.NoError(t, ext.Start(context.Background(), componenttest.NewNopHost()))
	store := ext.(fusionstore.Appender)
	ctx := context.Background()
	require.NoError(t, store.AppendTraces(ctx, tenantTraces("acme", time.Now())))
	require.NoError(t, store.AppendLogs(ctx, tenantLogs("acme", time.Now())))
	require.NoError(t, ext.Shutdown(ctx))

	// A late append finds the store closed; a second Shutdown is harmless.
	assert.ErrorIs(t, store.AppendLogs(ctx, tenantLogs("acme", time.Now())), fusionstore.ErrClosed)
	assert.NoError(t, ext.Shutdown(ctx))

	// The rows were written before the close, and the file is released.
	reopened, err := fusionstore.Open(ctx, &cfg.Store)
	require.NoError(t, err)
	res := &rowCounter{}
	require.NoError(t, reopened.Query(ctx, "SELECT span.operation FROM traces", "acme", fusionstore.QueryLimits{MaxRows: 10, DefaultTimeWindow: time.Hour}, res))
	assert.Equal(t, 1, res.rows)
	require.NoError(t, reopened.Close())
}

// rowCounter is an AnswerWriter that counts rows.
type rowCounter struct{ rows int }

func (c *rowCounter) Begin([]string) error { return nil }
func (c *rowCounter) Row([]any) error {
	c.rows++
	return nil
}
