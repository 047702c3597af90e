package hcmetric

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

func set(kvs ...attribute.KeyValue) attribute.Set { return attribute.NewSet(kvs...) }

// collect reads the registry through an SDK reader, as an exporter would.
func collect(t *testing.T, r *Registry) map[string]metricdata.Metrics {
	t.Helper()
	reader := sdkmetric.NewManualReader(sdkmetric.WithProducer(r))
	_ = sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != "hcmetric-test" {
			continue
		}
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}

func TestConcurrentCounterSumsExactly(t *testing.T) {
	r := New("hcmetric-test")
	c, err := r.Counter("requests", WithUnit("1"), WithDescription("requests served"))
	if err != nil {
		t.Fatal(err)
	}
	sets := make([]attribute.Set, 100)
	for i := range sets {
		sets[i] = set(attribute.Int("series", i))
	}
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 10_000 {
				c.Add(int64(1+g%2), sets[(i+g)%len(sets)])
			}
		})
	}
	wg.Wait()
	m := collect(t, r)["requests"]
	sum := m.Data.(metricdata.Sum[int64])
	if !sum.IsMonotonic || sum.Temporality != metricdata.CumulativeTemporality || m.Unit != "1" || m.Description != "requests served" {
		t.Errorf("metric %+v", m)
	}
	if len(sum.DataPoints) != 100 {
		t.Fatalf("%d points, want 100", len(sum.DataPoints))
	}
	var total int64
	for _, p := range sum.DataPoints {
		total += p.Value
	}
	if want := int64(8*10_000*1 + 8*10_000*2); total != want {
		t.Errorf("total %d, want %d", total, want)
	}
}

func TestOverflowSeriesTakesWhatIsOverTheLimit(t *testing.T) {
	r := New("hcmetric-test")
	c, err := r.Counter("c", WithSeriesLimit(10))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 25 {
		c.Add(1, set(attribute.Int("i", i)))
	}
	for i := range 10 { // the first ten keep their own series
		c.Add(1, set(attribute.Int("i", i)))
	}
	if c.Series() != 10 {
		t.Errorf("%d series, want 10", c.Series())
	}
	points := collect(t, r)["c"].Data.(metricdata.Sum[int64]).DataPoints
	if len(points) != 11 {
		t.Fatalf("%d points, want 10 and the overflow", len(points))
	}
	var overflow, kept int64
	for _, p := range points {
		if v, ok := p.Attributes.Value("otel.metric.overflow"); ok && v.AsBool() {
			overflow = p.Value
		} else {
			kept += p.Value
		}
	}
	if overflow != 15 || kept != 20 {
		t.Errorf("overflow %d, kept %d; want 15 and 20", overflow, kept)
	}
}

func TestGaugeKeepsTheLastValue(t *testing.T) {
	r := New("hcmetric-test")
	g, err := r.Gauge("temp")
	if err != nil {
		t.Fatal(err)
	}
	a, b := set(attribute.String("room", "a")), set(attribute.String("room", "b"))
	g.Set(1.5, a)
	g.Set(-3, a)
	g.Set(7, b)
	points := collect(t, r)["temp"].Data.(metricdata.Gauge[float64]).DataPoints
	got := map[string]float64{}
	for _, p := range points {
		v, _ := p.Attributes.Value("room")
		got[v.AsString()] = p.Value
	}
	if len(got) != 2 || got["a"] != -3 || got["b"] != 7 {
		t.Errorf("gauge %v", got)
	}
}

func TestHistogramBuckets(t *testing.T) {
	r := New("hcmetric-test")
	h, err := r.Histogram("latency", []float64{1, 10, 100})
	if err != nil {
		t.Fatal(err)
	}
	s := set(attribute.String("route", "/"))
	for _, v := range []float64{0.5, 1, 2, 10, 50, 100, 1000, -4} {
		h.Record(v, s)
	}
	points := collect(t, r)["latency"].Data.(metricdata.Histogram[float64]).DataPoints
	if len(points) != 1 {
		t.Fatalf("%d points", len(points))
	}
	p := points[0]
	// Upper bounds are inclusive: (-inf,1] (1,10] (10,100] (100,+inf).
	if fmt.Sprint(p.BucketCounts) != "[3 2 2 1]" || p.Count != 8 || p.Sum != 1159.5 {
		t.Errorf("buckets %v count %d sum %v", p.BucketCounts, p.Count, p.Sum)
	}
	if _, err := r.Histogram("bad", []float64{2, 1}); err == nil {
		t.Error("decreasing bounds accepted")
	}
}

func TestInstrumentNamesAreUnique(t *testing.T) {
	r := New("hcmetric-test")
	if _, err := r.Counter("x"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Gauge("x"); !errors.Is(err, errDuplicate) {
		t.Errorf("second x: %v", err)
	}
	if _, err := r.Counter("y", WithSeriesLimit(0)); err == nil {
		t.Error("limit 0 accepted")
	}
}

func TestConcurrentCreationMakesEachSeriesOnce(t *testing.T) {
	r := New("hcmetric-test")
	c, err := r.Counter("c", WithSeriesLimit(1000))
	if err != nil {
		t.Fatal(err)
	}
	sets := make([]attribute.Set, 500)
	for i := range sets {
		sets[i] = set(attribute.Int("i", i))
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for _, s := range sets {
				c.Add(1, s)
			}
		})
	}
	wg.Wait()
	if c.Series() != 500 {
		t.Errorf("%d series, want 500", c.Series())
	}
	for _, p := range collect(t, r)["c"].Data.(metricdata.Sum[int64]).DataPoints {
		if p.Value != 8 {
			t.Errorf("series %v = %d, want 8", p.Attributes.Encoded(attribute.DefaultEncoder()), p.Value)
		}
	}
}

func TestUpdateDoesNotAllocate(t *testing.T) {
	r := New("hcmetric-test")
	c, _ := r.Counter("c")
	h, _ := r.Histogram("h", nil)
	s := set(attribute.String("k", "v"))
	c.Add(1, s)
	h.Record(1, s)
	if n := testing.AllocsPerRun(1000, func() { c.Add(1, s); h.Record(3, s) }); n != 0 {
		t.Errorf("%.1f allocations per update", n)
	}
}
