// Package incidents generates the seeded incident suite diagnose is
// measured on: an order service and four services behind it, a baseline of
// normal traffic and an incident window with one injected fault of a known
// kind, distractors in every instance (other operations slowing down less,
// handled background errors, a log template and a metric of an uninvolved
// service that change, traffic that varies), and the fault's ground truth
// as the candidate subjects (diagnose.Candidate.Subject) that name it.
package incidents

import (
	"fmt"
	"math/rand/v2"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otelfusion/otelfusion/pkg/diagnose"
)

// Kind is a kind of injected fault.
type Kind uint8

const (
	// SlowDependency: one downstream operation gets slower.
	SlowDependency Kind = iota
	// ErrorBurst: one downstream operation fails fast on a part of its calls.
	ErrorBurst
	// BadPodOrVersion: one pod of a service, or a version rolled out to two
	// of its pods, is slow.
	BadPodOrVersion
	// PoolExhaustion: a service waits for database connections; it logs so
	// and its pool metrics show it.
	PoolExhaustion
	// CPUSaturation: a service's CPU and GC saturate; only its metrics say so.
	CPUSaturation
	// NoisyTenant: one app tenant floods the order service and the shared
	// database slows down for everyone.
	NoisyTenant
	// Healthy injects nothing: history for a benchmark's store. It is not
	// in Kinds.
	Healthy
)

// Kinds are all kinds, in order.
var Kinds = []Kind{SlowDependency, ErrorBurst, BadPodOrVersion, PoolExhaustion, CPUSaturation, NoisyTenant}

// String is the kind's name.
func (k Kind) String() string {
	switch k {
	case SlowDependency:
		return "slow_dependency"
	case ErrorBurst:
		return "error_burst"
	case BadPodOrVersion:
		return "bad_pod_or_version"
	case PoolExhaustion:
		return "pool_exhaustion"
	case CPUSaturation:
		return "cpu_gc_saturation"
	case NoisyTenant:
		return "noisy_tenant"
	case Healthy:
		return "healthy"
	default:
		return "unknown"
	}
}

// Instance is one generated incident: its telemetry, where to look, and
// the truth.
type Instance struct {
	Kind Kind
	Seed uint64
	// Tenant is the store tenant (resource tenant.id) of all its data.
	Tenant  string
	Traces  ptrace.Traces
	Logs    plog.Logs
	Metrics pmetric.Metrics
	// Request diagnoses it: the order service over Window and Baseline,
	// ending at the incident's end.
	Request diagnose.Request
	// Truth are the candidate subjects that name the fault; a diagnosis is
	// right when its candidate names one of them.
	Truth []string
	// Fault says what was injected, in words.
	Fault string
}

// fault changes what spans do in the incident window.
type fault struct {
	// extraMs is time added to a span's own work.
	extraMs func(g *generator, s *spanState) float64
	// fails says a span fails fast.
	fails func(g *generator, s *spanState) bool
	// version overrides a pod's service.version.
	version func(service string, pod int, incident bool) string
	// rate is the entry rate per minute of a tenant.
	rate func(tenant string, incident bool) float64
	// metric overrides a metric point's value.
	metric func(g *generator, service, name string, pod int, incident bool, normal float64) float64
	// log is a line a span writes; "" writes none.
	log func(g *generator, s *spanState) (level, body string)
}

// spanState is the span being generated.
type spanState struct {
	c        *call
	pod      int
	incident bool
	tenant   string
}

type generator struct {
	rng      *rand.Rand
	tenant   string
	rate     float64 // entries per minute
	fault    fault
	start    time.Time // the baseline's start
	incident time.Time // the incident's start
	end      time.Time

	traces  ptrace.Traces
	logs    plog.Logs
	metrics pmetric.Metrics
	spans   map[string]ptrace.SpanSlice
	records map[string]plog.LogRecordSlice
	// distractor is an operation that slows down a little.
	distractor    *call
	distractorMs  float64
	memoryService string
	idSeq         uint64
}

// Options change the scale and place of an instance.
type Options struct {
	// Window and Baseline are the incident window and the baseline before it.
	Window, Baseline time.Duration
	// EntriesPerMinute is the order service's traffic.
	EntriesPerMinute float64
	// Tenant is the store tenant; empty is "suite-<kind>-<seed>".
	Tenant string
}

// DefaultOptions are the suite's: a 10-minute incident after a 30-minute
// baseline, 8 orders a minute.
var DefaultOptions = Options{Window: Window, Baseline: Baseline, EntriesPerMinute: entriesPerMinute}

// Generate makes instance seed of kind with DefaultOptions, its incident
// window ending at end.
func Generate(kind Kind, seed uint64, end time.Time) Instance {
	return GenerateWith(kind, seed, end, DefaultOptions)
}

// GenerateWith makes instance seed of kind with opts.
func GenerateWith(kind Kind, seed uint64, end time.Time, opts Options) Instance {
	tenant := opts.Tenant
	if tenant == "" {
		tenant = fmt.Sprintf("suite-%s-%d", kind, seed)
	}
	g := &generator{
		rng:    rand.New(rand.NewPCG(seed, uint64(kind)+0x696e636964656e74)),
		tenant: tenant, rate: opts.EntriesPerMinute,
		end: end, incident: end.Add(-opts.Window), start: end.Add(-opts.Window - opts.Baseline),
		traces: ptrace.NewTraces(), logs: plog.NewLogs(), metrics: pmetric.NewMetrics(),
		spans: map[string]ptrace.SpanSlice{}, records: map[string]plog.LogRecordSlice{},
	}
	g.idSeq = seed << 32
	routes := shop()
	inst := Instance{Kind: kind, Seed: seed, Tenant: g.tenant,
		Request: diagnose.Request{Service: EntryService, End: end, Window: opts.Window, Baseline: opts.Baseline}}
	g.fault, inst.Truth, inst.Fault = g.inject(kind, routes)
	g.pickDistractors(routes, inst.Truth)
	g.traffic(routes)
	g.emitMetrics()
	inst.Traces, inst.Logs, inst.Metrics = g.traces, g.logs, g.metrics
	return inst
}

func (g *generator) uniform(lo, hi float64) float64 { return lo + g.rng.Float64()*(hi-lo) }

// ops lists the calls of the shop, each operation once.
func ops(routes []route) []*call {
	seen := map[string]bool{}
	var out []*call
	var walk func(c *call)
	walk = func(c *call) {
		if key := c.service + " " + c.operation; !seen[key] {
			seen[key] = true
			out = append(out, c)
		}
		for _, child := range c.children {
			walk(child)
		}
	}
	for _, r := range routes {
		walk(r.root)
	}
	return out
}

func (g *generator) pick(calls []*call, keep func(*call) bool) *call {
	var fit []*call
	for _, c := range calls {
		if keep(c) {
			fit = append(fit, c)
		}
	}
	return fit[g.rng.IntN(len(fit))]
}

// inject chooses the instance's fault and its truth.
func (g *generator) inject(kind Kind, routes []route) (fault, []string, string) {
	all := ops(routes)
	f := fault{}
	switch kind {
	case SlowDependency:
		target := g.pick(all, func(c *call) bool { return c.service != EntryService || !c.server })
		extra := g.uniform(250, 700)
		f.extraMs = func(g *generator, s *spanState) float64 {
			if s.incident && s.c == target || s.incident && sameOp(s.c, target) {
				return extra * g.uniform(0.8, 1.2)
			}
			return 0
		}
		return f, []string{"latency " + target.service + " " + target.operation},
			fmt.Sprintf("%s %s slower by %.0f ms", target.service, target.operation, extra)
	case ErrorBurst:
		target := g.pick(all, func(c *call) bool { return c.server && c.service != EntryService })
		rate := g.uniform(0.25, 0.5)
		f.fails = func(g *generator, s *spanState) bool {
			return s.incident && sameOp(s.c, target) && g.rng.Float64() < rate
		}
		f.log = func(g *generator, s *spanState) (string, string) {
			return "ERROR", fmt.Sprintf("%s failed: upstream reset the connection to 10.0.%d.%d:8443 (request %016x)",
				s.c.operation, g.rng.IntN(8), g.rng.IntN(250), g.rng.Uint64())
		}
		return f, []string{"errors " + target.service + " " + target.operation},
			fmt.Sprintf("%s %s fails on %.0f%% of calls", target.service, target.operation, 100*rate)
	case BadPodOrVersion:
		service := Services[g.rng.IntN(len(Services))]
		extra := g.uniform(300, 700)
		if g.rng.IntN(2) == 0 {
			pod := g.rng.IntN(podsPerService)
			f.extraMs = func(g *generator, s *spanState) float64 {
				if s.incident && s.c.service == service && s.c.server && s.pod == pod {
					return extra * g.uniform(0.8, 1.2)
				}
				return 0
			}
			return f, []string{"attribute " + service + " k8s.pod.name=" + podName(service, pod)},
				fmt.Sprintf("pod %s slower by %.0f ms", podName(service, pod), extra)
		}
		const bad = "1.5.0"
		f.version = func(svc string, pod int, incident bool) string {
			if svc == service && incident && pod < 2 {
				return bad
			}
			return ""
		}
		f.extraMs = func(g *generator, s *spanState) float64 {
			if s.incident && s.c.service == service && s.c.server && s.pod < 2 {
				return extra * g.uniform(0.8, 1.2)
			}
			return 0
		}
		return f, []string{"attribute " + service + " service.version=" + bad},
			fmt.Sprintf("version %s of %s, rolled out to 2 of %d pods, slower by %.0f ms", bad, service, podsPerService, extra)
	case PoolExhaustion:
		service := []string{EntryService, "inventory"}[g.rng.IntN(2)]
		wait := g.uniform(200, 600)
		waits := func(s *spanState) bool {
			if !s.incident || !s.c.server || s.c.service != service {
				return false
			}
			for _, child := range s.c.children {
				if child.statement != "" {
					return true
				}
			}
			return false
		}
		f.extraMs = func(g *generator, s *spanState) float64 {
			if waits(s) {
				return wait * g.uniform(0.6, 1.4)
			}
			return 0
		}
		f.log = func(g *generator, s *spanState) (string, string) {
			if !waits(s) || g.rng.Float64() > 0.9 {
				return "", ""
			}
			return "WARN", fmt.Sprintf("connection pool exhausted (active=20, max=20, waiting=%d): waited %d ms for a connection",
				5+g.rng.IntN(30), int(wait*g.uniform(0.6, 1.4)))
		}
		f.metric = func(g *generator, svc, name string, pod int, incident bool, normal float64) float64 {
			if svc != service || !incident {
				return normal
			}
			switch name {
			case "db.client.connection.pending_requests":
				return g.uniform(8, 30)
			case "db.client.connection.count":
				return 20
			}
			return normal
		}
		return f, []string{
				"metric " + service + " db.client.connection.pending_requests",
				"metric " + service + " db.client.connection.count",
				"log " + service + " WARN " + diagnose.Template("connection pool exhausted (active=20, max=20, waiting=7): waited 300 ms for a connection"),
			},
			fmt.Sprintf("%s's connection pool exhausted, %.0f ms waits", service, wait)
	case CPUSaturation:
		service := Services[g.rng.IntN(len(Services))]
		factor, gcMs := g.uniform(3, 6), g.uniform(20, 60)
		f.extraMs = func(g *generator, s *spanState) float64 {
			if s.incident && s.c.service == service {
				return s.c.workMs*(factor-1) + g.rng.ExpFloat64()*gcMs/2
			}
			return 0
		}
		f.metric = func(g *generator, svc, name string, pod int, incident bool, normal float64) float64 {
			if svc != service || !incident {
				return normal
			}
			switch name {
			case "process.cpu.utilization":
				return g.uniform(0.9, 0.99)
			case "jvm.gc.duration":
				return gcMs / 1000 * g.uniform(0.7, 1.3)
			}
			return normal
		}
		return f, []string{"metric " + service + " process.cpu.utilization", "metric " + service + " jvm.gc.duration"},
			fmt.Sprintf("%s's CPU saturated (work x%.1f, GC pauses %.0f ms)", service, factor, gcMs)
	case Healthy:
		return f, nil, "nothing"
	case NoisyTenant:
		tenant := Tenants[g.rng.IntN(len(Tenants))]
		surge := g.uniform(6, 10)
		db := g.pick(all, func(c *call) bool { return c.statement != "" })
		slow := g.uniform(150, 400)
		f.rate = func(t string, incident bool) float64 {
			if incident && t == tenant {
				return surge
			}
			return 1
		}
		f.extraMs = func(g *generator, s *spanState) float64 {
			if s.incident && sameOp(s.c, db) {
				return slow * g.uniform(0.7, 1.3)
			}
			return 0
		}
		return f, []string{"attribute " + EntryService + " app.tenant=" + tenant},
			fmt.Sprintf("tenant %s sends x%.1f its traffic; %s %s slower by %.0f ms", tenant, surge, db.service, db.operation, slow)
	}
	panic("incidents: unknown kind " + kind.String())
}

func sameOp(a, b *call) bool { return a.service == b.service && a.operation == b.operation }

// pickDistractors chooses what changes besides the fault: an operation
// that slows down a little and a service whose memory grows.
func (g *generator) pickDistractors(routes []route, truth []string) {
	g.distractor = g.pick(ops(routes), func(c *call) bool {
		for _, t := range truth {
			if t == "latency "+c.service+" "+c.operation {
				return false
			}
		}
		return true
	})
	g.distractorMs = g.uniform(3, 12)
	g.memoryService = Services[1+g.rng.IntN(len(Services)-1)]
}
