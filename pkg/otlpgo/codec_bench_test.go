package otlpgo_test

import (
	"fmt"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otelfusion/otelfusion/pkg/otlpgo"
	"github.com/otelfusion/otelfusion/pkg/otlpgo/internal/codecbench"
)

// BenchmarkCodec encodes and decodes fusiongen batches with otlpgo (plain
// and zstd) and OTLP protobuf (plain and zstd at the same level), reporting
// bytes/item and ns/item. `go run ./pkg/otlpgo/internal/benchtable` prints
// the same figures as a table.
func BenchmarkCodec(b *testing.B) {
	for _, signal := range codecbench.Signals {
		for _, batch := range codecbench.Batches {
			req := codecbench.Request(signal, batch)
			for _, codec := range codecbench.Codecs {
				b.Run(fmt.Sprintf("%s/%d/%s", signal, batch, codec), codecbench.EncodeDecode(codec, req))
			}
		}
	}
}

// BenchmarkCodecSplit times encode and decode apart at batch 1000, to see
// which side a change helps.
func BenchmarkCodecSplit(b *testing.B) {
	for _, sig := range []string{"traces", "logs", "metrics"} {
		req := codecbench.Request(sig, 1000)
		enc := otlpgo.NewEncoder(otlpgo.EncodeOptions{})
		frame, _ := enc.AppendFrame(nil, req)
		var msg []byte
		switch sig {
		case "traces":
			msg, _ = (&ptrace.ProtoMarshaler{}).MarshalTraces(req.Traces)
		case "logs":
			msg, _ = (&plog.ProtoMarshaler{}).MarshalLogs(req.Logs)
		default:
			msg, _ = (&pmetric.ProtoMarshaler{}).MarshalMetrics(req.Metrics)
		}
		dec := otlpgo.NewDecoder(otlpgo.Limits{})
		b.Run(sig+"/otlpgo-encode", func(b *testing.B) {
			for b.Loop() {
				frame, _ = enc.AppendFrame(frame[:0], req)
			}
		})
		b.Run(sig+"/otlpgo-decode", func(b *testing.B) {
			for b.Loop() {
				if _, err := dec.Decode(frame); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(sig+"/proto-encode", func(b *testing.B) {
			for b.Loop() {
				switch sig {
				case "traces":
					(&ptrace.ProtoMarshaler{}).MarshalTraces(req.Traces)
				case "logs":
					(&plog.ProtoMarshaler{}).MarshalLogs(req.Logs)
				default:
					(&pmetric.ProtoMarshaler{}).MarshalMetrics(req.Metrics)
				}
			}
		})
		b.Run(sig+"/proto-decode", func(b *testing.B) {
			for b.Loop() {
				switch sig {
				case "traces":
					(&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(msg)
				case "logs":
					(&plog.ProtoUnmarshaler{}).UnmarshalLogs(msg)
				default:
					(&pmetric.ProtoUnmarshaler{}).UnmarshalMetrics(msg)
				}
			}
		})
	}
}
