package otlpgoreceiver

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"

	"github.com/otelfusion/otelfusion/pkg/fusiongen"
	"github.com/otelfusion/otelfusion/pkg/otlpgo"
)

func postStreamFrame(t *testing.T, url, stream string, frame []byte) httpResult {
	t.Helper()
	return doRequest(t, http.MethodPost, url, otlpgo.ContentType, bytes.NewReader(frame), http.Header{otlpgo.StreamHeader: {stream}})
}

// TestFusedStream: the frames of a stream share their state across
// requests; each is acknowledged per signal as a stateless frame is, and
// reaches the pipelines whole.
func TestFusedStream(t *testing.T) {
	traces, logs, metrics := new(consumertest.TracesSink), new(consumertest.LogsSink), new(consumertest.MetricsSink)
	url := startReceiver(t, fusedOnlyConfig(), nopSettings(), pipelines{traces: traces, logs: logs, metrics: metrics})
	enc := otlpgo.NewStreamEncoder(otlpgo.EncodeOptions{Compression: otlpgo.CompressionZstd}, 0)
	gen := fusiongen.New(4)
	wantSpans, wantRecords, wantPoints := 0, 0, 0
	for i := range 5 {
		req := otlpgo.Request{Traces: gen.Traces(100), Logs: gen.Logs(100), Metrics: gen.Metrics(100)}
		frame, err := enc.AppendFrame(nil, req)
		require.NoError(t, err)
		res := postStreamFrame(t, url, "agent-1", frame)
		require.Equal(t, http.StatusOK, res.status, "frame %d: %s", i, res.body)
		assert.Equal(t, otlpgo.Response{
			Traces:  &otlpgo.SignalResult{Accepted: 100},
			Logs:    &otlpgo.SignalResult{Accepted: 100},
			Metrics: &otlpgo.SignalResult{Accepted: 100},
		}, decodeResponse(t, res))
		wantSpans, wantRecords, wantPoints = wantSpans+100, wantRecords+100, wantPoints+100
	}
	assert.Equal(t, wantSpans, traces.SpanCount())
	assert.Equal(t, wantRecords, logs.LogRecordCount())
	assert.Equal(t, wantPoints, metrics.DataPointCount())
}

// TestFusedStreamConflict: a stream frame the receiver cannot follow (no
// header, unknown stream, a frame missed) is answered 409 and ingests
// nothing; the sender's reset frame is then read.
func TestFusedStreamConflict(t *testing.T) {
	traces := new(consumertest.TracesSink)
	url := startReceiver(t, fusedOnlyConfig(), nopSettings(), pipelines{traces: traces})
	enc := otlpgo.NewStreamEncoder(otlpgo.EncodeOptions{}, 0)
	gen := fusiongen.New(5)
	var frames [][]byte
	for range 3 {
		f, err := enc.AppendFrame(nil, otlpgo.Request{Traces: gen.Traces(10)})
		require.NoError(t, err)
		frames = append(frames, f)
	}
	res := postFrame(t, url, frames[0]) // a stream frame without the header
	require.Equal(t, http.StatusConflict, res.status, string(res.body))
	res = postStreamFrame(t, url, "s1", frames[1]) // the stream has no reset frame yet
	require.Equal(t, http.StatusConflict, res.status, string(res.body))
	assert.Contains(t, decodeMessage(t, res), "reset frame")

	require.Equal(t, http.StatusOK, postStreamFrame(t, url, "s1", frames[0]).status)
	res = postStreamFrame(t, url, "s1", frames[2]) // frames[1] lost
	require.Equal(t, http.StatusConflict, res.status, string(res.body))
	assert.Equal(t, 10, traces.SpanCount())

	enc.Reset()
	f, err := enc.AppendFrame(nil, otlpgo.Request{Traces: gen.Traces(10)})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, postStreamFrame(t, url, "s1", f).status)
	assert.Equal(t, 20, traces.SpanCount())

	res = postStreamFrame(t, url, "bad id!", f)
	require.Equal(t, http.StatusBadRequest, res.status)
	assert.Contains(t, decodeMessage(t, res), otlpgo.StreamHeader)
}

// TestFusedStreamsPerTenant: the same stream id under two tenants is two
// streams: neither can read the other's state.
func TestFusedStreamsPerTenant(t *testing.T) {
	cfg := fusedOnlyConfig()
	cfg.Tenant.Sources = []TenantSource{TenantSourceMetadata}
	cfg.Tenant.DefaultTenant = ""
	traces := new(consumertest.TracesSink)
	url := startReceiver(t, cfg, nopSettings(), pipelines{traces: traces})
	enc := otlpgo.NewStreamEncoder(otlpgo.EncodeOptions{}, 0)
	gen := fusiongen.New(6)
	first, err := enc.AppendFrame(nil, otlpgo.Request{Traces: gen.Traces(10)})
	require.NoError(t, err)
	second, err := enc.AppendFrame(nil, otlpgo.Request{Traces: gen.Traces(10)})
	require.NoError(t, err)
	post := func(tenant string, frame []byte) int {
		return doRequest(t, http.MethodPost, url, otlpgo.ContentType, bytes.NewReader(frame),
			http.Header{otlpgo.StreamHeader: {"shared"}, cfg.Tenant.MetadataKey: {tenant}}).status
	}
	require.Equal(t, http.StatusOK, post("a", first))
	require.Equal(t, http.StatusConflict, post("b", second), "tenant b has no state under the id")
	require.Equal(t, http.StatusOK, post("a", second))
	assert.Equal(t, 20, traces.SpanCount())
}

// TestStreamTableEvicts: a full table drops its least recently used idle
// stream for a new one, and refuses when every stream is decoding.
func TestStreamTableEvicts(t *testing.T) {
	table := newStreamTable(2, otlpgo.Limits{})
	a, err := table.acquire(streamKey{id: "a"})
	require.NoError(t, err)
	a.mu.Unlock()
	b, err := table.acquire(streamKey{id: "b"})
	require.NoError(t, err)
	b.mu.Unlock()
	c, err := table.acquire(streamKey{id: "c"}) // a goes
	require.NoError(t, err)
	require.Equal(t, 2, table.len())
	_, stillThere := table.streams[streamKey{id: "a"}]
	require.False(t, stillThere)
	b, err = table.acquire(streamKey{id: "b"})
	require.NoError(t, err)
	_, err = table.acquire(streamKey{id: "d"}) // b and c are both decoding
	require.ErrorIs(t, err, errTooManyStreams)
	b.mu.Unlock()
	c.mu.Unlock()
}

func TestValidStreamID(t *testing.T) {
	for id, want := range map[string]bool{
		"": false, "a": true, "agent-1_x": true, "a b": false, "ä": false,
		string(bytes.Repeat([]byte("x"), 64)): true, string(bytes.Repeat([]byte("x"), 65)): false,
	} {
		assert.Equal(t, want, validStreamID(id), "%q", id)
	}
}
