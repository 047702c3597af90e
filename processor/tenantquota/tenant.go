package tenantquota

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// overflowTenant holds the data of tenants past max_tenants.
const overflowTenant = "_overflow"

// tenantResolver finds the tenant of each resource of a request.
type tenantResolver struct {
	metadataKey       string
	resourceAttribute string
	precedence        []Source
	defaultTenant     string
	refuseUnlabelled  bool
}

// fromMetadata is the request's tenant from client metadata, "" if none.
func (r *tenantResolver) fromMetadata(ctx context.Context) string {
	if r.metadataKey == "" {
		return ""
	}
	for _, v := range client.FromContext(ctx).Metadata.Get(r.metadataKey) {
		if v != "" {
			return v
		}
	}
	return ""
}

// resolve picks the tenant of one resource, trying the sources in order. ok
// is false for unlabelled data that must be refused.
func (r *tenantResolver) resolve(metadataTenant string, res pcommon.Resource) (tenantID string, ok bool) {
	for _, s := range r.precedence {
		switch s {
		case SourceMetadata:
			if metadataTenant != "" {
				return metadataTenant, true
			}
		case SourceResource:
			if v, found := res.Attributes().Get(r.resourceAttribute); found && v.AsString() != "" {
				return v.AsString(), true
			}
		}
	}
	if r.refuseUnlabelled {
		return "", false
	}
	return r.defaultTenant, true
}

// tenantState is everything held for one tenant. mu guards every field
// below it; buckets' limiters are replaced only under mu.
type tenantState struct {
	id string
	// Precomputed telemetry options, by signal.
	signalAttrs [numSignals]metric.MeasurementOption
	tenantAttrs metric.MeasurementOption
	// bytesLimited says, by signal, whether a byte quota is set: only then
	// are request sizes computed. Written under mu, read without.
	bytesLimited [numSignals]atomic.Bool

	mu      sync.Mutex
	limits  LimitsConfig
	buckets [numSignals]signalBuckets
	meter   loadMeter
	breaker breaker
	// retentionText is limits.Retention as stamped on resources, "" for none.
	retentionText string
	ratio         float64 // of the last completed bucket
	summary       *summaryTable

	accepted, refused, sampledOut [numSignals]int64
}

func newTenantState(id string, cfg *Config, limits LimitsConfig, now time.Time) *tenantState {
	ts := &tenantState{
		id:          id,
		tenantAttrs: metric.WithAttributeSet(attribute.NewSet(attribute.String("tenant", id))),
		meter:       newLoadMeter(cfg.Breaker),
		breaker:     newBreaker(cfg.Breaker),
		summary:     newSummaryTable(cfg.Summary.MaxSeries),
	}
	for s := range numSignals {
		ts.signalAttrs[s] = metric.WithAttributeSet(attribute.NewSet(
			attribute.String("tenant", id), attribute.String("signal", signal(s).String())))
	}
	ts.setLimits(limits, now)
	ts.meter.advance(now, nil)
	return ts
}

// setLimits applies new limits; saved tokens carry over. Holds mu.
func (ts *tenantState) setLimits(l LimitsConfig, now time.Time) {
	ts.limits = l
	ts.retentionText = ""
	if l.Retention > 0 {
		ts.retentionText = l.Retention.String()
	}
	for s := range numSignals {
		q := l.quota(signal(s))
		ts.buckets[s].items.set(q.ItemsPerSecond, q.ItemsBurst, now)
		ts.buckets[s].bytes.set(q.BytesPerSecond, q.BytesBurst, now)
		ts.bytesLimited[s].Store(ts.buckets[s].bytes.limiter != nil)
	}
}

// fullRate reports whether sampleRate is 1 whatever the environment. Holds mu.
func (ts *tenantState) fullRate() bool {
	if ts.breaker.state == breakerOpen || ts.limits.SamplingRate < 1 {
		return false
	}
	for _, r := range ts.limits.EnvSamplingRates {
		if r < 1 {
			return false
		}
	}
	return true
}

// sampleRate is the share of data kept for a resource in environment env.
// Holds mu.
func (ts *tenantState) sampleRate(env string, degradedRate float64) float64 {
	r := ts.limits.SamplingRate
	if envRate, ok := ts.limits.EnvSamplingRates[env]; ok && env != "" {
		r = envRate
	}
	if ts.breaker.state == breakerOpen {
		r = min(r, degradedRate)
	}
	return r
}
