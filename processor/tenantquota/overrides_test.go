package tenantquota

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tracesRate is the traces items/s the tenant's buckets enforce now.
func tracesRate(t *testing.T, p *quotaProcessor, tenantID string) float64 {
	t.Helper()
	ts := p.tenant(tenantID, p.now())
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if l := ts.buckets[signalTraces].items.limiter; l != nil {
		assert.Equal(t, ts.limits.Traces.ItemsPerSecond, float64(l.Limit()))
	}
	return ts.limits.Traces.ItemsPerSecond
}

// configMapDir lays out overrides the way the kubelet mounts a ConfigMap:
// dir/tenants.yaml -> ..data/tenants.yaml, ..data -> ..<version>/.
type configMapDir struct {
	t       *testing.T
	dir     string
	version int
}

func newConfigMapDir(t *testing.T, content string) *configMapDir {
	c := &configMapDir{t: t, dir: t.TempDir()}
	c.update(content)
	require.NoError(t, os.Symlink(filepath.Join("..data", "tenants.yaml"), c.path()))
	return c
}

func (c *configMapDir) path() string { return filepath.Join(c.dir, "tenants.yaml") }

// update writes a new version and swaps ..data to it atomically.
func (c *configMapDir) update(content string) {
	c.t.Helper()
	c.version++
	version := filepath.Join(c.dir, fmt.Sprintf("..v%d", c.version))
	require.NoError(c.t, os.Mkdir(version, 0o700))
	require.NoError(c.t, os.WriteFile(filepath.Join(version, "tenants.yaml"), []byte(content), 0o600))
	tmp := filepath.Join(c.dir, "..data_tmp")
	require.NoError(c.t, os.Symlink(filepath.Base(version), tmp))
	require.NoError(c.t, os.Rename(tmp, filepath.Join(c.dir, "..data")))
}

// TestOverridePrecedence: defaults < config tenants < file < API, and
// removing a layer's override uncovers the one below.
func TestOverridePrecedence(t *testing.T) {
	cm := newConfigMapDir(t, "tenants:\n  a: {traces: {items_per_second: 30}}\n  b: {traces: {items_per_second: 30}}\n")
	cfg := testConfig()
	cfg.Defaults.Traces.ItemsPerSecond = 10
	cfg.Tenants = map[string]TenantOverrides{
		"a": {Traces: &SignalQuota{ItemsPerSecond: 20}},
		"c": {Traces: &SignalQuota{ItemsPerSecond: 20}},
	}
	cfg.OverridesFile = cm.path()
	p := newTestProcessor(t, cfg, newFakeClock())
	require.NoError(t, p.reloadOverrides())

	assert.Equal(t, 10.0, tracesRate(t, p, "d"), "defaults")
	assert.Equal(t, 20.0, tracesRate(t, p, "c"), "config over defaults")
	assert.Equal(t, 30.0, tracesRate(t, p, "a"), "file over config")
	assert.Equal(t, 30.0, tracesRate(t, p, "b"), "file over defaults")

	p.store.updateAPI("a", func(o *TenantOverrides) { o.Traces = &SignalQuota{ItemsPerSecond: 40} })
	p.refreshLimits([]string{"a"})
	assert.Equal(t, 40.0, tracesRate(t, p, "a"), "API over file")

	// The file changes; the API override still wins until removed.
	cm.update("tenants:\n  a: {traces: {items_per_second: 35}}\n")
	require.NoError(t, p.reloadOverrides())
	assert.Equal(t, 40.0, tracesRate(t, p, "a"))
	assert.Equal(t, 10.0, tracesRate(t, p, "b"), "b left the file: back to defaults")

	require.True(t, p.store.deleteAPI("a"))
	p.refreshLimits([]string{"a"})
	assert.Equal(t, 35.0, tracesRate(t, p, "a"), "API override removed: the file's")

	cm.update("tenants: {}\n")
	require.NoError(t, p.reloadOverrides())
	assert.Equal(t, 20.0, tracesRate(t, p, "a"), "file override removed: the config's")

	// Sections merge: a sampling override leaves the quota below it alone.
	cm.update("tenants:\n  a: {sampling_rate: 0.5, env_sampling_rates: {gray: 0.1}}\n")
	require.NoError(t, p.reloadOverrides())
	p.store.updateAPI("a", func(o *TenantOverrides) { o.EnvSamplingRates = map[string]float64{"blue": 0.2} })
	l := p.store.limits("a")
	assert.Equal(t, 20.0, l.Traces.ItemsPerSecond)
	assert.Equal(t, 0.5, l.SamplingRate)
	assert.Equal(t, map[string]float64{"gray": 0.1, "blue": 0.2}, l.EnvSamplingRates)
}

// TestOverridesFileInvalid: a bad file is refused with the key at fault and
// the previous overrides stay.
func TestOverridesFileInvalid(t *testing.T) {
	cm := newConfigMapDir(t, "tenants:\n  a: {traces: {items_per_second: 30}}\n")
	cfg := testConfig()
	cfg.OverridesFile = cm.path()
	p := newTestProcessor(t, cfg, newFakeClock())
	require.NoError(t, p.reloadOverrides())
	for _, tt := range []struct {
		content, wantErr string
	}{
		{"tenants:\n  a: {traces: {items_per_second: -5}}\n", "'tenants::a::traces::items_per_second' must be a finite number >= 0, got -5"},
		{"tenants:\n  a: {traces: {items_per_second: 5, items_burst: 2}}\n", "'tenants::a::traces::items_burst' must be >= 'items_per_second'"},
		{"tenants:\n  a: {sampling_rate: 7}\n", "'tenants::a::sampling_rate' must be in [0, 1], got 7"},
		{"tenants:\n  a: {trace: {items_per_second: 5}}\n", "has invalid keys: trace"},
		{"tenants:\n  a: {logs: {items_burst: 2.5}}\n", "'tenants::a::logs::items_burst' must be a whole number, got 2.5"},
		{"tenants:\n  a: {retention: soon}\n", "retention"},
		{"tenants: [\n", "invalid YAML"},
	} {
		cm.update(tt.content)
		err := p.reloadOverrides()
		require.Error(t, err, tt.content)
		assert.ErrorContains(t, err, tt.wantErr)
		assert.Equal(t, 30.0, tracesRate(t, p, "a"), "previous overrides kept after %q", tt.content)
	}
	// Unreadable (the ConfigMap vanished): kept as well.
	require.NoError(t, os.Remove(filepath.Join(cm.dir, "..data")))
	require.Error(t, p.reloadOverrides())
	assert.Equal(t, 30.0, tracesRate(t, p, "a"))
}

// TestOverridesFileInvalidAtStart fails the start, so a typo is seen at once.
func TestOverridesFileInvalidAtStart(t *testing.T) {
	cm := newConfigMapDir(t, "tenants:\n  a: {traces: {items_per_second: -1}}\n")
	cfg := testConfig()
	cfg.OverridesFile = cm.path()
	p := newTestProcessor(t, cfg, newFakeClock())
	require.ErrorContains(t, p.Start(context.Background(), nil), "'tenants::a::traces::items_per_second'")
	require.NoError(t, p.Shutdown(context.Background()))
}

// TestOverridesFileReloadedLive: the running poller picks up a ConfigMap
// swap within a second.
func TestOverridesFileReloadedLive(t *testing.T) {
	cm := newConfigMapDir(t, "tenants:\n  a: {traces: {items_per_second: 30}}\n")
	cfg := testConfig()
	cfg.OverridesFile = cm.path()
	cfg.ReloadInterval = 100 * time.Millisecond
	p := newTestProcessor(t, cfg, newFakeClock())
	startTestProcessor(t, p)
	require.Equal(t, 30.0, tracesRate(t, p, "a"))
	cm.update("tenants:\n  a: {traces: {items_per_second: 50}}\n")
	assert.Eventually(t, func() bool { return tracesRate(t, p, "a") == 50 }, time.Second, 10*time.Millisecond)
}
