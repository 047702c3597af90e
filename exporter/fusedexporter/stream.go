package fusedexporter

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"sync"

	"github.com/otelfusion/otelfusion/pkg/otlpgo"
)

// Stream mode (docs/protocol.md, "Stream mode" and "HTTP binding"): each
// request in flight uses a stream of its own, named by the Otlpgo-Stream
// header, whose dictionary and map shapes the receiver keeps from one of
// its frames to the next. A request's acknowledgement and retries are those
// of a stateless frame: what changes is what the frame leaves out.

// StreamConfig turns stream mode on.
type StreamConfig struct {
	// Enabled sends frames in stream mode. The receiver must keep the
	// stream's state: an otelfusion otlpgo receiver, reached without a load
	// balancer that spreads one stream's requests over several receivers.
	Enabled bool `mapstructure:"enabled"`

	// MaxStateBytes bounds the state of each stream, as the receiver counts
	// it; it must not exceed the receiver's
	// 'fused::limits::max_stream_state_bytes'. 0 takes the default, 8 MiB.
	MaxStateBytes int `mapstructure:"max_state_bytes"`

	_ struct{}
}

// maxIdleStreams is how many streams the exporter keeps between requests;
// more in flight at once are dropped when they finish.
const maxIdleStreams = 16

// streamPool hands each request a stream that no other request uses.
type streamPool struct {
	mu       sync.Mutex
	idle     []*streamSession
	opts     otlpgo.EncodeOptions
	maxState int
}

// newStreamPool returns nil when stream mode is off; a nil pool hands out
// nil sessions, which write stateless frames.
func newStreamPool(cfg *Config) *streamPool {
	if !cfg.Stream.Enabled {
		return nil
	}
	return &streamPool{opts: otlpgo.EncodeOptions{Compression: cfg.FrameCompression.codec()}, maxState: cfg.Stream.MaxStateBytes}
}

func (p *streamPool) get() *streamSession {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.idle); n > 0 {
		s := p.idle[n-1]
		p.idle = p.idle[:n-1]
		return s
	}
	var id [16]byte
	_, _ = rand.Read(id[:])
	return &streamSession{id: hex.EncodeToString(id[:]), enc: otlpgo.NewStreamEncoder(p.opts, p.maxState)}
}

func (p *streamPool) put(s *streamSession) {
	if p == nil || s == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.idle) < maxIdleStreams {
		p.idle = append(p.idle, s)
	}
}

// streamSession is one stream: its id and its encoder. Not safe for
// concurrent use; the pool gives it to one request at a time.
type streamSession struct {
	id  string
	enc *otlpgo.StreamEncoder
}

// appendFrame encodes req as the stream's next frame, or as a stateless
// frame without a session.
func (s *streamSession) appendFrame(req otlpgo.Request, compression otlpgo.Compression) ([]byte, error) {
	if s == nil {
		return otlpgo.AppendFrame(nil, req, otlpgo.EncodeOptions{Compression: compression})
	}
	return s.enc.AppendFrame(nil, req)
}

// setHeader names the stream on the request.
func (s *streamSession) setHeader(h http.Header) {
	if s != nil {
		h.Set(otlpgo.StreamHeader, s.id)
	}
}

// lost resets the stream after a request with no answer: whether the
// receiver read the frame is unknown.
func (s *streamSession) lost() {
	if s != nil {
		s.enc.Reset()
	}
}

// answered keeps the stream in step with the receiver's answer and
// reports whether to send the request again at once, as a reset frame: on
// 409 the receiver could not follow the stream (a restart, an eviction, a
// frame it refused before reading) and ingested nothing. After 200, 429
// and 503 the receiver read the frame or refused it unread, and the next
// frame's sequence number tells it which; after any other answer its state
// is gone and the next frame resets.
func (s *streamSession) answered(status int) (resend bool) {
	if s == nil {
		return false
	}
	switch status {
	case http.StatusOK, http.StatusTooManyRequests, http.StatusServiceUnavailable:
		return false
	case http.StatusConflict:
		s.enc.Reset()
		return true
	default:
		s.enc.Reset()
		return false
	}
}
