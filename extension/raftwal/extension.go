package raftwal

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelfusion/otelfusion/extension/raftwal/internal/metadata"
)

// errStaleLeader is the fatal error reported when this node regains
// leadership it had lost while exporters held clients: their in-memory queue
// positions may no longer match the replicated state, so the collector must
// restart and read them again.
var errStaleLeader = errors.New("raftwal: regained leadership after losing it; restart to reload queue state")

// walExtension is the raftwal storage extension.
type walExtension struct {
	cfg       *Config
	settings  extension.Settings
	telemetry *metadata.TelemetryBuilder

	mu           sync.Mutex
	node         *node
	host         component.Host
	registration metric.Registration
}

var _ storage.Extension = (*walExtension)(nil)

func newWALExtension(cfg *Config, settings extension.Settings) (*walExtension, error) {
	tb, err := metadata.NewTelemetryBuilder(settings.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	return &walExtension{cfg: cfg, settings: settings, telemetry: tb}, nil
}

// Start opens the WAL and starts Raft. It does not wait for leadership:
// GetClient does.
func (e *walExtension) Start(ctx context.Context, host component.Host) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.host = host
	logger := e.settings.Logger
	// Not ready until elected; the leadership watcher reports OK later.
	componentstatus.ReportStatus(host, componentstatus.NewRecoverableErrorEvent(ErrNotLeader))
	n, err := startNode(ctx, e.cfg, logger, nodeHooks{
		leadership: e.reportLeadership,
		staleRegain: func() {
			logger.Error(errStaleLeader.Error())
			componentstatus.ReportStatus(host, componentstatus.NewFatalErrorEvent(errStaleLeader))
		},
		applied: func(d time.Duration, batches int) {
			e.telemetry.ApplyLatency.Record(context.Background(), d.Seconds())
			e.telemetry.EntryBatches.Record(context.Background(), int64(batches))
		},
		snapshot: func() { e.telemetry.Snapshots.Add(context.Background(), 1) },
	})
	if err != nil {
		return err
	}
	e.node = n
	e.registration, err = e.telemetry.RegisterNodeState(func() metadata.NodeState {
		return metadata.NodeState{
			Role:         n.roleName(),
			Term:         int64(n.raft.CurrentTerm()),
			CommitIndex:  int64(n.raft.CommitIndex()),
			AppliedIndex: int64(n.raft.AppliedIndex()),
			WALBytes:     dirBytes(n.walDir),
		}
	})
	return err
}

// reportLeadership maps leadership to component status: OK while leader,
// RecoverableError while follower, so health checks route traffic away.
func (e *walExtension) reportLeadership(leader bool) {
	ev := componentstatus.NewEvent(componentstatus.StatusOK)
	if !leader {
		ev = componentstatus.NewRecoverableErrorEvent(ErrNotLeader)
	}
	componentstatus.ReportStatus(e.host, ev)
}

// GetClient waits until this node is the leader (bounded by ctx and
// leader_wait_timeout), so an exporter's persistent queue reads the
// replicated state only where it may write it. On a follower this holds the
// collector's pipeline start: the node is a standby until elected.
func (e *walExtension) GetClient(ctx context.Context, kind component.Kind, id component.ID, name string) (storage.Client, error) {
	e.mu.Lock()
	n := e.node
	e.mu.Unlock()
	if n == nil {
		return nil, ErrClosed
	}
	if e.cfg.LeaderWaitTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, e.cfg.LeaderWaitTimeout)
		defer cancel()
	}
	if !n.isLeader() {
		e.settings.Logger.Info("raftwal: waiting for leadership before handing out a storage client",
			zap.String("component", id.String()), zap.String("storage", name))
	}
	if err := n.waitLeader(ctx); err != nil {
		return nil, fmt.Errorf("raftwal: client for %s %s: %w", kind, id, err)
	}
	return &client{node: n, prefix: keyPrefix(kind, id, name)}, nil
}

// keyPrefix namespaces a component's keys: "<kind>/<id>/<name>/".
func keyPrefix(kind component.Kind, id component.ID, name string) string {
	return strings.ToLower(kind.String()) + "/" + id.String() + "/" + name + "/"
}

// Shutdown stops Raft and closes the WAL; safe without Start.
func (e *walExtension) Shutdown(context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.registration != nil {
		_ = e.registration.Unregister()
		e.registration = nil
	}
	if e.node == nil {
		return nil
	}
	err := e.node.stop()
	e.node = nil
	return err
}
