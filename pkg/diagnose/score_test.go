package diagnose

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const msNs = 1e6

// windows60x15 is a baseline of 60 minutes and an incident of 15.
func windows60x15(baseSpans, incSpans int64, baseMeanMs, incMeanMs float64, baseErrors, incErrors int64) change {
	return change{
		{spans: baseSpans, meanNs: baseMeanMs * msNs, errors: baseErrors, minutes: 60},
		{spans: incSpans, meanNs: incMeanMs * msNs, errors: incErrors, minutes: 15},
	}
}

func findCandidate(t *testing.T, cands []Candidate, subject string) Candidate {
	t.Helper()
	for _, c := range cands {
		if c.Subject() == subject {
			return c
		}
	}
	require.Failf(t, "no candidate", "%q not among %v", subject, subjects(cands))
	return Candidate{}
}

func subjects(cands []Candidate) []string {
	out := make([]string, len(cands))
	for i, c := range cands {
		out[i] = c.Subject()
	}
	return out
}

// A database call's self time grows from 50 to 150 ms per trace while the
// entry operation's stays 50 ms: the call has the whole increase, and the
// pod that carries it refines it: share 1 on half the spans scores
// 1 * (2 - 0.5) = 1.5.
func TestScoreLatencyAndPod(t *testing.T) {
	m := newModel()
	m.change = windows60x15(10, 10, 100, 200, 0, 0)
	m.ops[opKey{"orders", "POST /orders"}] = &spanGroup{selfNs: [2]float64{500 * msNs, 500 * msNs}, spans: [2]int64{10, 10}}
	m.ops[opKey{"orders", "SELECT order_items"}] = &spanGroup{selfNs: [2]float64{500 * msNs, 1500 * msNs}, spans: [2]int64{10, 10}}
	m.attrs[attrKey{"orders", "k8s.pod.name", "orders-1"}] = &spanGroup{selfNs: [2]float64{250 * msNs, 1250 * msNs}, spans: [2]int64{5, 5}}
	m.attrs[attrKey{"orders", "k8s.pod.name", "orders-0"}] = &spanGroup{selfNs: [2]float64{250 * msNs, 250 * msNs}, spans: [2]int64{5, 5}}
	m.keySpans[keyOf{"orders", "k8s.pod.name"}] = [2]int64{10, 10}

	assert.Equal(t, 1.0, m.change.latencyWeight())
	assert.Equal(t, 100*msNs, m.latencyDelta())
	cands := m.scoreCandidates(10)
	require.Equal(t, []string{"attribute orders k8s.pod.name=orders-1", "latency orders SELECT order_items"}, subjects(cands))

	pod := cands[0]
	assert.Equal(t, 1, pod.Rank)
	assert.Equal(t, 1.5, pod.Score)
	assert.Equal(t, 1.0, pod.Share)
	assert.Equal(t, "latency", pod.ShareOf)
	assert.Equal(t, 25.0, pod.Baseline)
	assert.Equal(t, 125.0, pod.Incident)

	db := cands[1]
	assert.Equal(t, 2, db.Rank)
	assert.Equal(t, 1.0, db.Score)
	assert.Equal(t, 1.0, db.Share)
	assert.Equal(t, 50.0, db.Baseline)
	assert.Equal(t, 150.0, db.Incident)
	assert.Equal(t, "self time per trace 50.0 ms -> 150.0 ms", db.Evidence)
}

// Latency that grew 10% counts half (10% / 20%).
func TestLatencyWeight(t *testing.T) {
	assert.InDelta(t, 0.5, windows60x15(10, 10, 100, 110, 0, 0).latencyWeight(), 1e-12)
	assert.Equal(t, 0.0, windows60x15(10, 10, 100, 90, 0, 0).latencyWeight())
	assert.Equal(t, 0.0, windows60x15(0, 10, 0, 90, 0, 0).latencyWeight())
}

// The error rate goes from 0 to 5% (weight 1); inventory's own errors grow
// by 5 per 100 traces while pricing's stay at 2: inventory has the whole
// growth. Own errors per 1000 traces: 0 -> 50.
func TestScoreErrors(t *testing.T) {
	m := newModel()
	m.change = windows60x15(100, 100, 100, 100, 0, 5)
	m.ops[opKey{"inventory", "GET /stock"}] = &spanGroup{ownErrors: [2]int64{0, 5}, spans: [2]int64{100, 100}}
	m.ops[opKey{"pricing", "GET /price"}] = &spanGroup{ownErrors: [2]int64{2, 2}, spans: [2]int64{100, 100}}
	assert.Equal(t, 1.0, m.change.errorWeight())
	cands := m.scoreCandidates(10)
	require.Equal(t, []string{"errors inventory GET /stock"}, subjects(cands))
	assert.InDelta(t, 1.0, cands[0].Score, 1e-12)
	assert.InDelta(t, 1.0, cands[0].Share, 1e-12)
	assert.Equal(t, "errors", cands[0].ShareOf)
	assert.Equal(t, 0.0, cands[0].Baseline)
	assert.InDelta(t, 50.0, cands[0].Incident, 1e-9)
}

// Traffic doubles (1/min -> 2/min); acme goes from 0.1/min to 1.4/min, more
// than the whole growth: surge 1.5 * 1 * 1 * 1. Globex shrinks: not listed.
// Acme also holds 18 of the 20 slow entries against 10% of the baseline:
// concentration 0.5 * (0.9 - 0.1) / 0.9, below the surge.
func TestScoreSurge(t *testing.T) {
	m := newModel()
	m.change = windows60x15(60, 30, 100, 130, 0, 0)
	m.badEntries = 20
	m.entries[keyOf{"orders", "app.tenant"}] = map[string]*entryGroup{
		"acme":   {spans: [2]int64{6, 21}, bad: 18},
		"globex": {spans: [2]int64{54, 9}, bad: 2},
	}
	assert.Equal(t, 2.0, m.change.trafficGrowth())
	cands := m.entryCandidates(m.change.latencyWeight(), m.change.errorWeight())
	require.Len(t, cands, 1)
	c := cands[0]
	assert.Equal(t, "attribute orders app.tenant=acme", c.Subject())
	assert.InDelta(t, 1.5, c.Score, 1e-12)
	assert.InDelta(t, 1.3, c.Share, 1e-12)
	assert.Equal(t, "traffic", c.ShareOf)
	assert.InDelta(t, 0.1, c.Baseline, 1e-12)
	assert.InDelta(t, 1.4, c.Incident, 1e-12)

	// Without the surge the concentration remains.
	m.change[1].spans = 15
	cands = m.entryCandidates(1, 0)
	require.Len(t, cands, 1)
	assert.InDelta(t, 0.5*0.8/0.9, cands[0].Score, 1e-12)
}

// A new WARN template on 12 of 20 slow traces (coverage min(1, 2*12/20) =
// 1) in a service with the whole latency share: 1.2 * 0.8 = 0.96. When it
// was already there at 1/min and is now at 2/min, newness is 1/2: 0.48.
func TestScoreLog(t *testing.T) {
	m := newModel()
	m.change = windows60x15(10, 10, 100, 200, 0, 0)
	m.badEntries = 20
	m.ops[opKey{"orders", "POST /orders"}] = &spanGroup{selfNs: [2]float64{1000 * msNs, 2000 * msNs}}
	key := logKey{"orders", "WARN", "connection pool exhausted (active=<n>)"}
	m.logs[key] = &logGroup{lines: [2]int64{0, 30}, badLines: 12, samples: []string{"connection pool exhausted (active=20)"}}
	c := findCandidate(t, m.scoreCandidates(10), "log orders WARN connection pool exhausted (active=<n>)")
	assert.InDelta(t, 0.96, c.Score, 1e-12)
	assert.Equal(t, []string{"connection pool exhausted (active=20)"}, c.LogLines)

	m.logs[key].lines[0] = 60
	c = findCandidate(t, m.scoreCandidates(10), "log orders WARN connection pool exhausted (active=<n>)")
	assert.InDelta(t, 0.48, c.Score, 1e-12)
	// The latency candidate carries the service's warning lines.
	lat := findCandidate(t, m.scoreCandidates(10), "latency orders POST /orders")
	assert.Equal(t, []string{"connection pool exhausted (active=20)"}, lat.LogLines)
}

// Baseline points 1, 2, 3, 2 (mean 2, standard deviation sqrt(0.5)), then
// 8 and 8: z = 6 / 0.7071 = 8.49, full strength; with half the latency
// share in the service: 1.2 * 1 * 1 * 0.5 = 0.6. A flat baseline of 10
// counts 0.5 as a deviation: 12 is z = 4, strength 1/3.
func TestScoreMetric(t *testing.T) {
	s := metricSeries{points: [2]int64{4, 2}, sum: [2]float64{8, 16}, squares: [2]float64{18, 128}}
	assert.InDelta(t, math.Sqrt(0.5), s.stddev(0), 1e-12)
	assert.InDelta(t, 6/math.Sqrt(0.5), s.zScore(), 1e-9)

	m := newModel()
	m.change = windows60x15(10, 10, 100, 200, 0, 0)
	m.ops[opKey{"pricing", "GET /price"}] = &spanGroup{selfNs: [2]float64{0, 500 * msNs}}
	m.ops[opKey{"users", "GET /users/{id}"}] = &spanGroup{selfNs: [2]float64{0, 500 * msNs}}
	m.metrics[opKey{"pricing", "process.cpu.utilization"}] = &s
	m.metrics[opKey{"pricing", "http.server.request.duration"}] = &s
	c := findCandidate(t, m.scoreCandidates(10), "metric pricing process.cpu.utilization")
	assert.InDelta(t, 0.6, c.Score, 1e-12)
	assert.NotContains(t, subjects(m.scoreCandidates(10)), "metric pricing http.server.request.duration")

	flat := metricSeries{points: [2]int64{2, 1}, sum: [2]float64{20, 12}, squares: [2]float64{200, 144}}
	assert.InDelta(t, 4.0, flat.zScore(), 1e-12)
	m.metrics[opKey{"pricing", "process.cpu.utilization"}] = &flat
	c = findCandidate(t, m.scoreCandidates(10), "metric pricing process.cpu.utilization")
	assert.InDelta(t, 1.2*(1.0/3)*0.5, c.Score, 1e-12)
}

func TestScoreLimitAndOrder(t *testing.T) {
	m := newModel()
	m.change = windows60x15(10, 10, 100, 200, 0, 0)
	for i, grow := range []float64{400, 300, 200, 100} {
		m.ops[opKey{"svc", string(rune('a' + i))}] = &spanGroup{selfNs: [2]float64{0, grow * msNs}}
	}
	cands := m.scoreCandidates(3)
	require.Equal(t, []string{"latency svc a", "latency svc b", "latency svc c"}, subjects(cands))
	assert.Equal(t, []int{1, 2, 3}, []int{cands[0].Rank, cands[1].Rank, cands[2].Rank})
	assert.InDelta(t, 0.4, cands[0].Score, 1e-12)
}
