package otlpgo

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/xpdata"

	"github.com/otelfusion/otelfusion/pkg/fusiongen"
)

// unlimited lets any frame decode, to measure its decoded size.
var unlimited = Limits{
	MaxFrameBytes:   1 << 31,
	MaxBodyBytes:    1 << 31,
	MaxDecodedBytes: 1 << 40,
	MaxExpansion:    1 << 20,
	MaxItems:        1 << 30,
	MaxAttributes:   1 << 30,
	MaxNestedValues: 1 << 30,
	MaxDictEntries:  1 << 30,
	MaxStringBytes:  1 << 30,
}

// decodedSize decodes frame without limits and returns its decoded size and
// raw_len.
func decodedSize(t testing.TB, frame []byte) (decoded int64, rawLen int) {
	t.Helper()
	_, decoded, err := NewDecoder(unlimited).decode(frame)
	require.NoError(t, err)
	return decoded, int(binary.LittleEndian.Uint32(frame[12:]))
}

// expansionRequest is fusiongen data of one signal ("mixed": all three).
func expansionRequest(signal string, batch int) Request {
	gen := fusiongen.New(42)
	traces := gen.Traces(batch)
	switch signal {
	case "traces":
		return Request{Traces: traces}
	case "logs":
		return Request{Logs: gen.Logs(batch)}
	case "metrics":
		return Request{Metrics: gen.Metrics(batch)}
	default:
		return Request{Traces: traces, Logs: gen.Logs(batch), Metrics: gen.Metrics(batch)}
	}
}

// TestDefaultExpansionCoversFusiongen measures decoded size / raw_len on
// fusiongen data and requires the default MaxExpansion to be at least twice
// the largest ratio. -v prints the table that docs/protocol.md quotes.
func TestDefaultExpansionCoversFusiongen(t *testing.T) {
	batches := []int{1, 10, 100, 1000, 10000}
	if testing.Short() {
		batches = batches[:4]
	}
	var table strings.Builder
	fmt.Fprintln(&table, "| signal | batch | raw_len plain | ratio plain | raw_len zstd | ratio zstd |")
	fmt.Fprintln(&table, "|---|---:|---:|---:|---:|---:|")
	largest := 0.0
	for _, signal := range []string{"traces", "logs", "metrics", "mixed"} {
		for _, batch := range batches {
			req := expansionRequest(signal, batch)
			var cells []string
			for _, c := range []Compression{CompressionNone, CompressionZstd} {
				decoded, rawLen := decodedSize(t, encodeFrame(t, req, c))
				ratio := float64(decoded) / float64(rawLen)
				if decoded > minExpansionBudget { // the floor covers the rest
					largest = max(largest, ratio)
				}
				cells = append(cells, fmt.Sprintf("%d | %.2f", rawLen, ratio))
			}
			fmt.Fprintf(&table, "| %s | %d | %s | %s |\n", signal, batch, cells[0], cells[1])
		}
	}
	t.Logf("largest ratio over the %d KiB floor: %.2f\n%s", minExpansionBudget>>10, largest, table.String())
	require.LessOrEqual(t, 2*largest, float64(DefaultLimits().MaxExpansion))
}

// TestDecodedSizeCosts measures what pdata allocates per element again: the
// cost table (budget.go, docs/protocol.md) must follow pdata when it changes.
func TestDecodedSizeCosts(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector does without the tiny allocator, so small values take more")
	}
	const n = 10_000
	perElement := func(build func()) float64 {
		return float64(allocated(build)) / n
	}
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprint(i)
	}
	counts := make([]uint64, n)
	withKeys := func(fill func(v pcommon.Value)) func() {
		return func() {
			var b xpdata.MapBuilder
			b.EnsureCapacity(n)
			for _, k := range keys {
				fill(b.AppendEmpty(k))
			}
			b.UnsafeIntoMap(pcommon.NewMap())
		}
	}
	tests := []struct {
		name  string
		cost  int64
		build func()
	}{
		{"resource", costResource, func() {
			s := plog.NewLogs().ResourceLogs()
			s.EnsureCapacity(n)
			for range n {
				s.AppendEmpty()
			}
		}},
		{"scope", costScope, func() {
			s := ptrace.NewResourceSpans().ScopeSpans()
			s.EnsureCapacity(n)
			for range n {
				s.AppendEmpty()
			}
		}},
		{"span", costSpan, func() {
			s := ptrace.NewScopeSpans().Spans()
			s.EnsureCapacity(n)
			for range n {
				s.AppendEmpty()
			}
		}},
		{"span event", costSpanEvent, func() {
			s := ptrace.NewSpan().Events()
			s.EnsureCapacity(n)
			for range n {
				s.AppendEmpty()
			}
		}},
		{"span link", costSpanLink, func() {
			s := ptrace.NewSpan().Links()
			s.EnsureCapacity(n)
			for range n {
				s.AppendEmpty()
			}
		}},
		{"log record", costLogRecord, func() {
			s := plog.NewScopeLogs().LogRecords()
			s.EnsureCapacity(n)
			for range n {
				s.AppendEmpty()
			}
		}},
		{"metric", costMetric, func() {
			s := pmetric.NewScopeMetrics().Metrics()
			s.EnsureCapacity(n)
			for range n {
				s.AppendEmpty().SetEmptyExponentialHistogram()
			}
		}},
		{"number point", costNumberPoint, func() {
			s := pmetric.NewGauge().DataPoints()
			s.EnsureCapacity(n)
			for range n {
				s.AppendEmpty().SetIntValue(1)
			}
		}},
		{"histogram point", costHistogramPoint, func() {
			s := pmetric.NewHistogram().DataPoints()
			s.EnsureCapacity(n)
			for range n {
				s.AppendEmpty()
			}
		}},
		{"exponential histogram point", costExpHistogramPoint, func() {
			s := pmetric.NewExponentialHistogram().DataPoints()
			s.EnsureCapacity(n)
			for range n {
				s.AppendEmpty()
			}
		}},
		{"summary point", costSummaryPoint, func() {
			s := pmetric.NewSummary().DataPoints()
			s.EnsureCapacity(n)
			for range n {
				s.AppendEmpty()
			}
		}},
		{"quantile", costQuantile, func() {
			s := pmetric.NewSummaryDataPoint().QuantileValues()
			s.EnsureCapacity(n)
			for range n {
				s.AppendEmpty()
			}
		}},
		{"exemplar", costExemplar, func() {
			s := pmetric.NewNumberDataPoint().Exemplars()
			s.EnsureCapacity(n)
			for range n {
				s.AppendEmpty().SetDoubleValue(1)
			}
		}},
		{"bucket count", costBucket, func() { pmetric.NewHistogramDataPoint().BucketCounts().FromRaw(counts) }},
		{"map entry", costMapEntry, withKeys(func(pcommon.Value) {})},
		{"map entry, string value", costMapEntry + valueCosts[valueStr], withKeys(func(v pcommon.Value) { v.SetStr("s") })},
		{"map entry, int value", costMapEntry + valueCosts[valueInt], withKeys(func(v pcommon.Value) { v.SetInt(1) })},
		{"map entry, double value", costMapEntry + valueCosts[valueDouble], withKeys(func(v pcommon.Value) { v.SetDouble(1) })},
		{"map entry, map value", costMapEntry + valueCosts[valueMap], withKeys(func(v pcommon.Value) { v.SetEmptyMap() })},
		{"map entry, array value", costMapEntry + valueCosts[valueSlice], withKeys(func(v pcommon.Value) { v.SetEmptySlice() })},
		{"map entry, bytes value of 1 byte", costMapEntry + valueCosts[valueBytes] + 1, withKeys(func(v pcommon.Value) { v.SetEmptyBytes().Append(1) })},
		{"array element, string value", costArrayValue + valueCosts[valueStr], func() {
			s := pcommon.NewSlice()
			s.EnsureCapacity(n)
			for range n {
				s.AppendEmpty().SetStr("s")
			}
		}},
	}
	// Allocations are rounded up to size classes: a cost may be a few bytes
	// over what is measured, never under.
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			measured := perElement(tc.build)
			require.True(t, float64(tc.cost) >= measured-1 && float64(tc.cost) <= measured+8,
				"pdata allocates %.1f bytes per %s, the cost table says %d: update it", measured, tc.name, tc.cost)
		})
	}
}
