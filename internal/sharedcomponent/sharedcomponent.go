// Package sharedcomponent lets the pipelines that name one component
// configuration (say a receiver in the traces, logs and metrics pipelines)
// share one running instance of it: started by the first Start, stopped by
// the last Shutdown.
package sharedcomponent

import (
	"context"
	"sync"

	"go.opentelemetry.io/collector/component"
)

// Map holds the shared instances, keyed by their configuration. It is safe
// for concurrent use.
type Map[K comparable, V component.Component] struct {
	mu         sync.Mutex
	components map[K]*Component[V]
}

// NewMap returns an empty Map.
func NewMap[K comparable, V component.Component]() *Map[K, V] {
	return &Map[K, V]{components: map[K]*Component[V]{}}
}

// LoadOrStore returns the instance for key, calling create to make it if there
// is none yet. Each call counts as one user: the instance shuts down when every
// user has called Shutdown.
func (m *Map[K, V]) LoadOrStore(key K, create func() (V, error)) (*Component[V], error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c, ok := m.components[key]; ok {
		c.users++
		return c, nil
	}
	v, err := create()
	if err != nil {
		return nil, err
	}
	c := &Component[V]{value: v, users: 1, remove: func() {
		m.mu.Lock()
		delete(m.components, key)
		m.mu.Unlock()
	}}
	m.components[key] = c
	return c, nil
}

// Len reports how many instances are held; tests use it to check cleanup.
func (m *Map[K, V]) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.components)
}

// Component is one shared instance. Start runs the wrapped Start once; Shutdown
// runs the wrapped Shutdown when the last user shuts down (or never started).
type Component[V component.Component] struct {
	value V

	mu       sync.Mutex
	users    int
	started  bool
	startErr error
	stopped  bool
	remove   func()
}

// Unwrap returns the shared instance.
func (c *Component[V]) Unwrap() V { return c.value }

// Start starts the instance the first time it is called and returns that
// first result to every caller.
func (c *Component[V]) Start(ctx context.Context, host component.Host) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.started {
		return c.startErr
	}
	c.started = true
	c.startErr = c.value.Start(ctx, host)
	return c.startErr
}

// Shutdown releases one user; the last one shuts the instance down and
// removes it from its Map, so a restarted pipeline gets a fresh instance.
func (c *Component[V]) Shutdown(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return nil
	}
	c.users--
	if c.users > 0 {
		return nil
	}
	c.stopped = true
	c.remove()
	return c.value.Shutdown(ctx)
}
