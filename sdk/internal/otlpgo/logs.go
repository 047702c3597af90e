package otlpgo

import (
	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
)

// The logs section; layout in docs/protocol.md, "Logs section".

// AddLogs adds records to the logs section of the frame, one resource entry
// for each run of records that share a resource and a scope. The records
// are read, not kept.
func (b *Builder) AddLogs(records []sdklog.Record) {
	w := &b.sections[Logs]
	for start := 0; start < len(records); {
		res, scope := records[start].Resource(), records[start].InstrumentationScope()
		end := start + 1
		for end < len(records) && records[end].Resource() == res && records[end].InstrumentationScope() == scope {
			end++
		}
		w.resourceEntry(res, 1)
		w.scopeEntry(scope, end-start)
		w.items += end - start
		for i := start; i < end; i++ {
			w.logRecord(&records[i])
		}
		start = end
	}
}

func (w *sectionWriter) logRecord(r *sdklog.Record) {
	t := unixNano(r.Timestamp())
	w.timeDelta(&w.prevLogTime, t)
	w.timeDelta(&w.prevLogLag, unixNano(r.ObservedTimestamp())-t)
	w.varint(int64(r.Severity()))
	w.str(r.SeverityText())
	w.attrValue(r.Body())
	w.recordAttrs(r)
	w.uvarint(uint64(max(0, r.DroppedAttributes())))
	w.uvarint(uint64(r.TraceFlags()))
	traceID, spanID := r.TraceID(), r.SpanID()
	var presence uint64
	if traceID.IsValid() {
		presence |= hasTraceID
	}
	if spanID.IsValid() {
		presence |= hasSpanID
	}
	w.uvarint(presence)
	if presence&hasTraceID != 0 {
		w.traceID(traceID)
	}
	if presence&hasSpanID != 0 {
		w.spanIDRef(spanID)
	}
	w.str(r.EventName())
}

// recordAttrs writes the attributes of r without copying them out of it.
func (w *sectionWriter) recordAttrs(r *sdklog.Record) {
	mark := len(w.shapeKey)
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		w.shapeKey = w.appendShapeEntry(w.shapeKey, string(kv.Key), w.attrTag(kv.Value))
		return true
	})
	w.shape(r.AttributesLen(), w.shapeKey[mark:])
	w.shapeKey = w.shapeKey[:mark]
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		w.attrPayload(kv.Value, w.attrTag(kv.Value))
		return true
	})
}
