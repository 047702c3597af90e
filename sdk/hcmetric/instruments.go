package hcmetric

import (
	"math"
	"sort"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// Counter is a monotonic sum of int64 increments per attribute set.
type Counter struct {
	name, description, unit string
	series                  *table[atomic.Int64]
}

// Counter makes a counter. It fails on a name already registered.
func (r *Registry) Counter(name string, opts ...InstrumentOption) (*Counter, error) {
	cfg, err := r.register(name, opts)
	if err != nil {
		return nil, err
	}
	c := &Counter{name: name, description: cfg.description, unit: cfg.unit, series: newTable[atomic.Int64](cfg.limit, nil)}
	r.add(c)
	return c, nil
}

// Add adds n (which must not be negative; a negative n is ignored) to the
// series of attrs.
func (c *Counter) Add(n int64, attrs attribute.Set) {
	if n < 0 {
		return
	}
	c.series.get(&attrs).Add(n)
}

// Series returns how many attribute sets the counter keeps apart.
func (c *Counter) Series() int { return c.series.len() }

func (c *Counter) collect(start, now time.Time) metricdata.Metrics {
	points := make([]metricdata.DataPoint[int64], 0, c.series.len()+1)
	c.series.each(func(attrs attribute.Set, v *atomic.Int64) {
		points = append(points, metricdata.DataPoint[int64]{Attributes: attrs, StartTime: start, Time: now, Value: v.Load()})
	}, func(v *atomic.Int64) bool { return v.Load() != 0 })
	return metricdata.Metrics{Name: c.name, Description: c.description, Unit: c.unit,
		Data: metricdata.Sum[int64]{Temporality: metricdata.CumulativeTemporality, IsMonotonic: true, DataPoints: points}}
}

// Gauge holds the last float64 value set per attribute set.
type Gauge struct {
	name, description, unit string
	series                  *table[gaugeValue]
}

type gaugeValue struct {
	bits atomic.Uint64
	set  atomic.Bool
}

// Gauge makes a gauge. It fails on a name already registered.
func (r *Registry) Gauge(name string, opts ...InstrumentOption) (*Gauge, error) {
	cfg, err := r.register(name, opts)
	if err != nil {
		return nil, err
	}
	g := &Gauge{name: name, description: cfg.description, unit: cfg.unit, series: newTable[gaugeValue](cfg.limit, nil)}
	r.add(g)
	return g, nil
}

// Set makes v the value of the series of attrs.
func (g *Gauge) Set(v float64, attrs attribute.Set) {
	s := g.series.get(&attrs)
	s.bits.Store(math.Float64bits(v))
	if !s.set.Load() {
		s.set.Store(true)
	}
}

func (g *Gauge) collect(_, now time.Time) metricdata.Metrics {
	points := make([]metricdata.DataPoint[float64], 0, g.series.len()+1)
	g.series.each(func(attrs attribute.Set, v *gaugeValue) {
		if v.set.Load() {
			points = append(points, metricdata.DataPoint[float64]{Attributes: attrs, Time: now, Value: math.Float64frombits(v.bits.Load())})
		}
	}, func(v *gaugeValue) bool { return v.set.Load() })
	return metricdata.Metrics{Name: g.name, Description: g.description, Unit: g.unit,
		Data: metricdata.Gauge[float64]{DataPoints: points}}
}

// Histogram counts float64 values per attribute set into fixed buckets.
type Histogram struct {
	name, description, unit string
	bounds                  []float64
	series                  *table[histogramValue]
}

type histogramValue struct {
	buckets []atomic.Uint64 // len(bounds)+1
	sumBits atomic.Uint64
}

// DefaultBounds are the SDK's default explicit bucket bounds.
var DefaultBounds = []float64{0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000}

// Histogram makes a histogram with the given bucket bounds (DefaultBounds
// when nil), which must be increasing.
func (r *Registry) Histogram(name string, bounds []float64, opts ...InstrumentOption) (*Histogram, error) {
	if bounds == nil {
		bounds = DefaultBounds
	}
	if !sort.Float64sAreSorted(bounds) {
		return nil, errNotIncreasing(name)
	}
	cfg, err := r.register(name, opts)
	if err != nil {
		return nil, err
	}
	bounds = append([]float64(nil), bounds...)
	h := &Histogram{name: name, description: cfg.description, unit: cfg.unit, bounds: bounds}
	h.series = newTable(cfg.limit, func() *histogramValue {
		return &histogramValue{buckets: make([]atomic.Uint64, len(bounds)+1)}
	})
	r.add(h)
	return h, nil
}

// Record counts v in the series of attrs. NaN is ignored.
func (h *Histogram) Record(v float64, attrs attribute.Set) {
	if math.IsNaN(v) {
		return
	}
	s := h.series.get(&attrs)
	s.buckets[sort.SearchFloat64s(h.bounds, v)].Add(1)
	for {
		old := s.sumBits.Load()
		if s.sumBits.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+v)) {
			return
		}
	}
}

func (h *Histogram) collect(start, now time.Time) metricdata.Metrics {
	points := make([]metricdata.HistogramDataPoint[float64], 0, h.series.len()+1)
	used := func(v *histogramValue) bool {
		for i := range v.buckets {
			if v.buckets[i].Load() != 0 {
				return true
			}
		}
		return false
	}
	h.series.each(func(attrs attribute.Set, v *histogramValue) {
		p := metricdata.HistogramDataPoint[float64]{Attributes: attrs, StartTime: start, Time: now,
			Bounds: h.bounds, BucketCounts: make([]uint64, len(v.buckets)), Sum: math.Float64frombits(v.sumBits.Load())}
		for i := range v.buckets {
			p.BucketCounts[i] = v.buckets[i].Load()
			p.Count += p.BucketCounts[i] // the count agrees with the buckets read
		}
		points = append(points, p)
	}, used)
	return metricdata.Metrics{Name: h.name, Description: h.description, Unit: h.unit,
		Data: metricdata.Histogram[float64]{Temporality: metricdata.CumulativeTemporality, DataPoints: points}}
}
