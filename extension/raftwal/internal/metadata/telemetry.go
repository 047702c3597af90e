package metadata

import (
	"context"
	"errors"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// NodeState is what the observable instruments read at each collection.
type NodeState struct {
	// Role is the Raft role: "leader", "follower", "candidate" or "shutdown".
	Role string
	// Term is the current Raft term.
	Term int64
	// CommitIndex is the highest log index known committed.
	CommitIndex int64
	// AppliedIndex is the highest log index applied to the FSM.
	AppliedIndex int64
	// WALBytes is the size of the WAL directory.
	WALBytes int64
}

// TelemetryBuilder holds the extension's own instruments.
type TelemetryBuilder struct {
	// ApplyLatency is the time from handing an entry to Raft until it is
	// committed by a quorum and applied, by "batches" bucket of the entry.
	ApplyLatency metric.Float64Histogram
	// EntryBatches is how many client batches each Raft entry carried.
	EntryBatches metric.Int64Histogram
	// Snapshots counts FSM snapshots persisted.
	Snapshots metric.Int64Counter

	meter        metric.Meter
	role         metric.Int64ObservableGauge
	term         metric.Int64ObservableGauge
	commitIndex  metric.Int64ObservableGauge
	appliedIndex metric.Int64ObservableGauge
	walBytes     metric.Int64ObservableGauge
}

// NewTelemetryBuilder creates the instruments from settings.MeterProvider.
func NewTelemetryBuilder(settings component.TelemetrySettings) (*TelemetryBuilder, error) {
	meter := settings.MeterProvider.Meter(ScopeName)
	tb := TelemetryBuilder{meter: meter}
	var err, errs error
	tb.ApplyLatency, err = meter.Float64Histogram("otelcol_raftwal_apply_latency",
		metric.WithDescription("Time from handing an entry to Raft until a quorum has it on disk and it is applied."),
		metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5))
	errs = errors.Join(errs, err)
	tb.EntryBatches, err = meter.Int64Histogram("otelcol_raftwal_entry_batches",
		metric.WithDescription("Client batches carried by one Raft entry (group commit)."), metric.WithUnit("{batches}"),
		metric.WithExplicitBucketBoundaries(1, 2, 4, 8, 16, 32, 64, 128, 256))
	errs = errors.Join(errs, err)
	tb.Snapshots, err = meter.Int64Counter("otelcol_raftwal_snapshots",
		metric.WithDescription("FSM snapshots persisted."), metric.WithUnit("{snapshots}"))
	errs = errors.Join(errs, err)
	tb.role, err = meter.Int64ObservableGauge("otelcol_raftwal_role",
		metric.WithDescription("1 for this node's current Raft role (attribute role)."), metric.WithUnit("{role}"))
	errs = errors.Join(errs, err)
	tb.term, err = meter.Int64ObservableGauge("otelcol_raftwal_term",
		metric.WithDescription("Current Raft term."), metric.WithUnit("{term}"))
	errs = errors.Join(errs, err)
	tb.commitIndex, err = meter.Int64ObservableGauge("otelcol_raftwal_commit_index",
		metric.WithDescription("Highest log index known committed."), metric.WithUnit("{index}"))
	errs = errors.Join(errs, err)
	tb.appliedIndex, err = meter.Int64ObservableGauge("otelcol_raftwal_applied_index",
		metric.WithDescription("Highest log index applied to the key/value state."), metric.WithUnit("{index}"))
	errs = errors.Join(errs, err)
	tb.walBytes, err = meter.Int64ObservableGauge("otelcol_raftwal_wal_bytes",
		metric.WithDescription("Bytes on disk of the WAL segments and stable store."), metric.WithUnit("By"))
	errs = errors.Join(errs, err)
	return &tb, errs
}

// RegisterNodeState observes the role, term, indexes and WAL size through
// read at each collection. Unregister the returned registration on shutdown.
func (tb *TelemetryBuilder) RegisterNodeState(read func() NodeState) (metric.Registration, error) {
	return tb.meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		s := read()
		o.ObserveInt64(tb.role, 1, metric.WithAttributes(attribute.String("role", s.Role)))
		o.ObserveInt64(tb.term, s.Term)
		o.ObserveInt64(tb.commitIndex, s.CommitIndex)
		o.ObserveInt64(tb.appliedIndex, s.AppliedIndex)
		o.ObserveInt64(tb.walBytes, s.WALBytes)
		return nil
	}, tb.role, tb.term, tb.commitIndex, tb.appliedIndex, tb.walBytes)
}
