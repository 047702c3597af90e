package fusionmetricsconnector

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelfusion/otelfusion/connector/fusionmetricsconnector/internal/metadata"
)

// Precomputed telemetry labels, so hot paths do not build attribute sets.
var (
	signalSpans = metric.WithAttributeSet(attributeSet("signal", "spans"))
	signalLogs  = metric.WithAttributeSet(attributeSet("signal", "logs"))
)

// fusionMetricsConnector aggregates the spans (traces→metrics) or log
// records (logs→metrics) it consumes and sends the derived metrics into its
// metrics pipeline at every flush interval, so they pass that pipeline's
// processors like any other metrics.
type fusionMetricsConnector struct {
	cfg     *Config
	logger  *zap.Logger
	tb      *metadata.TelemetryBuilder
	next    consumer.Metrics
	derived *derivedMetrics
	// now is replaced by tests.
	now func() time.Time

	stopOnce sync.Once
	stop     chan struct{}
	done     sync.WaitGroup
}

var (
	_ connector.Traces = (*fusionMetricsConnector)(nil)
	_ connector.Logs   = (*fusionMetricsConnector)(nil)
)

func newConnector(cfg *Config, set connector.Settings, next consumer.Metrics, spans, logs bool) (*fusionMetricsConnector, error) {
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	c := &fusionMetricsConnector{
		cfg:    cfg,
		logger: set.Logger,
		tb:     tb,
		next:   next,
		now:    time.Now,
		stop:   make(chan struct{}),
	}
	c.derived = newDerivedMetrics(cfg, tb, c.now().UnixNano(), spans, logs)
	return c, nil
}

// Capabilities reports that the connector only reads what it consumes.
func (c *fusionMetricsConnector) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: false}
}

// Start starts the flush loop.
func (c *fusionMetricsConnector) Start(context.Context, component.Host) error {
	c.done.Add(1)
	go c.flushLoop()
	return nil
}

// Shutdown stops the flush loop and sends what was aggregated since the last
// flush. Safe without Start.
func (c *fusionMetricsConnector) Shutdown(ctx context.Context) error {
	c.stopOnce.Do(func() { close(c.stop) })
	c.done.Wait()
	c.flush(ctx)
	return nil
}

func (c *fusionMetricsConnector) flushLoop() {
	defer c.done.Done()
	ticker := time.NewTicker(c.cfg.FlushInterval)
	defer ticker.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-ticker.C:
			c.flush(context.Background())
		}
	}
}

// flush sends the derived metrics on. A refusal is logged and counted: the
// points are not kept for another try, as the next interval brings its own.
func (c *fusionMetricsConnector) flush(ctx context.Context) {
	md := c.derived.flush(c.now().UnixNano())
	n := md.DataPointCount()
	if n == 0 {
		return
	}
	if err := c.next.ConsumeMetrics(ctx, md); err != nil {
		c.tb.FlushErrors.Add(context.Background(), int64(n))
		c.logger.Warn("Next consumer refused derived metrics", zap.Int("points", n), zap.Error(err))
	}
}

// serviceOf reads the service name from a resource.
func (c *fusionMetricsConnector) serviceOf(res pcommon.Resource) (string, bool) {
	if v, ok := res.Attributes().Get(c.cfg.Attributes.Service); ok {
		return v.AsString(), true
	}
	return "", false
}

// ConsumeTraces records the RED metrics of every span.
func (c *fusionMetricsConnector) ConsumeTraces(_ context.Context, td ptrace.Traces) error {
	if len(c.derived.spanTables) == 0 {
		return nil
	}
	now := c.now().UnixNano()
	var rec recorder
	recorded := 0
	for i := range td.ResourceSpans().Len() {
		rs := td.ResourceSpans().At(i)
		service, _ := c.serviceOf(rs.Resource())
		resource := rs.Resource().Attributes()
		for j := range rs.ScopeSpans().Len() {
			spans := rs.ScopeSpans().At(j).Spans()
			for k := range spans.Len() {
				c.derived.recordSpan(&rec, now, service, resource, spans.At(k))
			}
			recorded += spans.Len()
		}
	}
	if recorded > 0 {
		c.tb.Recorded.Add(context.Background(), int64(recorded), signalSpans)
	}
	return nil
}

// ConsumeLogs counts log records by service and severity. A log whose
// resource names no service takes the one the fusion processor wrote from
// its span (attributes::log_service).
func (c *fusionMetricsConnector) ConsumeLogs(_ context.Context, ld plog.Logs) error {
	if len(c.derived.logTables) == 0 {
		return nil
	}
	now := c.now().UnixNano()
	var rec recorder
	recorded := 0
	for i := range ld.ResourceLogs().Len() {
		rl := ld.ResourceLogs().At(i)
		service, hasService := c.serviceOf(rl.Resource())
		resource := rl.Resource().Attributes()
		for j := range rl.ScopeLogs().Len() {
			records := rl.ScopeLogs().At(j).LogRecords()
			for k := range records.Len() {
				lr := records.At(k)
				logService := service
				if !hasService && c.cfg.Attributes.LogService != "" {
					if v, ok := lr.Attributes().Get(c.cfg.Attributes.LogService); ok {
						logService = v.AsString()
					}
				}
				c.derived.recordLog(&rec, now, logService, resource, lr)
			}
			recorded += records.Len()
		}
	}
	if recorded > 0 {
		c.tb.Recorded.Add(context.Background(), int64(recorded), signalLogs)
	}
	return nil
}
