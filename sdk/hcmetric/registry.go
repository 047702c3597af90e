// Package hcmetric is a metric engine for high-cardinality counters,
// gauges and histograms: updates find their series in a lock-free sharded
// table keyed by attribute set and change it with atomic operations, so
// goroutines updating different series never wait on each other. The
// series are aggregated when the SDK collects: a Registry is an
// sdkmetric.Producer, read by any SDK reader (and so exported by the fused
// exporters or any other). Each instrument holds at most its limit of
// series; updates for further attribute sets go to one overflow series
// marked otel.metric.overflow=true.
package hcmetric

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// DefaultSeriesLimit is the series limit of an instrument made without
// WithSeriesLimit.
const DefaultSeriesLimit = 100_000

// Registry holds instruments and produces their metrics for the SDK.
// It is safe for concurrent use.
type Registry struct {
	scope instrumentation.Scope
	start time.Time

	mu          sync.Mutex
	names       map[string]bool
	instruments []instrument
}

// instrument is what Produce reads from each kind of instrument.
type instrument interface {
	collect(start, now time.Time) metricdata.Metrics
}

// New returns an empty Registry whose metrics carry the instrumentation
// scope named scopeName.
func New(scopeName string) *Registry {
	return &Registry{scope: instrumentation.Scope{Name: scopeName}, start: time.Now(), names: map[string]bool{}}
}

// InstrumentOption configures an instrument.
type InstrumentOption func(*instrumentConfig)

type instrumentConfig struct {
	description string
	unit        string
	limit       int
}

// WithDescription sets the instrument's description.
func WithDescription(d string) InstrumentOption {
	return func(c *instrumentConfig) { c.description = d }
}

// WithUnit sets the instrument's unit.
func WithUnit(u string) InstrumentOption { return func(c *instrumentConfig) { c.unit = u } }

// WithSeriesLimit sets how many attribute sets the instrument keeps apart
// (DefaultSeriesLimit by default); its table is sized for it when made.
func WithSeriesLimit(n int) InstrumentOption { return func(c *instrumentConfig) { c.limit = n } }

var errDuplicate = errors.New("hcmetric: instrument name already registered")

func (r *Registry) register(name string, opts []InstrumentOption) (instrumentConfig, error) {
	cfg := instrumentConfig{limit: DefaultSeriesLimit}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.limit < 1 {
		return cfg, fmt.Errorf("hcmetric: %s: series limit %d is below 1", name, cfg.limit)
	}
	if name == "" {
		return cfg, errors.New("hcmetric: empty instrument name")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.names[name] {
		return cfg, fmt.Errorf("%w: %s", errDuplicate, name)
	}
	r.names[name] = true
	return cfg, nil
}

func (r *Registry) add(i instrument) {
	r.mu.Lock()
	r.instruments = append(r.instruments, i)
	r.mu.Unlock()
}

// Produce returns the current value of every series of every instrument,
// cumulative since the registry was made. It implements sdkmetric.Producer.
func (r *Registry) Produce(context.Context) ([]metricdata.ScopeMetrics, error) {
	r.mu.Lock()
	instruments := append([]instrument(nil), r.instruments...)
	r.mu.Unlock()
	now := time.Now()
	sm := metricdata.ScopeMetrics{Scope: r.scope, Metrics: make([]metricdata.Metrics, 0, len(instruments))}
	for _, i := range instruments {
		sm.Metrics = append(sm.Metrics, i.collect(r.start, now))
	}
	return []metricdata.ScopeMetrics{sm}, nil
}
