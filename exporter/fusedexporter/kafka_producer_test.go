package fusedexporter

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelfusion/otelfusion/pkg/fusiongen"
	"github.com/otelfusion/otelfusion/pkg/otlpgo"
)

const testTopic = "fused"

// kafkaTestConfig is testConfig producing to cluster's testTopic.
func kafkaTestConfig(cluster *kfake.Cluster, edit func(*KafkaConfig)) *Config {
	cfg := testConfig("")
	k := defaultKafkaConfig()
	k.Brokers = cluster.ListenAddrs()
	k.Topic = testTopic
	k.TransactionalID = "agent-test"
	k.Timeout = 10 * time.Second
	if edit != nil {
		edit(&k)
	}
	cfg.Kafka = configoptional.Some(k)
	return cfg
}

// consumedRecord is a committed record of the topic, decoded.
type consumedRecord struct {
	partition int32
	key       []byte
	size      int
	req       otlpgo.Request
}

// readCommitted reads the topic as a read_committed consumer until it holds
// want items, or fails the test after a bound.
func readCommitted(t *testing.T, cluster *kfake.Cluster, want int) []consumedRecord {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.ConsumeTopics(testTopic),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	require.NoError(t, err)
	defer cl.Close()
	var (
		records []consumedRecord
		items   int
	)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for items < want {
		fetches := cl.PollFetches(ctx)
		require.NoError(t, ctx.Err(), "read %d of %d items", items, want)
		fetches.EachRecord(func(r *kgo.Record) {
			req, err := otlpgo.Decode(r.Value, otlpgo.DefaultLimits())
			require.NoError(t, err)
			records = append(records, consumedRecord{partition: r.Partition, key: r.Key, size: len(r.Value), req: req})
			items += requestItems(req)
		})
	}
	return records
}

// checkPlacement asserts that every trace id lives in one partition (spans
// and logs alike) and that a record's key is one of its trace ids.
func checkPlacement(t *testing.T, records []consumedRecord) {
	t.Helper()
	home := map[pcommon.TraceID]int32{}
	place := func(id pcommon.TraceID, partition int32) {
		if id.IsEmpty() {
			return
		}
		if p, ok := home[id]; ok {
			assert.Equal(t, p, partition, "trace %s in two partitions", id)
		}
		home[id] = partition
	}
	for _, r := range records {
		ids := map[pcommon.TraceID]bool{}
		rss := r.req.Traces.ResourceSpans()
		for i := range rss.Len() {
			for j := range rss.At(i).ScopeSpans().Len() {
				spans := rss.At(i).ScopeSpans().At(j).Spans()
				for k := range spans.Len() {
					place(spans.At(k).TraceID(), r.partition)
					ids[spans.At(k).TraceID()] = true
				}
			}
		}
		rls := r.req.Logs.ResourceLogs()
		for i := range rls.Len() {
			for j := range rls.At(i).ScopeLogs().Len() {
				logs := rls.At(i).ScopeLogs().At(j).LogRecords()
				for k := range logs.Len() {
					place(logs.At(k).TraceID(), r.partition)
					ids[logs.At(k).TraceID()] = true
				}
			}
		}
		if len(r.key) > 0 {
			assert.True(t, ids[pcommon.TraceID(r.key)], "record key is not a trace id of the record")
		}
	}
}

func TestKafkaFlushIsOneTransactionKeyedByTrace(t *testing.T) {
	cluster := kfake.MustCluster(kfake.NumBrokers(1), kfake.SeedTopics(6, testTopic))
	defer cluster.Close()
	var endTxns, commits int
	cluster.ControlKey(kmsg.EndTxn.Int16(), func(req kmsg.Request) (kmsg.Response, error, bool) {
		cluster.KeepControl()
		endTxns++
		if req.(*kmsg.EndTxnRequest).Commit {
			commits++
		}
		return nil, nil, false
	})

	p := startNopPipelines(t, kafkaTestConfig(cluster, nil))
	gen := fusiongen.New(11)
	td, ld, md := gen.Traces(400), gen.Logs(300), gen.Metrics(120)
	errs := pushAll(p, td, ld, md)
	for s, err := range errs {
		require.NoError(t, err, signal(s).String())
	}
	p.shutdown(t)

	want := td.SpanCount() + ld.LogRecordCount() + md.DataPointCount()
	records := readCommitted(t, cluster, want)
	var spans, logs, points int
	partitions := map[int32]bool{}
	for _, r := range records {
		spans += r.req.Traces.SpanCount()
		logs += r.req.Logs.LogRecordCount()
		points += r.req.Metrics.DataPointCount()
		partitions[r.partition] = true
	}
	assert.Equal(t, td.SpanCount(), spans)
	assert.Equal(t, ld.LogRecordCount(), logs)
	assert.Equal(t, md.DataPointCount(), points)
	assert.Len(t, partitions, 6, "400 spans of many traces reach every partition")
	checkPlacement(t, records)
	// One flush (the three pushes coalesce), one committed transaction.
	assert.Equal(t, 1, commits)
	assert.Equal(t, 1, endTxns)
}

func TestKafkaLargeShareIsSplitIntoRecords(t *testing.T) {
	cluster := kfake.MustCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, testTopic))
	defer cluster.Close()
	const maxRecord = 4096
	p := startNopPipelines(t, kafkaTestConfig(cluster, func(k *KafkaConfig) { k.MaxRecordBytes = maxRecord }))
	td := fusiongen.New(12).Traces(2000)
	require.NoError(t, p.traces.ConsumeTraces(context.Background(), td))
	p.shutdown(t)

	records := readCommitted(t, cluster, td.SpanCount())
	spans := 0
	for _, r := range records {
		assert.LessOrEqual(t, r.size, maxRecord)
		spans += r.req.Traces.SpanCount()
	}
	assert.Equal(t, td.SpanCount(), spans)
	assert.Greater(t, len(records), 2, "each partition's share was split")
	checkPlacement(t, records)
}

// TestKafkaFailedFlushIsRetriedAndCommittedOnce: a transaction whose commit
// the cluster refuses is aborted, invisible to read_committed readers, and
// the pushes are retried into a new one.
func TestKafkaFailedFlushIsRetriedAndCommittedOnce(t *testing.T) {
	cluster := kfake.MustCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, testTopic))
	defer cluster.Close()
	refused := false
	cluster.ControlKey(kmsg.EndTxn.Int16(), func(req kmsg.Request) (kmsg.Response, error, bool) {
		end := req.(*kmsg.EndTxnRequest)
		if !end.Commit {
			cluster.KeepControl()
			return nil, nil, false
		}
		// The first commit fails as if the coordinator's fenced us.
		refused = true
		resp := end.ResponseKind().(*kmsg.EndTxnResponse)
		resp.ErrorCode = 47 // INVALID_PRODUCER_EPOCH
		return resp, nil, true
	})

	p := startNopPipelines(t, kafkaTestConfig(cluster, nil))
	td := fusiongen.New(13).Traces(150)
	require.NoError(t, p.traces.ConsumeTraces(context.Background(), td))
	p.shutdown(t)
	require.True(t, refused)

	records := readCommitted(t, cluster, td.SpanCount())
	spans := 0
	for _, r := range records {
		spans += r.req.Traces.SpanCount()
	}
	assert.Equal(t, td.SpanCount(), spans)
}

// TestKafkaUnreachableIsRetryable: with no cluster to talk to, a push fails
// with an error exporterhelper retries, not a permanent one.
func TestKafkaUnreachableIsRetryable(t *testing.T) {
	cluster := kfake.MustCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, testTopic))
	cfg := kafkaTestConfig(cluster, func(k *KafkaConfig) { k.Timeout = time.Second })
	cluster.Close()
	cfg.RetryConfig.Enabled = false
	p := startNopPipelines(t, cfg)
	err := p.traces.ConsumeTraces(context.Background(), fusiongen.New(14).Traces(10))
	require.Error(t, err)
	assert.False(t, consumererror.IsPermanent(err), "%v", err)
}
