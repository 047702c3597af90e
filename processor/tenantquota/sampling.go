package tenantquota

import (
	"encoding/binary"
	"hash/fnv"
	"math"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// sampleThreshold turns a rate into the bound a hash must stay below; every
// replica computes the same one, so a trace is kept or dropped everywhere.
func sampleThreshold(rate float64) uint64 {
	if rate >= 1 {
		return math.MaxUint64
	}
	if rate <= 0 {
		return 0
	}
	return uint64(rate * math.MaxUint64)
}

// keepHash reports whether a hash falls in the kept share.
func keepHash(h, threshold uint64) bool {
	return threshold == math.MaxUint64 || h < threshold
}

// traceHash is the sampling hash of a trace id: every span and log of one
// trace shares it, so they share one decision.
func traceHash(id pcommon.TraceID) uint64 {
	h := fnv.New64a()
	_, _ = h.Write(id[:])
	return h.Sum64()
}

// logRecordHash is the sampling hash of a log record without a trace: a
// digest of its content, stable across retries and replicas.
func logRecordHash(lr plog.LogRecord) uint64 {
	h := fnv.New64a()
	var buf [8]byte
	binary.LittleEndian.PutUint64(buf[:], uint64(lr.Timestamp()))
	_, _ = h.Write(buf[:])
	binary.LittleEndian.PutUint64(buf[:], uint64(lr.ObservedTimestamp()))
	_, _ = h.Write(buf[:])
	binary.LittleEndian.PutUint64(buf[:], uint64(lr.SeverityNumber()))
	_, _ = h.Write(buf[:])
	_, _ = h.Write([]byte(lr.Body().AsString()))
	return h.Sum64()
}

// logSampleHash picks the hash of a log record: its trace's when it has one.
func logSampleHash(lr plog.LogRecord) uint64 {
	if id := lr.TraceID(); !id.IsEmpty() {
		return traceHash(id)
	}
	return logRecordHash(lr)
}
