package fusedexporter

import (
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otelfusion/otelfusion/internal/tracehint"
	"github.com/otelfusion/otelfusion/pkg/fusiongen"
)

// BenchmarkSplit cuts fusiongen pushes of 200 spans (or 200 logs) over 3
// endpoints: taken (the router's own push: items moved) beside copied (a
// queued push being rerouted: items copied). Each iteration splits a fresh
// clone, made with the timer stopped. Compare the two within one run:
// go test -run '^$' -bench Split -benchmem ./exporter/fusedexporter/
func BenchmarkSplit(b *testing.B) {
	hints := tracehint.DefaultReader()
	ring := newHashRing(gatewayURLs(3))
	gen := fusiongen.New(1)
	td := gen.Traces(200)
	ld := gen.Logs(200)
	for _, take := range []bool{false, true} {
		name := "copy"
		if take {
			name = "take"
		}
		b.Run("traces/"+name, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				push := ptrace.NewTraces()
				td.CopyTo(push)
				b.StartTimer()
				splitTraces(push, ring.lookup, take)
			}
		})
		b.Run("logs/"+name, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				push := plog.NewLogs()
				ld.CopyTo(push)
				b.StartTimer()
				splitLogs(push, &hints, ring.lookup, take)
			}
		})
	}
}
