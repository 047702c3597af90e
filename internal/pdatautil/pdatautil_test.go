package pdatautil

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

func TestDataPointCount(t *testing.T) {
	ms := pmetric.NewMetricSlice()
	g := ms.AppendEmpty().SetEmptyGauge()
	g.DataPoints().AppendEmpty()
	s := ms.AppendEmpty().SetEmptySum()
	s.DataPoints().AppendEmpty()
	s.DataPoints().AppendEmpty()
	h := ms.AppendEmpty().SetEmptyHistogram()
	for range 3 {
		h.DataPoints().AppendEmpty()
	}
	e := ms.AppendEmpty().SetEmptyExponentialHistogram()
	for range 4 {
		e.DataPoints().AppendEmpty()
	}
	q := ms.AppendEmpty().SetEmptySummary()
	for range 5 {
		q.DataPoints().AppendEmpty()
	}
	ms.AppendEmpty() // no type
	want := []int{1, 2, 3, 4, 5, 0}
	for i, w := range want {
		assert.Equal(t, w, DataPointCount(ms.At(i)), "metric %d (%s)", i, ms.At(i).Type())
	}
}
