package diagnose

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// The constants of the scores; docs/diagnose.md explains each.
const (
	// latencyGrowthFull is the growth of the mean entry latency at which
	// latency candidates count fully (20%); less scales them down.
	latencyGrowthFull = 0.2
	// errorGrowthFull is the growth of the entry error rate, in absolute
	// terms, at which error candidates count fully (2 points).
	errorGrowthFull = 0.02
	// minShare is the least share of the change a latency, errors or
	// attribute candidate needs to be listed.
	minShare = 0.05
	// refineShare: an attribute value that carries at least this part of
	// its service's latency share refines it (a bad pod of a slow service).
	refineShare = 0.7
	// maxRestIntensity: and the rest of its service's (or operation's)
	// spans grew, per span, at most this part as much as the value's did:
	// the growth is in the value, not spread with some luck of the draw.
	maxRestIntensity = 0.25
	// maxRefineFraction: a value on more than this fraction of its
	// service's spans that carry the key is too common to refine anything.
	maxRefineFraction = 0.75
	// maxValueFraction: a value on more than this fraction says nothing
	// beyond its service and is not listed.
	maxValueFraction = 0.9
	// whyWeight ranks a log template or metric that moved in a slowed
	// service above the service's own latency: it says why.
	whyWeight = 1.2
	// errorLogWeight keeps a log template of a failing service below the
	// failing operation, whose evidence it is.
	errorLogWeight = 0.8
	// surgeWeight ranks a traffic surge above the slowdowns it causes.
	surgeWeight = 1.5
	// minSurge is the traffic growth (incident rate / baseline rate) a
	// surge needs; surgeFull the growth above it at which it counts fully.
	minSurge, surgeFull = 1.3, 0.5
	// concentrationWeight keeps a concentration of the slow traces in an
	// entry value (where, not why) below the causes found beneath it.
	concentrationWeight = 0.5
	// metricMinZ and metricFullZ bound the strength of a metric's move, in
	// baseline standard deviations.
	metricMinZ, metricFullZ = 3.0, 6.0
	// maxExamples is how many trace ids and log lines a candidate keeps.
	maxExamples = 3
)

// latencyMetrics restate the latency the traces show; they are evidence of
// the change, never its cause, so they are not candidates.
var latencyMetrics = map[string]bool{
	"http.server.request.duration": true, "http.client.request.duration": true,
	"rpc.server.duration": true, "rpc.client.duration": true, "db.client.operation.duration": true,
}

func clamp01(x float64) float64 { return math.Max(0, math.Min(1, x)) }

// windowFigures are the entry spans of one window.
type windowFigures struct {
	spans   int64
	meanNs  float64
	p50Ns   float64
	p99Ns   float64
	errors  int64
	minutes float64
}

func (w windowFigures) errorRate() float64 {
	if w.spans == 0 {
		return 0
	}
	return float64(w.errors) / float64(w.spans)
}

func (w windowFigures) perMinute() float64 { return float64(w.spans) / w.minutes }

// change is the two windows; index 0 is the baseline, 1 the incident.
type change [2]windowFigures

// latencyWeight is how much latency candidates count: the growth of the
// mean entry latency over latencyGrowthFull, at most 1.
func (c change) latencyWeight() float64 {
	if c[0].meanNs <= 0 {
		return 0
	}
	return clamp01((c[1].meanNs/c[0].meanNs - 1) / latencyGrowthFull)
}

// errorWeight is how much error candidates count: the growth of the entry
// error rate over errorGrowthFull, at most 1.
func (c change) errorWeight() float64 {
	return clamp01((c[1].errorRate() - c[0].errorRate()) / errorGrowthFull)
}

// trafficGrowth is the incident's entry rate over the baseline's.
func (c change) trafficGrowth() float64 {
	if c[0].spans == 0 {
		return 0
	}
	return c[1].perMinute() / c[0].perMinute()
}

// opKey is a service's operation.
type opKey struct{ service, operation string }

// attrKey is an attribute value of a service's spans.
type attrKey struct{ service, key, value string }

// keyOf is an attribute key of a service's spans.
type keyOf struct{ service, key string }

// spanGroup is what one group of spans did in each window.
type spanGroup struct {
	// selfNs is the group's self time summed over the window's traces.
	selfNs [2]float64
	// slowSelfNs is its self time on the slow or failed incident traces.
	slowSelfNs float64
	// spans counts the group's spans.
	spans [2]int64
	// ownErrors are failed spans without a failed child.
	ownErrors [2]int64
	examples  []string
	// operation is the operation of a statement group's spans: a statement
	// refines its operation, where a pod, host or version refines its
	// service.
	operation string
}

func (g *spanGroup) addExample(ids ...string) {
	for _, id := range ids {
		if id == "" || len(g.examples) >= maxExamples || containsString(g.examples, id) {
			continue
		}
		g.examples = append(g.examples, id)
	}
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// perTrace is x per entry span of window w.
func (c change) perTrace(x float64, w int) float64 {
	if c[w].spans == 0 {
		return 0
	}
	return x / float64(c[w].spans)
}

// entryGroup is the entry spans carrying one value of an entry key.
type entryGroup struct {
	spans    [2]int64
	bad      int64 // slow or failed entry spans of the incident
	examples []string
}

// logGroup is one log template of a service at one level.
type logGroup struct {
	lines    [2]int64
	badLines int64 // lines on slow or failed incident traces
	samples  []string
	traces   []string
}

// metricSeries is one metric of a service in each window.
type metricSeries struct {
	points  [2]int64
	sum     [2]float64
	squares [2]float64
}

func (m metricSeries) mean(w int) float64 {
	if m.points[w] == 0 {
		return 0
	}
	return m.sum[w] / float64(m.points[w])
}

func (m metricSeries) stddev(w int) float64 {
	if m.points[w] < 2 {
		return 0
	}
	mean := m.mean(w)
	return math.Sqrt(math.Max(0, m.squares[w]/float64(m.points[w])-mean*mean))
}

// zScore is how far the incident mean is from the baseline mean, in
// baseline standard deviations; a flat baseline counts 5% of its mean as
// one deviation, so a constant gauge that steps is still a move.
func (m metricSeries) zScore() float64 {
	base := m.mean(0)
	scale := math.Max(m.stddev(0), 0.05*math.Abs(base))
	if scale == 0 {
		scale = 1e-9
	}
	return (m.mean(1) - base) / scale
}

// model is what the queries found, ready to score.
type model struct {
	change     change
	badEntries int64
	ops        map[opKey]*spanGroup
	attrs      map[attrKey]*spanGroup
	// keySpans counts the spans of a service that carry a key, by window.
	keySpans map[keyOf][2]int64
	entries  map[keyOf]map[string]*entryGroup // service = entry key index name
	logs     map[logKey]*logGroup
	metrics  map[opKey]*metricSeries // operation = metric name
}

// logKey is a log template of a service at one level.
type logKey struct{ service, level, template string }

func newModel() *model {
	return &model{ops: map[opKey]*spanGroup{}, attrs: map[attrKey]*spanGroup{}, keySpans: map[keyOf][2]int64{},
		entries: map[keyOf]map[string]*entryGroup{}, logs: map[logKey]*logGroup{}, metrics: map[opKey]*metricSeries{}}
}

// latencyDelta is the growth of the mean entry latency, in ns, as the sum
// of the growth of every operation's self time per trace: the shares of
// the operations add up to 1.
func (m *model) latencyDelta() float64 {
	var total float64
	for _, g := range m.ops {
		total += m.change.perTrace(g.selfNs[1], 1) - m.change.perTrace(g.selfNs[0], 0)
	}
	return total
}

// latencyShare is the part of the latency growth delta a group's self time
// accounts for; 0 when latency did not grow.
func (m *model) latencyShare(g *spanGroup, delta float64) float64 {
	if delta <= 0 {
		return 0
	}
	return (m.change.perTrace(g.selfNs[1], 1) - m.change.perTrace(g.selfNs[0], 0)) / delta
}

// slowText is a group's self time per slow or failed incident trace, as
// evidence; "" when there are none.
func (m *model) slowText(g *spanGroup) string {
	if m.badEntries == 0 {
		return ""
	}
	return fmt.Sprintf(" (%.1f ms on slow or failed traces)", g.slowSelfNs/float64(m.badEntries)/1e6)
}

// ownErrorGrowth is the growth of a group's own errors per trace.
func (m *model) ownErrorGrowth(g *spanGroup) float64 {
	return m.change.perTrace(float64(g.ownErrors[1]), 1) - m.change.perTrace(float64(g.ownErrors[0]), 0)
}

// scoreCandidates turns the model into ranked candidates, at most limit.
func (m *model) scoreCandidates(limit int) []Candidate {
	var out []Candidate
	wL, wE := m.change.latencyWeight(), m.change.errorWeight()
	delta := m.latencyDelta()
	var errorGrowth float64
	for _, g := range m.ops {
		errorGrowth += math.Max(0, m.ownErrorGrowth(g))
	}
	serviceShare := map[string]float64{}
	serviceErrShare := map[string]float64{}
	for k, g := range m.ops {
		serviceShare[k.service] += m.latencyShare(g, delta)
		if errorGrowth > 0 {
			serviceErrShare[k.service] += math.Max(0, m.ownErrorGrowth(g)) / errorGrowth
		}
	}
	msPerTrace := func(g *spanGroup, w int) float64 { return m.change.perTrace(g.selfNs[w], w) / 1e6 }

	for k, g := range m.ops {
		if share := m.latencyShare(g, delta); share >= minShare && wL > 0 {
			out = append(out, Candidate{Kind: KindLatency, Service: k.service, Operation: k.operation,
				Score: wL * clamp01(share), Share: share, ShareOf: "latency",
				Baseline: msPerTrace(g, 0), Incident: msPerTrace(g, 1), Unit: "ms self time per trace",
				Evidence: fmt.Sprintf("self time per trace %.1f ms -> %.1f ms%s", msPerTrace(g, 0), msPerTrace(g, 1), m.slowText(g)),
				TraceIDs: g.examples})
		}
		if errorGrowth > 0 && wE > 0 {
			if share := math.Max(0, m.ownErrorGrowth(g)) / errorGrowth; share >= minShare {
				per1000 := func(w int) float64 { return 1000 * m.change.perTrace(float64(g.ownErrors[w]), w) }
				out = append(out, Candidate{Kind: KindErrors, Service: k.service, Operation: k.operation,
					Score: wE * share, Share: share, ShareOf: "errors",
					Baseline: per1000(0), Incident: per1000(1), Unit: "own errors per 1000 traces",
					Evidence: fmt.Sprintf("own errors per 1000 traces %.1f -> %.1f", per1000(0), per1000(1)),
					TraceIDs: g.examples})
			}
		}
	}

	for k, g := range m.attrs {
		spansWithKey := m.keySpans[keyOf{k.service, spanKeyScope(k.key, g.operation)}]
		all := spansWithKey[0] + spansWithKey[1]
		if all == 0 || wL == 0 {
			continue
		}
		fraction := float64(g.spans[0]+g.spans[1]) / float64(all)
		share := m.latencyShare(g, delta)
		if fraction > maxValueFraction || share < minShare {
			continue
		}
		refined := serviceShare[k.service]
		if g.operation != "" {
			refined = m.latencyShare(m.op(k.service, g.operation), delta)
		}
		score := concentrationWeight * wL * clamp01(share)
		if fraction <= maxRefineFraction && refined > 0 && share >= refineShare*refined &&
			(refined-share)/(1-fraction) <= maxRestIntensity*share/fraction {
			score = wL * clamp01(share) * (2 - fraction)
		}
		out = append(out, Candidate{Kind: KindAttribute, Service: k.service, Key: k.key, Value: k.value,
			Score: score, Share: share, ShareOf: "latency",
			Baseline: msPerTrace(g, 0), Incident: msPerTrace(g, 1), Unit: "ms self time per trace",
			Evidence: fmt.Sprintf("self time per trace %.1f ms -> %.1f ms on %.0f%% of %s's spans with %s",
				msPerTrace(g, 0), msPerTrace(g, 1), 100*fraction, k.service, k.key),
			TraceIDs: g.examples})
	}

	out = append(out, m.entryCandidates(wL, wE)...)

	for k, g := range m.logs {
		rate := func(w int) float64 { return float64(g.lines[w]) / m.change[w].minutes }
		if g.lines[1] == 0 {
			continue
		}
		newness := clamp01(1 - rate(0)/rate(1))
		coverage := 0.0
		if m.badEntries > 0 {
			coverage = clamp01(2 * float64(g.badLines) / float64(m.badEntries))
		}
		strength := levelWeight(k.level) * newness * coverage
		score := math.Max(whyWeight*strength*wL*clamp01(serviceShare[k.service]),
			errorLogWeight*strength*wE*serviceErrShare[k.service])
		if score <= 0 {
			continue
		}
		out = append(out, Candidate{Kind: KindLog, Service: k.service, Level: k.level, Template: k.template,
			Score: score, Share: serviceShare[k.service], ShareOf: "latency",
			Baseline: rate(0), Incident: rate(1), Unit: "lines per minute",
			Evidence: fmt.Sprintf("%.1f -> %.1f lines/min, %d on %d slow or failed traces",
				rate(0), rate(1), g.badLines, m.badEntries),
			TraceIDs: g.traces, LogLines: g.samples})
	}

	for k, s := range m.metrics {
		if latencyMetrics[k.operation] || s.points[0] == 0 || s.points[1] == 0 {
			continue
		}
		z := s.zScore()
		strength := clamp01((math.Abs(z) - metricMinZ) / (metricFullZ - metricMinZ))
		score := whyWeight * strength * wL * clamp01(serviceShare[k.service])
		if score <= 0 {
			continue
		}
		out = append(out, Candidate{Kind: KindMetric, Service: k.service, Metric: k.operation,
			Score: score, Share: serviceShare[k.service], ShareOf: "latency",
			Baseline: s.mean(0), Incident: s.mean(1), Unit: "mean",
			Evidence: fmt.Sprintf("mean %.4g -> %.4g (%+.1f baseline standard deviations)", s.mean(0), s.mean(1), z)})
	}

	m.attachLogLines(out)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Score != out[j].Score {
			return out[i].Score > out[j].Score
		}
		return out[i].Subject() < out[j].Subject()
	})
	if len(out) > limit {
		out = out[:limit]
	}
	for i := range out {
		out[i].Rank = i + 1
	}
	return out
}

// entryCandidates scores the values of the entry keys: a surge of traffic
// or a concentration of the slow and failed entry spans.
func (m *model) entryCandidates(wL, wE float64) []Candidate {
	var out []Candidate
	weight := math.Max(wL, wE)
	growth := m.change.trafficGrowth()
	rateDelta := m.change[1].perMinute() - m.change[0].perMinute()
	for key, values := range m.entries {
		for value, g := range values {
			rate := func(w int) float64 { return float64(g.spans[w]) / m.change[w].minutes }
			var surge, trafficShare float64
			if growth >= minSurge && rateDelta > 0 {
				trafficShare = (rate(1) - rate(0)) / rateDelta
				surge = surgeWeight * clamp01(trafficShare) * clamp01((growth-1)/surgeFull) * weight
			}
			var concentration float64
			pBase := 0.0
			if m.change[0].spans > 0 {
				pBase = float64(g.spans[0]) / float64(m.change[0].spans)
			}
			if m.badEntries > 0 && pBase < 1 {
				pBad := float64(g.bad) / float64(m.badEntries)
				concentration = concentrationWeight * clamp01((pBad-pBase)/(1-pBase)) * weight
			}
			score := math.Max(surge, concentration)
			if score <= 0 || (surge == 0 && concentration < concentrationWeight*minShare*weight) {
				continue
			}
			c := Candidate{Kind: KindAttribute, Service: key.service, Key: key.key, Value: value, Score: score,
				Baseline: rate(0), Incident: rate(1), Unit: "entry spans per minute", TraceIDs: g.examples}
			if surge >= concentration {
				c.Share, c.ShareOf = trafficShare, "traffic"
				c.Evidence = fmt.Sprintf("traffic surge: %.1f -> %.1f entry spans/min (all: x%.2f)", rate(0), rate(1), growth)
			} else {
				c.Share, c.ShareOf = pBase, "traffic"
				c.Evidence = fmt.Sprintf("on %d of %d slow or failed entry spans, %.0f%% of the baseline's",
					g.bad, m.badEntries, 100*pBase)
			}
			out = append(out, c)
		}
	}
	return out
}

// spanKeyScope is what an attribute value's fraction is taken of: the
// spans of its service that carry the key, or for a statement the spans of
// its operation.
func spanKeyScope(key, operation string) string {
	if operation == "" {
		return key
	}
	return key + " of " + operation
}

// levelWeight ranks the log levels: errors most, warnings next.
func levelWeight(level string) float64 {
	switch strings.ToUpper(level) {
	case "FATAL", "ERROR":
		return 1
	case "WARN", "WARNING":
		return 0.8
	default:
		return 0.3
	}
}

// attachLogLines gives each latency, errors and attribute candidate the
// most frequent warning or error lines its service wrote on slow or failed
// traces.
func (m *model) attachLogLines(cands []Candidate) {
	type ranked struct {
		lines   int64
		samples []string
	}
	byService := map[string][]ranked{}
	for k, g := range m.logs {
		if g.badLines > 0 && levelWeight(k.level) >= 0.8 {
			byService[k.service] = append(byService[k.service], ranked{g.badLines, g.samples})
		}
	}
	for svc := range byService {
		sort.SliceStable(byService[svc], func(i, j int) bool { return byService[svc][i].lines > byService[svc][j].lines })
	}
	for i := range cands {
		if cands[i].Kind == KindLog || cands[i].Kind == KindMetric || cands[i].LogLines != nil {
			continue
		}
		var lines []string
		for _, r := range byService[cands[i].Service] {
			for _, s := range r.samples {
				if len(lines) < maxExamples {
					lines = append(lines, s)
				}
			}
		}
		cands[i].LogLines = lines
	}
}
