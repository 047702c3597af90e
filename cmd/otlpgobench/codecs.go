package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
	arrowpb "github.com/open-telemetry/otel-arrow/go/api/experimental/arrow/v1"
	arrowcfg "github.com/open-telemetry/otel-arrow/go/pkg/config"
	arrowrecord "github.com/open-telemetry/otel-arrow/go/pkg/otel/arrow_record"
	"github.com/splunk/stef/go/otel/otelstef"
	stefmetrics "github.com/splunk/stef/go/pdata/metrics"
	stefpkg "github.com/splunk/stef/go/pkg"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"google.golang.org/protobuf/proto"

	"github.com/otelfusion/otelfusion/pkg/otlpgo"
)

// batch is one request of one signal.
type batch struct {
	signal  string
	traces  ptrace.Traces
	logs    plog.Logs
	metrics pmetric.Metrics
}

func (b batch) request() otlpgo.Request {
	switch b.signal {
	case "traces":
		return otlpgo.Request{Traces: b.traces}
	case "logs":
		return otlpgo.Request{Logs: b.logs}
	default:
		return otlpgo.Request{Metrics: b.metrics}
	}
}

func (b batch) items() int {
	switch b.signal {
	case "traces":
		return b.traces.SpanCount()
	case "logs":
		return b.logs.LogRecordCount()
	default:
		return b.metrics.DataPointCount()
	}
}

// session is one sender and one receiver of a codec: a stream codec keeps
// its state from batch to batch within a session, as on one connection.
type session interface {
	encode(b batch) ([]byte, error)
	// decode reads what encode wrote and returns the items it gave back.
	decode(payload []byte) (int, error)
	close()
}

// codec makes sessions; signals says which signals it carries.
type codec struct {
	name       string
	family     string // otlpgo, proto, arrow, stef
	stream     bool
	metricOnly bool
	open       func(signal string) (session, error)
}

var zstdEnc, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1))
var zstdDec, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))

func codecs() []codec {
	list := []codec{
		{name: "otlpgo", family: "otlpgo", open: otlpgoStateless(otlpgo.CompressionNone)},
		{name: "otlpgo+zstd", family: "otlpgo", open: otlpgoStateless(otlpgo.CompressionZstd)},
		{name: "otlpgo stream", family: "otlpgo", stream: true, open: otlpgoStream(otlpgo.CompressionNone)},
		{name: "otlpgo stream+zstd", family: "otlpgo", stream: true, open: otlpgoStream(otlpgo.CompressionZstd)},
		{name: "proto", family: "proto", open: protoCodec(false)},
		{name: "proto+zstd", family: "proto", open: protoCodec(true)},
	}
	// OTel Arrow: Arrow IPC zstd on or off, and the message zstd-compressed
	// as gRPC compression would, or not: the four variants of the exporter.
	for _, ipc := range []bool{false, true} {
		for _, msg := range []bool{false, true} {
			name := "arrow"
			if ipc {
				name += "+ipczstd"
			}
			if msg {
				name += "+zstd"
			}
			list = append(list, codec{name: name, family: "arrow", stream: true, open: arrowCodec(ipc, msg)})
		}
	}
	list = append(list,
		codec{name: "stef", family: "stef", stream: true, metricOnly: true, open: stefCodec(stefpkg.CompressionNone)},
		codec{name: "stef+zstd", family: "stef", stream: true, metricOnly: true, open: stefCodec(stefpkg.CompressionZstd)},
	)
	return list
}

// otlpgo, one frame per batch.

type otlpgoStatelessSession struct {
	enc *otlpgo.Encoder
	dec *otlpgo.Decoder
}

func otlpgoStateless(c otlpgo.Compression) func(string) (session, error) {
	return func(string) (session, error) {
		return &otlpgoStatelessSession{enc: otlpgo.NewEncoder(otlpgo.EncodeOptions{Compression: c}), dec: otlpgo.NewDecoder(otlpgo.Limits{})}, nil
	}
}

func (s *otlpgoStatelessSession) encode(b batch) ([]byte, error) {
	return s.enc.AppendFrame(nil, b.request())
}

func (s *otlpgoStatelessSession) decode(p []byte) (int, error) {
	req, err := s.dec.Decode(p)
	return countRequest(req), err
}

func (s *otlpgoStatelessSession) close() {}

type otlpgoStreamSession struct {
	enc *otlpgo.StreamEncoder
	dec *otlpgo.StreamDecoder
}

func otlpgoStream(c otlpgo.Compression) func(string) (session, error) {
	return func(string) (session, error) {
		return &otlpgoStreamSession{
			enc: otlpgo.NewStreamEncoder(otlpgo.EncodeOptions{Compression: c}, 0),
			dec: otlpgo.NewStreamDecoder(otlpgo.Limits{}),
		}, nil
	}
}

func (s *otlpgoStreamSession) encode(b batch) ([]byte, error) {
	return s.enc.AppendFrame(nil, b.request())
}

func (s *otlpgoStreamSession) decode(p []byte) (int, error) {
	req, err := s.dec.Decode(p)
	return countRequest(req), err
}

func (s *otlpgoStreamSession) close() {}

func countRequest(r otlpgo.Request) int {
	spans, records, points := r.Counts()
	return spans + records + points
}

// OTLP protobuf, as pdata marshals it, zstd as gRPC's zstd compressor would.

type protoSession struct {
	compress bool
	signal   string
}

func protoCodec(compress bool) func(string) (session, error) {
	return func(signal string) (session, error) { return &protoSession{compress: compress, signal: signal}, nil }
}

func (s *protoSession) encode(b batch) ([]byte, error) {
	var out []byte
	var err error
	switch b.signal {
	case "traces":
		out, err = (&ptrace.ProtoMarshaler{}).MarshalTraces(b.traces)
	case "logs":
		out, err = (&plog.ProtoMarshaler{}).MarshalLogs(b.logs)
	default:
		out, err = (&pmetric.ProtoMarshaler{}).MarshalMetrics(b.metrics)
	}
	if err != nil || !s.compress {
		return out, err
	}
	return zstdEnc.EncodeAll(out, nil), nil
}

func (s *protoSession) decode(p []byte) (int, error) {
	if s.compress {
		var err error
		if p, err = zstdDec.DecodeAll(p, nil); err != nil {
			return 0, err
		}
	}
	switch s.signal {
	case "traces":
		td, err := (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(p)
		return td.SpanCount(), err
	case "logs":
		ld, err := (&plog.ProtoUnmarshaler{}).UnmarshalLogs(p)
		return ld.LogRecordCount(), err
	default:
		md, err := (&pmetric.ProtoUnmarshaler{}).UnmarshalMetrics(p)
		return md.DataPointCount(), err
	}
}

func (s *protoSession) close() {}

// OTel Arrow: one Producer and one Consumer per session, so dictionaries and
// schemas live as long as the stream, as in the otelarrow exporter.

type arrowSession struct {
	signal   string
	producer *arrowrecord.Producer
	consumer *arrowrecord.Consumer
	msgZstd  bool
}

func arrowCodec(ipcZstd, msgZstd bool) func(string) (session, error) {
	return func(signal string) (session, error) {
		opt := arrowcfg.WithNoZstd()
		if ipcZstd {
			opt = arrowcfg.WithZstd()
		}
		return &arrowSession{
			signal:   signal,
			producer: arrowrecord.NewProducerWithOptions(opt),
			consumer: arrowrecord.NewConsumer(),
			msgZstd:  msgZstd,
		}, nil
	}
}

func (s *arrowSession) encode(b batch) ([]byte, error) {
	var bar *arrowpb.BatchArrowRecords
	var err error
	switch b.signal {
	case "traces":
		bar, err = s.producer.BatchArrowRecordsFromTraces(b.traces)
	case "logs":
		bar, err = s.producer.BatchArrowRecordsFromLogs(b.logs)
	default:
		bar, err = s.producer.BatchArrowRecordsFromMetrics(b.metrics)
	}
	if err != nil {
		return nil, err
	}
	out, err := proto.Marshal(bar)
	if err != nil || !s.msgZstd {
		return out, err
	}
	return zstdEnc.EncodeAll(out, nil), nil
}

func (s *arrowSession) decode(p []byte) (int, error) {
	if s.msgZstd {
		var err error
		if p, err = zstdDec.DecodeAll(p, nil); err != nil {
			return 0, err
		}
	}
	bar := &arrowpb.BatchArrowRecords{}
	if err := proto.Unmarshal(p, bar); err != nil {
		return 0, err
	}
	n := 0
	switch s.signal {
	case "traces":
		tds, err := s.consumer.TracesFrom(bar)
		if err != nil {
			return 0, err
		}
		for _, td := range tds {
			n += td.SpanCount()
		}
	case "logs":
		lds, err := s.consumer.LogsFrom(bar)
		if err != nil {
			return 0, err
		}
		for _, ld := range lds {
			n += ld.LogRecordCount()
		}
	default:
		mds, err := s.consumer.MetricsFrom(bar)
		if err != nil {
			return 0, err
		}
		for _, md := range mds {
			n += md.DataPointCount()
		}
	}
	return n, nil
}

func (s *arrowSession) close() {
	_ = s.producer.Close()
	_ = s.consumer.Close()
}

// STEF (metrics only): one MetricsWriter and one MetricsReader per session;
// each batch is converted (sorted, as STEF recommends) and flushed as one
// frame, which the reader reads whole.

type stefSession struct {
	chunks   *chunkBuffer
	writer   *otelstef.MetricsWriter
	reader   *otelstef.MetricsReader
	feed     *feedReader
	toStef   stefmetrics.OtlpToStef
	fromStef stefmetrics.StefToOtlpUnsorted
}

// chunkBuffer collects what the writer flushes.
type chunkBuffer struct{ buf bytes.Buffer }

func (c *chunkBuffer) WriteChunk(header, content []byte) error {
	c.buf.Write(header)
	c.buf.Write(content)
	return nil
}

// feedReader hands the reader the payloads given to it, in order.
type feedReader struct{ pending []byte }

func (f *feedReader) Read(p []byte) (int, error) {
	if len(f.pending) == 0 {
		return 0, io.EOF
	}
	n := copy(p, f.pending)
	f.pending = f.pending[n:]
	return n, nil
}

func stefCodec(c stefpkg.Compression) func(string) (session, error) {
	return func(signal string) (session, error) {
		if signal != "metrics" {
			return nil, errors.New("stef carries metrics only")
		}
		s := &stefSession{chunks: &chunkBuffer{}, feed: &feedReader{}, toStef: stefmetrics.NewOtlpToStef(true)}
		var err error
		s.writer, err = otelstef.NewMetricsWriter(s.chunks, stefpkg.WriterOptions{Compression: c})
		return s, err
	}
}

func (s *stefSession) encode(b batch) ([]byte, error) {
	if err := s.toStef.Convert(b.metrics, s.writer); err != nil {
		return nil, err
	}
	if err := s.writer.Flush(); err != nil {
		return nil, err
	}
	out := bytes.Clone(s.chunks.buf.Bytes())
	s.chunks.buf.Reset()
	return out, nil
}

func (s *stefSession) decode(p []byte) (int, error) {
	s.feed.pending = append(s.feed.pending, p...)
	if s.reader == nil {
		var err error
		if s.reader, err = otelstef.NewMetricsReader(s.feed); err != nil {
			return 0, fmt.Errorf("stef reader: %w", err)
		}
	}
	// A batch larger than the writer's frame size spans several STEF
	// frames: read frames until the payload is used up.
	n := 0
	for {
		md, err := s.fromStef.Convert(s.reader, false)
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n += md.DataPointCount()
	}
}

func (s *stefSession) close() {}
