package otlpgoreceiver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/otelfusion/otelfusion/pkg/otlpgo"
)

// Stream mode (docs/protocol.md, "Stream mode" and "HTTP binding"): the
// frames a sender posts with the same Otlpgo-Stream header share a
// dictionary and map shapes, kept here in one otlpgo.StreamDecoder per
// stream. A stream belongs to the tenant the server decided for its
// requests, so a client that reuses another's stream id reaches a stream of
// its own, never the other's state.

// errTooManyStreams refuses a new stream while fused::max_streams streams
// are all busy decoding.
var errTooManyStreams = errors.New("otlpgo receiver: every stream slot is in use ('fused::max_streams'); retry later")

// streamKey names a stream: the tenant the server decided, and the id the
// sender chose.
type streamKey struct {
	tenant string
	id     string
}

// streamEntry is one stream's decoder; mu makes its frames decode one at a time.
type streamEntry struct {
	mu       sync.Mutex
	dec      *otlpgo.StreamDecoder
	lastUsed time.Time // under streamTable.mu
}

// streamTable holds at most max streams; when a new one comes and the
// table is full, the least recently used stream that is not decoding is
// dropped (its sender gets ErrStreamState on its next frame and resets).
// Memory is bounded by max × limits.MaxStreamStateBytes.
type streamTable struct {
	mu      sync.Mutex
	max     int
	limits  otlpgo.Limits
	streams map[streamKey]*streamEntry
	now     func() time.Time
}

func newStreamTable(maxStreams int, limits otlpgo.Limits) *streamTable {
	return &streamTable{max: maxStreams, limits: limits, streams: make(map[streamKey]*streamEntry), now: time.Now}
}

// acquire returns the stream of key, locked for one frame; the caller
// unlocks it.
func (t *streamTable) acquire(key streamKey) (*streamEntry, error) {
	t.mu.Lock()
	entry, ok := t.streams[key]
	if !ok {
		if len(t.streams) >= t.max && !t.evictIdle() {
			t.mu.Unlock()
			return nil, errTooManyStreams
		}
		entry = &streamEntry{dec: otlpgo.NewStreamDecoder(t.limits)}
		t.streams[key] = entry
	}
	entry.lastUsed = t.now()
	t.mu.Unlock()
	entry.mu.Lock()
	return entry, nil
}

// evictIdle drops the least recently used stream that is not decoding a
// frame now, and reports whether there was one. t.mu is held.
func (t *streamTable) evictIdle() bool {
	var oldestKey streamKey
	var oldest *streamEntry
	for key, entry := range t.streams {
		if oldest != nil && !entry.lastUsed.Before(oldest.lastUsed) {
			continue
		}
		if !entry.mu.TryLock() {
			continue // decoding now
		}
		entry.mu.Unlock()
		oldestKey, oldest = key, entry
	}
	if oldest == nil {
		return false
	}
	delete(t.streams, oldestKey)
	return true
}

// len is the number of streams held.
func (t *streamTable) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.streams)
}

// maxStreamIDLen bounds the Otlpgo-Stream header.
const maxStreamIDLen = 64

// validStreamID accepts 1 to 64 characters of [A-Za-z0-9_-].
func validStreamID(id string) bool {
	if id == "" || len(id) > maxStreamIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// errBadStreamID refuses a malformed Otlpgo-Stream header.
var errBadStreamID = fmt.Errorf("header %s must be 1 to %d characters of [A-Za-z0-9_-]", otlpgo.StreamHeader, maxStreamIDLen)

// decodeFrame decodes frame, in the stream the request names if it names
// one. A frame without the header decodes on its own (a stream frame then
// fails with ErrStreamState).
func (r *otlpgoReceiver) decodeFrame(ctx context.Context, req *http.Request, frame []byte) (otlpgo.Request, error) {
	id := req.Header.Get(otlpgo.StreamHeader)
	if id == "" {
		return otlpgo.Decode(frame, r.limits)
	}
	if !validStreamID(id) {
		return otlpgo.NewRequest(), errBadStreamID
	}
	stamp := r.tenants.forRequest(ctx)
	entry, err := r.streams.acquire(streamKey{tenant: stamp.tenant + "\x00" + stamp.fallback, id: id})
	if err != nil {
		return otlpgo.NewRequest(), err
	}
	defer entry.mu.Unlock()
	return entry.dec.Decode(frame)
}

// streamErrorStatus answers the stream errors: 409 for a stream whose state
// the frame does not follow (the sender resets), 503 when no stream slot is
// free, 400 for a bad stream id. ok is false for other errors.
func streamErrorStatus(err error) (status int, reason string, ok bool) {
	switch {
	case errors.Is(err, otlpgo.ErrStreamState):
		return http.StatusConflict, "stream_state", true
	case errors.Is(err, errTooManyStreams):
		return http.StatusServiceUnavailable, "too_many_streams", true
	case errors.Is(err, errBadStreamID):
		return http.StatusBadRequest, "bad_stream_id", true
	}
	return 0, "", false
}
