package diagnose

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"sort"
	"time"

	"github.com/otelfusion/otelfusion/pkg/fusionstore"
)

// Querier runs FusionQL. *fusionstore.Store is one; the tenant scopes every
// query to the caller's rows and limits are the caller's policy. It must be
// safe for the sequential calls of one diagnosis.
type Querier interface {
	Query(ctx context.Context, text, tenant string, limits fusionstore.QueryLimits, answer fusionstore.AnswerWriter) error
}

// Diagnose compares req's incident window with its baseline for tenant's
// data and ranks candidate causes. Its queries run under limits, one after
// the other; now is the end of a request that names none. A bad request
// wraps ErrBadRequest, a service without traffic in a window ErrNoTraffic;
// a query's error (a *fusionql.Error, fusionstore.ErrQueryTimeout, ...) is
// returned wrapped.
func Diagnose(ctx context.Context, q Querier, tenant string, limits fusionstore.QueryLimits, req Request, now time.Time) (*Report, error) {
	req, err := req.withDefaults(now)
	if err != nil {
		return nil, err
	}
	limits.MaxRows = maxGroups
	limits.DefaultTimeWindow = 0
	d := &diagnosis{q: q, tenant: tenant, limits: limits, req: req, b: req.bounds(), m: newModel()}
	return d.run(ctx)
}

// diagnosis is one run of Diagnose.
type diagnosis struct {
	q      Querier
	tenant string
	limits fusionstore.QueryLimits
	req    Request
	b      bounds
	m      *model
	report Report
}

// rows collects an answer; Row copies the values it keeps.
type rows struct {
	columns []string
	values  [][]any
}

func (r *rows) Begin(columns []string) error {
	r.columns = columns
	return nil
}

func (r *rows) Row(values []any) error {
	r.values = append(r.values, append([]any(nil), values...))
	return nil
}

// query runs one FusionQL query and records it.
func (d *diagnosis) query(ctx context.Context, text string) ([][]any, error) {
	d.report.Queries = append(d.report.Queries, text)
	var r rows
	if err := d.q.Query(ctx, text, d.tenant, d.limits, &r); err != nil {
		return nil, fmt.Errorf("diagnose: query %d: %w", len(d.report.Queries), err)
	}
	if len(r.values) >= maxGroups {
		d.report.Notes = append(d.report.Notes, fmt.Sprintf("query %d returned its cap of %d groups; groups past it are not counted", len(d.report.Queries), maxGroups))
	}
	return r.values, nil
}

func (d *diagnosis) run(ctx context.Context) (*Report, error) {
	d.report.Service, d.report.Operation = d.req.Service, d.req.Operation
	if err := d.measureChange(ctx); err != nil {
		return nil, err
	}
	threshold := int64(math.Ceil(d.m.change[0].p99Ns))
	steps := []func(context.Context, int64) error{d.selfTimes, d.attrTimes, d.entryValues, d.logTemplates}
	for _, step := range steps {
		if err := step(ctx, threshold); err != nil {
			return nil, err
		}
	}
	if err := d.metricSeries(ctx); err != nil {
		return nil, err
	}
	d.report.Candidates = d.m.scoreCandidates(d.req.Limit)
	d.report.Change = d.describeChange()
	return &d.report, nil
}

func (d *diagnosis) measureChange(ctx context.Context) error {
	values, err := d.query(ctx, changeQuery(d.req, d.b))
	if err != nil {
		return err
	}
	d.m.change[0].minutes = float64(d.b.incidentStart-d.b.baselineStart) / float64(time.Minute)
	d.m.change[1].minutes = float64(d.b.end-d.b.incidentStart) / float64(time.Minute)
	for _, row := range values {
		w := int(asInt(row[0]))
		if w != 0 && w != 1 {
			continue
		}
		f := &d.m.change[w]
		f.spans, f.meanNs, f.p50Ns, f.p99Ns, f.errors = asInt(row[1]), asFloat(row[2]), asFloat(row[3]), asFloat(row[4]), asInt(row[5])
	}
	for w, name := range []string{"baseline", "incident"} {
		if d.m.change[w].spans == 0 {
			return fmt.Errorf("%w: service %q has no entry spans (SERVER or CONSUMER%s) in the %s window", ErrNoTraffic,
				d.req.Service, operationText(d.req.Operation), name)
		}
	}
	windows := [2][2]int64{{d.b.baselineStart, d.b.incidentStart}, {d.b.incidentStart, d.b.end}}
	for w, target := range []*Window{&d.report.Baseline, &d.report.Incident} {
		f := d.m.change[w]
		*target = Window{Start: time.Unix(0, windows[w][0]).UTC(), End: time.Unix(0, windows[w][1]).UTC(),
			Spans: f.spans, PerMinute: f.perMinute(), MeanMs: f.meanNs / 1e6, P50Ms: f.p50Ns / 1e6, P99Ms: f.p99Ns / 1e6,
			Errors: f.errors, ErrorRate: f.errorRate()}
	}
	return nil
}

func operationText(op string) string {
	if op == "" {
		return ""
	}
	return ", operation " + fmt.Sprintf("%q", op)
}

// selfTimes reads the self-time query into the operation groups.
func (d *diagnosis) selfTimes(ctx context.Context, threshold int64) error {
	values, err := d.query(ctx, selfTimeQuery(d.req, d.b, threshold))
	if err != nil {
		return err
	}
	for _, row := range values {
		w, bad := int(asInt(row[0])), asInt(row[1]) == 1
		if w != 0 && w != 1 {
			continue
		}
		spans, duration, errors, errEdges := asInt(row[6]), asFloat(row[7]), asInt(row[8]), asInt(row[9])
		op := d.m.op(asString(row[2]), asString(row[3]))
		op.selfNs[w] += duration
		op.spans[w] += spans
		op.ownErrors[w] += errors
		if w == 1 && bad {
			op.addExample(asString(row[10]), asString(row[11]))
			op.slowSelfNs += duration
		}
		if row[4] != nil {
			parent := d.m.op(asString(row[4]), asString(row[5]))
			parent.selfNs[w] -= duration
			parent.ownErrors[w] -= errEdges
			if w == 1 && bad {
				parent.slowSelfNs -= duration
			}
		}
	}
	return nil
}

// maxAttrServices is how many of the services with the largest latency
// shares have their attribute values broken down.
const maxAttrServices = 5

// attrTimes reads the self time of the attribute values of the services
// that carry the latency growth (a share of at least minShare).
func (d *diagnosis) attrTimes(ctx context.Context, threshold int64) error {
	delta := d.m.latencyDelta()
	if delta <= 0 {
		return nil
	}
	shares := map[string]float64{}
	for k, g := range d.m.ops {
		shares[k.service] += d.m.latencyShare(g, delta)
	}
	var services []string
	for svc, share := range shares {
		if share >= minShare && svc != "" {
			services = append(services, svc)
		}
	}
	if len(services) == 0 {
		return nil
	}
	sort.Slice(services, func(i, j int) bool {
		if shares[services[i]] != shares[services[j]] {
			return shares[services[i]] > shares[services[j]]
		}
		return services[i] < services[j]
	})
	if len(services) > maxAttrServices {
		services = services[:maxAttrServices]
	}
	keys := append(append([]string(nil), resourceKeys...), statementKey)
	n := attrColumnCount
	values, err := d.query(ctx, attrTimeQuery(d.req, d.b, threshold, services))
	if err != nil {
		return err
	}
	for _, row := range values {
		w := int(asInt(row[0]))
		if w != 0 && w != 1 {
			continue
		}
		service, operation := asString(row[1]), asString(row[2])
		spans, duration := asInt(row[3+n]), asFloat(row[4+n])
		for i, key := range keys {
			v := row[3+i]
			if v == nil {
				continue
			}
			g := d.m.attr(service, key, asString(v))
			g.selfNs[w] += duration
			g.spans[w] += spans
			if key == statementKey {
				g.operation = operation
			}
			k := keyOf{service, spanKeyScope(key, g.operation)}
			counts := d.m.keySpans[k]
			counts[w] += spans
			d.m.keySpans[k] = counts
			g.addExample(asString(row[5+n]), asString(row[6+n]))
		}
	}
	values, err = d.query(ctx, attrChildQuery(d.req, d.b, services))
	if err != nil {
		return err
	}
	for _, row := range values {
		w := int(asInt(row[0]))
		if w != 0 && w != 1 {
			continue
		}
		service, duration := asString(row[1]), asFloat(row[3+n])
		for i, key := range keys {
			if v := row[3+i]; v != nil {
				d.m.attr(service, key, asString(v)).selfNs[w] -= duration
			}
		}
	}
	return nil
}

func (m *model) op(service, operation string) *spanGroup {
	k := opKey{service, operation}
	g := m.ops[k]
	if g == nil {
		g = &spanGroup{}
		m.ops[k] = g
	}
	return g
}

func (m *model) attr(service, key, value string) *spanGroup {
	k := attrKey{service, key, value}
	g := m.attrs[k]
	if g == nil {
		g = &spanGroup{}
		m.attrs[k] = g
	}
	return g
}

// entryValues reads the entry spans by the values of EntryKeys.
func (d *diagnosis) entryValues(ctx context.Context, threshold int64) error {
	values, err := d.query(ctx, entryQuery(d.req, d.b, threshold))
	if err != nil {
		return err
	}
	n := len(EntryKeys)
	for _, row := range values {
		w, bad := int(asInt(row[0])), asInt(row[1]) == 1
		if w != 0 && w != 1 {
			continue
		}
		spans := asInt(row[2+n])
		if w == 1 && bad {
			d.m.badEntries += spans
		}
		for i, key := range EntryKeys {
			if row[2+i] == nil {
				continue
			}
			k := keyOf{d.req.Service, key}
			if d.m.entries[k] == nil {
				d.m.entries[k] = map[string]*entryGroup{}
			}
			value := asString(row[2+i])
			g := d.m.entries[k][value]
			if g == nil {
				g = &entryGroup{}
				d.m.entries[k][value] = g
			}
			g.spans[w] += spans
			if w == 1 && bad {
				g.bad += spans
				for _, id := range []string{asString(row[3+n]), asString(row[4+n])} {
					if id != "" && len(g.examples) < maxExamples && !containsString(g.examples, id) {
						g.examples = append(g.examples, id)
					}
				}
			}
		}
	}
	return nil
}

// logTemplates reads the log lines of the entry spans' traces into
// templates.
func (d *diagnosis) logTemplates(ctx context.Context, threshold int64) error {
	values, err := d.query(ctx, logQuery(d.req, d.b, threshold))
	if err != nil {
		return err
	}
	for _, row := range values {
		w, bad := int(asInt(row[0])), asInt(row[1]) == 1
		if w != 0 && w != 1 {
			continue
		}
		body := asString(row[4])
		k := logKey{service: asString(row[2]), level: asString(row[3]), template: Template(body)}
		g := d.m.logs[k]
		if g == nil {
			g = &logGroup{}
			d.m.logs[k] = g
		}
		lines := asInt(row[5])
		g.lines[w] += lines
		if w == 1 && bad {
			g.badLines += lines
			if len(g.samples) < maxExamples && !containsString(g.samples, body) {
				g.samples = append(g.samples, body)
			}
			if id := asString(row[7]); id != "" && len(g.traces) < maxExamples && !containsString(g.traces, id) {
				g.traces = append(g.traces, id)
			}
		}
	}
	return nil
}

// metricSeries reads the metrics of the services on the entry spans'
// traces.
func (d *diagnosis) metricSeries(ctx context.Context) error {
	seen := map[string]bool{}
	var services []string
	for k := range d.m.ops {
		if k.service != "" && !seen[k.service] {
			seen[k.service] = true
			services = append(services, k.service)
		}
	}
	if len(services) == 0 {
		return nil
	}
	sort.Strings(services)
	values, err := d.query(ctx, metricQuery(services, d.b))
	if err != nil {
		return err
	}
	for _, row := range values {
		w := int(asInt(row[0]))
		if w != 0 && w != 1 {
			continue
		}
		k := opKey{asString(row[1]), asString(row[2])}
		s := d.m.metrics[k]
		if s == nil {
			s = &metricSeries{}
			d.m.metrics[k] = s
		}
		s.points[w] += asInt(row[3])
		s.sum[w] += asFloat(row[4])
		s.squares[w] += asFloat(row[5])
	}
	return nil
}

// describeChange says what changed, in words.
func (d *diagnosis) describeChange() string {
	c := d.m.change
	return fmt.Sprintf("P50 %.1f -> %.1f ms, P99 %.1f -> %.1f ms, mean %.1f -> %.1f ms, error rate %.2f%% -> %.2f%%, traffic %.1f -> %.1f/min",
		c[0].p50Ns/1e6, c[1].p50Ns/1e6, c[0].p99Ns/1e6, c[1].p99Ns/1e6, c[0].meanNs/1e6, c[1].meanNs/1e6,
		100*c[0].errorRate(), 100*c[1].errorRate(), c[0].perMinute(), c[1].perMinute())
}

// asInt reads an integer the store returned (int64, a big integer that
// fits, or a float).
func asInt(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case float64:
		return int64(x)
	case *big.Int:
		if x.IsInt64() {
			return x.Int64()
		}
	case int:
		return int64(x)
	}
	return 0
}

func asFloat(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int64:
		return float64(x)
	case *big.Int:
		f, _ := new(big.Float).SetInt(x).Float64()
		return f
	case int:
		return float64(x)
	}
	return 0
}

func asString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	default:
		return fmt.Sprint(x)
	}
}
