package scenarios

import (
	"fmt"
	"sync"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/protobuf/encoding/protowire"
)

// On two cores the load generator and the mock backend share one core while
// the collector under test has the other. To offer more than a collector
// core takes, the senders send requests encoded once (the pool of batches is
// fixed), and the backend counts spans and log records by walking the
// protobuf wire format instead of building pdata. The collector still gets
// and sends ordinary OTLP.

// OTLP gRPC method names.
const (
	tracesExportMethod  = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
	logsExportMethod    = "/opentelemetry.proto.collector.logs.v1.LogsService/Export"
	metricsExportMethod = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export"
)

// rawMessage is an encoded protobuf message, passed through rawCodec as is.
type rawMessage struct{ data []byte }

// rawCodec is a gRPC codec for rawMessage. Its name is "proto" so the wire
// content type is the ordinary application/grpc+proto.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) {
	msg, ok := v.(*rawMessage)
	if !ok {
		return nil, fmt.Errorf("raw codec: cannot marshal %T", v)
	}
	return msg.data, nil
}

func (rawCodec) Unmarshal(data []byte, v any) error {
	msg, ok := v.(*rawMessage)
	if !ok {
		return fmt.Errorf("raw codec: cannot unmarshal into %T", v)
	}
	msg.data = append(msg.data[:0], data...)
	return nil
}

func (rawCodec) Name() string { return "proto" }

// encodedCache keeps the encoding of each pooled batch. Batches are compared
// by identity (pdata values wrap pointers), which is what the pool hands out.
type encodedCache struct {
	mu      sync.Mutex
	entries map[any][]byte
}

func (c *encodedCache) get(key any, encode func() ([]byte, error)) ([]byte, error) {
	c.mu.Lock()
	data, ok := c.entries[key]
	c.mu.Unlock()
	if ok {
		return data, nil
	}
	data, err := encode()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.entries == nil {
		c.entries = map[any][]byte{}
	}
	c.entries[key] = data
	c.mu.Unlock()
	return data, nil
}

func (c *encodedCache) traces(td ptrace.Traces) ([]byte, error) {
	return c.get(td, ptraceotlp.NewExportRequestFromTraces(td).MarshalProto)
}

func (c *encodedCache) logs(ld plog.Logs) ([]byte, error) {
	return c.get(ld, plogotlp.NewExportRequestFromLogs(ld).MarshalProto)
}

func (c *encodedCache) metrics(md pmetric.Metrics) ([]byte, error) {
	return c.get(md, pmetricotlp.NewExportRequestFromMetrics(md).MarshalProto)
}

// countLeaves counts the spans of an ExportTraceServiceRequest or the log
// records of an ExportLogsServiceRequest: both nest as field 1 (resource
// entries) → field 2 (scope entries) → field 2 (the items).
func countLeaves(request []byte) (int, error) {
	return countNested(request, []protowire.Number{1, 2, 2})
}

func countNested(msg []byte, path []protowire.Number) (int, error) {
	var n int
	for len(msg) > 0 {
		num, typ, tagLen := protowire.ConsumeTag(msg)
		if tagLen < 0 {
			return 0, protowire.ParseError(tagLen)
		}
		msg = msg[tagLen:]
		if typ != protowire.BytesType || num != path[0] {
			skip := protowire.ConsumeFieldValue(num, typ, msg)
			if skip < 0 {
				return 0, protowire.ParseError(skip)
			}
			msg = msg[skip:]
			continue
		}
		value, valueLen := protowire.ConsumeBytes(msg)
		if valueLen < 0 {
			return 0, protowire.ParseError(valueLen)
		}
		msg = msg[valueLen:]
		if len(path) == 1 {
			n++
			continue
		}
		inner, err := countNested(value, path[1:])
		if err != nil {
			return 0, err
		}
		n += inner
	}
	return n, nil
}
