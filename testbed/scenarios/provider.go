package scenarios

import (
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/open-telemetry/opentelemetry-collector-contrib/testbed/testbed"
	"github.com/otelfusion/otelfusion/pkg/fusiongen"
)

// poolBatches is how many distinct batches of each signal a provider
// generates up front. Generating on the fly would spend the load generator's
// share of the two cores on fusiongen instead of on sending; a pool large
// enough that trace ids repeat only every few seconds keeps the fusion
// processor's span index honest.
const poolBatches = 48

// fusionDataProvider is a testbed.DataProvider over fusiongen: realistic
// services, spans with database and RPC children, linked logs and all five
// metric types. Batches are made once and handed out in turn; they are never
// mutated, so the senders may marshal them concurrently.
type fusionDataProvider struct {
	traces  []ptrace.Traces
	logs    []plog.Logs
	metrics []pmetric.Metrics

	next    atomic.Uint64
	counter *atomic.Uint64
}

var _ testbed.DataProvider = (*fusionDataProvider)(nil)

// newFusionDataProvider makes poolBatches batches of itemsPerBatch items of
// each signal from seed.
func newFusionDataProvider(seed int64, itemsPerBatch int) *fusionDataProvider {
	gen := fusiongen.New(seed)
	dp := &fusionDataProvider{}
	for range poolBatches {
		dp.traces = append(dp.traces, gen.Traces(itemsPerBatch))
		dp.logs = append(dp.logs, gen.Logs(itemsPerBatch))
		dp.metrics = append(dp.metrics, gen.Metrics(itemsPerBatch))
	}
	return dp
}

var (
	providerCacheMu sync.Mutex
	providerCache   = map[int]*fusionDataProvider{}
)

// sharedProvider returns the provider for a batch size, made once per test
// process: the pool is the same for both binaries, so they see the same data.
func sharedProvider(itemsPerBatch int) *fusionDataProvider {
	providerCacheMu.Lock()
	defer providerCacheMu.Unlock()
	if dp, ok := providerCache[itemsPerBatch]; ok {
		return dp.fork()
	}
	dp := newFusionDataProvider(20261126, itemsPerBatch)
	providerCache[itemsPerBatch] = dp
	return dp.fork()
}

// fork shares the pool but not the cursor or the counter.
func (dp *fusionDataProvider) fork() *fusionDataProvider {
	return &fusionDataProvider{traces: dp.traces, logs: dp.logs, metrics: dp.metrics}
}

func (dp *fusionDataProvider) SetLoadGeneratorCounters(sent *atomic.Uint64) {
	dp.counter = sent
}

func (dp *fusionDataProvider) index() int {
	return int(dp.next.Add(1)-1) % poolBatches
}

func (dp *fusionDataProvider) GenerateTraces() (ptrace.Traces, bool) {
	td := dp.traces[dp.index()]
	dp.counter.Add(uint64(td.SpanCount()))
	return td, false
}

func (dp *fusionDataProvider) GenerateLogs() (plog.Logs, bool) {
	ld := dp.logs[dp.index()]
	dp.counter.Add(uint64(ld.LogRecordCount()))
	return ld, false
}

func (dp *fusionDataProvider) GenerateMetrics() (pmetric.Metrics, bool) {
	md := dp.metrics[dp.index()]
	dp.counter.Add(uint64(md.DataPointCount()))
	return md, false
}
