package otlpgo

import (
	"encoding/binary"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// The traces section; layout in docs/protocol.md, "Traces section".

func (w *sectionWriter) traces(td ptrace.Traces) {
	var prevStart uint64
	rss := td.ResourceSpans()
	w.ids.spans = w.indexSpans(rss) // positions 0..n-1 are the spans, by index
	spanIndex := 0
	w.count(rss.Len())
	for i := range rss.Len() {
		rs := rss.At(i)
		w.resource(rs.Resource(), rs.SchemaUrl())
		sss := rs.ScopeSpans()
		w.count(sss.Len())
		for j := range sss.Len() {
			ss := sss.At(j)
			w.scope(ss.Scope(), ss.SchemaUrl())
			spans := ss.Spans()
			w.count(spans.Len())
			for k := range spans.Len() {
				w.span(spans.At(k), spanIndex, &prevStart)
				spanIndex++
			}
		}
	}
}

// indexSpans puts the span ids of the section in the frame's span id list
// (traces come first in a frame); the first span wins when ids repeat.
func (w *sectionWriter) indexSpans(rss ptrace.ResourceSpansSlice) (spans int) {
	for _, rs := range rss.All() {
		for _, ss := range rs.ScopeSpans().All() {
			for _, s := range ss.Spans().All() {
				id := s.SpanID()
				w.ids.spanKeys.add(binary.LittleEndian.Uint64(id[:]), spans)
				spans++
			}
		}
	}
	return spans
}

func (w *sectionWriter) span(s ptrace.Span, index int, prevStart *uint64) {
	spanID, parentID := s.SpanID(), s.ParentSpanID()
	w.traceID(s.TraceID())
	w.raw(spanID[:])
	// Parent: none, raw, or the distance to the span in this section that has it.
	parentIndex := -1
	if parentID.IsEmpty() {
		w.uvarint(parentNone)
	} else if at, ok := w.ids.spanKeys.get(binary.LittleEndian.Uint64(parentID[:])); ok {
		parentIndex = at
		d := int64(at - index)
		w.uvarint(parentInSection + uint64(d<<1^d>>63))
	} else {
		w.uvarint(parentRaw)
		w.raw(parentID[:])
	}
	w.str(s.TraceState().AsRaw())
	w.uvarint(uint64(s.Flags()))
	w.str(s.Name())
	w.varint(int64(s.Kind()))
	// A child starts close to its parent: when the parent came first, its
	// start is the base, else the start of the span before.
	start := uint64(s.StartTimestamp())
	if parentIndex >= 0 && parentIndex < index {
		w.timeFrom(w.spanStarts[parentIndex], start)
		*prevStart = start
	} else {
		w.timeDelta(prevStart, start)
	}
	w.spanStarts = append(w.spanStarts, start)
	w.timeFrom(start, uint64(s.EndTimestamp()))
	w.attrs(s.Attributes())
	w.uvarint(uint64(s.DroppedAttributesCount()))

	events := s.Events()
	w.count(events.Len())
	for i := range events.Len() {
		ev := events.At(i)
		w.timeFrom(start, uint64(ev.Timestamp()))
		w.str(ev.Name())
		w.attrs(ev.Attributes())
		w.uvarint(uint64(ev.DroppedAttributesCount()))
	}
	w.uvarint(uint64(s.DroppedEventsCount()))

	links := s.Links()
	w.count(links.Len())
	for i := range links.Len() {
		l := links.At(i)
		ls := l.SpanID()
		w.traceID(l.TraceID())
		w.raw(ls[:])
		w.str(l.TraceState().AsRaw())
		w.uvarint(uint64(l.Flags()))
		w.attrs(l.Attributes())
		w.uvarint(uint64(l.DroppedAttributesCount()))
	}
	w.uvarint(uint64(s.DroppedLinksCount()))

	st := s.Status()
	w.varint(int64(st.Code()))
	w.str(st.Message())
}

func (r *sectionReader) traces(td ptrace.Traces) {
	var prevStart uint64
	rss := td.ResourceSpans()
	n := r.count(streamStruct, 1, "resources")
	if r.spend(int64(n) * costResource); r.err != nil {
		return
	}
	rss.EnsureCapacity(n)
	for range n {
		if r.err != nil {
			return
		}
		rs := rss.AppendEmpty()
		rs.SetSchemaUrl(r.resource(rs.Resource()))
		sss := rs.ScopeSpans()
		ns := r.count(streamStrings, 3, "scopes")
		if r.spend(int64(ns) * costScope); r.err != nil {
			return
		}
		sss.EnsureCapacity(ns)
		for range ns {
			if r.err != nil {
				return
			}
			ss := sss.AppendEmpty()
			ss.SetSchemaUrl(r.scope(ss.Scope()))
			spans := ss.Spans()
			nspans := r.count(streamRaw, 8, "spans")
			r.items(nspans, costSpan)
			r.spans = reserve(r, r.spans, nspans)
			r.st.spanIDs = reserve(r, r.st.spanIDs, nspans)
			if r.err != nil {
				return
			}
			spans.EnsureCapacity(nspans)
			for range nspans {
				if r.err != nil {
					return
				}
				s := spans.AppendEmpty()
				r.span(s, len(r.spans), &prevStart)
				r.spans = append(r.spans, s)
			}
		}
	}
	r.resolveParents()
}

// resolveParents sets the parent span ids written as distances, now that
// every span of the section is known.
func (r *sectionReader) resolveParents() {
	for _, p := range r.parents {
		if r.err != nil {
			return
		}
		if p.parent < 0 || p.parent >= int64(len(r.spans)) {
			r.fail(&r.streams[streamStruct], ErrMalformed, "span %d has parent at span %d, the section has %d spans",
				p.child, p.parent, len(r.spans))
			return
		}
		r.spans[p.child].SetParentSpanID(r.spans[p.parent].SpanID())
	}
}

func (r *sectionReader) span(s ptrace.Span, index int, prevStart *uint64) {
	parentIndex := int64(-1)
	s.SetTraceID(r.traceIDRef())
	spanID := r.spanID()
	s.SetSpanID(spanID)
	r.st.spanIDs = append(r.st.spanIDs, spanID)
	switch parent := r.uvarint(); parent {
	case parentNone:
	case parentRaw:
		s.SetParentSpanID(r.spanID())
	default:
		u := parent - parentInSection
		d := int64(u>>1) ^ -int64(u&1)
		parentIndex = int64(index) + d
		if r.parents = reserve(r, r.parents, 1); r.err == nil {
			r.parents = append(r.parents, parentRef{child: index, parent: parentIndex})
		}
	}
	if ts := r.str(); ts != "" {
		s.TraceState().FromRaw(ts)
	}
	s.SetFlags(r.uint32Value("span flags"))
	s.SetName(r.str())
	s.SetKind(ptrace.SpanKind(r.int32Value(streamStruct, "span kind")))
	var start uint64
	if parentIndex >= 0 && parentIndex < int64(index) {
		start = uint64(r.timeFrom(uint64(r.spans[parentIndex].StartTimestamp())))
		*prevStart = start
	} else {
		start = uint64(r.timeDelta(prevStart))
	}
	s.SetStartTimestamp(pcommon.Timestamp(start))
	s.SetEndTimestamp(r.timeFrom(start))
	r.attrs(s.Attributes(), 0)
	s.SetDroppedAttributesCount(r.uint32Value("dropped attributes count"))

	if n := r.count(streamStrings, 1, "events"); n > 0 {
		r.spend(int64(n) * costSpanEvent)
		if r.err != nil {
			return
		}
		events := s.Events()
		events.EnsureCapacity(n)
		for range n {
			if r.err != nil {
				return
			}
			ev := events.AppendEmpty()
			ev.SetTimestamp(r.timeFrom(start))
			ev.SetName(r.str())
			r.attrs(ev.Attributes(), 0)
			ev.SetDroppedAttributesCount(r.uint32Value("dropped attributes count"))
		}
	}
	s.SetDroppedEventsCount(r.uint32Value("dropped events count"))

	if n := r.count(streamRaw, 8, "links"); n > 0 {
		r.spend(int64(n) * costSpanLink)
		if r.err != nil {
			return
		}
		links := s.Links()
		links.EnsureCapacity(n)
		for range n {
			if r.err != nil {
				return
			}
			l := links.AppendEmpty()
			l.SetTraceID(r.traceIDRef())
			l.SetSpanID(r.spanID())
			if ts := r.str(); ts != "" {
				l.TraceState().FromRaw(ts)
			}
			l.SetFlags(r.uint32Value("link flags"))
			r.attrs(l.Attributes(), 0)
			l.SetDroppedAttributesCount(r.uint32Value("dropped attributes count"))
		}
	}
	s.SetDroppedLinksCount(r.uint32Value("dropped links count"))

	st := s.Status()
	st.SetCode(ptrace.StatusCode(r.int32Value(streamStruct, "status code")))
	st.SetMessage(r.str())
}
