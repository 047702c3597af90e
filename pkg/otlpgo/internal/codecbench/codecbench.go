// Package codecbench holds the encode+decode benchmarks that compare otlpgo
// with OTLP protobuf, so that `go test -bench` and the benchtable program run
// the same code.
package codecbench

import (
	"fmt"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otelfusion/otelfusion/pkg/fusiongen"
	"github.com/otelfusion/otelfusion/pkg/otlpgo"
)

// Signals, Batches and Codecs are what the benchmarks range over. "fused" is
// batch spans, batch log records and batch data points in one request: one
// otlpgo frame against three OTLP messages.
var (
	Signals = []string{"traces", "logs", "metrics", "fused"}
	Batches = []int{100, 1000}
	Codecs  = []string{"otlpgo", "otlpgo+zstd", "proto", "proto+zstd"}
)

// Request returns fusiongen data of one signal with batch items. Traces are
// generated first in every case, so that logs and exemplars carry the trace
// context of real spans, as they do in production.
func Request(signal string, batch int) otlpgo.Request {
	gen := fusiongen.New(42)
	traces := gen.Traces(batch)
	req := otlpgo.NewRequest()
	switch signal {
	case "traces":
		req.Traces = traces
	case "fused":
		req.Traces, req.Logs, req.Metrics = traces, gen.Logs(batch), gen.Metrics(batch)
	case "logs":
		req.Logs = gen.Logs(batch)
	case "metrics":
		req.Metrics = gen.Metrics(batch)
	}
	return req
}

// Items is the number of spans, records or points of req.
func Items(req otlpgo.Request) int {
	spans, records, points := req.Counts()
	return spans + records + points
}

// EncodeDecode returns a benchmark that encodes req with codec and decodes
// it again, reporting bytes/item and ns/item.
func EncodeDecode(codec string, req otlpgo.Request) func(b *testing.B) {
	return func(b *testing.B) {
		roundTrip := newRoundTrip(codec, req)
		items := Items(req)
		var size int
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			n, err := roundTrip()
			if err != nil {
				b.Fatal(err)
			}
			size = n
		}
		b.ReportMetric(float64(size)/float64(items), "bytes/item")
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(items), "ns/item")
	}
}

// newRoundTrip returns a function that does one encode+decode and returns the
// encoded size.
func newRoundTrip(codec string, req otlpgo.Request) func() (int, error) {
	switch codec {
	case "otlpgo", "otlpgo+zstd":
		opts := otlpgo.EncodeOptions{}
		if codec == "otlpgo+zstd" {
			opts.Compression = otlpgo.CompressionZstd
		}
		enc := otlpgo.NewEncoder(opts)
		dec := otlpgo.NewDecoder(otlpgo.DefaultLimits())
		var frame []byte
		return func() (int, error) {
			var err error
			frame, err = enc.AppendFrame(frame[:0], req)
			if err != nil {
				return 0, err
			}
			_, err = dec.Decode(frame)
			return len(frame), err
		}
	case "proto", "proto+zstd":
		compress := codec == "proto+zstd"
		var zbuf, raw []byte
		return func() (int, error) {
			size := 0
			for _, signal := range []string{"traces", "logs", "metrics"} {
				msg, err := marshalProto(req, signal)
				if err != nil {
					return 0, err
				}
				if msg == nil {
					continue
				}
				size += len(msg)
				if compress {
					zbuf = otlpgo.ZstdEncoder().EncodeAll(msg, zbuf[:0])
					size += len(zbuf) - len(msg)
					if cap(raw) < len(msg) {
						raw = make([]byte, 0, len(msg))
					}
					if raw, err = otlpgo.ZstdDecoder().DecodeAll(zbuf, raw[:0:len(msg)]); err != nil {
						return 0, err
					}
					msg = raw
				}
				if err := unmarshalProto(signal, msg); err != nil {
					return 0, err
				}
			}
			return size, nil
		}
	}
	panic(fmt.Sprintf("unknown codec %q", codec))
}

// marshalProto encodes one signal of req as an OTLP protobuf message, or
// returns nil if req does not carry it.
func marshalProto(req otlpgo.Request, signal string) ([]byte, error) {
	switch {
	case signal == "traces" && req.Traces.ResourceSpans().Len() > 0:
		return (&ptrace.ProtoMarshaler{}).MarshalTraces(req.Traces)
	case signal == "logs" && req.Logs.ResourceLogs().Len() > 0:
		return (&plog.ProtoMarshaler{}).MarshalLogs(req.Logs)
	case signal == "metrics" && req.Metrics.ResourceMetrics().Len() > 0:
		return (&pmetric.ProtoMarshaler{}).MarshalMetrics(req.Metrics)
	}
	return nil, nil
}

func unmarshalProto(signal string, msg []byte) error {
	var err error
	switch signal {
	case "traces":
		_, err = (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(msg)
	case "logs":
		_, err = (&plog.ProtoUnmarshaler{}).UnmarshalLogs(msg)
	default:
		_, err = (&pmetric.ProtoUnmarshaler{}).UnmarshalMetrics(msg)
	}
	return err
}
