package raftwal

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/otelfusion/otelfusion/extension/raftwal/internal/metadata"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	tests := []struct {
		name    string
		want    func(*Config)
		wantErr string
	}{
		{name: "", want: func(*Config) {}},
		{name: "single", want: func(c *Config) { c.NodeID = "agent-1" }},
		{name: "cluster", want: func(c *Config) {
			c.NodeID, c.BindAddress, c.Advertise = "gw-1", "0.0.0.0:7300", "10.0.0.1:7300"
			c.Peers = []PeerConfig{{ID: "gw-1", Address: "10.0.0.1:7300"}, {ID: "gw-2", Address: "10.0.0.2:7300"}, {ID: "gw-3", Address: "10.0.0.3:7300"}}
			c.HeartbeatTimeout, c.ElectionTimeout, c.LeaderLeaseTimeout = 500*time.Millisecond, 500*time.Millisecond, 250*time.Millisecond
			c.MaxBatchesPerEntry = 64
		}},
		{name: "not_a_peer", wantErr: `'node_id' "gw-9" must be one of 'peers'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := createDefaultConfig().(*Config)
			sub, err := cm.Sub(component.NewIDWithName(metadata.Type, tt.name).String())
			require.NoError(t, err)
			require.NoError(t, sub.Unmarshal(cfg))
			err = confmap.Validate(cfg)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			want := createDefaultConfig().(*Config)
			tt.want(want)
			assert.Equal(t, want, cfg)
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantErr string
	}{
		{"no directory", func(c *Config) { c.Directory = "" }, "'directory' must be set"},
		{"no node id", func(c *Config) { c.NodeID = "" }, "'node_id' must be set"},
		{"lease above heartbeat", func(c *Config) { c.LeaderLeaseTimeout = 2 * time.Second }, "'leader_lease_timeout' must be <= 'heartbeat_timeout'"},
		{"election below heartbeat", func(c *Config) { c.ElectionTimeout = 100 * time.Millisecond }, "'election_timeout' must be >= 'heartbeat_timeout'"},
		{"zero batches", func(c *Config) { c.MaxBatchesPerEntry = 0 }, "'max_batches_per_entry' must be >= 1"},
		{"tiny segments", func(c *Config) { c.SegmentSize = 1024 }, "'segment_size' must be >= 65536"},
		{"tls without peers", func(c *Config) { c.TLS.GetOrInsertDefault() }, "'tls' needs 'peers'"},
		{"bad bind", func(c *Config) {
			c.Peers = []PeerConfig{{ID: "node1", Address: "x"}}
			c.BindAddress = "nope"
		}, "'bind_address' must be host:port"},
		{"duplicate peer", func(c *Config) {
			c.BindAddress = "127.0.0.1:1"
			c.Peers = []PeerConfig{{ID: "node1", Address: "127.0.0.1:1"}, {ID: "node1", Address: "127.0.0.1:2"}}
		}, `'peers[1]::id' "node1" is listed twice`},
		{"self address differs", func(c *Config) {
			c.BindAddress = "127.0.0.1:1"
			c.Peers = []PeerConfig{{ID: "node1", Address: "127.0.0.1:2"}}
		}, "must equal 'advertise'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := createDefaultConfig().(*Config)
			tt.mutate(cfg)
			require.ErrorContains(t, cfg.Validate(), tt.wantErr)
		})
	}
}

func TestConfigStruct(t *testing.T) {
	require.NoError(t, componenttest.CheckConfigStruct(createDefaultConfig()))
	require.NoError(t, createDefaultConfig().(*Config).Validate(), "the default config is a valid single node")
}
