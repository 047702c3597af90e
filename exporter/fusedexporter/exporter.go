package fusedexporter

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelfusion/otelfusion/exporter/fusedexporter/internal/metadata"
	"github.com/otelfusion/otelfusion/pkg/otlpgo"
)

// maxResponseBytes bounds how much of a response body is read.
const maxResponseBytes = 64 << 10

// fusedExporter is the one instance shared by the traces, logs and metrics
// exporters of a configuration. Their pushes meet in its coalescer and leave
// as one fused frame per flush; each push gets back its own signal's result.
type fusedExporter struct {
	cfg       *Config
	url       string
	userAgent string
	settings  component.TelemetrySettings
	telemetry *metadata.TelemetryBuilder

	// Set by Start; Start and Shutdown are serialised by sharedcomponent.
	client      *http.Client
	kafka       *kafkaProducer // instead of client with 'kafka'
	coalescer   *coalescer
	streams     *streamPool
	sendCtx     context.Context
	cancelSends context.CancelFunc
}

func newFusedExporter(cfg *Config, set exporter.Settings) (*fusedExporter, error) {
	var target string
	if !cfg.Kafka.HasValue() {
		var err error
		if target, err = fusedURL(cfg.ClientConfig.Endpoint); err != nil {
			return nil, err
		}
	}
	telemetry, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	return &fusedExporter{
		cfg:       cfg,
		url:       target,
		userAgent: fmt.Sprintf("%s/%s (%s/%s)", set.BuildInfo.Command, set.BuildInfo.Version, runtime.GOOS, runtime.GOARCH),
		settings:  set.TelemetrySettings,
		telemetry: telemetry,
	}, nil
}

// Start builds the HTTP client (auth and middleware extensions come from
// host) and starts the coalescer.
func (e *fusedExporter) Start(ctx context.Context, host component.Host) error {
	if e.cfg.Kafka.HasValue() {
		producer, err := newKafkaProducer(ctx, e.cfg.Kafka.Get(), e.cfg.FrameCompression.codec(), e.settings.Logger)
		if err != nil {
			return err
		}
		e.kafka = producer
	} else {
		client, err := e.cfg.ClientConfig.ToClient(ctx, host.GetExtensions(), e.settings)
		if err != nil {
			return err
		}
		e.client = client
		e.streams = newStreamPool(e.cfg)
	}
	e.sendCtx, e.cancelSends = context.WithCancel(context.Background())
	e.coalescer = newCoalescer(e.cfg.Flush.Timeout, e.cfg.Flush.MaxItems, sendersPerSignal(e.cfg), e.send)
	e.coalescer.start()
	return nil
}

// Shutdown sends what the coalescer holds and waits for requests in flight;
// when ctx ends first they are cancelled and their pushes fail. By the time
// exporterhelper calls it, the queues have already drained. Safe without
// Start.
func (e *fusedExporter) Shutdown(ctx context.Context) error {
	if e.coalescer == nil {
		return nil
	}
	err := e.coalescer.stop(ctx, e.cancelSends)
	e.cancelSends()
	if e.client != nil {
		e.client.CloseIdleConnections()
	}
	if e.kafka != nil {
		e.kafka.close()
	}
	return err
}

// sendersPerSignal is how many pushes of one signal exporterhelper can have
// in flight: its queue consumers, or unknown (0) without a queue.
func sendersPerSignal(cfg *Config) int {
	if cfg.QueueConfig.HasValue() {
		return cfg.QueueConfig.Get().NumConsumers
	}
	return 0
}

func (e *fusedExporter) pushTraces(ctx context.Context, td ptrace.Traces) error {
	if td.ResourceSpans().Len() == 0 {
		return nil
	}
	p := newPush(signalTraces, td.SpanCount())
	p.traces = td
	return e.submit(ctx, p)
}

func (e *fusedExporter) pushLogs(ctx context.Context, ld plog.Logs) error {
	if ld.ResourceLogs().Len() == 0 {
		return nil
	}
	p := newPush(signalLogs, ld.LogRecordCount())
	p.logs = ld
	return e.submit(ctx, p)
}

func (e *fusedExporter) pushMetrics(ctx context.Context, md pmetric.Metrics) error {
	if md.ResourceMetrics().Len() == 0 {
		return nil
	}
	p := newPush(signalMetrics, md.DataPointCount())
	p.metrics = md
	return e.submit(ctx, p)
}

func (e *fusedExporter) submit(ctx context.Context, p *push) error {
	if e.coalescer == nil {
		return errShutdown
	}
	return e.coalescer.submit(ctx, p)
}

// send is the coalescer's sendFunc.
func (e *fusedExporter) send(batch []*push, reason flushReason) {
	batch = claim(batch)
	if len(batch) == 0 {
		return
	}
	e.telemetry.FusedFlushes.Add(e.sendCtx, 1, metric.WithAttributes(attribute.String("reason", string(reason))))
	e.deliver(batch)
}

// deliver sends batch as one fused request and resolves its pushes. A frame
// the receiver finds too large (or we cannot encode) is split in halves
// until each push stands alone, so one push cannot fail its neighbours.
func (e *fusedExporter) deliver(batch []*push) {
	results, splittable := e.exchange(batch)
	if splittable && len(batch) > 1 {
		mid := len(batch) / 2
		e.deliver(batch[:mid])
		e.deliver(batch[mid:])
		return
	}
	for _, p := range batch {
		p.result <- results[p.signal]
	}
}

// exchange encodes batch, POSTs it and maps the answer to a result per
// signal. splittable reports a failure that a smaller frame may avoid.
func (e *fusedExporter) exchange(batch []*push) (results outcome, splittable bool) {
	if e.kafka != nil {
		return e.exchangeKafka(batch)
	}
	req, present, items := fuse(batch)
	resent := false
	for s := range signalCount {
		if present[s] {
			e.telemetry.FusedRequestItems.Record(e.sendCtx, int64(items[s]),
				metric.WithAttributes(attribute.String("signal", s.String())))
		}
	}
	stream := e.streams.get() // nil unless stream mode is on (stream.go)
	defer e.streams.put(stream)
resend:
	frame, err := stream.appendFrame(req, e.cfg.FrameCompression.codec())
	if err != nil {
		e.countRequest("failed")
		return results.all(present, consumererror.NewPermanent(fmt.Errorf("encoding fused frame: %w", err))), true
	}
	httpReq, err := http.NewRequestWithContext(e.sendCtx, http.MethodPost, e.url, bytes.NewReader(frame))
	if err != nil {
		stream.lost()
		e.countRequest("failed")
		return results.all(present, consumererror.NewPermanent(err)), false
	}
	httpReq.Header.Set("Content-Type", otlpgo.ContentType)
	httpReq.Header.Set("User-Agent", e.userAgent)
	stream.setHeader(httpReq.Header)

	resp, err := e.client.Do(httpReq)
	if err != nil {
		// The receiver may be down or unreachable: every signal is retried.
		stream.lost()
		e.countRequest("failed")
		return results.all(present, fmt.Errorf("sending fused request to %s: %w", e.url, err)), false
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBytes)) // let the connection be reused
	resp.Body.Close()
	e.telemetry.FusedWireBytes.Add(e.sendCtx, int64(len(frame)))
	if stream.answered(resp.StatusCode) && !resent {
		resent = true // the receiver lost the stream: once more as a reset frame
		goto resend
	}

	results = interpret(resp.StatusCode, resp.Header.Get("Retry-After"), body, present, items)
	e.countRequest(statusOutcome(resp.StatusCode))
	if resp.StatusCode == http.StatusRequestEntityTooLarge {
		return results, true
	}
	if results.any() {
		e.settings.Logger.Debug("Fused request not fully accepted",
			zap.Int("status", resp.StatusCode), zap.Error(results.join()))
	}
	return results, false
}

func (e *fusedExporter) countRequest(outcome string) {
	e.telemetry.FusedRequests.Add(e.sendCtx, 1, metric.WithAttributes(attribute.String("outcome", outcome)))
}

// fuse builds the request carrying every push of batch, and tells which
// signals it carries and how many items of each. A signal pushed once is used as it is; several pushes of a
// signal are copied into one container, since the pushed data is only lent.
func fuse(batch []*push) (req otlpgo.Request, present [signalCount]bool, items [signalCount]int) {
	var pushes [signalCount]int
	for _, p := range batch {
		pushes[p.signal]++
		present[p.signal] = true
		items[p.signal] += p.items
	}
	req = otlpgo.NewRequest()
	for _, p := range batch {
		switch p.signal {
		case signalTraces:
			if pushes[signalTraces] == 1 {
				req.Traces = p.traces
				continue
			}
			from := p.traces.ResourceSpans()
			for i := range from.Len() {
				from.At(i).CopyTo(req.Traces.ResourceSpans().AppendEmpty())
			}
		case signalLogs:
			if pushes[signalLogs] == 1 {
				req.Logs = p.logs
				continue
			}
			from := p.logs.ResourceLogs()
			for i := range from.Len() {
				from.At(i).CopyTo(req.Logs.ResourceLogs().AppendEmpty())
			}
		case signalMetrics:
			if pushes[signalMetrics] == 1 {
				req.Metrics = p.metrics
				continue
			}
			from := p.metrics.ResourceMetrics()
			for i := range from.Len() {
				from.At(i).CopyTo(req.Metrics.ResourceMetrics().AppendEmpty())
			}
		}
	}
	return req, present, items
}
