// Command otlpgobench measures otlpgo (stateless and stream mode) beside
// OTLP protobuf (plain and zstd), OTel Arrow (its Producer and Consumer,
// stream mode, the four compression variants) and, for metrics, STEF, on the
// same data in one run, and writes a Markdown table: per data shape, signal
// and batch size, bytes per item and encode and decode ns per item, each the
// median over interleaved repetitions.
//
// Each cell sends a stream of batches through one session per codec (the
// state of stream codecs lives as long as the session) and measures batches
// 2..n: the first batch opens the stream. Every decode is checked to give
// back the batch's item count. Times are the CPU time (user + system) of
// the benchmark process around each encode and decode, garbage collection
// included: on a machine shared with other work, wall time measures the
// other work as much as the codec.
//
//	go run ./cmd/otlpgobench [-reps 5] [-out bench/results.md]
package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/otelfusion/otelfusion/pkg/fusiongen"
)

// shapes are the three data shapes, each a fresh source per cell.
var shapes = []struct {
	name string
	new  func() fusiongen.Source
}{
	{"fusiongen", func() fusiongen.Source { return fusiongen.New(1) }},
	{"telemetrygen", func() fusiongen.Source { return fusiongen.NewTelemetrygen(1) }},
	{"high_cardinality", func() fusiongen.Source { return fusiongen.NewHighCardinality(1) }},
}

var signals = []string{"traces", "logs", "metrics"}

// result is one codec in one cell, per item.
type result struct {
	bytes, enc, dec float64
}

func main() {
	reps := flag.Int("reps", 5, "interleaved repetitions per cell (medians are reported)")
	batchList := flag.String("batches", "100,1000,10000", "batch sizes, comma separated")
	items := flag.Int("items", 30000, "items measured per cell and codec (at least 3 batches)")
	only := flag.String("shapes", "", "comma separated shapes to run (default all)")
	onlySignals := flag.String("signals", "", "comma separated signals to run (default all)")
	out := flag.String("out", "", "also write the table to this file")
	flag.Parse()
	var batches []int
	for _, f := range strings.Split(*batchList, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "otlpgobench: bad batch size %q\n", f)
			os.Exit(2)
		}
		batches = append(batches, n)
	}
	if *reps < 1 {
		fmt.Fprintln(os.Stderr, "otlpgobench: -reps must be at least 1")
		os.Exit(2)
	}

	var w io.Writer = os.Stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			fmt.Fprintln(os.Stderr, "otlpgobench:", err)
			os.Exit(1)
		}
		defer f.Close()
		w = io.MultiWriter(os.Stdout, f)
	}
	fmt.Fprintf(w, "# otlpgo beside OTLP, OTel Arrow and STEF\n\n")
	fmt.Fprintf(w, "`go run ./cmd/otlpgobench -reps %d -items %d` on %s/%s, %d CPUs, %s. Bytes, encode and decode CPU ns per item (span, log record, data point; user + system time of the process, GC included), medians over %d interleaved repetitions; batches 2..n of each stream measured.\n\n",
		*reps, *items, runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), time.Now().UTC().Format("2006-01-02"), *reps)
	fmt.Fprintln(w, "| shape | signal | batch | codec | bytes/item | encode CPU ns/item | decode CPU ns/item | enc+dec CPU ns/item |")
	fmt.Fprintln(w, "|---|---|---:|---|---:|---:|---:|---:|")

	var summary []string
	failed := false
	for _, shape := range shapes {
		if *only != "" && !slices.Contains(strings.Split(*only, ","), shape.name) {
			continue
		}
		for _, signal := range signals {
			if *onlySignals != "" && !slices.Contains(strings.Split(*onlySignals, ","), signal) {
				continue
			}
			for _, batchSize := range batches {
				frames := 1 + max(3, *items/batchSize)
				data := makeBatches(shape.new(), signal, batchSize, frames)
				results, err := runCell(data, signal, *reps)
				if err != nil {
					fmt.Fprintf(os.Stderr, "otlpgobench: %s %s %d: %v\n", shape.name, signal, batchSize, err)
					failed = true
					continue
				}
				for _, c := range codecs() {
					r, ok := results[c.name]
					if !ok {
						continue
					}
					fmt.Fprintf(w, "| %s | %s | %d | %s | %.2f | %.0f | %.0f | %.0f |\n",
						shape.name, signal, batchSize, c.name, r.bytes, r.enc, r.dec, r.enc+r.dec)
				}
				summary = append(summary, summaryRow(shape.name, signal, batchSize, results))
			}
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Targets per cell, otlpgo stream+zstd against: the best OTel Arrow variant (bytes ≤ 0.8×), OTLP proto+zstd (bytes ≤ 0.6×, encode+decode ≤ 0.5×), for metrics the best STEF variant (bytes ≤ 1×). ✗ marks a miss.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| shape | signal | batch | best Arrow | bytes / Arrow | bytes / proto+zstd | time / proto+zstd | bytes / STEF | stateless+zstd bytes / stream+zstd |")
	fmt.Fprintln(w, "|---|---|---:|---|---:|---:|---:|---:|---:|")
	for _, row := range summary {
		fmt.Fprintln(w, row)
	}
	if failed {
		os.Exit(1)
	}
}

// makeBatches draws n batches of one signal from src.
func makeBatches(src fusiongen.Source, signal string, size, n int) []batch {
	out := make([]batch, n)
	for i := range out {
		b := batch{signal: signal}
		switch signal {
		case "traces":
			b.traces = src.Traces(size)
		case "logs":
			b.logs = src.Logs(size)
		default:
			b.metrics = src.Metrics(size)
		}
		out[i] = b
	}
	return out
}

// runCell runs every codec over data reps times, each repetition in another
// codec order, and returns the medians.
func runCell(data []batch, signal string, reps int) (map[string]result, error) {
	list := codecs()
	samples := map[string][]result{}
	for rep := range reps {
		for k := range list {
			c := list[(k+rep)%len(list)]
			if c.metricOnly && signal != "metrics" {
				continue
			}
			runtime.GC()
			r, err := runStream(c, data, signal)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", c.name, err)
			}
			samples[c.name] = append(samples[c.name], r)
		}
	}
	medians := map[string]result{}
	for name, rs := range samples {
		medians[name] = result{
			bytes: median(rs, func(r result) float64 { return r.bytes }),
			enc:   median(rs, func(r result) float64 { return r.enc }),
			dec:   median(rs, func(r result) float64 { return r.dec }),
		}
	}
	return medians, nil
}

// runStream sends data through one session of c and measures batches 2..n.
func runStream(c codec, data []batch, signal string) (result, error) {
	s, err := c.open(signal)
	if err != nil {
		return result{}, err
	}
	defer s.close()
	var bytes, items int
	var enc, dec time.Duration
	for i, b := range data {
		t0 := cpuTime()
		payload, err := s.encode(b)
		t1 := cpuTime()
		if err != nil {
			return result{}, fmt.Errorf("encode batch %d: %w", i, err)
		}
		n, err := s.decode(payload)
		t2 := cpuTime()
		if err != nil {
			return result{}, fmt.Errorf("decode batch %d: %w", i, err)
		}
		if want := b.items(); n != want {
			return result{}, fmt.Errorf("batch %d: decoded %d items, sent %d", i, n, want)
		}
		if i == 0 {
			continue
		}
		bytes += len(payload)
		items += n
		enc += t1 - t0
		dec += t2 - t1
	}
	per := float64(items)
	return result{bytes: float64(bytes) / per, enc: float64(enc.Nanoseconds()) / per, dec: float64(dec.Nanoseconds()) / per}, nil
}

// cpuTime is the user + system CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func median(rs []result, field func(result) float64) float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = field(r)
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// summaryRow compares otlpgo stream+zstd with the others in one cell.
func summaryRow(shape, signal string, batchSize int, rs map[string]result) string {
	ours := rs["otlpgo stream+zstd"]
	bestArrow, arrowName := math.Inf(1), ""
	bestStef := math.Inf(1)
	for name, r := range rs {
		if strings.HasPrefix(name, "arrow") && r.bytes < bestArrow {
			bestArrow, arrowName = r.bytes, name
		}
		if strings.HasPrefix(name, "stef") && r.bytes < bestStef {
			bestStef = r.bytes
		}
	}
	proto := rs["proto+zstd"]
	mark := func(ratio, target float64) string {
		s := fmt.Sprintf("%.2f", ratio)
		if ratio > target {
			s += " ✗"
		}
		return s
	}
	stef := "—"
	if !math.IsInf(bestStef, 1) {
		stef = mark(ours.bytes/bestStef, 1)
	}
	return fmt.Sprintf("| %s | %s | %d | %s | %s | %s | %s | %s | %.2f |", shape, signal, batchSize, arrowName,
		mark(ours.bytes/bestArrow, 0.8), mark(ours.bytes/proto.bytes, 0.6),
		mark((ours.enc+ours.dec)/(proto.enc+proto.dec), 0.5), stef, rs["otlpgo+zstd"].bytes/ours.bytes)
}
