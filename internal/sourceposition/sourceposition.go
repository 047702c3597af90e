// Package sourceposition carries, on a pipeline's context, where the data
// being consumed was read from in an ordered source (a Kafka topic
// partition and offset), from the receiver that read it to the exporter that
// stores it exactly once. The key is private to the process: no header or
// field a client sends can set it, unlike client.Info metadata.
package sourceposition

import (
	"context"

	"github.com/otelfusion/otelfusion/pkg/fusionstore"
)

type contextKey struct{}

// NewContext returns ctx carrying pos.
func NewContext(ctx context.Context, pos fusionstore.Position) context.Context {
	return context.WithValue(ctx, contextKey{}, pos)
}

// FromContext returns the position ctx carries; ok is false when it carries
// none (the data did not come from an ordered source).
func FromContext(ctx context.Context) (pos fusionstore.Position, ok bool) {
	pos, ok = ctx.Value(contextKey{}).(fusionstore.Position)
	return pos, ok
}
