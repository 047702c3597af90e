package raftwal

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

// tcpStream is raft's StreamLayer over TCP, optionally TLS both ways.
type tcpStream struct {
	net.Listener
	advertise net.Addr
	// dialTLS is nil for plain TCP.
	dialTLS *tls.Config

	mu       sync.Mutex
	accepted map[net.Conn]struct{}
	closed   bool
}

// Accept hands raft an inbound connection, remembered so Close can end it:
// raft's transport closes its listener but not the connections it accepted.
func (s *tcpStream) Accept() (net.Conn, error) {
	conn, err := s.Listener.Accept()
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		conn.Close()
		return nil, net.ErrClosed
	}
	s.accepted[conn] = struct{}{}
	return &trackedConn{Conn: conn, stream: s}, nil
}

// Close stops listening and closes every accepted connection.
func (s *tcpStream) Close() error {
	s.mu.Lock()
	s.closed = true
	for conn := range s.accepted {
		conn.Close()
	}
	s.accepted = nil
	s.mu.Unlock()
	return s.Listener.Close()
}

// trackedConn forgets itself in its stream when closed.
type trackedConn struct {
	net.Conn
	stream *tcpStream
}

func (c *trackedConn) Close() error {
	c.stream.mu.Lock()
	delete(c.stream.accepted, c.Conn)
	c.stream.mu.Unlock()
	return c.Conn.Close()
}

var _ raft.StreamLayer = (*tcpStream)(nil)

// Dial connects to a peer; safe for concurrent use.
func (s *tcpStream) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	dialer := &net.Dialer{Timeout: timeout}
	if s.dialTLS != nil {
		return (&tls.Dialer{NetDialer: dialer, Config: s.dialTLS}).Dial("tcp", string(address))
	}
	return dialer.Dial("tcp", string(address))
}

// Addr is the address peers use to reach this node.
func (s *tcpStream) Addr() net.Addr { return s.advertise }

// newTCPTransport listens on cfg.BindAddress and returns raft's network
// transport over it.
func newTCPTransport(ctx context.Context, cfg *Config, hlog hclog.Logger) (*raft.NetworkTransport, error) {
	advertise, err := net.ResolveTCPAddr("tcp", cfg.advertiseAddress())
	if err != nil {
		return nil, fmt.Errorf("raftwal: resolving 'advertise' %q: %w", cfg.advertiseAddress(), err)
	}
	var serverTLS, clientTLS *tls.Config
	if cfg.TLS.HasValue() {
		t := cfg.TLS.Get()
		if serverTLS, err = t.Server.LoadTLSConfig(ctx); err != nil {
			return nil, fmt.Errorf("raftwal: 'tls::server': %w", err)
		}
		if clientTLS, err = t.Client.LoadTLSConfig(ctx); err != nil {
			return nil, fmt.Errorf("raftwal: 'tls::client': %w", err)
		}
	}
	listener, err := net.Listen("tcp", cfg.BindAddress)
	if err != nil {
		return nil, fmt.Errorf("raftwal: listening on 'bind_address' %q: %w", cfg.BindAddress, err)
	}
	if serverTLS != nil {
		listener = tls.NewListener(listener, serverTLS)
	}
	stream := &tcpStream{Listener: listener, advertise: advertise, dialTLS: clientTLS, accepted: map[net.Conn]struct{}{}}
	return raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream:  stream,
		MaxPool: 4,
		Timeout: 10 * time.Second,
		Logger:  hlog,
	}), nil
}
