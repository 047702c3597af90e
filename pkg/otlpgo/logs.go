package otlpgo

import (
	"go.opentelemetry.io/collector/pdata/plog"
)

// The logs section; layout in docs/protocol.md, "Logs section".

// recordTimes are the running bases of the time fields of log records.
type recordTimes struct {
	time uint64 // the previous record's time
	lag  uint64 // the previous record's observed_time - time (wrapping)
}

func (w *sectionWriter) logs(ld plog.Logs) {
	var prevTime recordTimes
	rls := ld.ResourceLogs()
	w.count(rls.Len())
	for i := range rls.Len() {
		rl := rls.At(i)
		w.resource(rl.Resource(), rl.SchemaUrl())
		sls := rl.ScopeLogs()
		w.count(sls.Len())
		for j := range sls.Len() {
			sl := sls.At(j)
			w.scope(sl.Scope(), sl.SchemaUrl())
			records := sl.LogRecords()
			w.count(records.Len())
			for k := range records.Len() {
				w.logRecord(records.At(k), &prevTime)
			}
		}
	}
}

func (w *sectionWriter) logRecord(lr plog.LogRecord, prev *recordTimes) {
	t := uint64(lr.Timestamp())
	w.timeDelta(&prev.time, t)
	// observed_time: unset or equal to time costs a byte of a run; else its
	// lag behind time is mostly that of the record before.
	switch observed := uint64(lr.ObservedTimestamp()); observed {
	case 0:
		w.uvarint(observedUnset)
	case t:
		w.uvarint(observedEqual)
	default:
		w.uvarint(observedDelta)
		w.timeDelta(&prev.lag, observed-t)
	}
	w.varint(int64(lr.SeverityNumber()))
	w.str(lr.SeverityText())
	w.value(lr.Body())
	w.attrs(lr.Attributes())
	w.uvarint(uint64(lr.DroppedAttributesCount()))
	w.uvarint(uint64(lr.Flags()))
	traceID, spanID := lr.TraceID(), lr.SpanID()
	var presence uint64
	if !traceID.IsEmpty() {
		presence |= hasTraceID
	}
	if !spanID.IsEmpty() {
		presence |= hasSpanID
	}
	w.uvarint(presence)
	if presence&hasTraceID != 0 {
		w.traceID(traceID)
	}
	if presence&hasSpanID != 0 {
		w.spanIDRef(spanID)
	}
	w.str(lr.EventName())
}

func (r *sectionReader) logs(ld plog.Logs) {
	var prevTime recordTimes
	rls := ld.ResourceLogs()
	n := r.count(streamStruct, 1, "resources")
	if r.spend(int64(n) * costResource); r.err != nil {
		return
	}
	rls.EnsureCapacity(n)
	for range n {
		if r.err != nil {
			return
		}
		rl := rls.AppendEmpty()
		rl.SetSchemaUrl(r.resource(rl.Resource()))
		sls := rl.ScopeLogs()
		ns := r.count(streamStrings, 3, "scopes")
		if r.spend(int64(ns) * costScope); r.err != nil {
			return
		}
		sls.EnsureCapacity(ns)
		for range ns {
			if r.err != nil {
				return
			}
			sl := sls.AppendEmpty()
			sl.SetSchemaUrl(r.scope(sl.Scope()))
			records := sl.LogRecords()
			// v1 writes two time deltas per record, v2 one and the observed code.
			nrec := r.count(streamTimes, 1+boolInt(r.st.version == versionV1), "log records")
			r.items(nrec, costLogRecord)
			if r.err != nil {
				return
			}
			records.EnsureCapacity(nrec)
			for range nrec {
				if r.err != nil {
					return
				}
				r.logRecord(records.AppendEmpty(), &prevTime)
			}
		}
	}
}

func (r *sectionReader) logRecord(lr plog.LogRecord, prev *recordTimes) {
	t := r.timeDelta(&prev.time)
	lr.SetTimestamp(t)
	if r.st.version == versionV1 {
		lr.SetObservedTimestamp(t + r.timeDelta(&prev.lag))
	} else {
		switch observed := r.uvarint(); observed {
		case observedUnset:
		case observedEqual:
			lr.SetObservedTimestamp(t)
		case observedDelta:
			lr.SetObservedTimestamp(t + r.timeDelta(&prev.lag))
		default:
			c := &r.streams[streamStruct]
			c.pos--
			r.fail(c, ErrMalformed, "unknown observed time code %d", observed)
		}
	}
	lr.SetSeverityNumber(plog.SeverityNumber(r.int32Value(streamStruct, "severity number")))
	lr.SetSeverityText(r.str())
	r.value(lr.Body(), 0)
	r.attrs(lr.Attributes(), 0)
	lr.SetDroppedAttributesCount(r.uint32Value("dropped attributes count"))
	lr.SetFlags(plog.LogRecordFlags(r.uint32Value("log record flags")))
	presence := r.uvarint()
	if presence&^(hasTraceID|hasSpanID) != 0 {
		r.fail(&r.streams[streamStruct], ErrMalformed, "unknown log record presence bits %#x", presence)
		return
	}
	if presence&hasTraceID != 0 {
		lr.SetTraceID(r.traceIDRef())
	}
	if presence&hasSpanID != 0 {
		lr.SetSpanID(r.spanIDRef())
	}
	lr.SetEventName(r.str())
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
