package e2e

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The Kafka path: agent (OTLP in, fused exporter producing in transactions)
// -> Kafka (kfake, in this test process, 6 partitions) -> gateway (otlpgo
// receiver consuming read_committed, fusionstore exporter without a queue,
// so an offset is committed only after its rows are in the store).
const (
	kafkaTopic      = "fused"
	kafkaPartitions = 6
	kafkaGroup      = "gateways"
)

// kafkaAgentConfig is an agent whose OK to a client means the flush
// carrying the spans was committed to Kafka: no sending queue.
func kafkaAgentConfig(t *testing.T, brokers string, grpcPort, healthPort int) string {
	return fmt.Sprintf(`
extensions:
  health_check: {endpoint: 127.0.0.1:%d}
receivers:
  otlpgo:
    protocols:
      grpc: {endpoint: 127.0.0.1:%d}
    fused: {endpoint: 127.0.0.1:%d}
exporters:
  fused:
    flush: {timeout: 100ms}
    sending_queue: {enabled: false}
    retry_on_failure: {enabled: true, initial_interval: 100ms, max_interval: 1s, max_elapsed_time: 8s}
    kafka:
      brokers: [%s]
      topic: %s
      transactional_id: agent-1
      timeout: 5s
service:
  extensions: [health_check]
  pipelines:
    traces: {receivers: [otlpgo], exporters: [fused]}%s
`, healthPort, grpcPort, freePort(t), brokers, kafkaTopic, telemetry(freePort(t)))
}

// kafkaGatewayConfig is a gateway storing what it consumes exactly once:
// the store exporter runs in the consuming goroutine (no queue), so the
// (topic, partition, offset) on the context reaches the store with the
// rows.
func kafkaGatewayConfig(t *testing.T, brokers, dataDir string, queryPort, healthPort int) string {
	return fmt.Sprintf(`
extensions:
  health_check: {endpoint: 127.0.0.1:%d}
  fusionstore:
    path: %s
    query: {endpoint: 127.0.0.1:%d}
receivers:
  otlpgo:
    protocols:
      kafka:
        brokers: [%s]
        topic: %s
        group_id: %s
        instance_id: gateway-1
        session_timeout: 10s
    fused: {endpoint: 127.0.0.1:%d}
    # The agent tier decided every item's tenant: the gateway keeps it.
    tenant: {sources: [resource]}
exporters:
  fusionstore:
    extension: fusionstore
    sending_queue: {enabled: false}
    retry_on_failure: {enabled: false}
service:
  extensions: [health_check, fusionstore]
  pipelines:
    traces: {receivers: [otlpgo], exporters: [fusionstore]}%s
`, healthPort, filepath.ToSlash(filepath.Join(dataDir, "fusion.duckdb")), queryPort, brokers, kafkaTopic, kafkaGroup, freePort(t),
		telemetry(freePort(t)))
}

// kafkaKiller kills collectors at chosen moments of the Kafka protocol,
// from inside the kfake cluster: the agent while its transaction has records
// but no commit, the gateway while it commits offsets of records it has
// already stored (the commit is dropped, so they are read again).
type kafkaKiller struct {
	agentArmed, gatewayArmed atomic.Bool
	agentKilled, gwKilled    chan struct{}
	agent, gateway           atomic.Pointer[collectorProcess]
}

func newKafkaKiller(cluster *kfake.Cluster) *kafkaKiller {
	k := &kafkaKiller{agentKilled: make(chan struct{}, 1), gwKilled: make(chan struct{}, 1)}
	cluster.ControlKey(kmsg.Produce.Int16(), func(req kmsg.Request) (kmsg.Response, error, bool) {
		cluster.KeepControl()
		produce := req.(*kmsg.ProduceRequest)
		if produce.TransactionID != nil && k.agentArmed.CompareAndSwap(true, false) {
			k.agent.Load().kill()
			k.agentKilled <- struct{}{}
		}
		return nil, nil, false
	})
	cluster.ControlKey(kmsg.OffsetCommit.Int16(), func(req kmsg.Request) (kmsg.Response, error, bool) {
		cluster.KeepControl()
		if req.(*kmsg.OffsetCommitRequest).Group == kafkaGroup && k.gatewayArmed.CompareAndSwap(true, false) {
			k.gateway.Load().kill()
			k.gwKilled <- struct{}{}
			return nil, errors.New("gateway killed before its offsets were committed"), true
		}
		return nil, nil, false
	})
	return k
}

// killBoth kills the gateway at its next offset commit, then the agent in
// its next transaction, while the clients keep sending.
func (k *kafkaKiller) killBoth(t *testing.T) {
	k.gatewayArmed.Store(true)
	select {
	case <-k.gwKilled:
	case <-time.After(60 * time.Second):
		t.Fatal("the gateway committed no offsets within 60s")
	}
	k.agentArmed.Store(true)
	select {
	case <-k.agentKilled:
	case <-time.After(60 * time.Second):
		t.Fatal("the agent produced nothing within 60s")
	}
}

// logLines counts the lines of a collector log that contain text.
func logLines(t *testing.T, path, text string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return strings.Count(string(data), text)
}

// TestKafkaExactlyOnce: 4 OTLP/gRPC clients send to an agent producing to
// Kafka; a gateway consumes into its store. Each round the gateway is killed
// -9 while committing offsets of records it has stored, then the agent is
// killed -9 inside a transaction; both restart on their state. Every span an
// agent acknowledged is in the store exactly once: lost 0, duplicated 0,
// over 3 rounds.
func TestKafkaExactlyOnce(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(kafkaPartitions, kafkaTopic))
	require.NoError(t, err)
	t.Cleanup(cluster.Close)
	killer := newKafkaKiller(cluster)
	brokers := cluster.ListenAddrs()[0]

	agentGRPC, agentHealth := freePort(t), freePort(t)
	gwQuery, gwHealth := freePort(t), freePort(t)
	gateway := startCollector(t, "kafka-gateway",
		writeConfig(t, "kafka-gateway", kafkaGatewayConfig(t, brokers, t.TempDir(), gwQuery, gwHealth)), gwHealth)
	agent := startCollector(t, "kafka-agent",
		writeConfig(t, "kafka-agent", kafkaAgentConfig(t, brokers, agentGRPC, agentHealth)), agentHealth)
	killer.gateway.Store(gateway)
	killer.agent.Store(agent)
	queryURL := fmt.Sprintf("http://127.0.0.1:%d/v1/query", gwQuery)

	replays, overlaps := 0, 0
	for round := byte(1); round <= durabilityRounds; round++ {
		load := sendUntilKill(t, fmt.Sprintf("127.0.0.1:%d", agentGRPC), round, func() { killer.killBoth(t) })
		require.NotEmpty(t, load.ackedCalls, "round %d: the agent acknowledged something before the kills", round)
		restarted := time.Now()
		agent.start()
		gateway.start()

		// The gateway catches up: every acknowledged call is stored whole.
		var calls map[uint64]callCopies
		waitFor(t, 120*time.Second, "every acknowledged span in the gateway's store", func() bool {
			calls = storedCalls(t, queryURL, round)
			for first := range load.ackedCalls {
				if calls[first].distinct < durabilitySpansPer {
					return false
				}
			}
			return true
		})
		total := waitStoreSettled(t, queryURL)
		calls = storedCalls(t, queryURL, round)
		f := tally(load, calls)
		unacked := 0
		for first, c := range calls {
			if !load.ackedCalls[first] {
				unacked += c.distinct
			}
		}
		// The gateway died after storing what it was committing: it read
		// those records again, and the store skipped them.
		skipped := logLines(t, gateway.logPath, "Skipped a replayed export") - replays
		replays += skipped
		// A merged run that straddled the stored position, re-offered
		// record by record.
		straddled := logLines(t, gateway.logPath, "partly stored already") - overlaps
		overlaps += straddled
		t.Logf("round %d: %v; unacknowledged spans stored %d; replayed exports skipped by the store %d (runs re-offered record by record %d); "+
			"both restarted and settled in %v, store holds %d spans in all",
			round, f, unacked, skipped, straddled, time.Since(restarted).Round(100*time.Millisecond), total)
		assert.Positive(t, skipped, "round %d: the gateway's kill left stored records to be read again", round)
		assert.Zero(t, f.lost, "round %d: acknowledged spans missing from the store", round)
		assert.Zero(t, f.duplicates, "round %d: spans stored twice", round)
	}

	status, _, rows := queryStore(t, queryURL, "default", "SELECT COUNT(*) - COUNT(DISTINCT span_id) FROM traces")
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, 0.0, rows[0][0], "duplicates over all rounds")
	assert.NoError(t, agent.stop(), "the agent exits cleanly on SIGINT after the kills")
	assert.NoError(t, gateway.stop(), "the gateway exits cleanly on SIGINT after the kills")
}
