package fusionprocessor

import (
	"context"
	"math"
	"sync"
	"time"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelfusion/otelfusion/internal/tracehint"
	"github.com/otelfusion/otelfusion/processor/fusionprocessor/internal/metadata"
)

// maxReleaseTick bounds how late an expired log can leave the buffer.
const maxReleaseTick = 100 * time.Millisecond

func attributeSet(key, value string) attribute.Set {
	return attribute.NewSet(attribute.String(key, value))
}

// Precomputed telemetry labels, so hot paths do not build attribute sets.
var (
	reasonNoTraceContext = metric.WithAttributeSet(attributeSet("reason", "no_trace_context"))
	reasonSpanNotSeen    = metric.WithAttributeSet(attributeSet("reason", "span_not_seen"))
	reasonBufferFull     = metric.WithAttributeSet(attributeSet("reason", "buffer_full"))
	hintReasons          = map[tracehint.Error]metric.AddOption{
		tracehint.BadHex:      metric.WithAttributeSet(attributeSet("reason", tracehint.BadHex.String())),
		tracehint.WrongLength: metric.WithAttributeSet(attributeSet("reason", tracehint.WrongLength.String())),
		tracehint.AllZeros:    metric.WithAttributeSet(attributeSet("reason", tracehint.AllZeros.String())),
		tracehint.BadFormat:   metric.WithAttributeSet(attributeSet("reason", tracehint.BadFormat.String())),
	}
)

var statusCodeNames = map[ptrace.StatusCode]string{
	ptrace.StatusCodeUnset: "STATUS_CODE_UNSET",
	ptrace.StatusCodeOk:    "STATUS_CODE_OK",
	ptrace.StatusCodeError: "STATUS_CODE_ERROR",
}

// fusionProcessor is the one instance shared by every pipeline that names a
// fusion configuration. Traces feed the span index and logs are linked to
// their spans. The RED and log-count metrics are the fusionmetrics
// connector's (connector/fusionmetricsconnector).
type fusionProcessor struct {
	cfg    *Config
	logger *zap.Logger
	tb     *metadata.TelemetryBuilder
	// now and releaseTick are replaced by tests.
	now         func() time.Time
	releaseTick time.Duration

	hints tracehint.Reader
	index *spanIndex
	names *interner

	readyMu sync.Mutex
	ready   []*pendingLog // found their span, not yet forwarded

	// gaugeReported is what the occupancy gauge was last moved to.
	gaugeMu       sync.Mutex
	gaugeReported int64

	wake chan struct{}
	stop chan struct{}
	done sync.WaitGroup
}

func newFusionProcessor(cfg *Config, set processor.Settings) (*fusionProcessor, error) {
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	p := &fusionProcessor{
		cfg:         cfg,
		logger:      set.Logger,
		tb:          tb,
		now:         time.Now,
		releaseTick: min(maxReleaseTick, max(cfg.LateLogs.MaxDelay/4, time.Millisecond)),
		hints: tracehint.Reader{
			TraceID:        cfg.Attributes.TraceID,
			SpanID:         cfg.Attributes.SpanID,
			Traceparent:    cfg.Attributes.Traceparent,
			DatadogTraceID: cfg.Attributes.DatadogTraceID,
			DatadogSpanID:  cfg.Attributes.DatadogSpanID,
		},
		index: newSpanIndex(cfg.Index.MaxEntries, int64(cfg.Index.TTL), cfg.LateLogs.MaxBuffered),
		names: newInterner(),
		wake:  make(chan struct{}, 1),
		stop:  make(chan struct{}),
	}
	return p, nil
}

// Start starts the release loop of the late-span buffer.
func (p *fusionProcessor) Start(context.Context, component.Host) error {
	if p.cfg.LateLogs.MaxDelay > 0 {
		p.done.Add(1)
		go p.releaseLoop()
	}
	return nil
}

// drain forwards every buffered log (unenriched unless its span came); from
// then on logs no longer wait. Each pipeline
// calls it as it shuts down, before its exporters stop: the collector may
// stop one pipeline's exporters before another pipeline lets go of this
// shared instance, so waiting for the last user would be too late.
func (p *fusionProcessor) drain() {
	p.index.stopping.Store(true)
	p.forward(p.index.expired(math.MaxInt64, p.takeReady()))
}

// Shutdown stops the loops and drains what is left. Safe without Start.
func (p *fusionProcessor) Shutdown(context.Context) error {
	p.index.stopping.Store(true)
	close(p.stop)
	p.done.Wait()
	p.drain()
	return nil
}

func (p *fusionProcessor) releaseLoop() {
	defer p.done.Done()
	ticker := time.NewTicker(p.releaseTick)
	defer ticker.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-p.wake:
		case <-ticker.C:
		}
		p.releaseDue()
	}
}

// releaseDue forwards the logs whose span came and those whose wait is over.
func (p *fusionProcessor) releaseDue() {
	p.forward(p.index.expired(p.now().UnixNano(), p.takeReady()))
}

func (p *fusionProcessor) takeReady() []*pendingLog {
	p.readyMu.Lock()
	defer p.readyMu.Unlock()
	ready := p.ready
	p.ready = nil
	return ready
}

// serviceOf reads the service name from a resource.
func (p *fusionProcessor) serviceOf(res pcommon.Resource) (string, bool) {
	if v, ok := res.Attributes().Get(p.cfg.Attributes.Service); ok {
		return v.AsString(), true
	}
	return "", false
}

// processTraces indexes every span and releases the logs that waited for one. The spans go on unchanged apart from the
// optional duration attribute.
func (p *fusionProcessor) processTraces(_ context.Context, td ptrace.Traces) (ptrace.Traces, error) {
	now := p.now().UnixNano()
	var released []*pendingLog
	indexed := 0
	for i := range td.ResourceSpans().Len() {
		rs := td.ResourceSpans().At(i)
		service, _ := p.serviceOf(rs.Resource())
		service = p.names.intern(service)
		// Spans of one resource often repeat a name: the last one is kept
		// at hand.
		var lastName, lastInterned string
		for j := range rs.ScopeSpans().Len() {
			spans := rs.ScopeSpans().At(j).Spans()
			for k := range spans.Len() {
				span := spans.At(k)
				tid, sid := span.TraceID(), span.SpanID()
				if p.cfg.Model.Duration != "" && span.EndTimestamp() >= span.StartTimestamp() {
					span.Attributes().PutInt(p.cfg.Model.Duration, int64(span.EndTimestamp()-span.StartTimestamp()))
				}
				if !tid.IsEmpty() && !sid.IsEmpty() {
					if name := span.Name(); name != lastName || lastInterned == "" {
						lastName, lastInterned = name, p.names.intern(name)
					}
					info := spanInfo{service: service, operation: lastInterned, status: span.Status().Code(), traceHigh: [8]byte(tid[:8])}
					for w := p.index.put(newSpanKey(tid, sid), info, now); w != nil; w = w.sameSpan {
						released = append(released, w)
					}
					indexed++
				}
			}
		}
	}
	if indexed > 0 {
		p.tb.SpansIndexed.Add(context.Background(), int64(indexed))
	}
	if len(released) > 0 {
		p.readyMu.Lock()
		p.ready = append(p.ready, released...)
		p.readyMu.Unlock()
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
	return td, nil
}

// logCounts gathers one batch's telemetry so each counter is added once.
type logCounts struct {
	enriched, noContext, notSeen, full, waiting int64
}

func (p *fusionProcessor) report(c logCounts) {
	ctx := context.Background()
	if c.enriched > 0 {
		p.tb.LogsEnriched.Add(ctx, c.enriched)
	}
	if c.noContext > 0 {
		p.tb.LogsUnlinked.Add(ctx, c.noContext, reasonNoTraceContext)
	}
	if c.notSeen > 0 {
		p.tb.LogsUnlinked.Add(ctx, c.notSeen, reasonSpanNotSeen)
	}
	if c.full > 0 {
		p.tb.LogsUnlinked.Add(ctx, c.full, reasonBufferFull)
	}
	if c.waiting > 0 {
		p.tb.LogsDelayed.Add(ctx, c.waiting)
	}
}

// processLogs links each log to its span. A log whose span is indexed is
// enriched at once; one whose span has not come yet is taken out of the batch
// into the late-span buffer (when it has room) and forwarded later to next.
func (p *fusionProcessor) processLogs(ctx context.Context, ld plog.Logs, next consumer.Logs) (plog.Logs, error) {
	now := p.now()
	nowNs := now.UnixNano()
	deadline := now.Add(p.cfg.LateLogs.MaxDelay).UnixNano()
	var counts logCounts
	badHint := func(e tracehint.Error) { p.tb.InvalidHints.Add(context.Background(), 1, hintReasons[e]) }
	// A buffered log keeps its request's client info (the tenant, auth), so
	// it goes on later as if it had not waited. One copy serves the batch.
	var clientInfo *client.Info
	for i := range ld.ResourceLogs().Len() {
		rl := ld.ResourceLogs().At(i)
		_, hasService := p.serviceOf(rl.Resource())
		for j := range rl.ScopeLogs().Len() {
			sl := rl.ScopeLogs().At(j)
			sl.LogRecords().RemoveIf(func(lr plog.LogRecord) bool {
				p.normalize(lr, badHint)
				tid, sid := lr.TraceID(), lr.SpanID()
				if tid.IsEmpty() || sid.IsEmpty() {
					counts.noContext++
					return false
				}
				var wait func() *pendingLog
				if p.cfg.LateLogs.MaxDelay > 0 {
					wait = func() *pendingLog {
						if clientInfo == nil {
							info := client.FromContext(ctx)
							clientInfo = &info
						}
						pl := &pendingLog{logs: plog.NewLogs(), next: next, client: clientInfo}
						one := pl.logs.ResourceLogs().AppendEmpty()
						rl.Resource().CopyTo(one.Resource())
						one.SetSchemaUrl(rl.SchemaUrl())
						oneScope := one.ScopeLogs().AppendEmpty()
						sl.Scope().CopyTo(oneScope.Scope())
						oneScope.SetSchemaUrl(sl.SchemaUrl())
						lr.CopyTo(oneScope.LogRecords().AppendEmpty())
						return pl
					}
				}
				info, found, waiting, full := p.index.lookupOrWait(newSpanKey(tid, sid), nowNs, deadline, wait)
				if waiting {
					counts.waiting++
					return true
				}
				switch {
				case found:
					p.enrich(lr, info, hasService)
					counts.enriched++
				case full:
					counts.full++
				default:
					counts.notSeen++
				}
				return false
			})
		}
	}
	if counts.waiting > 0 {
		p.syncBufferedGauge()
	}
	p.report(counts)
	ld.ResourceLogs().RemoveIf(func(rl plog.ResourceLogs) bool {
		rl.ScopeLogs().RemoveIf(func(sl plog.ScopeLogs) bool { return sl.LogRecords().Len() == 0 })
		return rl.ScopeLogs().Len() == 0
	})
	if ld.ResourceLogs().Len() == 0 {
		return ld, processorhelper.ErrSkipProcessingData
	}
	return ld, nil
}

// normalize fills what the model can know from the record itself: trace
// and span ids from attribute hints, and the timestamp from the observed one.
func (p *fusionProcessor) normalize(lr plog.LogRecord, badHint func(tracehint.Error)) {
	if lr.Timestamp() == 0 && lr.ObservedTimestamp() != 0 {
		lr.SetTimestamp(lr.ObservedTimestamp())
	}
	tid, sid := lr.TraceID(), lr.SpanID()
	if !tid.IsEmpty() && !sid.IsEmpty() {
		return
	}
	htid, hsid := p.hints.Read(lr.Attributes(), badHint)
	if tid.IsEmpty() && !htid.IsEmpty() {
		lr.SetTraceID(htid)
	}
	if sid.IsEmpty() && !hsid.IsEmpty() {
		lr.SetSpanID(hsid)
	}
}

// enrich writes what the span tells about the log. The trace id is written
// whole, which completes a 64-bit (Datadog) trace id.
func (p *fusionProcessor) enrich(lr plog.LogRecord, info spanInfo, resourceHasService bool) {
	tid := lr.TraceID()
	copy(tid[:8], info.traceHigh[:])
	lr.SetTraceID(tid)
	attrs := lr.Attributes()
	if p.cfg.Model.Operation != "" {
		attrs.PutStr(p.cfg.Model.Operation, info.operation)
	}
	if p.cfg.Model.Service != "" && !resourceHasService && info.service != "" {
		attrs.PutStr(p.cfg.Model.Service, info.service)
	}
	if p.cfg.Model.SpanStatus != "" {
		attrs.PutStr(p.cfg.Model.SpanStatus, statusCodeNames[info.status])
	}
}

// forward sends released logs to the pipelines they came from, with the
// client info of the request each came in, enriching those whose span came.
// A refusal is logged and counted; the log is not retried, as the receiver
// that sent it has long been answered.
func (p *fusionProcessor) forward(batch []*pendingLog) {
	if len(batch) == 0 {
		return
	}
	type destination struct {
		next   consumer.Logs
		client *client.Info
		logs   plog.Logs
	}
	var dests []destination
	var counts logCounts
	for _, pl := range batch {
		rl := pl.logs.ResourceLogs().At(0)
		lr := rl.ScopeLogs().At(0).LogRecords().At(0)
		_, hasService := p.serviceOf(rl.Resource())
		if pl.found {
			p.enrich(lr, pl.info, hasService)
			counts.enriched++
		} else {
			counts.notSeen++
		}
		d := -1
		for i := range dests {
			if dests[i].next == pl.next && dests[i].client == pl.client {
				d = i
			}
		}
		if d < 0 {
			dests = append(dests, destination{next: pl.next, client: pl.client, logs: plog.NewLogs()})
			d = len(dests) - 1
		}
		pl.logs.ResourceLogs().MoveAndAppendTo(dests[d].logs.ResourceLogs())
	}
	p.index.buffered.Add(-int64(len(batch)))
	p.syncBufferedGauge()
	p.report(counts)
	for _, d := range dests {
		ctx := context.Background()
		if d.client != nil {
			ctx = client.NewContext(ctx, *d.client)
		}
		if err := d.next.ConsumeLogs(ctx, d.logs); err != nil {
			n := d.logs.LogRecordCount()
			p.tb.ForwardErrors.Add(context.Background(), int64(n))
			p.logger.Warn("Next consumer refused buffered logs", zap.Int("records", n), zap.Error(err))
		}
	}
}

// syncBufferedGauge moves the occupancy gauge to the buffer's count.
func (p *fusionProcessor) syncBufferedGauge() {
	p.gaugeMu.Lock()
	defer p.gaugeMu.Unlock()
	now := p.index.buffered.Load()
	if d := now - p.gaugeReported; d != 0 {
		p.tb.BufferedLogs.Add(context.Background(), d)
		p.gaugeReported = now
	}
}
