// Command benchtable runs the otlpgo codec benchmarks (the same code as
// BenchmarkCodec) and prints a Markdown table: per signal and batch size,
// bytes per item and encode+decode ns per item for otlpgo and OTLP protobuf,
// plain and zstd, with the ratios otlpgo/proto.
//
//	go run ./pkg/otlpgo/internal/benchtable [-benchtime 1s]
package main

import (
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/otelfusion/otelfusion/pkg/otlpgo/internal/codecbench"
)

func main() {
	testing.Init()
	benchtime := flag.String("benchtime", "1s", "time or NNNx per benchmark, as go test -benchtime")
	flag.Parse()
	if err := flag.Set("test.benchtime", *benchtime); err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(2)
	}

	fmt.Println("| signal | batch | codec | bytes/item | encode+decode ns/item | allocs/item |")
	fmt.Println("|---|---:|---|---:|---:|---:|")
	type result struct{ bytes, ns float64 }
	var summary []string
	for _, signal := range codecbench.Signals {
		for _, batch := range codecbench.Batches {
			req := codecbench.Request(signal, batch)
			items := float64(codecbench.Items(req))
			results := map[string]result{}
			for _, codec := range codecbench.Codecs {
				r := testing.Benchmark(codecbench.EncodeDecode(codec, req))
				res := result{bytes: r.Extra["bytes/item"], ns: r.Extra["ns/item"]}
				results[codec] = res
				fmt.Printf("| %s | %d | %s | %.1f | %.0f | %.1f |\n", signal, batch, codec, res.bytes, res.ns,
					float64(r.AllocsPerOp())/items)
			}
			summary = append(summary, fmt.Sprintf("| %s | %d | %.2f | %.2f | %.2f |", signal, batch,
				results["otlpgo+zstd"].bytes/results["proto+zstd"].bytes,
				results["otlpgo"].ns/results["proto"].ns,
				results["otlpgo+zstd"].ns/results["proto+zstd"].ns))
		}
	}
	fmt.Println()
	fmt.Println("| signal | batch | bytes otlpgo+zstd / proto+zstd | time otlpgo / proto | time otlpgo+zstd / proto+zstd |")
	fmt.Println("|---|---:|---:|---:|---:|")
	for _, line := range summary {
		fmt.Println(line)
	}
}
