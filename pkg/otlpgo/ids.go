package otlpgo

import (
	"encoding/binary"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// Trace and span ids are 16 and 8 random bytes that zstd cannot shrink, so a
// frame writes each one once: later uses are back references. The tables
// span the whole frame, so the logs and exemplars of a fused frame point at
// the spans of its traces section. docs/protocol.md, "Id references".

// idWriter numbers the trace and span ids of the frame being written.
type idWriter struct {
	// traceKeys maps the xor of an id's halves to its position in traces;
	// a key collision just writes the second id raw again.
	traceKeys idIndex
	traces    []pcommon.TraceID
	// spanKeys maps a span id to its position in the frame's span id list:
	// the spans of the traces section by index, then the span ids written raw
	// by span id references.
	spanKeys idIndex
	spans    int
}

func (w *idWriter) reset() {
	w.traceKeys.reset()
	w.traces = w.traces[:0]
	w.spanKeys.reset()
	w.spans = 0
}

// traceID writes a trace id reference: 0 and the 16 raw bytes for an id new
// to the frame, else how many distinct ids back it was first written.
func (w *sectionWriter) traceID(id pcommon.TraceID) {
	ids := w.ids
	key := binary.LittleEndian.Uint64(id[:8]) ^ binary.LittleEndian.Uint64(id[8:])
	pos, ok := ids.traceKeys.get(key)
	if ok && ids.traces[pos] == id {
		w.uvarint(uint64(len(ids.traces) - pos))
		return
	}
	if !ok {
		ids.traceKeys.add(key, len(ids.traces))
	}
	ids.traces = append(ids.traces, id)
	w.uvarint(0)
	w.raw(id[:])
}

// spanIDRef writes a span id reference: 0 and the 8 raw bytes for an id new
// to the frame, else how many entries back it is in the span id list.
func (w *sectionWriter) spanIDRef(id pcommon.SpanID) {
	ids := w.ids
	key := binary.LittleEndian.Uint64(id[:])
	if pos, ok := ids.spanKeys.get(key); ok {
		w.uvarint(uint64(ids.spans - pos))
		return
	}
	ids.spanKeys.add(key, ids.spans)
	ids.spans++
	w.uvarint(0)
	w.raw(id[:])
}

// traceIDRef reads what sectionWriter.traceID wrote.
func (r *sectionReader) traceIDRef() pcommon.TraceID {
	back := r.uvarint()
	if back == 0 {
		id := r.traceID()
		if r.st.traceIDs = reserve(r, r.st.traceIDs, 1); r.err == nil {
			r.st.traceIDs = append(r.st.traceIDs, id)
		}
		return id
	}
	if back > uint64(len(r.st.traceIDs)) {
		r.fail(&r.streams[streamStruct], ErrMalformed, "trace id reference %d back, the frame has %d so far", back, len(r.st.traceIDs))
		return pcommon.TraceID{}
	}
	return r.st.traceIDs[uint64(len(r.st.traceIDs))-back]
}

// spanIDRef reads what sectionWriter.spanIDRef wrote.
func (r *sectionReader) spanIDRef() pcommon.SpanID {
	back := r.uvarint()
	if back == 0 {
		id := r.spanID()
		if r.st.spanIDs = reserve(r, r.st.spanIDs, 1); r.err == nil {
			r.st.spanIDs = append(r.st.spanIDs, id)
		}
		return id
	}
	if back > uint64(len(r.st.spanIDs)) {
		r.fail(&r.streams[streamStruct], ErrMalformed, "span id reference %d back, the frame has %d so far", back, len(r.st.spanIDs))
		return pcommon.SpanID{}
	}
	return r.st.spanIDs[uint64(len(r.st.spanIDs))-back]
}
