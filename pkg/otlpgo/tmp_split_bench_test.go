package otlpgo_test

import (
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otelfusion/otelfusion/pkg/otlpgo"
	"github.com/otelfusion/otelfusion/pkg/otlpgo/internal/codecbench"
)

func BenchmarkSplit(b *testing.B) {
	req := codecbench.Request("traces", 1000)
	enc := otlpgo.NewEncoder(otlpgo.EncodeOptions{})
	frame, _ := enc.AppendFrame(nil, req)
	msg, _ := (&ptrace.ProtoMarshaler{}).MarshalTraces(req.Traces)
	b.Run("otlpgo-enc", func(b *testing.B) {
		for b.Loop() {
			frame, _ = enc.AppendFrame(frame[:0], req)
		}
	})
	b.Run("otlpgo-dec", func(b *testing.B) {
		for b.Loop() {
			otlpgo.Decode(frame, otlpgo.Limits{})
		}
	})
	b.Run("proto-enc", func(b *testing.B) {
		for b.Loop() {
			(&ptrace.ProtoMarshaler{}).MarshalTraces(req.Traces)
		}
	})
	b.Run("proto-dec", func(b *testing.B) {
		for b.Loop() {
			(&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(msg)
		}
	})
}
