package raftwal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	"go.uber.org/zap"
)

// node is one Raft member: its WAL (log and stable store), snapshot store,
// transport, FSM and the leadership it currently holds.
type node struct {
	cfg       *Config
	logger    *zap.Logger
	raft      *raft.Raft
	fsm       *kvFSM
	logs      *logStore
	walDir    string
	transport raft.Transport
	committer *groupCommitter
	notify    chan bool
	// onLeadership is told every change once it is settled (after the
	// barrier on gaining leadership).
	onLeadership func(leader bool)

	mu sync.Mutex
	// leader is true once this node leads and has applied everything
	// committed before it.
	leader bool
	// changed is closed and replaced at every leadership change.
	changed chan struct{}
	// lostOnce is whether this node ever lost leadership.
	lostOnce bool
	// clientsIssued counts storage clients handed out.
	clientsIssued int
	stopped       chan struct{}
	watcherDone   chan struct{}
}

// nodeHooks are the callbacks a node reports to.
type nodeHooks struct {
	// leadership is called on each settled change of leadership.
	leadership func(leader bool)
	// staleRegain is called when this node regains leadership after losing
	// it with clients handed out: their owners' in-memory queue positions
	// may no longer match the replicated state.
	staleRegain func()
	// applied observes each entry's commit latency and batch count.
	applied func(time.Duration, int)
	// snapshot is called after each persisted snapshot.
	snapshot func()
}

// startNode opens the stores, bootstraps a cluster with no existing state,
// and starts Raft.
func startNode(ctx context.Context, cfg *Config, logger *zap.Logger, hooks nodeHooks) (*node, error) {
	hlog := newHCLogger(logger)
	n := &node{
		cfg: cfg, logger: logger, fsm: newKVFSM(),
		walDir:      filepath.Join(cfg.Directory, "wal"),
		notify:      make(chan bool, 16),
		changed:     make(chan struct{}),
		stopped:     make(chan struct{}),
		watcherDone: make(chan struct{}),
	}
	n.fsm.onSnapshot = hooks.snapshot
	var err error
	if n.logs, err = openLogStore(n.walDir, cfg.SegmentSize, logger, hlog); err != nil {
		return nil, fmt.Errorf("raftwal: opening WAL in %q: %w", n.walDir, err)
	}
	snaps, err := raft.NewFileSnapshotStoreWithLogger(cfg.Directory, cfg.SnapshotRetain, hlog)
	if err != nil {
		_ = n.logs.Close()
		return nil, fmt.Errorf("raftwal: opening snapshots in %q: %w", cfg.Directory, err)
	}
	var localAddr raft.ServerAddress
	if cfg.clustered() {
		tr, err := newTCPTransport(ctx, cfg, hlog)
		if err != nil {
			_ = n.logs.Close()
			return nil, err
		}
		n.transport, localAddr = tr, raft.ServerAddress(cfg.advertiseAddress())
	} else {
		localAddr, n.transport = raft.NewInmemTransport("")
	}

	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(cfg.NodeID)
	rc.HeartbeatTimeout = cfg.HeartbeatTimeout
	rc.ElectionTimeout = cfg.ElectionTimeout
	rc.LeaderLeaseTimeout = cfg.LeaderLeaseTimeout
	rc.SnapshotThreshold = cfg.SnapshotThreshold
	rc.SnapshotInterval = cfg.SnapshotInterval
	rc.TrailingLogs = cfg.TrailingLogs
	rc.NotifyCh = n.notify
	rc.BatchApplyCh = true
	rc.Logger = hlog

	existing, err := raft.HasExistingState(n.logs, n.logs, snaps)
	if err != nil {
		n.closeStores()
		return nil, fmt.Errorf("raftwal: reading existing state: %w", err)
	}
	if !existing {
		servers := []raft.Server{{ID: rc.LocalID, Address: localAddr, Suffrage: raft.Voter}}
		if cfg.clustered() {
			servers = servers[:0]
			for _, p := range cfg.Peers {
				servers = append(servers, raft.Server{ID: raft.ServerID(p.ID), Address: raft.ServerAddress(p.Address), Suffrage: raft.Voter})
			}
		}
		if err := raft.BootstrapCluster(rc, n.logs, n.logs, snaps, n.transport, raft.Configuration{Servers: servers}); err != nil {
			n.closeStores()
			return nil, fmt.Errorf("raftwal: bootstrapping: %w", err)
		}
		logger.Info("raftwal: bootstrapped a new cluster", zap.Int("voters", len(servers)))
	} else {
		logger.Info("raftwal: rejoining with existing state")
	}
	if n.raft, err = raft.NewRaft(rc, n.fsm, n.logs, n.logs, snaps, n.transport); err != nil {
		n.closeStores()
		return nil, fmt.Errorf("raftwal: starting raft: %w", err)
	}
	n.committer = newGroupCommitter(n.raft, cfg.MaxBatchesPerEntry, cfg.ApplyTimeout, hooks.applied)
	go n.watchLeadership(hooks)
	return n, nil
}

// watchLeadership follows raft's notifications. On gaining leadership it
// first applies a barrier, so reads see every committed write.
func (n *node) watchLeadership(hooks nodeHooks) {
	defer close(n.watcherDone)
	for {
		select {
		case <-n.stopped:
			return
		case isLeader := <-n.notify:
			if isLeader {
				if err := n.raft.Barrier(n.cfg.ApplyTimeout * 10).Error(); err != nil {
					n.logger.Warn("raftwal: barrier after gaining leadership failed", zap.Error(err))
					continue
				}
				if n.raft.State() != raft.Leader {
					continue
				}
			}
			n.mu.Lock()
			if n.leader == isLeader {
				n.mu.Unlock()
				continue
			}
			stale := false
			if isLeader {
				stale = n.lostOnce && n.clientsIssued > 0
			} else {
				n.lostOnce = true
			}
			n.leader = isLeader
			close(n.changed)
			n.changed = make(chan struct{})
			n.mu.Unlock()
			n.logger.Info("raftwal: leadership changed", zap.Bool("leader", isLeader))
			if stale && hooks.staleRegain != nil {
				hooks.staleRegain()
			}
			if hooks.leadership != nil {
				hooks.leadership(isLeader)
			}
		}
	}
}

// isLeader reports whether this node leads and has caught up.
func (n *node) isLeader() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.leader
}

// waitLeader blocks until this node leads, ctx ends or the node stops; on
// success the caller hands out a client.
func (n *node) waitLeader(ctx context.Context) error {
	for {
		n.mu.Lock()
		leader, changed := n.leader, n.changed
		if leader {
			n.clientsIssued++
		}
		n.mu.Unlock()
		if leader {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return errors.Join(ErrNotLeader, ctx.Err())
		case <-n.stopped:
			return ErrClosed
		}
	}
}

// roleName is the Raft role as the telemetry shows it.
func (n *node) roleName() string {
	return strings.ToLower(n.raft.State().String())
}

// stop shuts Raft down and closes the stores.
func (n *node) stop() error {
	close(n.stopped)
	n.committer.close()
	err := n.raft.Shutdown().Error()
	<-n.watcherDone
	n.closeStores()
	return err
}

func (n *node) closeStores() {
	if nt, ok := n.transport.(*raft.NetworkTransport); ok {
		nt.CloseStreams()
	}
	if c, ok := n.transport.(io.Closer); ok {
		_ = c.Close()
	}
	if err := n.logs.Close(); err != nil {
		n.logger.Warn("raftwal: closing WAL", zap.Error(err))
	}
}

// newHCLogger routes raft's hclog output into the collector's zap logger.
func newHCLogger(logger *zap.Logger) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{
		Name:            "raft",
		Level:           hclog.Info,
		Output:          zapWriter{logger: logger},
		DisableTime:     true,
		IncludeLocation: false,
	})
}

// zapWriter turns each hclog line into one zap entry.
type zapWriter struct{ logger *zap.Logger }

func (w zapWriter) Write(p []byte) (int, error) {
	line := strings.TrimSpace(string(p))
	switch {
	case strings.Contains(line, "[ERROR]"), strings.Contains(line, "[WARN]"):
		// Raft's errors are about peers (unreachable, lagging) and retried;
		// warn without a stack trace.
		w.logger.Warn(line)
	default:
		w.logger.Info(line)
	}
	return len(p), nil
}
