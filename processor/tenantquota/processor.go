package tenantquota

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"
	"golang.org/x/time/rate"

	"github.com/otelfusion/otelfusion/internal/pdatautil"
	"github.com/otelfusion/otelfusion/processor/tenantquota/internal/metadata"
)

// maxTick bounds how late an idle tenant's breaker is re-evaluated.
const maxTick = time.Second

var (
	reasonQuota      = attribute.String("reason", "quota")
	reasonBurst      = attribute.String("reason", "burst")
	reasonUnlabelled = attribute.String("reason", "unlabelled")
)

// quotaProcessor is the one instance shared by every pipeline that names a
// tenant_quota configuration, so a tenant's quotas, breaker and summary are
// the same whichever pipeline its data comes through.
type quotaProcessor struct {
	cfg      *Config
	set      processor.Settings
	logger   *zap.Logger
	tb       *metadata.TelemetryBuilder
	resolver tenantResolver
	store    *overrideStore
	// now is replaced by tests.
	now func() time.Time

	tenantsMu sync.RWMutex
	tenants   map[string]*tenantState

	metricsMu    sync.Mutex
	metricsNext  []consumer.Metrics
	summaryStart time.Time

	watcher   *fileWatcher
	admin     *http.Server
	adminAddr string // where the admin API listens, once started

	stopOnce sync.Once
	stop     chan struct{}
	done     sync.WaitGroup
}

func newQuotaProcessor(cfg *Config, set processor.Settings) (*quotaProcessor, error) {
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	p := &quotaProcessor{
		cfg:    cfg,
		set:    set,
		logger: set.Logger,
		tb:     tb,
		resolver: tenantResolver{
			metadataKey:       cfg.Tenant.MetadataKey,
			resourceAttribute: cfg.Tenant.ResourceAttribute,
			precedence:        cfg.Tenant.Precedence,
			defaultTenant:     cfg.Tenant.Default,
			refuseUnlabelled:  cfg.Tenant.RefuseUnlabelled,
		},
		store:   newOverrideStore(cfg),
		now:     time.Now,
		tenants: map[string]*tenantState{},
		stop:    make(chan struct{}),
	}
	if cfg.OverridesFile != "" {
		p.watcher = &fileWatcher{path: cfg.OverridesFile}
	}
	return p, nil
}

// addMetricsConsumer registers the next consumer of a metrics pipeline; the
// summary metrics go to every one registered.
func (p *quotaProcessor) addMetricsConsumer(next consumer.Metrics) {
	p.metricsMu.Lock()
	defer p.metricsMu.Unlock()
	p.metricsNext = append(p.metricsNext, next)
}

// Start reads the overrides file (an invalid one fails the start), starts the
// admin API and the loops that tick breakers, reload overrides and flush
// summary metrics.
func (p *quotaProcessor) Start(ctx context.Context, host component.Host) error {
	if p.watcher != nil {
		if err := p.reloadOverrides(); err != nil {
			return err
		}
	}
	if p.cfg.Admin.HasValue() {
		srv, err := p.startAdmin(ctx, host)
		if err != nil {
			return err
		}
		p.admin = srv
	}
	p.metricsMu.Lock()
	p.summaryStart = p.now()
	emit := len(p.metricsNext) > 0
	p.metricsMu.Unlock()

	p.done.Add(1)
	go p.loop(emit)
	return nil
}

// Shutdown stops the loops and the admin API and emits the last summary.
// Safe without Start.
func (p *quotaProcessor) Shutdown(ctx context.Context) error {
	var err error
	p.stopOnce.Do(func() {
		close(p.stop)
		p.done.Wait()
		if p.admin != nil {
			err = p.admin.Shutdown(ctx)
		}
		p.flushSummary(ctx)
	})
	return err
}

func (p *quotaProcessor) loop(emitSummary bool) {
	defer p.done.Done()
	tick := time.NewTicker(min(maxTick, p.cfg.Breaker.Bucket))
	defer tick.Stop()
	var reload <-chan time.Time
	if p.watcher != nil {
		t := time.NewTicker(p.cfg.ReloadInterval)
		defer t.Stop()
		reload = t.C
	}
	var flush <-chan time.Time
	if emitSummary {
		t := time.NewTicker(p.cfg.Summary.FlushInterval)
		defer t.Stop()
		flush = t.C
	}
	for {
		select {
		case <-p.stop:
			return
		case <-tick.C:
			p.tick(p.now())
		case <-reload:
			_ = p.reloadOverrides()
		case <-flush:
			p.flushSummary(context.Background())
		}
	}
}

// tick closes the elapsed buckets of every tenant, so idle ones close their
// breakers too.
func (p *quotaProcessor) tick(now time.Time) {
	for _, ts := range p.allTenants() {
		ts.mu.Lock()
		p.advance(ts, now)
		ts.mu.Unlock()
	}
}

func (p *quotaProcessor) allTenants() []*tenantState {
	p.tenantsMu.RLock()
	defer p.tenantsMu.RUnlock()
	out := make([]*tenantState, 0, len(p.tenants))
	for _, ts := range p.tenants {
		out = append(out, ts)
	}
	return out
}

// advance feeds the tenant's completed buckets to its breaker. Holds ts.mu.
func (p *quotaProcessor) advance(ts *tenantState, now time.Time) {
	ts.meter.advance(now, func(load [numSignals]signalLoad, end time.Time) {
		ts.ratio = loadRatio(load, &ts.limits, p.cfg.Breaker.Bucket)
		ctx := context.Background()
		p.tb.LoadRatio.Record(ctx, ts.ratio, ts.tenantAttrs)
		for s := range numSignals {
			p.tb.OfferedRate.Record(ctx, ts.meter.last[s], ts.signalAttrs[s])
		}
		if !ts.breaker.observe(ts.ratio, end) {
			return
		}
		state := ts.breaker.state
		open := int64(0)
		if state == breakerOpen {
			open = 1
			p.logger.Warn("Tenant breaker opened: degrade mode, data sampled",
				zap.String("tenant", ts.id), zap.Float64("load_ratio", ts.ratio),
				zap.Float64("degraded_sample_rate", p.cfg.Breaker.DegradedSampleRate))
		} else {
			p.logger.Info("Tenant breaker closed: normal mode",
				zap.String("tenant", ts.id), zap.Float64("load_ratio", ts.ratio))
		}
		p.tb.BreakerState.Record(ctx, open, ts.tenantAttrs)
		p.tb.BreakerTransitions.Add(ctx, 1, metric.WithAttributeSet(attribute.NewSet(
			attribute.String("tenant", ts.id), attribute.String("state", state.String()))))
	})
}

// tenant returns the state of a tenant, creating it on first sight. Past
// max_tenants, new tenants share one overflow state.
func (p *quotaProcessor) tenant(id string, now time.Time) *tenantState {
	p.tenantsMu.RLock()
	ts, ok := p.tenants[id]
	p.tenantsMu.RUnlock()
	if ok {
		return ts
	}
	p.tenantsMu.Lock()
	defer p.tenantsMu.Unlock()
	if ts, ok := p.tenants[id]; ok {
		return ts
	}
	if len(p.tenants) >= p.cfg.MaxTenants {
		id = overflowTenant
		if ts, ok := p.tenants[id]; ok {
			return ts
		}
	}
	ts = newTenantState(id, p.cfg, p.store.limits(id), now)
	p.tenants[id] = ts
	p.tb.BreakerState.Record(context.Background(), 0, ts.tenantAttrs)
	return ts
}

// refreshLimits re-resolves the limits of the given tenants, or of every
// tracked tenant when ids is nil.
func (p *quotaProcessor) refreshLimits(ids []string) {
	now := p.now()
	p.tenantsMu.RLock()
	var targets []*tenantState
	if ids == nil {
		for _, ts := range p.tenants {
			targets = append(targets, ts)
		}
	} else {
		for _, id := range ids {
			if ts, ok := p.tenants[id]; ok {
				targets = append(targets, ts)
			}
		}
	}
	p.tenantsMu.RUnlock()
	for _, ts := range targets {
		limits := p.store.limits(ts.id)
		ts.mu.Lock()
		ts.setLimits(limits, now)
		ts.mu.Unlock()
	}
}

// reloadOverrides reads overrides_file when its content changed; an invalid
// file is logged and the previous overrides stay.
func (p *quotaProcessor) reloadOverrides() error {
	content, changed, err := p.watcher.changed()
	if err != nil {
		p.logger.Warn("Cannot read tenant overrides file; keeping the previous overrides",
			zap.String("path", p.watcher.path), zap.Error(err))
		return err
	}
	if !changed {
		return nil
	}
	tenants, err := parseOverridesFile(content)
	if err != nil {
		p.tb.OverrideReloads.Add(context.Background(), 1, metric.WithAttributes(attribute.String("result", "invalid")))
		p.logger.Error("Invalid tenant overrides file; keeping the previous overrides",
			zap.String("path", p.watcher.path), zap.Error(err))
		return err
	}
	p.refreshLimits(p.store.replaceFile(tenants))
	p.tb.OverrideReloads.Add(context.Background(), 1, metric.WithAttributes(attribute.String("result", "ok")))
	p.logger.Info("Tenant overrides loaded", zap.String("path", p.watcher.path), zap.Int("tenants", len(tenants)))
	return nil
}

// admission is the plan for one request: the tenant share and sampling
// decisions of each resource, and the items offered and kept per tenant.
type admission struct {
	sig signal
	// resources is the plan of each resource, by resource index.
	resources []resourcePlan
	// keep is the sampling decision of every item of the sampled resources,
	// in iteration order; keepFrom[i] is where resource i's decisions start.
	keep     []bool
	keepFrom []int
	tenants  []*tenantShare
	// Most requests carry one tenant: its share lives here, without an
	// allocation of its own.
	firstShare  tenantShare
	firstTenant [1]*tenantShare
}

// resourcePlan is what admit decided for one resource.
type resourcePlan struct {
	share        *tenantShare
	rate         float64
	items, bytes int
}

// tenantShare is one tenant's part of a request.
type tenantShare struct {
	ts                   *tenantState
	items, bytes         int
	keptItems, keptBytes int
	// Snapshots taken under ts.mu when the load was metered.
	retention string // "" for none
	fullRate  bool   // nothing of this tenant is sampled: rate 1 everywhere
}

// resourceView is what admit needs to know of a request, by resource index.
type resourceView struct {
	count    int
	resource func(i int) pcommon.Resource
	items    func(i int) int
	bytes    func(i int) int
	// keep appends to dst whether each item of resource i is kept under a
	// sampling threshold, in the order the caller later removes them.
	keep func(i int, threshold uint64, dst []bool) []bool
}

// admit resolves tenants, measures offered load, picks sampling rates and
// takes tokens for what will be kept, for all tenants of the request or for
// none. On refusal nothing of the request may be passed on.
func (p *quotaProcessor) admit(ctx context.Context, sig signal, view resourceView, sampled bool) (*admission, error) {
	now := p.now()
	metadataTenant := p.resolver.fromMetadata(ctx)
	adm := &admission{sig: sig, resources: make([]resourcePlan, view.count)}
	adm.tenants = adm.firstTenant[:0]
	// Items (and bytes, only where a byte quota asks for them: the proto
	// size walks the whole resource) counted once per resource.
	for i := range view.count {
		plan := &adm.resources[i]
		id, ok := p.resolver.resolve(metadataTenant, view.resource(i))
		if !ok {
			total := 0
			for j := range view.count {
				total += view.items(j)
			}
			p.tb.ItemsRefused.Add(ctx, int64(total), metric.WithAttributes(
				attribute.String("tenant", ""), attribute.String("signal", sig.String()), reasonUnlabelled))
			return nil, unlabelledError()
		}
		ts := p.tenant(id, now)
		share := adm.shareOf(ts)
		plan.share = share
		plan.items = view.items(i)
		if ts.bytesLimited[sig].Load() {
			plan.bytes = view.bytes(i)
		}
		share.items += plan.items
		share.bytes += plan.bytes
	}
	// A fixed order, so the same request is reserved and refused the same way
	// and tenant locks are always taken in the same order.
	slices.SortFunc(adm.tenants, func(a, b *tenantShare) int { return strings.Compare(a.ts.id, b.ts.id) })
	for _, share := range adm.tenants {
		ts := share.ts
		ts.mu.Lock()
		p.advance(ts, now)
		ts.meter.add(sig, share.items, share.bytes)
		share.retention = ts.retentionText
		share.fullRate = !sampled || ts.fullRate()
		ts.mu.Unlock()
	}
	for i := range view.count {
		plan := &adm.resources[i]
		share := plan.share
		rate := 1.0
		if !share.fullRate {
			env := ""
			if v, ok := view.resource(i).Attributes().Get(p.cfg.EnvironmentAttribute); ok {
				env = v.AsString()
			}
			share.ts.mu.Lock()
			rate = share.ts.sampleRate(env, p.cfg.Breaker.DegradedSampleRate)
			share.ts.mu.Unlock()
		}
		plan.rate = rate
		kept := plan.items
		if rate < 1 {
			if adm.keepFrom == nil {
				adm.keepFrom = make([]int, view.count)
			}
			adm.keepFrom[i] = len(adm.keep)
			adm.keep = view.keep(i, sampleThreshold(rate), adm.keep)
			kept = 0
			for _, k := range adm.keep[adm.keepFrom[i]:] {
				if k {
					kept++
				}
			}
		}
		share.keptItems += kept
		if plan.items > 0 {
			// Bytes of the kept part, in proportion, rounded up.
			share.keptBytes += (plan.bytes*kept + plan.items - 1) / plan.items
		}
	}
	if err := p.reserve(ctx, sig, adm.tenants, now); err != nil {
		return nil, err
	}
	return adm, nil
}

// shareOf finds or adds the share of a tenant. Requests carry few tenants, so
// a scan beats a map.
func (adm *admission) shareOf(ts *tenantState) *tenantShare {
	for _, share := range adm.tenants {
		if share.ts == ts {
			return share
		}
	}
	share := &adm.firstShare
	if len(adm.tenants) > 0 {
		share = &tenantShare{}
	}
	share.ts = ts
	adm.tenants = append(adm.tenants, share)
	return share
}

// kept returns the sampling decisions of resource i's items, in order; nil
// when the resource is not sampled.
func (adm *admission) kept(i int) []bool {
	if adm.resources[i].rate >= 1 {
		return nil
	}
	return adm.keep[adm.keepFrom[i]:]
}

// reserve takes item and byte tokens for the kept part of every tenant's
// share, or none at all. It holds the locks of the request's tenants, taken
// in id order, from the first token to the last or to the give-back, so no
// other reservation touches those buckets in between and a refusal restores
// them exactly; requests of other tenants are not held up.
func (p *quotaProcessor) reserve(ctx context.Context, sig signal, shares []*tenantShare, now time.Time) error {
	var (
		// Room for the item and byte reservations of two tenants without
		// growing.
		takenBuf [4]*rate.Reservation
		taken    = reservation(takenBuf[:0])
		wait     time.Duration
		waitFor  *tenantShare
		refusal  error
		reason   attribute.KeyValue
	)
	locked := 0
	defer func() {
		for _, share := range shares[:locked] {
			share.ts.mu.Unlock()
		}
	}()
	for _, share := range shares {
		ts := share.ts
		ts.mu.Lock()
		locked++
		buckets := &ts.buckets[sig]
		itemsWait, itemsOK := taken.take(&buckets.items, share.keptItems, now)
		bytesWait, bytesOK := taken.take(&buckets.bytes, share.keptBytes, now)
		switch {
		case !itemsOK:
			refusal, reason = overBurstError(ts.id, sig, "items", share.keptItems, buckets.items.burst()), reasonBurst
		case !bytesOK:
			refusal, reason = overBurstError(ts.id, sig, "bytes", share.keptBytes, buckets.bytes.burst()), reasonBurst
		}
		if refusal != nil {
			break
		}
		if w := max(itemsWait, bytesWait); w > wait {
			wait, waitFor = w, share
		}
	}
	if refusal == nil && wait > 0 {
		refusal, reason = throttleError(waitFor.ts.id, sig, wait), reasonQuota
	}
	if refusal == nil {
		return nil
	}
	taken.cancel(now)
	for _, share := range shares[:locked] {
		share.ts.refused[sig] += int64(share.items)
	}
	// The shares after the refusing one are counted too, under their own
	// lock: the whole request is refused.
	for _, share := range shares[locked:] {
		share.ts.mu.Lock()
		share.ts.refused[sig] += int64(share.items)
		share.ts.mu.Unlock()
	}
	for _, share := range shares {
		p.tb.ItemsRefused.Add(ctx, int64(share.items), metric.WithAttributes(
			attribute.String("tenant", share.ts.id), attribute.String("signal", sig.String()), reason))
	}
	return refusal
}

// finish counts what was accepted and sampled out, per tenant.
func (p *quotaProcessor) finish(ctx context.Context, adm *admission) {
	for _, share := range adm.tenants {
		ts := share.ts
		ts.mu.Lock()
		ts.accepted[adm.sig] += int64(share.keptItems)
		ts.sampledOut[adm.sig] += int64(share.items - share.keptItems)
		ts.mu.Unlock()
		p.tb.ItemsAccepted.Add(ctx, int64(share.keptItems), ts.signalAttrs[adm.sig])
		if out := share.items - share.keptItems; out > 0 {
			p.tb.ItemsSampledOut.Add(ctx, int64(out), ts.signalAttrs[adm.sig])
		}
	}
}

// stampRetention writes the tenant's retention to a resource.
func (p *quotaProcessor) stampRetention(share *tenantShare, res pcommon.Resource) {
	if share.retention != "" && p.cfg.RetentionAttribute != "" {
		res.Attributes().PutStr(p.cfg.RetentionAttribute, share.retention)
	}
}

var tracesSizer = &ptrace.ProtoMarshaler{}

func (p *quotaProcessor) processTraces(ctx context.Context, td ptrace.Traces) (ptrace.Traces, error) {
	rss := td.ResourceSpans()
	view := resourceView{
		count:    rss.Len(),
		resource: func(i int) pcommon.Resource { return rss.At(i).Resource() },
		items: func(i int) int {
			n := 0
			for _, ss := range rss.At(i).ScopeSpans().All() {
				n += ss.Spans().Len()
			}
			return n
		},
		bytes: func(i int) int { return tracesSizer.ResourceSpansSize(rss.At(i)) },
		keep: func(i int, threshold uint64, dst []bool) []bool {
			for _, ss := range rss.At(i).ScopeSpans().All() {
				for _, span := range ss.Spans().All() {
					dst = append(dst, keepHash(traceHash(span.TraceID()), threshold))
				}
			}
			return dst
		},
	}
	adm, err := p.admit(ctx, signalTraces, view, true)
	if err != nil {
		return td, err
	}
	for i, rs := range rss.All() {
		share := adm.resources[i].share
		p.stampRetention(share, rs.Resource())
		keep := adm.kept(i)
		if keep == nil {
			continue
		}
		share.ts.mu.Lock()
		share.ts.summary.addSpans(rs)
		share.ts.mu.Unlock()
		n := 0
		for _, ss := range rs.ScopeSpans().All() {
			ss.Spans().RemoveIf(func(ptrace.Span) bool {
				n++
				return !keep[n-1]
			})
		}
		rs.ScopeSpans().RemoveIf(func(ss ptrace.ScopeSpans) bool { return ss.Spans().Len() == 0 })
	}
	rss.RemoveIf(func(rs ptrace.ResourceSpans) bool { return rs.ScopeSpans().Len() == 0 })
	p.finish(ctx, adm)
	if td.SpanCount() == 0 {
		return td, processorhelper.ErrSkipProcessingData
	}
	return td, nil
}

var logsSizer = &plog.ProtoMarshaler{}

func (p *quotaProcessor) processLogs(ctx context.Context, ld plog.Logs) (plog.Logs, error) {
	rls := ld.ResourceLogs()
	view := resourceView{
		count:    rls.Len(),
		resource: func(i int) pcommon.Resource { return rls.At(i).Resource() },
		items: func(i int) int {
			n := 0
			for _, sl := range rls.At(i).ScopeLogs().All() {
				n += sl.LogRecords().Len()
			}
			return n
		},
		bytes: func(i int) int { return logsSizer.ResourceLogsSize(rls.At(i)) },
		keep: func(i int, threshold uint64, dst []bool) []bool {
			for _, sl := range rls.At(i).ScopeLogs().All() {
				for _, lr := range sl.LogRecords().All() {
					dst = append(dst, keepHash(logSampleHash(lr), threshold))
				}
			}
			return dst
		},
	}
	adm, err := p.admit(ctx, signalLogs, view, true)
	if err != nil {
		return ld, err
	}
	for i, rl := range rls.All() {
		share := adm.resources[i].share
		p.stampRetention(share, rl.Resource())
		keep := adm.kept(i)
		if keep == nil {
			continue
		}
		share.ts.mu.Lock()
		share.ts.summary.addLogs(rl)
		share.ts.mu.Unlock()
		n := 0
		for _, sl := range rl.ScopeLogs().All() {
			sl.LogRecords().RemoveIf(func(plog.LogRecord) bool {
				n++
				return !keep[n-1]
			})
		}
		rl.ScopeLogs().RemoveIf(func(sl plog.ScopeLogs) bool { return sl.LogRecords().Len() == 0 })
	}
	rls.RemoveIf(func(rl plog.ResourceLogs) bool { return rl.ScopeLogs().Len() == 0 })
	p.finish(ctx, adm)
	if ld.LogRecordCount() == 0 {
		return ld, processorhelper.ErrSkipProcessingData
	}
	return ld, nil
}

var metricsSizer = &pmetric.ProtoMarshaler{}

// processMetrics applies quotas only: sampling data points would break the
// series.
func (p *quotaProcessor) processMetrics(ctx context.Context, md pmetric.Metrics) (pmetric.Metrics, error) {
	rms := md.ResourceMetrics()
	view := resourceView{
		count:    rms.Len(),
		resource: func(i int) pcommon.Resource { return rms.At(i).Resource() },
		items: func(i int) int {
			n := 0
			for _, sm := range rms.At(i).ScopeMetrics().All() {
				for _, m := range sm.Metrics().All() {
					n += pdatautil.DataPointCount(m)
				}
			}
			return n
		},
		bytes: func(i int) int { return metricsSizer.ResourceMetricsSize(rms.At(i)) },
	}
	adm, err := p.admit(ctx, signalMetrics, view, false)
	if err != nil {
		return md, err
	}
	for i, rm := range rms.All() {
		p.stampRetention(adm.resources[i].share, rm.Resource())
	}
	p.finish(ctx, adm)
	return md, nil
}

// collectSummary takes every tenant's summary table since the last call.
func (p *quotaProcessor) collectSummary(now time.Time) pmetric.Metrics {
	md := pmetric.NewMetrics()
	p.metricsMu.Lock()
	start := p.summaryStart
	p.summaryStart = now
	p.metricsMu.Unlock()
	tenants := p.allTenants()
	slices.SortFunc(tenants, func(a, b *tenantState) int { return strings.Compare(a.id, b.id) })
	for _, ts := range tenants {
		ts.mu.Lock()
		table := ts.summary
		if !table.empty() {
			ts.summary = newSummaryTable(p.cfg.Summary.MaxSeries)
		}
		ts.mu.Unlock()
		if !table.empty() {
			table.appendTo(md, p.cfg.Tenant.summaryTenantAttribute(), ts.id,
				pcommon.NewTimestampFromTime(start), pcommon.NewTimestampFromTime(now))
		}
	}
	return md
}

// flushSummary sends the summary metrics to every metrics pipeline; each but
// the last gets its own copy, since consumers may mutate.
func (p *quotaProcessor) flushSummary(ctx context.Context) {
	p.metricsMu.Lock()
	next := p.metricsNext
	p.metricsMu.Unlock()
	if len(next) == 0 {
		return
	}
	md := p.collectSummary(p.now())
	if md.DataPointCount() == 0 {
		return
	}
	for i, c := range next {
		out := md
		if i < len(next)-1 {
			out = pmetric.NewMetrics()
			md.CopyTo(out)
		}
		if err := c.ConsumeMetrics(ctx, out); err != nil && !errors.Is(err, processorhelper.ErrSkipProcessingData) {
			p.logger.Warn("Summary metrics refused by the next consumer", zap.Error(err))
		}
	}
}

// summaryTenantAttribute is the resource attribute naming the tenant on
// summary metrics.
func (t TenantConfig) summaryTenantAttribute() string {
	if t.ResourceAttribute != "" {
		return t.ResourceAttribute
	}
	return "tenant.id"
}
