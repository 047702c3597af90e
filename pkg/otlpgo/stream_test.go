package otlpgo

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/otelfusion/otelfusion/pkg/fusiongen"
)

// shapeSources are the three data shapes of the benchmark (cmd/otlpgobench).
func shapeSources() map[string]func() fusiongen.Source {
	return map[string]func() fusiongen.Source{
		"fusiongen":        func() fusiongen.Source { return fusiongen.New(1) },
		"telemetrygen":     func() fusiongen.Source { return fusiongen.NewTelemetrygen(1) },
		"high_cardinality": func() fusiongen.Source { return fusiongen.NewHighCardinality(1) },
	}
}

// TestRoundTripShapes: every shape, every signal alone and all three fused,
// stateless and stream mode, with and without zstd, gives back the same
// OTLP proto bytes, frame after frame.
func TestRoundTripShapes(t *testing.T) {
	for shape, newSource := range shapeSources() {
		for _, compression := range []Compression{CompressionNone, CompressionZstd} {
			t.Run(shape+"/"+compression.String(), func(t *testing.T) {
				src := newSource()
				opts := EncodeOptions{Compression: compression}
				stream := NewStreamEncoder(opts, 0)
				dec := NewStreamDecoder(Limits{})
				batches := []func() Request{
					func() Request { return Request{Traces: src.Traces(300)} },
					func() Request { return Request{Logs: src.Logs(300)} },
					func() Request { return Request{Metrics: src.Metrics(300)} },
					func() Request {
						return Request{Traces: src.Traces(200), Logs: src.Logs(200), Metrics: src.Metrics(200)}
					},
				}
				for round := range 3 {
					for _, batch := range batches {
						req := batch()
						stateless, err := AppendFrame(nil, req, opts)
						require.NoError(t, err)
						got, err := Decode(stateless, Limits{})
						require.NoError(t, err)
						requireSameRequest(t, req, got)

						frame, err := stream.AppendFrame(nil, req)
						require.NoError(t, err)
						got, err = dec.Decode(frame)
						require.NoError(t, err, "round %d", round)
						requireSameRequest(t, req, got)
						if round > 0 && compression == CompressionZstd {
							// Uncompressed, references into the larger stream
							// dictionary may take a byte more than the frame's own.
							require.Less(t, len(frame), len(stateless), "a stream frame after the first needs less")
						}
					}
				}
				require.Equal(t, stream.StateBytes(), dec.StateBytes(), "writer and reader count the state alike")
			})
		}
	}
}

// TestRoundTripStreamCases runs the edge cases of TestRoundTrip through one
// stream, twice, so every frame after the first leans on the state.
func TestRoundTripStreamCases(t *testing.T) {
	enc := NewStreamEncoder(EncodeOptions{Compression: CompressionZstd}, 0)
	dec := NewStreamDecoder(Limits{})
	for range 2 {
		for _, tc := range roundTripCases() {
			frame, err := enc.AppendFrame(nil, tc.req)
			require.NoError(t, err, tc.name)
			got, err := dec.Decode(frame)
			require.NoError(t, err, tc.name)
			requireSameRequest(t, tc.req, got)
		}
	}
}

// streamFrames writes n frames of fusiongen logs and metrics.
func streamFrames(t *testing.T, enc *StreamEncoder, n int) [][]byte {
	t.Helper()
	gen := fusiongen.New(3)
	var frames [][]byte
	for range n {
		f, err := enc.AppendFrame(nil, Request{Logs: gen.Logs(50), Metrics: gen.Metrics(50)})
		require.NoError(t, err)
		frames = append(frames, f)
	}
	return frames
}

func requireStreamState(t *testing.T, err error) {
	t.Helper()
	require.ErrorIs(t, err, ErrStreamState)
	require.True(t, IsStreamStateError(err))
	var de *DecodeError
	require.ErrorAs(t, err, &de)
}

func TestStreamFrameFlags(t *testing.T) {
	frames := streamFrames(t, NewStreamEncoder(EncodeOptions{}, 0), 2)
	require.Equal(t, byte(flagStream|flagReset), frames[0][6])
	require.Equal(t, byte(flagStream), frames[1][6])

	// A stateless reader refuses stream frames, reset or not.
	for _, f := range frames {
		_, err := Decode(f, Limits{})
		requireStreamState(t, err)
	}
	// The reset flag alone is malformed.
	bad := append([]byte(nil), frames[0]...)
	bad[6] = flagReset
	_, err := Decode(bad, Limits{})
	require.ErrorIs(t, err, ErrMalformed)
	// v1 knows no stream flag.
	bad[4], bad[6] = versionV1, flagStream
	_, err = Decode(bad, Limits{})
	require.ErrorIs(t, err, ErrUnsupportedVersion)
}

// TestStreamLostFrame: a frame that never arrives (or that the receiver
// refused before reading it) makes the next one fail with ErrStreamState,
// and every one after it, until the sender resets.
func TestStreamLostFrame(t *testing.T) {
	enc := NewStreamEncoder(EncodeOptions{Compression: CompressionZstd}, 0)
	frames := streamFrames(t, enc, 4)
	dec := NewStreamDecoder(Limits{})
	_, err := dec.Decode(frames[0])
	require.NoError(t, err)
	_, err = dec.Decode(frames[2]) // frames[1] lost
	requireStreamState(t, err)
	require.Contains(t, err.Error(), "frame 2 of the stream, the reader expects frame 1")
	_, err = dec.Decode(frames[1]) // too late: the state is gone
	requireStreamState(t, err)
	_, err = dec.Decode(frames[3])
	requireStreamState(t, err)
	require.Zero(t, dec.StateBytes())

	enc.Reset()
	gen := fusiongen.New(9)
	req := Request{Traces: gen.Traces(40)}
	f, err := enc.AppendFrame(nil, req)
	require.NoError(t, err)
	require.Equal(t, byte(flagZstd|flagStream|flagReset), f[6])
	got, err := dec.Decode(f)
	require.NoError(t, err)
	requireSameRequest(t, req, got)
}

// TestStreamBadFrameClearsState: a corrupt frame fails alone; the state is
// dropped rather than half updated.
func TestStreamBadFrameClearsState(t *testing.T) {
	enc := NewStreamEncoder(EncodeOptions{}, 0)
	frames := streamFrames(t, enc, 3)
	dec := NewStreamDecoder(Limits{})
	_, err := dec.Decode(frames[0])
	require.NoError(t, err)
	corrupt := append([]byte(nil), frames[1]...)
	corrupt = corrupt[:len(corrupt)-3]
	binary.LittleEndian.PutUint32(corrupt[8:], uint32(len(corrupt)-headerSize))
	binary.LittleEndian.PutUint32(corrupt[12:], uint32(len(corrupt)-headerSize))
	_, err = dec.Decode(corrupt)
	require.Error(t, err)
	require.False(t, errors.Is(err, ErrStreamState))
	_, err = dec.Decode(frames[2])
	requireStreamState(t, err)
	require.Contains(t, err.Error(), "a reset frame must come first")

	// A new decoder wants a reset frame first.
	_, err = NewStreamDecoder(Limits{}).Decode(frames[1])
	requireStreamState(t, err)
}

// TestStreamStateBound: the writer resets before its state passes its
// bound, so a reader with the same limit reads every frame; a reader with a
// smaller limit refuses, naming the key.
func TestStreamStateBound(t *testing.T) {
	const bound = 64 << 10
	enc := NewStreamEncoder(EncodeOptions{}, bound)
	src := fusiongen.NewHighCardinality(2)
	dec := NewStreamDecoder(Limits{MaxStreamStateBytes: bound})
	resets := 0
	for i := range 20 {
		req := Request{Metrics: src.Metrics(120)}
		f, err := enc.AppendFrame(nil, req)
		require.NoError(t, err)
		if f[6]&flagReset != 0 {
			resets++
		}
		got, err := dec.Decode(f)
		require.NoError(t, err, "frame %d", i)
		requireSameRequest(t, req, got)
		require.LessOrEqual(t, dec.StateBytes(), int64(bound))
		require.LessOrEqual(t, enc.StateBytes(), int64(bound))
	}
	require.Greater(t, resets, 1, "the bound made the writer reset")

	big := NewStreamEncoder(EncodeOptions{}, 0)
	small := NewStreamDecoder(Limits{MaxStreamStateBytes: 4 << 10})
	f, err := big.AppendFrame(nil, Request{Metrics: src.Metrics(120)})
	require.NoError(t, err)
	_, err = small.Decode(f)
	require.ErrorIs(t, err, ErrLimitExceeded)
	var de *DecodeError
	require.ErrorAs(t, err, &de)
	require.Equal(t, "max_stream_state_bytes", de.Limit)
}

// TestStreamDecoderReadsStateless: stateless and v1 frames pass through a
// StreamDecoder without touching its state.
func TestStreamDecoderReadsStateless(t *testing.T) {
	enc := NewStreamEncoder(EncodeOptions{}, 0)
	frames := streamFrames(t, enc, 2)
	dec := NewStreamDecoder(Limits{})
	_, err := dec.Decode(frames[0])
	require.NoError(t, err)
	before := dec.StateBytes()
	req := fixtureRequest()
	got, err := dec.Decode(encodeFrame(t, req, CompressionZstd))
	require.NoError(t, err)
	requireSameRequest(t, req, got)
	require.Equal(t, before, dec.StateBytes())
	_, err = dec.Decode(frames[1])
	require.NoError(t, err)
}

// TestLocalStrings: strings over 256 bytes are local to their frame, and
// a frame that leaves one unused, or asks for one too many, is refused.
func TestLocalStrings(t *testing.T) {
	long := make([]byte, 300)
	for i := range long {
		long[i] = 'a' + byte(i%26)
	}
	req := NewRequest()
	lr := req.Logs.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.Body().SetStr(string(long))
	lr.Attributes().PutStr(string(long), string(long)) // a long key is an entry, its value local
	enc := NewStreamEncoder(EncodeOptions{}, 0)
	dec := NewStreamDecoder(Limits{})
	for range 3 {
		f, err := enc.AppendFrame(nil, req)
		require.NoError(t, err)
		got, err := dec.Decode(f)
		require.NoError(t, err)
		requireSameRequest(t, req, got)
	}
	// The state holds the key once, never the local values.
	require.Equal(t, int64(stateCostDictEntry+300+stateCostShape+stateCostShapeKey+stateCostShape), dec.StateBytes())
}

// TestXF64 pins the double coding: equal values one byte, the others their
// non-zero bytes.
func TestXF64(t *testing.T) {
	for _, tc := range []struct {
		x    uint64
		want []byte
	}{
		{0, []byte{0x80}},
		{0xff, []byte{0x70, 0xff}},
		{0x0102_0000_0000_0000, []byte{0x06, 0x01, 0x02}},
		{0x8000_0000_0000_0001, []byte{0x00, 0x80, 0, 0, 0, 0, 0, 0, 0x01}},
		{0x00ff_ff00_0000_0000, []byte{0x15, 0xff, 0xff}},
	} {
		require.Equal(t, tc.want, appendXF64(nil, tc.x), "%#x", tc.x)
	}
}

// TestStreamExpansion measures decoded size / raw_len of stream frames,
// which leave out what the stream holds and so expand more than stateless
// ones: the default max_expansion must cover the three data shapes.
func TestStreamExpansion(t *testing.T) {
	largest := 0.0
	for shape, newSource := range shapeSources() {
		for _, batch := range []int{100, 1000} {
			src := newSource()
			enc := NewStreamEncoder(EncodeOptions{Compression: CompressionZstd}, 0)
			dec := NewStreamDecoder(Limits{})
			for i := range 4 {
				req := Request{Traces: src.Traces(batch), Logs: src.Logs(batch), Metrics: src.Metrics(batch)}
				frame, err := enc.AppendFrame(nil, req)
				require.NoError(t, err)
				st := decodeState{limits: dec.d.limits, stream: &dec.state}
				_, err = dec.d.decodeFrame(frame, &st)
				require.NoError(t, err)
				ratio := float64(st.decoded) / float64(binary.LittleEndian.Uint32(frame[12:]))
				if st.decoded > minExpansionBudget {
					largest = max(largest, ratio)
				}
				t.Logf("%s batch %d frame %d: ratio %.1f", shape, batch, i, ratio)
			}
		}
	}
	t.Logf("largest ratio over the floor: %.1f", largest)
	require.LessOrEqual(t, 2*largest, float64(DefaultLimits().MaxExpansion), "the default keeps twice the margin, as for stateless frames")
}
