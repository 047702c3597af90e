package otlpgo

import (
	"fmt"
	"testing"

	"github.com/otelfusion/otelfusion/pkg/fusiongen"
)

func TestTmpStreams(t *testing.T) {
	gen := fusiongen.New(42)
	for _, req := range []Request{{Traces: gen.Traces(1000)}, {Logs: gen.Logs(1000)}, {Metrics: gen.Metrics(1000)}} {
		e := NewEncoder(EncodeOptions{})
		e.AppendFrame(nil, req)
		var dictBytes []byte
		dictBytes = e.dict.appendSection(dictBytes)
		z := func(b []byte) int { return len(zstdEncoder().EncodeAll(b, nil)) }
		fmt.Printf("dict entries=%d raw=%d z=%d\n", len(e.dict.entries), len(dictBytes), z(dictBytes))
		for i := range e.sections {
			for j, s := range e.sections[i].streams {
				if len(s) > 0 {
					fmt.Printf("  sec%d %-8s raw=%6d z=%6d\n", i, streamNames[j], len(s), z(s))
				}
			}
		}
	}
}

func TestTmpRatio(t *testing.T) {
	for _, n := range []int{100, 1000} {
		gen := fusiongen.New(42)
		reqs := map[string]Request{"traces": {Traces: gen.Traces(n)}, "logs": {Logs: gen.Logs(n)}, "metrics": {Metrics: gen.Metrics(n)}}
		for _, name := range []string{"traces", "logs", "metrics"} {
			req := reqs[name]
			f, _ := AppendFrame(nil, req, EncodeOptions{Compression: CompressionZstd})
			var msg []byte
			switch name {
			case "traces":
				msg = marshalTraces(t, req.Traces)
			case "logs":
				msg = marshalLogs(t, req.Logs)
			default:
				msg = marshalMetrics(t, req.Metrics)
			}
			z := zstdEncoder().EncodeAll(msg, nil)
			fmt.Printf("%d %-8s otlpgo+zstd=%6d proto+zstd=%6d ratio=%.3f\n", n, name, len(f), len(z), float64(len(f))/float64(len(z)))
		}
	}
}

func TestTmpSplit(t *testing.T) {
	gen := fusiongen.New(42)
	tr := gen.Traces(1000)
	for _, req := range []Request{{Traces: tr}, {Logs: gen.Logs(1000)}, {Metrics: gen.Metrics(1000)}} {
		e := NewEncoder(EncodeOptions{})
		e.AppendFrame(nil, req)
		z := func(b []byte) int { return len(zstdEncoder().EncodeAll(b, nil)) }
		var all, noRaw, raw []byte
		all = e.dict.appendSection(all)
		noRaw = e.dict.appendSection(noRaw)
		sep := 0
		sep += z(noRaw)
		for i := range e.sections {
			for j, s := range e.sections[i].streams {
				all = append(all, s...)
				if j == streamRaw {
					raw = append(raw, s...)
				} else {
					noRaw = append(noRaw, s...)
					sep += z(s)
				}
			}
		}
		fmt.Printf("all=%d  noRaw+raw=%d  separate+raw=%d\n", z(all), z(noRaw)+len(raw), sep+len(raw))
	}
}
