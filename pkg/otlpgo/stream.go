package otlpgo

import (
	"encoding/binary"
	"errors"
)

// Stream mode (docs/protocol.md, "Stream mode"): the frames of one stream
// share a dictionary and map shapes, so what repeats from frame to frame
// (resources, attribute keys, metric names) is written once per stream.

// encoderStream is the stream part of a StreamEncoder's Encoder.
type encoderStream struct {
	seq           uint64 // of the next frame
	reset         bool   // the next frame is a reset frame
	maxStateBytes int64
}

// appendSection writes the stream section: the frame's sequence number.
func (s *encoderStream) appendSection(dst []byte) []byte {
	seq := s.seq
	if s.reset {
		seq = 0
	}
	dst = binary.AppendUvarint(dst, uint64(sectionStream))
	dst = binary.AppendUvarint(dst, uint64(uvarintLen(seq)))
	return binary.AppendUvarint(dst, seq)
}

// StreamEncoder writes the frames of one stream, each against the state
// that the frames before it left. Its frames must reach one StreamDecoder
// in the order they were written; when that may not have happened (a frame
// lost, refused, or answered with ErrStreamState), call Reset. Not safe for
// concurrent use.
type StreamEncoder struct {
	enc *Encoder
}

// NewStreamEncoder returns a StreamEncoder whose state stays within
// maxStateBytes (counted as a reader counts max_stream_state_bytes; zero
// takes the default). Its first frame is a reset frame.
func NewStreamEncoder(opts EncodeOptions, maxStateBytes int) *StreamEncoder {
	if maxStateBytes <= 0 {
		maxStateBytes = DefaultLimits().MaxStreamStateBytes
	}
	e := NewEncoder(opts)
	e.stream = &encoderStream{reset: true, maxStateBytes: int64(maxStateBytes)}
	return &StreamEncoder{enc: e}
}

// Reset makes the next frame a reset frame, readable whatever state the
// reader has.
func (s *StreamEncoder) Reset() { s.enc.stream.reset = true }

// StateBytes is the stream state the frames so far left, as a reader counts it.
func (s *StreamEncoder) StateBytes() int64 { return s.enc.stateBytes() }

// AppendFrame appends the next frame of the stream, holding req, to dst.
// A frame that takes the state over its bound is written again as a reset
// frame, which holds only what req needs.
func (s *StreamEncoder) AppendFrame(dst []byte, req Request) ([]byte, error) {
	st := s.enc.stream
	start := len(dst)
	out, err := s.enc.AppendFrame(dst, req)
	if err == nil && !st.reset && s.enc.stateBytes() > st.maxStateBytes {
		st.reset = true
		out, err = s.enc.AppendFrame(out[:start], req)
	}
	if err != nil {
		st.reset = true
		return out[:start], err
	}
	if st.reset {
		st.seq = 0
	}
	st.seq++
	st.reset = false
	return out, nil
}

func (e *Encoder) stateBytes() int64 {
	n := e.dict.stateBytes
	for i := range e.sections {
		n += e.sections[i].shapeStateBytes
	}
	return n
}

// streamState is what a StreamDecoder keeps from frame to frame.
type streamState struct {
	dict    []string
	shapes  [3][]*shape // of the traces, logs and metrics sections
	nextSeq uint64
	bytes   int64 // state cost, against Limits.MaxStreamStateBytes
	// needReset: no reset frame yet, or a frame failed; only a reset frame
	// is read.
	needReset bool
}

func (s *streamState) clear() {
	*s = streamState{needReset: s.needReset}
}

// StreamDecoder reads the frames of one stream in order, within its Limits,
// keeping the stream state between them. It reads stateless and v1 frames
// too, without touching the state. Not safe for concurrent use: a receiver
// holds one per stream and reads its frames one at a time.
type StreamDecoder struct {
	d     Decoder
	state streamState
}

// NewStreamDecoder returns a StreamDecoder bounded by limits (zero limits
// take their default). It wants a reset frame first.
func NewStreamDecoder(limits Limits) *StreamDecoder {
	return &StreamDecoder{d: Decoder{limits: limits.orDefaults()}, state: streamState{needReset: true}}
}

// Decode reads the next frame of the stream. On error it returns an empty
// Request; after an error in a stream frame the state is gone, and every
// stream frame until the next reset frame fails with ErrStreamState.
func (s *StreamDecoder) Decode(frame []byte) (Request, error) {
	st := decodeState{limits: s.d.limits, stream: &s.state}
	req, err := s.d.decodeFrame(frame, &st)
	if err != nil {
		if st.streamFrame {
			s.state.clear()
			s.state.needReset = true
		}
		return NewRequest(), err
	}
	return req, nil
}

// StateBytes is the state the stream holds, as counted against
// max_stream_state_bytes.
func (s *StreamDecoder) StateBytes() int64 { return s.state.bytes }

// IsStreamStateError reports whether err asks the sender to reset its stream.
func IsStreamStateError(err error) bool { return errors.Is(err, ErrStreamState) }
