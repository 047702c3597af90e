package raftwal

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.uber.org/zap"

	"github.com/otelfusion/otelfusion/extension/raftwal/internal/metadata"
)

// exporterID is the component the tests' clients belong to.
var exporterID = component.MustNewIDWithName("otlp_http", "test")

// fastConfig is a config with short Raft timeouts for tests.
func fastConfig(dir, nodeID string) *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.Directory, cfg.NodeID = dir, nodeID
	cfg.HeartbeatTimeout, cfg.ElectionTimeout, cfg.LeaderLeaseTimeout = 100*time.Millisecond, 100*time.Millisecond, 50*time.Millisecond
	cfg.SegmentSize = 1 << 20
	return cfg
}

// startExtension starts a raftwal extension from cfg; it is shut down at
// the end of the test unless the test already did.
func startExtension(t testing.TB, cfg *Config, logger *zap.Logger) *walExtension {
	t.Helper()
	return startExtensionOnHost(t, cfg, logger, componenttest.NewNopHost())
}

// startExtensionOnHost is startExtension with a host of the test's choice.
func startExtensionOnHost(t testing.TB, cfg *Config, logger *zap.Logger, host component.Host) *walExtension {
	t.Helper()
	require.NoError(t, cfg.Validate())
	set := extensiontest.NewNopSettings(metadata.Type)
	if logger != nil {
		set.Logger = logger
	}
	ext, err := newWALExtension(cfg, set)
	require.NoError(t, err)
	require.NoError(t, ext.Start(context.Background(), host))
	t.Cleanup(func() { _ = ext.Shutdown(context.Background()) })
	return ext
}

// getClient waits up to 10s for leadership and returns a client.
func getClient(t testing.TB, ext storage.Extension, name string) storage.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := ext.GetClient(ctx, component.KindExporter, exporterID, name)
	require.NoError(t, err)
	return c
}

// testCluster is n in-process nodes on loopback TCP with their own disks.
type testCluster struct {
	cfgs  []*Config
	exts  []*walExtension
	hosts []*statusHost
}

func loopbackAddrs(t testing.TB, n int) []string {
	t.Helper()
	addrs := make([]string, n)
	for i := range addrs {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addrs[i] = l.Addr().String()
		require.NoError(t, l.Close())
	}
	return addrs
}

func startCluster(t testing.TB, n int) *testCluster {
	t.Helper()
	addrs := loopbackAddrs(t, n)
	var peers []PeerConfig
	for i, a := range addrs {
		peers = append(peers, PeerConfig{ID: fmt.Sprintf("n%d", i), Address: a})
	}
	c := &testCluster{}
	base := t.TempDir()
	for i := range n {
		cfg := fastConfig(filepath.Join(base, peers[i].ID), peers[i].ID)
		cfg.HeartbeatTimeout, cfg.ElectionTimeout = 200*time.Millisecond, 200*time.Millisecond
		cfg.BindAddress, cfg.Peers = addrs[i], peers
		host := &statusHost{Host: componenttest.NewNopHost()}
		c.cfgs, c.hosts = append(c.cfgs, cfg), append(c.hosts, host)
		c.exts = append(c.exts, startExtensionOnHost(t, cfg, nil, host))
	}
	return c
}

// leader waits until exactly one running node leads and returns its index.
func (c *testCluster) leader(t testing.TB, timeout time.Duration) int {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		found := -1
		for i, e := range c.exts {
			if e == nil || e.node == nil {
				continue
			}
			if e.node.isLeader() {
				found = i
			}
		}
		if found >= 0 {
			return found
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no leader within %v", timeout)
	return -1
}

// stop shuts node i down (its disk stays).
func (c *testCluster) stop(t testing.TB, i int) {
	t.Helper()
	require.NoError(t, c.exts[i].Shutdown(context.Background()))
	c.exts[i] = nil
}
