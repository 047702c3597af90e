package fusedexporter

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelfusion/otelfusion/pkg/fusiongen"
	"github.com/otelfusion/otelfusion/pkg/otlpgo"
)

// streamReceiver decodes frames as the otlpgo receiver does in stream
// mode: one StreamDecoder per Otlpgo-Stream id, 409 for a frame its stream
// cannot follow. forget drops every stream, as a restart would.
type streamReceiver struct {
	t      *testing.T
	server *httptest.Server

	mu        sync.Mutex
	streams   map[string]*otlpgo.StreamDecoder
	statuses  []int
	flags     []byte
	sizes     []int
	spans     int
	streamIDs map[string]bool
}

func startStreamReceiver(t *testing.T) *streamReceiver {
	sr := &streamReceiver{t: t, streams: map[string]*otlpgo.StreamDecoder{}, streamIDs: map[string]bool{}}
	sr.server = httptest.NewServer(http.HandlerFunc(sr.serve))
	t.Cleanup(sr.server.Close)
	return sr
}

func (sr *streamReceiver) serve(w http.ResponseWriter, r *http.Request) {
	frame, err := io.ReadAll(r.Body)
	require.NoError(sr.t, err)
	id := r.Header.Get(otlpgo.StreamHeader)
	sr.mu.Lock()
	defer sr.mu.Unlock()
	sr.flags = append(sr.flags, frame[6])
	sr.sizes = append(sr.sizes, len(frame))
	sr.streamIDs[id] = true
	dec := sr.streams[id]
	if dec == nil {
		dec = otlpgo.NewStreamDecoder(otlpgo.Limits{})
		sr.streams[id] = dec
	}
	req, err := dec.Decode(frame)
	if errors.Is(err, otlpgo.ErrStreamState) {
		sr.statuses = append(sr.statuses, http.StatusConflict)
		w.WriteHeader(http.StatusConflict)
		return
	}
	require.NoError(sr.t, err)
	sr.statuses = append(sr.statuses, http.StatusOK)
	sr.spans += req.Traces.SpanCount()
	w.Header().Set("Content-Type", "application/json")
	assert.NoError(sr.t, json.NewEncoder(w).Encode(acceptAll(req)))
}

func (sr *streamReceiver) forget() {
	sr.mu.Lock()
	defer sr.mu.Unlock()
	clear(sr.streams)
}

func streamConfig(endpoint string) *Config {
	cfg := testConfig(endpoint)
	cfg.Stream.Enabled = true
	return cfg
}

// TestStreamModeSendsStreamFrames: with stream mode on, the pushes of one
// sender travel as the frames of one stream, the first a reset frame, the
// later ones smaller for what the receiver already holds; every span
// arrives once.
func TestStreamModeSendsStreamFrames(t *testing.T) {
	sr := startStreamReceiver(t)
	p := startNopPipelines(t, streamConfig(sr.server.URL))
	gen := fusiongen.New(8)
	for range 3 {
		require.NoError(t, p.traces.ConsumeTraces(context.Background(), gen.Traces(200)))
	}
	sr.mu.Lock()
	defer sr.mu.Unlock()
	assert.Equal(t, []int{200, 200, 200}, sr.statuses)
	assert.Equal(t, 600, sr.spans)
	assert.Len(t, sr.streamIDs, 1, "one sender at a time uses one stream")
	assert.NotZero(t, sr.flags[0]&(1<<2), "the first frame resets the stream")
	assert.Zero(t, sr.flags[1]&(1<<2))
	assert.Less(t, sr.sizes[2], sr.sizes[0], "later frames leave out what the stream holds")
}

// TestStreamResendsAfterConflict: a receiver that lost the stream answers
// 409 and ingests nothing; the exporter sends the same data again at once
// as a reset frame, and every span arrives exactly once.
func TestStreamResendsAfterConflict(t *testing.T) {
	sr := startStreamReceiver(t)
	p := startNopPipelines(t, streamConfig(sr.server.URL))
	gen := fusiongen.New(9)
	require.NoError(t, p.traces.ConsumeTraces(context.Background(), gen.Traces(50)))
	sr.forget() // the receiver restarted
	require.NoError(t, p.traces.ConsumeTraces(context.Background(), gen.Traces(50)))
	require.NoError(t, p.traces.ConsumeTraces(context.Background(), gen.Traces(50)))
	sr.mu.Lock()
	defer sr.mu.Unlock()
	assert.Equal(t, []int{200, 409, 200, 200}, sr.statuses)
	assert.NotZero(t, sr.flags[2]&(1<<2), "the resend is a reset frame")
	assert.Equal(t, 150, sr.spans)
}
