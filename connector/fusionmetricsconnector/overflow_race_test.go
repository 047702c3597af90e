package fusionmetricsconnector

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otelfusion/otelfusion/connector/fusionmetricsconnector/internal/metadata"
)

// TestOverflowSeriesSurvivesConcurrentFlush records spans of many more
// services than max_services from several goroutines while delta flushes run
// back to back. A flush that drops the overflow series between a record's
// shard lock and its overflow lock must not lose a call or dereference nil.
func TestOverflowSeriesSurvivesConcurrentFlush(t *testing.T) {
	const (
		writers          = 8
		recordsPerWriter = 20_000
		services         = 500
		maxServices      = 4
	)
	cfg := createDefaultConfig().(*Config)
	cfg.MaxServices = maxServices
	tb, err := metadata.NewTelemetryBuilder(componenttest.NewNopTelemetrySettings())
	require.NoError(t, err)
	table := newMetricTable(spanTable, cfg, nil, tb)

	var (
		flushed  atomic.Uint64
		writing  sync.WaitGroup
		flushing sync.WaitGroup
		done     = make(chan struct{})
		flushes  atomic.Int64
	)
	flushOnce := func() {
		md := pmetric.NewMetrics()
		table.flush(md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty(), "ms", false, 0, 1)
		flushed.Add(sumCalls(md))
		flushes.Add(1)
	}
	flushing.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
				flushOnce()
			}
		}
	})
	for w := range writers {
		writing.Go(func() {
			var (
				scratch []byte
				dims    []dimension
			)
			for i := range recordsPerWriter {
				service := fmt.Sprintf("svc-%d", (w*recordsPerWriter+i)%services)
				m := measurement{
					dims:    []dimension{{key: dimService, value: service}, {key: dimSpanName, value: "op"}},
					service: service, value: 1, withHist: true, now: int64(i),
				}
				scratch, dims = table.record(&m, scratch, dims)
			}
		})
	}
	writing.Wait()
	close(done)
	flushing.Wait()
	flushOnce()

	const records = writers * recordsPerWriter
	t.Logf("records: %d from %d writers over %d services (max_services %d), concurrent delta flushes: %d",
		records, writers, services, maxServices, flushes.Load())
	require.Equal(t, uint64(records), flushed.Load(), "every recorded call is flushed exactly once")
}

// sumCalls adds up the calls metric of every table in md.
func sumCalls(md pmetric.Metrics) uint64 {
	var total uint64
	sms := md.ResourceMetrics().At(0).ScopeMetrics()
	for i := range sms.Len() {
		ms := sms.At(i).Metrics()
		for j := range ms.Len() {
			if m := ms.At(j); m.Name() == metricCalls {
				for k := range m.Sum().DataPoints().Len() {
					total += uint64(m.Sum().DataPoints().At(k).IntValue())
				}
			}
		}
	}
	return total
}
