package fusionmetricsconnector

import (
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// splitByTenant moves the points of md's one resource whose attribute key
// names a tenant to a resource per tenant, with key set on the resource too.
// Points without it stay where they are; an emptied resource is removed.
func splitByTenant(md pmetric.Metrics, key string) {
	rms := md.ResourceMetrics()
	if rms.Len() != 1 {
		return
	}
	src := rms.At(0).ScopeMetrics().At(0)
	byTenant := map[string]pmetric.ScopeMetrics{}
	target := func(tenant string) pmetric.ScopeMetrics {
		sm, ok := byTenant[tenant]
		if !ok {
			rm := rms.AppendEmpty()
			rm.Resource().Attributes().PutStr(key, tenant)
			sm = rm.ScopeMetrics().AppendEmpty()
			src.Scope().CopyTo(sm.Scope())
			byTenant[tenant] = sm
		}
		return sm
	}
	tenantOf := func(attrs pcommon.Map) (string, bool) {
		v, ok := attrs.Get(key)
		if !ok {
			return "", false
		}
		return v.AsString(), true
	}
	// Each source metric gets at most one copy per tenant, made on first use.
	src.Metrics().RemoveIf(func(m pmetric.Metric) bool {
		copies := map[string]pmetric.Metric{}
		dst := func(tenant string) pmetric.Metric {
			c, ok := copies[tenant]
			if !ok {
				c = target(tenant).Metrics().AppendEmpty()
				copyMetricHeader(m, c)
				copies[tenant] = c
			}
			return c
		}
		switch m.Type() {
		case pmetric.MetricTypeSum:
			m.Sum().DataPoints().RemoveIf(func(dp pmetric.NumberDataPoint) bool {
				tenant, ok := tenantOf(dp.Attributes())
				if ok {
					dp.CopyTo(dst(tenant).Sum().DataPoints().AppendEmpty())
				}
				return ok
			})
			return m.Sum().DataPoints().Len() == 0
		case pmetric.MetricTypeHistogram:
			m.Histogram().DataPoints().RemoveIf(func(dp pmetric.HistogramDataPoint) bool {
				tenant, ok := tenantOf(dp.Attributes())
				if ok {
					dp.CopyTo(dst(tenant).Histogram().DataPoints().AppendEmpty())
				}
				return ok
			})
			return m.Histogram().DataPoints().Len() == 0
		case pmetric.MetricTypeExponentialHistogram:
			m.ExponentialHistogram().DataPoints().RemoveIf(func(dp pmetric.ExponentialHistogramDataPoint) bool {
				tenant, ok := tenantOf(dp.Attributes())
				if ok {
					dp.CopyTo(dst(tenant).ExponentialHistogram().DataPoints().AppendEmpty())
				}
				return ok
			})
			return m.ExponentialHistogram().DataPoints().Len() == 0
		}
		return false
	})
	if src.Metrics().Len() == 0 && len(byTenant) > 0 {
		rms.RemoveIf(func(rm pmetric.ResourceMetrics) bool {
			return rm.ScopeMetrics().At(0).Metrics().Len() == 0
		})
	}
}

// copyMetricHeader gives dst m's name, unit, description and type with its
// temporality and monotonicity, and no points.
func copyMetricHeader(m, dst pmetric.Metric) {
	dst.SetName(m.Name())
	dst.SetUnit(m.Unit())
	dst.SetDescription(m.Description())
	switch m.Type() {
	case pmetric.MetricTypeSum:
		s := dst.SetEmptySum()
		s.SetIsMonotonic(m.Sum().IsMonotonic())
		s.SetAggregationTemporality(m.Sum().AggregationTemporality())
	case pmetric.MetricTypeHistogram:
		dst.SetEmptyHistogram().SetAggregationTemporality(m.Histogram().AggregationTemporality())
	case pmetric.MetricTypeExponentialHistogram:
		dst.SetEmptyExponentialHistogram().SetAggregationTemporality(m.ExponentialHistogram().AggregationTemporality())
	}
}
