package tenantquota

import (
	"encoding/binary"
	"hash/fnv"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// The inlined hashes must stay the FNV-1a 64 of the same bytes as before, so
// replicas of different versions keep making the same sampling decisions.
func TestSamplingHashesAreFNV1a(t *testing.T) {
	for n := range uint64(50) {
		id := traceID(n * 7919)
		h := fnv.New64a()
		_, _ = h.Write(id[:])
		assert.Equal(t, h.Sum64(), traceHash(id))
	}
	bodies := []func(pcommon.Value){
		func(v pcommon.Value) { v.SetStr("GET /checkout 200") },
		func(v pcommon.Value) { v.SetStr("") },
		func(v pcommon.Value) { v.SetInt(42) },
		func(v pcommon.Value) { v.SetEmptyMap().PutStr("k", "v") },
	}
	for i, setBody := range bodies {
		lr := plog.NewLogRecord()
		lr.SetTimestamp(pcommon.Timestamp(1_700_000_000_000_000_000 + i))
		lr.SetObservedTimestamp(pcommon.Timestamp(1_700_000_000_500_000_000 + i))
		lr.SetSeverityNumber(plog.SeverityNumberWarn)
		setBody(lr.Body())
		h := fnv.New64a()
		var buf [8]byte
		for _, v := range []uint64{uint64(lr.Timestamp()), uint64(lr.ObservedTimestamp()), uint64(lr.SeverityNumber())} {
			binary.LittleEndian.PutUint64(buf[:], v)
			_, _ = h.Write(buf[:])
		}
		_, _ = h.Write([]byte(lr.Body().AsString()))
		assert.Equal(t, h.Sum64(), logRecordHash(lr), "body %d", i)
	}
}
