package raftwal

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/extensiontest"

	"github.com/otelfusion/otelfusion/extension/raftwal/internal/metadata"
)

// statusHost records the component status events reported to it.
type statusHost struct {
	component.Host
	mu     sync.Mutex
	events []componentstatus.Status
}

func (h *statusHost) Report(ev *componentstatus.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, ev.Status())
}

func (h *statusHost) statuses() []componentstatus.Status {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]componentstatus.Status{}, h.events...)
}

func TestStatusFollowsLeadership(t *testing.T) {
	host := &statusHost{Host: componenttest.NewNopHost()}
	ext, err := newWALExtension(fastConfig(t.TempDir(), "node1"), extensiontest.NewNopSettings(metadata.Type))
	require.NoError(t, err)
	require.NoError(t, ext.Start(context.Background(), host))
	defer func() { require.NoError(t, ext.Shutdown(context.Background())) }()
	require.Eventually(t, func() bool {
		s := host.statuses()
		return len(s) >= 2 && s[len(s)-1] == componentstatus.StatusOK
	}, 10*time.Second, 10*time.Millisecond)
	require.Equal(t, componentstatus.StatusRecoverableError, host.statuses()[0], "not ready until leader")
}

func TestShutdownWithoutStart(t *testing.T) {
	ext, err := NewFactory().Create(context.Background(), extensiontest.NewNopSettings(metadata.Type), createDefaultConfig())
	require.NoError(t, err)
	require.NoError(t, ext.Shutdown(context.Background()))
}

// TestRegainedLeadershipIsFatal moves leadership away from a node whose
// exporter holds a client and back again: while deposed its writes fail
// with the retryable ErrNotLeader; on regaining it reports a fatal error so
// the collector restarts and reloads the queue state.
func TestRegainedLeadershipIsFatal(t *testing.T) {
	ctx := context.Background()
	c := startCluster(t, 3)
	lead := c.leader(t, 10*time.Second)
	lc := getClient(t, c.exts[lead], "q")
	require.NoError(t, lc.Set(ctx, "k", []byte("v")))

	require.NoError(t, c.exts[lead].node.raft.LeadershipTransfer().Error())
	require.Eventually(t, func() bool { return !c.exts[lead].node.isLeader() }, 5*time.Second, 10*time.Millisecond)
	require.ErrorIs(t, lc.Set(ctx, "k", []byte("w")), ErrNotLeader)
	other := -1
	require.Eventually(t, func() bool {
		for i, e := range c.exts {
			if i != lead && e.node.isLeader() {
				other = i
				return true
			}
		}
		return false
	}, 5*time.Second, 10*time.Millisecond)

	back := c.exts[other].node.raft.LeadershipTransferToServer(raft.ServerID(c.cfgs[lead].NodeID), raft.ServerAddress(c.cfgs[lead].BindAddress))
	require.NoError(t, back.Error())
	require.Eventually(t, func() bool {
		return slices.Contains(c.hosts[lead].statuses(), componentstatus.StatusFatalError)
	}, 5*time.Second, 10*time.Millisecond)
	require.NotContains(t, c.hosts[other].statuses(), componentstatus.StatusFatalError, "a first-time leader carries on")
}
