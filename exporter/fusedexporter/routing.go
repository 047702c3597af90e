package fusedexporter

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"regexp"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelfusion/otelfusion/exporter/fusedexporter/internal/metadata"
	"github.com/otelfusion/otelfusion/internal/sharedcomponent"
	"github.com/otelfusion/otelfusion/internal/tracehint"
)

// errNoEndpoints is returned, retryable, while the ring is empty: nothing
// resolved yet, or every endpoint down.
var errNoEndpoints = errors.New("fused exporter routing: no endpoint to send to")

var (
	signalTracesAttr  = metric.WithAttributeSet(attribute.NewSet(attribute.String("signal", "traces")))
	signalLogsAttr    = metric.WithAttributeSet(attribute.NewSet(attribute.String("signal", "logs")))
	signalMetricsAttr = metric.WithAttributeSet(attribute.NewSet(attribute.String("signal", "metrics")))
)

// router is the one instance shared by the traces, logs and metrics
// exporters of a configuration with 'routing'. It owns one endpoint
// exporter per resolved endpoint, each a fused exporter behind its own
// exporterhelper queue and retry, and sends every item to the endpoint the
// ring gives its key.
type router struct {
	cfg       *Config
	set       exporter.Settings
	logger    *zap.Logger
	telemetry *metadata.RoutingTelemetry
	hints     tracehint.Reader
	resolver  resolver
	now       func() time.Time

	mu        sync.RWMutex
	host      component.Host
	ring      *hashRing
	members   map[string]bool // resolved endpoints
	downUntil map[string]time.Time
	// endpoints is replaced, never changed in place: snapshot hands it out
	// to be read without the lock.
	endpoints map[string]*endpointExporter
	stopped   bool
	// stopping is closed by Shutdown: departed endpoints stop waiting.
	stopping chan struct{}

	// departed holds the shutdowns of endpoints that left the fleet.
	departed sync.WaitGroup
	// rejoin holds, per endpoint marked down, the timer that brings it back.
	rejoin map[string]*time.Timer
}

// routers holds one router per configuration, as exporters does for the
// single-endpoint exporter.
var routers = sharedcomponent.NewMap[*Config, *router]()

func newRouter(cfg *Config, set exporter.Settings, lookupHost func(context.Context, string) ([]string, error)) (*router, error) {
	telemetry, err := metadata.NewRoutingTelemetry(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	rcfg := cfg.Routing.Get()
	r := &router{
		cfg:       cfg,
		set:       set,
		logger:    set.Logger,
		telemetry: telemetry,
		hints:     rcfg.hintReader(),
		now:       time.Now,
		ring:      newHashRing(nil),
		members:   map[string]bool{},
		downUntil: map[string]time.Time{},
		rejoin:    map[string]*time.Timer{},
		endpoints: map[string]*endpointExporter{},
		stopping:  make(chan struct{}),
	}
	outcome := func(success bool) {
		label := "failure"
		if success {
			label = "success"
		}
		r.telemetry.RoutingResolutions.Add(context.Background(), 1,
			metric.WithAttributes(attribute.String("outcome", label)))
	}
	switch {
	case rcfg.Resolver.Static.HasValue():
		r.resolver = staticResolver{endpoints: rcfg.Resolver.Static.Get().Endpoints}
	case rcfg.Resolver.DNS.HasValue():
		d := rcfg.Resolver.DNS.Get()
		r.resolver = &pollingResolver{name: "dns", interval: d.Interval, timeout: d.Timeout,
			lookup: dnsLookup(*d, lookupHost), logger: set.Logger, outcome: outcome}
	case rcfg.Resolver.File.HasValue():
		f := rcfg.Resolver.File.Get()
		r.resolver = &pollingResolver{name: "file", interval: f.Interval, timeout: f.Interval,
			lookup: fileLookup(f.Path), logger: set.Logger, outcome: outcome}
	default:
		return nil, errors.New("'routing::resolver' names no resolver")
	}
	return r, nil
}

// Start resolves the fleet and starts an endpoint exporter per endpoint.
func (r *router) Start(_ context.Context, host component.Host) error {
	r.mu.Lock()
	r.host = host
	r.mu.Unlock()
	r.resolver.start(r.setMembers)
	return nil
}

// Shutdown stops resolving and shuts every endpoint exporter down, which
// drains their in-memory queues. Safe without Start.
func (r *router) Shutdown(ctx context.Context) error {
	r.resolver.shutdown()
	r.mu.Lock()
	if r.stopped {
		r.mu.Unlock()
		return nil
	}
	r.stopped = true
	close(r.stopping)
	for _, t := range r.rejoin {
		t.Stop()
	}
	// The ring stays: data drained from a down endpoint's queue is still
	// rerouted while the others drain.
	endpoints := r.endpoints
	r.mu.Unlock()
	var errs error
	for _, ep := range endpoints {
		errs = errors.Join(errs, ep.shutdown(ctx))
	}
	r.departed.Wait()
	return errs
}

// setMembers is the resolver's update: endpoints that joined get an
// exporter, and the ring is rebuilt. An endpoint that left keeps running
// for departGrace, so data in its queue or in retry backoff gets its next
// attempt, which reroutes it; then it is shut down.
func (r *router) setMembers(list []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return
	}
	r.telemetry.RoutingMembershipChanges.Add(context.Background(), 1)
	next := make(map[string]bool, len(list))
	endpoints := maps.Clone(r.endpoints)
	for _, url := range list {
		next[url] = true
		if endpoints[url] != nil {
			continue
		}
		ep, err := r.newEndpoint(url)
		if err != nil {
			r.logger.Error("Routing endpoint could not be started; it stays out of the ring",
				zap.String("endpoint", url), zap.Error(err))
			delete(next, url)
			continue
		}
		endpoints[url] = ep
	}
	for url, ep := range endpoints {
		if next[url] {
			continue
		}
		delete(endpoints, url)
		delete(r.downUntil, url)
		if t := r.rejoin[url]; t != nil {
			t.Stop()
			delete(r.rejoin, url)
		}
		r.departed.Add(1)
		go func() {
			defer r.departed.Done()
			select {
			case <-time.After(r.departGrace()):
			case <-r.stopping:
			}
			if err := ep.shutdown(context.Background()); err != nil {
				r.logger.Warn("Departed routing endpoint shut down with an error", zap.String("endpoint", url), zap.Error(err))
			}
		}()
	}
	r.members = next
	r.endpoints = endpoints
	r.logger.Info("Routing endpoints changed", zap.Strings("endpoints", list))
	r.rebuildLocked()
}

// departGrace is how long a departed endpoint runs on: past the longest
// retry backoff, so every item waiting in it is attempted (and rerouted)
// once more.
func (r *router) departGrace() time.Duration {
	if !r.cfg.RetryConfig.Enabled {
		return time.Second
	}
	return 2*r.cfg.RetryConfig.MaxInterval + time.Second
}

// rebuildLocked builds the ring from the members not marked down.
func (r *router) rebuildLocked() {
	now := r.now()
	live := make([]string, 0, len(r.members))
	for url := range r.members {
		if until, down := r.downUntil[url]; down && now.Before(until) {
			continue
		}
		delete(r.downUntil, url)
		live = append(live, url)
	}
	r.ring = newHashRing(live)
	r.telemetry.RoutingEndpoints.Record(context.Background(), int64(len(live)))
}

// markDown takes url out of the ring for 'down_for'.
func (r *router) markDown(url string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped || !r.members[url] {
		return
	}
	if until, down := r.downUntil[url]; down && r.now().Before(until) {
		return
	}
	downFor := r.cfg.Routing.Get().DownFor
	r.downUntil[url] = r.now().Add(downFor)
	r.telemetry.EndpointsDown.Add(context.Background(), 1)
	r.logger.Warn("Routing endpoint unreachable: out of the ring, its data rerouted",
		zap.String("endpoint", url), zap.Duration("down_for", downFor))
	r.rebuildLocked()
	if t := r.rejoin[url]; t != nil {
		t.Stop()
	}
	r.rejoin[url] = time.AfterFunc(downFor, func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		delete(r.rejoin, url)
		if !r.stopped {
			r.rebuildLocked()
		}
	})
}

// isMember reports whether url is in the resolved fleet.
func (r *router) isMember(url string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.members[url]
}

// snapshot returns the ring and the endpoint exporters of this moment.
func (r *router) snapshot() (*hashRing, map[string]*endpointExporter) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.ring, r.endpoints
}

// consumeTraces sends each part of td to its endpoint's queue; td is the
// router's (MutatesData), so its spans are moved, not copied. Parts are
// handed over in turn; an error of one does not stop the others, and the
// joined error makes the caller retry (at-least-once: an endpoint that took
// its part may get it again).
func (r *router) consumeTraces(ctx context.Context, td ptrace.Traces) error {
	if td.SpanCount() == 0 {
		return nil
	}
	ring, endpoints := r.snapshot()
	parts := splitTraces(td, ring.lookup, true)
	if parts == nil {
		return errNoEndpoints
	}
	var errs error
	for url, part := range parts {
		ep := endpoints[url]
		if ep == nil {
			errs = errors.Join(errs, fmt.Errorf("%w: %s left the fleet", errNoEndpoints, url))
			continue
		}
		n := part.SpanCount()
		if err := ep.traces.ConsumeTraces(ctx, part); err != nil {
			errs = errors.Join(errs, err)
			continue
		}
		r.telemetry.RoutedItems.Add(ctx, int64(n), signalTracesAttr)
	}
	return errs
}

func (r *router) consumeLogs(ctx context.Context, ld plog.Logs) error {
	if ld.LogRecordCount() == 0 {
		return nil
	}
	ring, endpoints := r.snapshot()
	parts := splitLogs(ld, &r.hints, ring.lookup, true)
	if parts == nil {
		return errNoEndpoints
	}
	var errs error
	for url, part := range parts {
		ep := endpoints[url]
		if ep == nil {
			errs = errors.Join(errs, fmt.Errorf("%w: %s left the fleet", errNoEndpoints, url))
			continue
		}
		n := part.LogRecordCount()
		if err := ep.logs.ConsumeLogs(ctx, part); err != nil {
			errs = errors.Join(errs, err)
			continue
		}
		r.telemetry.RoutedItems.Add(ctx, int64(n), signalLogsAttr)
	}
	return errs
}

func (r *router) consumeMetrics(ctx context.Context, md pmetric.Metrics) error {
	if md.ResourceMetrics().Len() == 0 {
		return nil
	}
	ring, endpoints := r.snapshot()
	parts := splitMetrics(md, ring.lookup, true)
	if parts == nil {
		return errNoEndpoints
	}
	var errs error
	for url, part := range parts {
		ep := endpoints[url]
		if ep == nil {
			errs = errors.Join(errs, fmt.Errorf("%w: %s left the fleet", errNoEndpoints, url))
			continue
		}
		n := part.DataPointCount()
		if err := ep.metrics.ConsumeMetrics(ctx, part); err != nil {
			errs = errors.Join(errs, err)
			continue
		}
		r.telemetry.RoutedItems.Add(ctx, int64(n), signalMetricsAttr)
	}
	return errs
}

// deliver is the push of an endpoint's queue: data of a departed endpoint
// goes back through the ring, the rest is sent; with reroute, an endpoint
// that cannot be reached is marked down and the data goes to the endpoints
// that own it without it. When rerouting fails too, the error stays this
// endpoint's and its retry keeps the data.
func (r *router) deliver(url string, send, reroute func() error, items int, signal metric.AddOption) error {
	if !r.isMember(url) {
		if err := reroute(); err != nil {
			return err
		}
		r.telemetry.ReroutedItems.Add(context.Background(), int64(items), signal)
		return nil
	}
	err := send()
	if err == nil || r.cfg.Routing.Get().OnEndpointFailure != EndpointFailureReroute || !unreachable(err) {
		return err
	}
	r.markDown(url)
	if rerr := reroute(); rerr != nil {
		return errors.Join(err, rerr)
	}
	r.telemetry.ReroutedItems.Add(context.Background(), int64(items), signal)
	return nil
}

// unreachable reports an error of the connection itself (refused, reset,
// timed out), as opposed to an answer: a gateway that answers 429 or 503 is
// alive and pushing back, and its traces stay with it.
func unreachable(err error) bool {
	var urlErr *url.Error
	var netErr net.Error
	return errors.As(err, &urlErr) || errors.As(err, &netErr)
}

// endpointExporter is one endpoint of the fleet: a fused exporter with the
// configuration's queue and retry, under an ID of its own so each endpoint
// has its own queue (and its own persistent-queue files) and metrics.
type endpointExporter struct {
	url     string
	fused   *fusedExporter
	traces  exporter.Traces
	logs    exporter.Logs
	metrics exporter.Metrics
}

var unsafeIDChars = regexp.MustCompile(`[^A-Za-z0-9_.\-]+`)

// endpointID names an endpoint's exporters: the configuration's ID with the
// endpoint appended to its name.
func endpointID(id component.ID, endpointURL string) component.ID {
	suffix := unsafeIDChars.ReplaceAllString(endpointURL, "_")
	if id.Name() != "" {
		suffix = id.Name() + "_" + suffix
	}
	return component.NewIDWithName(id.Type(), suffix)
}

// newEndpoint builds and starts the exporters of url. Called with r.mu held.
func (r *router) newEndpoint(url string) (*endpointExporter, error) {
	epCfg := *r.cfg
	epCfg.ClientConfig.Endpoint = url
	epCfg.Routing = configoptional.None[RoutingConfig]()
	set := r.set
	set.ID = endpointID(r.set.ID, url)
	set.Logger = r.logger.With(zap.String("endpoint", url))
	fused, err := newFusedExporter(&epCfg, set)
	if err != nil {
		return nil, err
	}
	ep := &endpointExporter{url: url, fused: fused}
	opts := []exporterhelper.Option{
		exporterhelper.WithCapabilities(consumer.Capabilities{MutatesData: false}),
		exporterhelper.WithTimeout(exporterhelper.TimeoutConfig{Timeout: 0}),
		exporterhelper.WithRetry(r.cfg.RetryConfig),
		exporterhelper.WithQueue(r.cfg.QueueConfig),
	}
	ctx := context.Background()
	pushTraces := func(ctx context.Context, td ptrace.Traces) error {
		return r.deliver(url, func() error { return fused.pushTraces(ctx, td) },
			func() error { return r.rerouteTraces(ctx, url, td) }, td.SpanCount(), signalTracesAttr)
	}
	pushLogs := func(ctx context.Context, ld plog.Logs) error {
		return r.deliver(url, func() error { return fused.pushLogs(ctx, ld) },
			func() error { return r.rerouteLogs(ctx, url, ld) }, ld.LogRecordCount(), signalLogsAttr)
	}
	pushMetrics := func(ctx context.Context, md pmetric.Metrics) error {
		return r.deliver(url, func() error { return fused.pushMetrics(ctx, md) },
			func() error { return r.rerouteMetrics(ctx, url, md) }, md.DataPointCount(), signalMetricsAttr)
	}
	if ep.traces, err = exporterhelper.NewTraces(ctx, set, &epCfg, pushTraces, opts...); err != nil {
		return nil, err
	}
	if ep.logs, err = exporterhelper.NewLogs(ctx, set, &epCfg, pushLogs, opts...); err != nil {
		return nil, err
	}
	if ep.metrics, err = exporterhelper.NewMetrics(ctx, set, &epCfg, pushMetrics, opts...); err != nil {
		return nil, err
	}
	if err := fused.Start(ctx, r.host); err != nil {
		return nil, err
	}
	for _, c := range []component.Component{ep.traces, ep.logs, ep.metrics} {
		if err := c.Start(ctx, r.host); err != nil {
			_ = ep.shutdown(ctx)
			return nil, err
		}
	}
	return ep, nil
}

// shutdown drains the endpoint's queues, then stops its fused exporter.
func (ep *endpointExporter) shutdown(ctx context.Context) error {
	var errs error
	for _, c := range []component.Component{ep.traces, ep.logs, ep.metrics} {
		if c != nil {
			errs = errors.Join(errs, c.Shutdown(ctx))
		}
	}
	return errors.Join(errs, ep.fused.Shutdown(ctx))
}

// The reroute functions send data that could not go to from through the
// ring as it is now. Should the ring still give from (it came back up in
// the meantime), the data is sent to it directly rather than queued again.
func (r *router) rerouteTraces(ctx context.Context, from string, td ptrace.Traces) error {
	ring, endpoints := r.snapshot()
	parts := splitTraces(td, ring.lookup, false)
	if parts == nil {
		return errNoEndpoints
	}
	var errs error
	for url, part := range parts {
		ep := endpoints[url]
		switch {
		case ep == nil:
			errs = errors.Join(errs, errNoEndpoints)
		case url == from:
			errs = errors.Join(errs, ep.fused.pushTraces(ctx, part))
		default:
			errs = errors.Join(errs, ep.traces.ConsumeTraces(ctx, part))
		}
	}
	return errs
}

func (r *router) rerouteLogs(ctx context.Context, from string, ld plog.Logs) error {
	ring, endpoints := r.snapshot()
	parts := splitLogs(ld, &r.hints, ring.lookup, false)
	if parts == nil {
		return errNoEndpoints
	}
	var errs error
	for url, part := range parts {
		ep := endpoints[url]
		switch {
		case ep == nil:
			errs = errors.Join(errs, errNoEndpoints)
		case url == from:
			errs = errors.Join(errs, ep.fused.pushLogs(ctx, part))
		default:
			errs = errors.Join(errs, ep.logs.ConsumeLogs(ctx, part))
		}
	}
	return errs
}

func (r *router) rerouteMetrics(ctx context.Context, from string, md pmetric.Metrics) error {
	ring, endpoints := r.snapshot()
	parts := splitMetrics(md, ring.lookup, false)
	if parts == nil {
		return errNoEndpoints
	}
	var errs error
	for url, part := range parts {
		ep := endpoints[url]
		switch {
		case ep == nil:
			errs = errors.Join(errs, errNoEndpoints)
		case url == from:
			errs = errors.Join(errs, ep.fused.pushMetrics(ctx, part))
		default:
			errs = errors.Join(errs, ep.metrics.ConsumeMetrics(ctx, part))
		}
	}
	return errs
}

// routedHelperOptions wires the configuration's exporterhelper to the
// router: the queues and retries are per endpoint, so this level has none.
func routedHelperOptions(shared *sharedcomponent.Component[*router]) []exporterhelper.Option {
	return []exporterhelper.Option{
		exporterhelper.WithStart(shared.Start),
		exporterhelper.WithShutdown(shared.Shutdown),
		// The router moves items out of a push into per-endpoint parts; the
		// pipeline hands it a copy when others share the data.
		exporterhelper.WithCapabilities(consumer.Capabilities{MutatesData: true}),
		exporterhelper.WithTimeout(exporterhelper.TimeoutConfig{Timeout: 0}),
		exporterhelper.WithRetry(configretry.BackOffConfig{Enabled: false}),
		exporterhelper.WithQueue(configoptional.None[exporterhelper.QueueBatchConfig]()),
	}
}

func sharedRouter(set exporter.Settings, cfg *Config) (*sharedcomponent.Component[*router], error) {
	return routers.LoadOrStore(cfg, func() (*router, error) {
		return newRouter(cfg, set, net.DefaultResolver.LookupHost)
	})
}

func createRoutedTraces(ctx context.Context, set exporter.Settings, cfg *Config) (exporter.Traces, error) {
	shared, err := sharedRouter(set, cfg)
	if err != nil {
		return nil, err
	}
	exp, err := exporterhelper.NewTraces(ctx, set, cfg, shared.Unwrap().consumeTraces, routedHelperOptions(shared)...)
	if err != nil {
		_ = shared.Shutdown(ctx)
		return nil, err
	}
	return exp, nil
}

func createRoutedLogs(ctx context.Context, set exporter.Settings, cfg *Config) (exporter.Logs, error) {
	shared, err := sharedRouter(set, cfg)
	if err != nil {
		return nil, err
	}
	exp, err := exporterhelper.NewLogs(ctx, set, cfg, shared.Unwrap().consumeLogs, routedHelperOptions(shared)...)
	if err != nil {
		_ = shared.Shutdown(ctx)
		return nil, err
	}
	return exp, nil
}

func createRoutedMetrics(ctx context.Context, set exporter.Settings, cfg *Config) (exporter.Metrics, error) {
	shared, err := sharedRouter(set, cfg)
	if err != nil {
		return nil, err
	}
	exp, err := exporterhelper.NewMetrics(ctx, set, cfg, shared.Unwrap().consumeMetrics, routedHelperOptions(shared)...)
	if err != nil {
		_ = shared.Shutdown(ctx)
		return nil, err
	}
	return exp, nil
}
