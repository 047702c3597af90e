package fusionmetricsconnector

import (
	"math"
	"sort"

	"go.opentelemetry.io/collector/pdata/pmetric"
)

// durationHistogram accumulates span durations for one series.
type durationHistogram interface {
	record(v float64)
	count() uint64
}

// explicitHistogram counts values into fixed buckets; bounds are shared by
// every series of a table.
type explicitHistogram struct {
	bounds   []float64
	counts   []uint64
	total    uint64
	sum      float64
	min, max float64
}

func newExplicitHistogram(bounds []float64) *explicitHistogram {
	return &explicitHistogram{bounds: bounds, counts: make([]uint64, len(bounds)+1)}
}

func (h *explicitHistogram) record(v float64) {
	// Buckets are upper-inclusive, as OTLP defines them.
	h.counts[sort.SearchFloat64s(h.bounds, v)]++
	if h.total == 0 || v < h.min {
		h.min = v
	}
	if h.total == 0 || v > h.max {
		h.max = v
	}
	h.total++
	h.sum += v
}

func (h *explicitHistogram) count() uint64 { return h.total }

func (h *explicitHistogram) fill(dp pmetric.HistogramDataPoint) {
	dp.ExplicitBounds().FromRaw(h.bounds)
	dp.BucketCounts().FromRaw(h.counts)
	dp.SetCount(h.total)
	dp.SetSum(h.sum)
	if h.total > 0 {
		dp.SetMin(h.min)
		dp.SetMax(h.max)
	}
}

// exponentialHistogram is a base-2 exponential histogram of positive values
// that starts fine (scale 20) and halves its resolution whenever the values
// seen would need more than maxSize buckets.
type exponentialHistogram struct {
	maxSize   int
	scale     int32
	offset    int32
	counts    []uint64
	zeroCount uint64
	total     uint64
	sum       float64
	min, max  float64
}

const exponentialStartScale = 20

func newExponentialHistogram(maxSize int) *exponentialHistogram {
	return &exponentialHistogram{maxSize: maxSize, scale: exponentialStartScale}
}

// bucketIndex returns the index of the bucket (base^i, base^(i+1)] holding v
// at the given scale, base = 2^(2^-scale).
func bucketIndex(v float64, scale int32) int32 {
	if scale <= 0 {
		// Exact for powers of two: frexp gives v = frac * 2^exp, frac in [0.5, 1).
		frac, exp := math.Frexp(v)
		if frac == 0.5 {
			exp-- // v is a power of two: it closes the bucket below
		}
		return int32(exp-1) >> -scale
	}
	return int32(math.Ceil(math.Log2(v)*math.Ldexp(1, int(scale)))) - 1
}

func (h *exponentialHistogram) record(v float64) {
	if h.total == 0 || v < h.min {
		h.min = v
	}
	if h.total == 0 || v > h.max {
		h.max = v
	}
	h.total++
	h.sum += v
	if v <= 0 {
		h.zeroCount++
		return
	}
	idx := bucketIndex(v, h.scale)
	if len(h.counts) == 0 {
		h.offset = idx
		h.counts = append(h.counts, 1)
		return
	}
	lo, hi := min(h.offset, idx), max(h.offset+int32(len(h.counts))-1, idx)
	for int(hi-lo)+1 > h.maxSize {
		h.downscale()
		idx >>= 1
		lo, hi = min(h.offset, idx), max(h.offset+int32(len(h.counts))-1, idx)
	}
	if idx < h.offset {
		grown := make([]uint64, int(h.offset-idx)+len(h.counts))
		copy(grown[h.offset-idx:], h.counts)
		h.counts, h.offset = grown, idx
	} else if end := h.offset + int32(len(h.counts)); idx >= end {
		h.counts = append(h.counts, make([]uint64, idx-end+1)...)
	}
	h.counts[idx-h.offset]++
}

// downscale merges bucket pairs: index i at scale s is index i>>1 at s-1.
func (h *exponentialHistogram) downscale() {
	newOffset := h.offset >> 1
	last := (h.offset + int32(len(h.counts)) - 1) >> 1
	merged := make([]uint64, last-newOffset+1)
	for i, c := range h.counts {
		merged[((h.offset+int32(i))>>1)-newOffset] += c
	}
	h.counts, h.offset = merged, newOffset
	h.scale--
}

func (h *exponentialHistogram) count() uint64 { return h.total }

func (h *exponentialHistogram) fill(dp pmetric.ExponentialHistogramDataPoint) {
	dp.SetScale(h.scale)
	dp.SetZeroCount(h.zeroCount)
	dp.Positive().SetOffset(h.offset)
	dp.Positive().BucketCounts().FromRaw(h.counts)
	dp.SetCount(h.total)
	dp.SetSum(h.sum)
	if h.total > 0 {
		dp.SetMin(h.min)
		dp.SetMax(h.max)
	}
}
