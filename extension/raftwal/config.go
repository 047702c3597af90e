package raftwal

import (
	"errors"
	"fmt"
	"net"
	"time"

	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configtls"
)

// Config is the configuration of the raftwal storage extension. With no
// peers it is a single durable node; with peers it is one member of a Raft
// cluster.
type Config struct {
	// Directory holds the WAL segments, the stable store and the snapshots.
	Directory string `mapstructure:"directory"`

	// NodeID is this node's Raft server id; with peers it must be one of
	// them.
	NodeID string `mapstructure:"node_id"`

	// BindAddress is the host:port the Raft TCP transport listens on
	// (cluster mode only).
	BindAddress string `mapstructure:"bind_address"`

	// Advertise is the host:port peers dial to reach this node; empty means
	// BindAddress.
	Advertise string `mapstructure:"advertise"`

	// Peers lists every voter of the cluster, this node included. Used to
	// bootstrap on a first start with no state; ignored after that (the
	// membership lives in the replicated log).
	Peers []PeerConfig `mapstructure:"peers"`

	// TLS, when set, secures the Raft transport both ways.
	TLS configoptional.Optional[TLSConfig] `mapstructure:"tls"`

	// HeartbeatTimeout is how long a follower waits without contact from
	// the leader before it starts an election.
	HeartbeatTimeout time.Duration `mapstructure:"heartbeat_timeout"`

	// ElectionTimeout is how long a candidate waits for votes.
	ElectionTimeout time.Duration `mapstructure:"election_timeout"`

	// LeaderLeaseTimeout is how long a leader stays leader without reaching
	// a quorum.
	LeaderLeaseTimeout time.Duration `mapstructure:"leader_lease_timeout"`

	// ApplyTimeout bounds how long a write waits to be enqueued into Raft.
	ApplyTimeout time.Duration `mapstructure:"apply_timeout"`

	// LeaderWaitTimeout bounds how long GetClient waits for this node to
	// become leader; 0 waits until the collector stops.
	LeaderWaitTimeout time.Duration `mapstructure:"leader_wait_timeout"`

	// MaxBatchesPerEntry caps how many concurrent client batches one Raft
	// entry (one fsync) carries.
	MaxBatchesPerEntry int `mapstructure:"max_batches_per_entry"`

	// SegmentSize is the target size in bytes of one WAL segment file.
	SegmentSize int `mapstructure:"segment_size"`

	// SnapshotThreshold is how many new log entries trigger a snapshot.
	SnapshotThreshold uint64 `mapstructure:"snapshot_threshold"`

	// SnapshotInterval is how often Raft checks whether to snapshot.
	SnapshotInterval time.Duration `mapstructure:"snapshot_interval"`

	// TrailingLogs is how many entries are kept after a snapshot, so a
	// lagging follower can catch up without a full snapshot.
	TrailingLogs uint64 `mapstructure:"trailing_logs"`

	// SnapshotRetain is how many snapshots are kept on disk.
	SnapshotRetain int `mapstructure:"snapshot_retain"`

	_ struct{}
}

// PeerConfig is one voter of the cluster.
type PeerConfig struct {
	// ID is the peer's node_id.
	ID string `mapstructure:"id"`
	// Address is the host:port the peer advertises for Raft.
	Address string `mapstructure:"address"`

	_ struct{}
}

// TLSConfig secures the Raft transport: the server side for incoming
// connections and the client side for dialing peers.
type TLSConfig struct {
	// Server is the listener's TLS (cert, key, client_ca_file for mTLS).
	Server configtls.ServerConfig `mapstructure:"server"`
	// Client is the dialer's TLS (ca_file, cert and key for mTLS).
	Client configtls.ClientConfig `mapstructure:"client"`

	_ struct{}
}

// clustered reports whether peers are configured.
func (c *Config) clustered() bool { return len(c.Peers) > 0 }

// advertiseAddress is where peers reach this node.
func (c *Config) advertiseAddress() string {
	if c.Advertise != "" {
		return c.Advertise
	}
	return c.BindAddress
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	var errs error
	if c.Directory == "" {
		errs = errors.Join(errs, errors.New("'directory' must be set"))
	}
	if c.NodeID == "" {
		errs = errors.Join(errs, errors.New("'node_id' must be set"))
	}
	for key, d := range map[string]time.Duration{
		"heartbeat_timeout": c.HeartbeatTimeout, "election_timeout": c.ElectionTimeout,
		"leader_lease_timeout": c.LeaderLeaseTimeout, "apply_timeout": c.ApplyTimeout,
		"snapshot_interval": c.SnapshotInterval,
	} {
		if d < 5*time.Millisecond {
			errs = errors.Join(errs, fmt.Errorf("'%s' must be >= 5ms", key))
		}
	}
	if c.LeaderLeaseTimeout > c.HeartbeatTimeout {
		errs = errors.Join(errs, errors.New("'leader_lease_timeout' must be <= 'heartbeat_timeout'"))
	}
	if c.ElectionTimeout < c.HeartbeatTimeout {
		errs = errors.Join(errs, errors.New("'election_timeout' must be >= 'heartbeat_timeout'"))
	}
	if c.LeaderWaitTimeout < 0 {
		errs = errors.Join(errs, errors.New("'leader_wait_timeout' must be >= 0"))
	}
	if c.MaxBatchesPerEntry < 1 {
		errs = errors.Join(errs, errors.New("'max_batches_per_entry' must be >= 1"))
	}
	if c.SegmentSize < 1<<16 {
		errs = errors.Join(errs, errors.New("'segment_size' must be >= 65536"))
	}
	if c.SnapshotThreshold < 1 {
		errs = errors.Join(errs, errors.New("'snapshot_threshold' must be >= 1"))
	}
	if c.SnapshotRetain < 1 {
		errs = errors.Join(errs, errors.New("'snapshot_retain' must be >= 1"))
	}
	if !c.clustered() {
		if c.TLS.HasValue() {
			errs = errors.Join(errs, errors.New("'tls' needs 'peers' (a single node has no transport)"))
		}
		return errs
	}
	if _, _, err := net.SplitHostPort(c.BindAddress); err != nil {
		errs = errors.Join(errs, fmt.Errorf("'bind_address' must be host:port when 'peers' is set: %w", err))
	}
	if c.Advertise != "" {
		if _, _, err := net.SplitHostPort(c.Advertise); err != nil {
			errs = errors.Join(errs, fmt.Errorf("'advertise' must be host:port: %w", err))
		}
	}
	seen := map[string]bool{}
	self := false
	for i, p := range c.Peers {
		if p.ID == "" || p.Address == "" {
			errs = errors.Join(errs, fmt.Errorf("'peers[%d]' needs 'id' and 'address'", i))
		}
		if seen[p.ID] {
			errs = errors.Join(errs, fmt.Errorf("'peers[%d]::id' %q is listed twice", i, p.ID))
		}
		seen[p.ID] = true
		if p.ID == c.NodeID {
			self = true
			if p.Address != c.advertiseAddress() {
				errs = errors.Join(errs, fmt.Errorf("'peers[%d]::address' %q must equal 'advertise' (or 'bind_address') %q", i, p.Address, c.advertiseAddress()))
			}
		}
	}
	if !self {
		errs = errors.Join(errs, fmt.Errorf("'node_id' %q must be one of 'peers'", c.NodeID))
	}
	return errs
}
