package incidents

import (
	"math"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// dbServices are the services with a connection pool.
var dbServices = map[string]bool{EntryService: true, "inventory": true}

// emitMetrics writes each pod's gauges and GC histogram every
// metricInterval over both windows.
func (g *generator) emitMetrics() {
	for _, service := range Services {
		for pod := range podsPerService {
			for _, incident := range []bool{false, true} {
				from, to := g.start, g.incident
				if incident {
					from, to = g.incident, g.end
				}
				rm := g.metrics.ResourceMetrics().AppendEmpty()
				g.fillResource(rm.Resource(), service, pod, incident)
				sm := rm.ScopeMetrics().AppendEmpty()
				g.podMetrics(sm.Metrics(), service, pod, incident, from, to)
			}
		}
	}
}

func (g *generator) podMetrics(ms pmetric.MetricSlice, service string, pod int, incident bool, from, to time.Time) {
	value := func(name string, normal float64) float64 {
		if g.fault.metric != nil {
			return g.fault.metric(g, service, name, pod, incident, normal)
		}
		return normal
	}
	gauge := func(name string) pmetric.NumberDataPointSlice {
		m := ms.AppendEmpty()
		m.SetName(name)
		return m.SetEmptyGauge().DataPoints()
	}
	cpu := gauge("process.cpu.utilization")
	memory := gauge("process.memory.usage")
	var used, pending pmetric.NumberDataPointSlice
	if dbServices[service] {
		used = gauge("db.client.connection.count")
		pending = gauge("db.client.connection.pending_requests")
	}
	gcMetric := ms.AppendEmpty()
	gcMetric.SetName("jvm.gc.duration")
	gcMetric.SetUnit("s")
	gcMetric.SetEmptyHistogram().SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
	gc := gcMetric.Histogram().DataPoints()

	memoryStep := 0.0
	if incident && service == g.memoryService {
		// A distractor: memory grows by about four baseline deviations.
		memoryStep = 32e6
	}
	for t := from; t.Before(to); t = t.Add(metricInterval) {
		ts := pcommon.NewTimestampFromTime(t)
		point := func(points pmetric.NumberDataPointSlice, v float64) {
			dp := points.AppendEmpty()
			dp.SetTimestamp(ts)
			dp.SetDoubleValue(v)
		}
		point(cpu, value("process.cpu.utilization", math.Max(0.01, 0.3+0.04*g.rng.NormFloat64())))
		point(memory, value("process.memory.usage", 400e6+8e6*g.rng.NormFloat64()+memoryStep))
		if dbServices[service] {
			point(used, value("db.client.connection.count", math.Max(0, 5+1.5*g.rng.NormFloat64())))
			point(pending, value("db.client.connection.pending_requests", math.Abs(0.5*g.rng.NormFloat64())))
		}
		mean := value("jvm.gc.duration", math.Max(0.0005, 0.004+0.001*g.rng.NormFloat64()))
		dp := gc.AppendEmpty()
		dp.SetTimestamp(ts)
		dp.SetCount(50)
		dp.SetSum(50 * mean)
	}
}
