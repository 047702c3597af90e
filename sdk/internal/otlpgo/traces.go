package otlpgo

import (
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// The traces section; layout in docs/protocol.md, "Traces section".

// Span flags beyond the W3C trace flags, as the OTLP exporters set them.
const (
	spanFlagsHasIsRemote = 0x100
	spanFlagsIsRemote    = 0x200
)

// AddSpans adds spans to the traces section of the frame, one resource
// entry for each run of spans that share a resource and a scope.
func (b *Builder) AddSpans(spans []sdktrace.ReadOnlySpan) {
	w := &b.sections[Traces]
	for start := 0; start < len(spans); {
		res, scope := spans[start].Resource(), spans[start].InstrumentationScope()
		end := start + 1
		for end < len(spans) && spans[end].Resource() == res && spans[end].InstrumentationScope() == scope {
			end++
		}
		w.resourceEntry(res, 1)
		w.scopeEntry(scope, end-start)
		w.items += end - start
		for _, s := range spans[start:end] {
			w.span(s)
		}
		start = end
	}
}

func (w *sectionWriter) span(s sdktrace.ReadOnlySpan) {
	index := len(w.spanStarts)
	sc, parent := s.SpanContext(), s.Parent()
	spanID := [8]byte(sc.SpanID())
	w.traceID(sc.TraceID())
	w.raw(spanID[:])
	if _, seen := w.spanIndex[spanID]; !seen {
		w.spanIndex[spanID] = index // the first span wins when ids repeat
	}
	parentIndex := -1
	switch {
	case !parent.SpanID().IsValid():
		w.uvarint(parentNone)
	default:
		if at, ok := w.spanIndex[[8]byte(parent.SpanID())]; ok && at != index {
			parentIndex = at
			d := int64(at - index)
			w.uvarint(parentInSection + uint64(d<<1^d>>63))
		} else {
			w.uvarint(parentRaw)
			pid := parent.SpanID()
			w.raw(pid[:])
		}
	}
	w.str(sc.TraceState().String())
	w.uvarint(spanFlags(sc.TraceFlags(), parent))
	w.str(s.Name())
	w.varint(int64(s.SpanKind()))
	start := unixNano(s.StartTime())
	if parentIndex >= 0 {
		w.timeFrom(w.spanStarts[parentIndex], start)
		w.prevStart = start
	} else {
		w.timeDelta(&w.prevStart, start)
	}
	w.spanStarts = append(w.spanStarts, start)
	w.timeFrom(start, unixNano(s.EndTime()))
	w.attrs(s.Attributes())
	w.uvarint(uint64(max(0, s.DroppedAttributes())))

	events := s.Events()
	w.count(len(events))
	for _, ev := range events {
		w.timeFrom(start, unixNano(ev.Time))
		w.str(ev.Name)
		w.attrs(ev.Attributes)
		w.uvarint(uint64(max(0, ev.DroppedAttributeCount)))
	}
	w.uvarint(uint64(max(0, s.DroppedEvents())))

	links := s.Links()
	w.count(len(links))
	for _, l := range links {
		lid := l.SpanContext.SpanID()
		w.traceID(l.SpanContext.TraceID())
		w.raw(lid[:])
		w.str(l.SpanContext.TraceState().String())
		w.uvarint(spanFlags(l.SpanContext.TraceFlags(), l.SpanContext))
		w.attrs(l.Attributes)
		w.uvarint(uint64(max(0, l.DroppedAttributeCount)))
	}
	w.uvarint(uint64(max(0, s.DroppedLinks())))

	st := s.Status()
	w.varint(statusCode(st.Code))
	w.str(st.Description)
}

// spanFlags are the W3C flags, and whether the parent (or the linked span)
// is remote, as the OTLP exporters write them.
func spanFlags(tf trace.TraceFlags, parent trace.SpanContext) uint64 {
	flags := uint64(tf) | spanFlagsHasIsRemote
	if parent.IsRemote() {
		flags |= spanFlagsIsRemote
	}
	return flags
}

// statusCode maps the API's codes (Unset, Error, Ok) to OTLP's (Unset, Ok, Error).
func statusCode(c codes.Code) int64 {
	switch c {
	case codes.Ok:
		return 1
	case codes.Error:
		return 2
	default:
		return 0
	}
}
