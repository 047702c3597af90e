package main

import (
	"context"
	"fmt"
	"math/bits"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/otelfusion/otelfusion/sdk/hcmetric"
)

// metricEngine updates the counter of series i.
type metricEngine struct {
	name   string
	update func(i int)
}

func metricEngines(series int) []metricEngine {
	sets := make([]attribute.Set, series)
	labels := make([]string, series)
	opts := make([]metric.AddOption, series)
	for i := range series {
		labels[i] = strconv.Itoa(i)
		sets[i] = attribute.NewSet(attribute.String("series", labels[i]))
		opts[i] = metric.WithAttributeSet(sets[i])
	}

	registry := hcmetric.New("bench")
	hc, err := registry.Counter("requests", hcmetric.WithSeriesLimit(2*series))
	if err != nil {
		panic(err)
	}

	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()), sdkmetric.WithCardinalityLimit(2*series))
	otelCounter, err := mp.Meter("bench").Int64Counter("requests")
	if err != nil {
		panic(err)
	}

	promCounter := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "requests"}, []string{"series"})
	prometheus.NewRegistry().MustRegister(promCounter)

	ctx := context.Background()
	return []metricEngine{
		{"hcmetric Counter.Add", func(i int) { hc.Add(1, sets[i]) }},
		{"OTel SDK Int64Counter.Add", func(i int) { otelCounter.Add(ctx, 1, opts[i]) }},
		{"Prometheus CounterVec.WithLabelValues.Inc", func(i int) { promCounter.WithLabelValues(labels[i]).Inc() }},
	}
}

// xorshift is each goroutine's cheap series picker.
type xorshift uint64

func (x *xorshift) next(n int) int {
	*x ^= *x << 13
	*x ^= *x >> 7
	*x ^= *x << 17
	hi, _ := bits.Mul64(uint64(*x), uint64(n))
	return int(hi)
}

// throughput runs goroutines × updates random updates and returns updates/s.
func throughput(e metricEngine, series, goroutines, updates int, round int) float64 {
	var wg sync.WaitGroup
	start := time.Now()
	for g := range goroutines {
		wg.Go(func() {
			x := xorshift(uint64(round*1000+g) + 0x9E3779B97F4A7C15)
			for range updates {
				e.update(x.next(series))
			}
		})
	}
	wg.Wait()
	return float64(goroutines*updates) / time.Since(start).Seconds()
}

// latency times every 64th update of goroutines × updates and returns the
// p99 in ns; the clock's own cost is in it (see clockP99).
func latency(e metricEngine, series, goroutines, updates int, round int) float64 {
	var wg sync.WaitGroup
	samples := make([][]int64, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			x := xorshift(uint64(round*7777+g) + 0x9E3779B97F4A7C15)
			own := make([]int64, 0, updates/64+1)
			for k := range updates {
				i := x.next(series)
				if k%64 != 0 {
					e.update(i)
					continue
				}
				t := time.Now()
				e.update(i)
				own = append(own, int64(time.Since(t)))
			}
			samples[g] = own
		})
	}
	wg.Wait()
	var all []int64
	for _, s := range samples {
		all = append(all, s...)
	}
	sort.Slice(all, func(a, b int) bool { return all[a] < all[b] })
	return float64(all[len(all)*99/100])
}

func runMetrics(rounds, series, goroutines, updates int) {
	engines := metricEngines(series)
	engines = append(engines, metricEngine{"(clock only: empty update)", func(int) {}})
	// Every series exists before timing: the steady state of a service.
	for _, e := range engines {
		for i := range series {
			e.update(i)
		}
	}
	rates := make([][]float64, len(engines))
	p99s := make([][]float64, len(engines))
	for r := range rounds {
		for i, e := range engines {
			rates[i] = append(rates[i], throughput(e, series, goroutines, updates, r))
			p99s[i] = append(p99s[i], latency(e, series, goroutines, updates, r))
		}
	}
	fmt.Printf("## Metrics: counter updates, %d goroutines over %d series (uniformly random); medians of %d interleaved rounds of %d updates\n\n",
		goroutines, series, rounds, goroutines*updates)
	fmt.Println("| engine | updates/s | p99 update latency ns (every 64th update timed) | updates/s vs OTel SDK | p99 vs OTel SDK |")
	fmt.Println("|---|---:|---:|---:|---:|")
	baseRate, baseP99 := median(append([]float64(nil), rates[1]...)), median(append([]float64(nil), p99s[1]...))
	for i, e := range engines {
		rate, p99 := median(rates[i]), median(p99s[i])
		fmt.Printf("| %s | %.3g | %.0f | %.2f | %.2f |\n", e.name, rate, p99, rate/baseRate, p99/baseP99)
	}
	fmt.Println()
}
