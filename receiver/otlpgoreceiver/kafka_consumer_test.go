package otlpgoreceiver

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelfusion/otelfusion/internal/sourceposition"
	"github.com/otelfusion/otelfusion/pkg/fusiongen"
	"github.com/otelfusion/otelfusion/pkg/fusionstore"
	"github.com/otelfusion/otelfusion/pkg/otlpgo"
)

const (
	testTopic = "fused"
	testGroup = "gateways"
)

// startCluster starts a kfake cluster with testTopic of partitions
// partitions, closed after everything the test starts later.
func startCluster(t *testing.T, partitions int32) *kfake.Cluster {
	t.Helper()
	cluster := kfake.MustCluster(kfake.NumBrokers(1), kfake.SeedTopics(partitions, testTopic))
	t.Cleanup(cluster.Close)
	return cluster
}

// kafkaOnlyConfig consumes testTopic of cluster as group testGroup.
func kafkaOnlyConfig(cluster *kfake.Cluster) *Config {
	cfg := fusedOnlyConfig()
	k := defaultKafkaConfig()
	k.Brokers = cluster.ListenAddrs()
	k.Topic = testTopic
	k.GroupID = testGroup
	k.InitialBackoff = 10 * time.Millisecond
	k.MaxBackoff = 50 * time.Millisecond
	cfg.Protocols.Kafka = configoptional.Some(k)
	return cfg
}

// producedRecord is where a frame landed.
type producedRecord struct {
	partition int32
	offset    int64
}

// produceFrames writes each frame, frame i to partition i%partitions, in
// one transaction that is committed, or aborted when commit is false.
func produceFrames(t *testing.T, cluster *kfake.Cluster, txnID string, partitions int32, commit bool, frames ...[]byte) []producedRecord {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.TransactionalID(txnID),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	require.NoError(t, err)
	defer cl.Close()
	ctx := context.Background()
	require.NoError(t, cl.BeginTransaction())
	records := make([]*kgo.Record, len(frames))
	for i, f := range frames {
		records[i] = &kgo.Record{Topic: testTopic, Partition: int32(i) % partitions, Value: f}
	}
	require.NoError(t, cl.ProduceSync(ctx, records...).FirstErr())
	require.NoError(t, cl.EndTransaction(ctx, kgo.TransactionEndTry(commit)))
	out := make([]producedRecord, len(records))
	for i, r := range records {
		out[i] = producedRecord{r.Partition, r.Offset}
	}
	return out
}

// committedOffsets returns the group's committed offset per partition.
func committedOffsets(t *testing.T, cluster *kfake.Cluster, partitions int32) map[int32]int64 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...))
	require.NoError(t, err)
	defer cl.Close()
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Group = testGroup
	topic := kmsg.NewOffsetFetchRequestTopic()
	topic.Topic = testTopic
	for p := range partitions {
		topic.Partitions = append(topic.Partitions, p)
	}
	req.Topics = append(req.Topics, topic)
	resp, err := req.RequestWith(context.Background(), cl)
	require.NoError(t, err)
	out := map[int32]int64{}
	for _, rt := range resp.Topics {
		for _, rp := range rt.Partitions {
			out[rp.Partition] = rp.Offset
		}
	}
	return out
}

// positionRecorder is a consumer that keeps the source position of each
// export, in arrival order.
type positionRecorder struct {
	mu        sync.Mutex
	positions []fusionstore.Position
	spans     int
}

func (p *positionRecorder) consumeTraces(ctx context.Context, td ptrace.Traces) error {
	pos, ok := sourceposition.FromContext(ctx)
	if !ok {
		return errors.New("no source position on the context")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.positions = append(p.positions, pos)
	p.spans += td.SpanCount()
	return nil
}

func (p *positionRecorder) snapshot() ([]fusionstore.Position, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]fusionstore.Position(nil), p.positions...), p.spans
}

func TestKafkaConsumesCommittedFramesWithTheirPositions(t *testing.T) {
	const partitions = 3
	cluster := startCluster(t, partitions)
	gen := fusiongen.New(21)
	var frames [][]byte
	spans := 0
	for range 12 {
		td := gen.Traces(20)
		spans += td.SpanCount()
		frames = append(frames, encodeFrame(t, otlpgo.Request{Traces: td, Logs: plog.NewLogs(), Metrics: testRequest().Metrics}, otlpgo.CompressionZstd))
	}
	// An aborted transaction before and after: read_committed skips them.
	produceFrames(t, cluster, "aborted-1", partitions, false, encodeFrame(t, testRequest(), otlpgo.CompressionZstd))
	produced := produceFrames(t, cluster, "agent-1", partitions, true, frames...)
	produceFrames(t, cluster, "aborted-2", partitions, false, encodeFrame(t, testRequest(), otlpgo.CompressionZstd))

	recorder := &positionRecorder{}
	traces, err := consumer.NewTraces(recorder.consumeTraces)
	require.NoError(t, err)
	metrics := new(consumertest.MetricsSink)
	startReceiver(t, kafkaOnlyConfig(cluster), nopSettings(), pipelines{traces: traces, metrics: metrics})

	require.Eventually(t, func() bool { _, n := recorder.snapshot(); return n >= spans }, 30*time.Second, 20*time.Millisecond)
	require.Eventually(t, func() bool {
		committed := committedOffsets(t, cluster, partitions)
		for p := range int32(partitions) {
			// Each partition holds its aborted records and markers too; the
			// committed offset is past the last committed frame.
			last := int64(-1)
			for _, r := range produced {
				if r.partition == p {
					last = max(last, r.offset)
				}
			}
			if committed[p] <= last {
				return false
			}
		}
		return true
	}, 30*time.Second, 50*time.Millisecond)

	positions, got := recorder.snapshot()
	assert.Equal(t, spans, got)
	// Each produced record lies in exactly one delivered export's range,
	// and the ranges of a partition follow each other.
	covered := map[producedRecord]int{}
	last := map[int32]int64{}
	for _, p := range positions {
		assert.Equal(t, testTopic, p.Source)
		assert.LessOrEqual(t, p.First, p.Offset)
		if prev, ok := last[p.Partition]; ok {
			assert.Greater(t, p.First, prev, "exports of partition %d in offset order", p.Partition)
		}
		last[p.Partition] = p.Offset
		for _, r := range produced {
			if r.partition == p.Partition && r.offset >= p.First && r.offset <= p.Offset {
				covered[r]++
			}
		}
	}
	for _, r := range produced {
		assert.Equal(t, 1, covered[r], "record %+v delivered once", r)
	}
	assert.Equal(t, len(produced)*testRequest().Metrics.DataPointCount(), metrics.DataPointCount())
}

// flakyLogs refuses the first refusals exports for now, as a full
// downstream queue does, then accepts.
type flakyLogs struct {
	consumertest.LogsSink
	mu       sync.Mutex
	refusals int
	offers   int
}

func (f *flakyLogs) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	f.mu.Lock()
	f.offers++
	refuse := f.offers <= f.refusals
	f.mu.Unlock()
	if refuse {
		return errors.New("downstream busy")
	}
	return f.LogsSink.ConsumeLogs(ctx, ld)
}

// TestKafkaRefusalIsBackoffNotLoss: a frame whose logs are refused for now
// is offered again until accepted; its spans, accepted the first time, are
// not offered again; then the offsets are committed.
func TestKafkaRefusalIsBackoffNotLoss(t *testing.T) {
	cluster := startCluster(t, 1)
	gen := fusiongen.New(22)
	td, ld := gen.Traces(30), gen.Logs(25)
	produced := produceFrames(t, cluster, "agent-1", 1, true,
		encodeFrame(t, otlpgo.Request{Traces: td, Logs: ld, Metrics: testRequest().Metrics}, otlpgo.CompressionZstd))

	traces := new(consumertest.TracesSink)
	logs := &flakyLogs{refusals: 4}
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	set := nopSettings()
	set.TelemetrySettings = tel.NewTelemetrySettings()
	startReceiver(t, kafkaOnlyConfig(cluster), set, pipelines{traces: traces, logs: logs})

	require.Eventually(t, func() bool { return committedOffsets(t, cluster, 1)[0] > produced[0].offset },
		30*time.Second, 20*time.Millisecond)
	assert.Equal(t, td.SpanCount(), traces.SpanCount())
	assert.Equal(t, ld.LogRecordCount(), logs.LogRecordCount())
	logs.mu.Lock()
	assert.Equal(t, 5, logs.offers)
	logs.mu.Unlock()
	assertCounter(t, tel, "otelcol_otlpgo_receiver_kafka_backoffs", 4)
	require.Eventually(t, func() bool {
		m, err := tel.GetMetric("otelcol_otlpgo_receiver_kafka_committed_records")
		return err == nil && len(m.Data.(metricdata.Sum[int64]).DataPoints) == 1
	}, 10*time.Second, 20*time.Millisecond)
	assertCounter(t, tel, "otelcol_otlpgo_receiver_kafka_committed_records", 1)
	assertCounter(t, tel, "otelcol_otlpgo_receiver_frames", 1)
}

// TestKafkaBadRecordIsDroppedAndPassed: a record that is not a frame is
// logged and skipped; the frames around it are delivered.
func TestKafkaBadRecordIsDroppedAndPassed(t *testing.T) {
	cluster := startCluster(t, 1)
	good := encodeFrame(t, otlpgo.Request{Traces: testRequest().Traces, Logs: plog.NewLogs(), Metrics: testRequest().Metrics}, otlpgo.CompressionNone)
	produced := produceFrames(t, cluster, "agent-1", 1, true, good, []byte("not a frame"), good[:len(good)-3], good)

	traces := new(consumertest.TracesSink)
	startReceiver(t, kafkaOnlyConfig(cluster), nopSettings(), pipelines{traces: traces})
	require.Eventually(t, func() bool { return committedOffsets(t, cluster, 1)[0] > produced[3].offset },
		30*time.Second, 20*time.Millisecond)
	assert.Equal(t, 2*testRequest().Traces.SpanCount(), traces.SpanCount())
}

func TestKafkaConfigValidate(t *testing.T) {
	k := defaultKafkaConfig()
	k.Topic, k.GroupID = "", ""
	k.MaxPollRecords, k.MaxBatchBytes, k.InitialBackoff, k.MaxBackoff = 0, 0, time.Second, time.Millisecond
	assert.EqualError(t, k.Validate(), "'protocols::kafka::brokers' must list at least one broker\n"+
		"'protocols::kafka::topic' must be set\n'protocols::kafka::group_id' must be set\n"+
		"'protocols::kafka::max_poll_records' must be positive, got 0\n"+
		"'protocols::kafka::max_batch_bytes' must be positive, got 0\n"+
		"'protocols::kafka::max_backoff' must be >= 'protocols::kafka::initial_backoff'")
}

// overlapTraces answers like the store for a run of records that is partly
// stored: every merged export is refused with ErrPositionOverlap.
type overlapTraces struct {
	positionRecorder
	refused int
}

func (o *overlapTraces) consumeTraces(ctx context.Context, td ptrace.Traces) error {
	pos, _ := sourceposition.FromContext(ctx)
	if pos.First != pos.Offset {
		o.mu.Lock()
		o.refused++
		o.mu.Unlock()
		return consumererror.NewPermanent(fmt.Errorf("%w: %s", fusionstore.ErrPositionOverlap, pos))
	}
	return o.positionRecorder.consumeTraces(ctx, td)
}

// TestKafkaOverlapIsOfferedRecordByRecord: a merged run the store finds
// partly stored is offered again one record at a time, nothing lost.
func TestKafkaOverlapIsOfferedRecordByRecord(t *testing.T) {
	cluster := startCluster(t, 1)
	var frames [][]byte
	for range 5 {
		frames = append(frames, encodeFrame(t, otlpgo.Request{Traces: testRequest().Traces, Logs: plog.NewLogs(), Metrics: testRequest().Metrics}, otlpgo.CompressionNone))
	}
	produced := produceFrames(t, cluster, "agent-1", 1, true, frames...)

	o := &overlapTraces{}
	traces, err := consumer.NewTraces(o.consumeTraces)
	require.NoError(t, err)
	startReceiver(t, kafkaOnlyConfig(cluster), nopSettings(), pipelines{traces: traces})
	require.Eventually(t, func() bool { return committedOffsets(t, cluster, 1)[0] > produced[4].offset },
		30*time.Second, 20*time.Millisecond)

	positions, spans := o.snapshot()
	assert.Equal(t, 5*testRequest().Traces.SpanCount(), spans)
	require.Len(t, positions, 5)
	for i, p := range positions {
		assert.Equal(t, produced[i].offset, p.Offset)
	}
	o.mu.Lock()
	assert.Positive(t, o.refused, "the five records were first offered merged")
	o.mu.Unlock()
}
