package raftwal

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"

	"github.com/otelfusion/otelfusion/extension/raftwal/internal/metadata"
)

// NewFactory returns the factory of the raftwal storage extension.
func NewFactory() extension.Factory {
	return extension.NewFactory(metadata.Type, createDefaultConfig, createExtension, metadata.ExtensionStability)
}

func createDefaultConfig() component.Config {
	return &Config{
		Directory:          "/var/lib/otelcol/raftwal",
		NodeID:             "node1",
		HeartbeatTimeout:   time.Second,
		ElectionTimeout:    time.Second,
		LeaderLeaseTimeout: 500 * time.Millisecond,
		ApplyTimeout:       5 * time.Second,
		MaxBatchesPerEntry: 256,
		SegmentSize:        64 << 20,
		SnapshotThreshold:  8192,
		SnapshotInterval:   30 * time.Second,
		TrailingLogs:       10240,
		SnapshotRetain:     2,
	}
}

func createExtension(_ context.Context, set extension.Settings, cfg component.Config) (extension.Extension, error) {
	return newWALExtension(cfg.(*Config), set)
}
