package main

import (
	"flag"
	"fmt"
	"os"
	"sort"
	"testing"
)

func main() {
	testing.Init()
	rounds := flag.Int("rounds", 5, "interleaved repetitions of every case; figures are medians")
	benchtime := flag.String("benchtime", "200000x", "go test -benchtime of each log benchmark run (a count: the fused handler's worker time is outside the timer)")
	series := flag.Int("series", 1_000_000, "series of the metric benchmark")
	goroutines := flag.Int("goroutines", 16, "goroutines of the metric benchmark")
	updates := flag.Int("updates", 50_000, "updates per goroutine per round of the metric benchmark")
	only := flag.String("only", "", "run one part: logs, metrics or exporters")
	flag.Parse()
	if err := flag.Set("test.benchtime", *benchtime); err != nil {
		fmt.Fprintln(os.Stderr, "benchmarks:", err)
		os.Exit(2)
	}
	if *only == "" || *only == "logs" {
		runLogs(*rounds)
	}
	if *only == "" || *only == "metrics" {
		runMetrics(*rounds, *series, *goroutines, *updates)
	}
	if *only == "" || *only == "exporters" {
		if err := runExporters(*rounds); err != nil {
			fmt.Fprintln(os.Stderr, "benchmarks:", err)
			os.Exit(1)
		}
	}
}

// median returns the median of xs (xs is sorted in place).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	sort.Float64s(xs)
	if len(xs)%2 == 1 {
		return xs[len(xs)/2]
	}
	return (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
}
