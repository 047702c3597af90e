package tenantquota

import (
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

// FNV-1a 64, written out rather than through hash/fnv: the hash.Hash
// interface makes every call allocate, and this runs once per span.
const (
	fnvOffset64 = 14695981039346656037
	fnvPrime64  = 1099511628211
)

func fnvAddUint64(h, v uint64) uint64 {
	for range 8 {
		h ^= v & 0xff
		h *= fnvPrime64
		v >>= 8
	}
	return h
}

// traceHash is the sampling hash of a trace id: every span and log of one
// trace shares it, so they share one decision.
func traceHash(id pcommon.TraceID) uint64 {
	h := uint64(fnvOffset64)
	for _, c := range id {
		h ^= uint64(c)
		h *= fnvPrime64
	}
	return h
}

// logRecordHash is the sampling hash of a log record without a trace: a
// digest of its content (timestamps and severity little-endian, then the
// body as a string), stable across retries and replicas.
func logRecordHash(lr plog.LogRecord) uint64 {
	h := uint64(fnvOffset64)
	h = fnvAddUint64(h, uint64(lr.Timestamp()))
	h = fnvAddUint64(h, uint64(lr.ObservedTimestamp()))
	h = fnvAddUint64(h, uint64(lr.SeverityNumber()))
	body := lr.Body()
	var text string
	if body.Type() == pcommon.ValueTypeStr {
		text = body.Str()
	} else {
		text = body.AsString()
	}
	for i := range len(text) {
		h ^= uint64(text[i])
		h *= fnvPrime64
	}
	return h
}

// logSampleHash picks the hash of a log record: its trace's when it has one.
func logSampleHash(lr plog.LogRecord) uint64 {
	if id := lr.TraceID(); !id.IsEmpty() {
		return traceHash(id)
	}
	return logRecordHash(lr)
}
