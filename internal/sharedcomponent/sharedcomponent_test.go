package sharedcomponent

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
)

type countingComponent struct {
	starts, shutdowns int
	startErr          error
}

func (c *countingComponent) Start(context.Context, component.Host) error {
	c.starts++
	return c.startErr
}

func (c *countingComponent) Shutdown(context.Context) error {
	c.shutdowns++
	return nil
}

func TestOneInstanceForThreePipelines(t *testing.T) {
	m := NewMap[string, *countingComponent]()
	created := 0
	create := func() (*countingComponent, error) { created++; return &countingComponent{}, nil }
	var shared []*Component[*countingComponent]
	for range 3 {
		c, err := m.LoadOrStore("cfg", create)
		require.NoError(t, err)
		shared = append(shared, c)
	}
	assert.Equal(t, 1, created)
	inner := shared[0].Unwrap()
	for _, c := range shared {
		require.NoError(t, c.Start(context.Background(), componenttest.NewNopHost()))
	}
	assert.Equal(t, 1, inner.starts)

	require.NoError(t, shared[0].Shutdown(context.Background()))
	require.NoError(t, shared[1].Shutdown(context.Background()))
	assert.Equal(t, 0, inner.shutdowns, "still in use by one pipeline")
	assert.Equal(t, 1, m.Len())
	require.NoError(t, shared[2].Shutdown(context.Background()))
	assert.Equal(t, 1, inner.shutdowns)
	assert.Equal(t, 0, m.Len())

	// A later pipeline build gets a fresh instance.
	again, err := m.LoadOrStore("cfg", create)
	require.NoError(t, err)
	assert.NotSame(t, inner, again.Unwrap())
}

func TestStartErrorIsSharedAndShutdownWithoutStart(t *testing.T) {
	m := NewMap[int, *countingComponent]()
	boom := errors.New("boom")
	a, err := m.LoadOrStore(1, func() (*countingComponent, error) { return &countingComponent{startErr: boom}, nil })
	require.NoError(t, err)
	b, err := m.LoadOrStore(1, nil)
	require.NoError(t, err)
	assert.ErrorIs(t, a.Start(context.Background(), componenttest.NewNopHost()), boom)
	assert.ErrorIs(t, b.Start(context.Background(), componenttest.NewNopHost()), boom)
	assert.Equal(t, 1, a.Unwrap().starts)

	fresh, err := m.LoadOrStore(2, func() (*countingComponent, error) { return &countingComponent{}, nil })
	require.NoError(t, err)
	assert.NoError(t, fresh.Shutdown(context.Background()), "shutdown without start")
}

func TestCreateErrorStoresNothing(t *testing.T) {
	m := NewMap[int, *countingComponent]()
	_, err := m.LoadOrStore(1, func() (*countingComponent, error) { return nil, errors.New("bad config") })
	require.Error(t, err)
	assert.Equal(t, 0, m.Len())
}
