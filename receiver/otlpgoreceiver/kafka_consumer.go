package otlpgoreceiver // import "github.com/otelfusion/otelfusion/receiver/otlpgoreceiver"

import (
	"context"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelfusion/otelfusion/internal/sourceposition"
	"github.com/otelfusion/otelfusion/pkg/fusionstore"
	"github.com/otelfusion/otelfusion/pkg/otlpgo"
)

// commitTimeout bounds one offset commit; it is not cut short by Shutdown,
// so what was accepted is committed and not read again.
const commitTimeout = 10 * time.Second

// kafkaConsumer feeds the receiver's pipelines from a Kafka topic. A
// record's offset is committed only after every signal of its frame was
// accepted (or rejected for good); a frame refused for now is offered again
// after a back-off, holding its partition, so nothing refused is lost. Each
// frame reaches the pipelines with its (topic, partition, offset) on the
// context, for the fusionstore exporter to store it exactly once.
type kafkaConsumer struct {
	r      *otlpgoReceiver
	cfg    *KafkaConfig
	client *kgo.Client
	cancel context.CancelFunc
	done   sync.WaitGroup
}

func (r *otlpgoReceiver) startKafka(ctx context.Context) error {
	cfg := r.cfg.Protocols.Kafka.Get()
	opts, err := cfg.Options(ctx, r.settings.Logger)
	if err != nil {
		return err
	}
	opts = append(opts,
		kgo.ConsumerGroup(cfg.GroupID),
		kgo.ConsumeTopics(cfg.Topic),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.DisableAutoCommit(),
		// Partitions do not move while a poll's records are in the
		// pipelines: their offsets are committed by their owner.
		kgo.BlockRebalanceOnPoll(),
		kgo.SessionTimeout(cfg.SessionTimeout),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	)
	if cfg.InstanceID != "" {
		opts = append(opts, kgo.InstanceID(cfg.InstanceID))
	}
	kc, err := kgo.NewClient(opts...)
	if err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	c := &kafkaConsumer{r: r, cfg: cfg, client: kc, cancel: cancel}
	r.kafka = c
	r.settings.Logger.Info("Consuming fused frames from Kafka",
		zap.Strings("brokers", cfg.Brokers), zap.String("topic", cfg.Topic), zap.String("group_id", cfg.GroupID))
	c.done.Go(func() { c.run(runCtx) })
	return nil
}

// stop ends consumption: the frame being offered is abandoned (it is read
// again, by this group, later), what was accepted is committed, and the
// group is left.
func (c *kafkaConsumer) stop() {
	c.cancel()
	c.done.Wait()
	c.client.Close()
}

func (c *kafkaConsumer) run(ctx context.Context) {
	for {
		fetches := c.client.PollRecords(ctx, c.cfg.MaxPollRecords)
		if fetches.IsClientClosed() || ctx.Err() != nil {
			c.client.AllowRebalance()
			return
		}
		fetches.EachError(func(topic string, partition int32, err error) {
			c.r.settings.Logger.Warn("Kafka fetch failed", zap.String("topic", topic),
				zap.Int32("partition", partition), zap.Error(err))
		})

		// Partitions are independent: each is fed in offset order on its
		// own goroutine, and only the records accepted in order are
		// committed.
		var (
			mu       sync.Mutex
			accepted []*kgo.Record
			wg       sync.WaitGroup
		)
		fetches.EachPartition(func(p kgo.FetchTopicPartition) {
			wg.Go(func() {
				for _, record := range p.Records {
					if !c.consume(ctx, record) {
						return
					}
					mu.Lock()
					accepted = append(accepted, record)
					mu.Unlock()
				}
			})
		})
		wg.Wait()
		if len(accepted) > 0 {
			commitCtx, cancel := context.WithTimeout(context.Background(), commitTimeout)
			if err := c.client.CommitRecords(commitCtx, accepted...); err != nil {
				// The records will be read again; the store skips what it has.
				c.r.settings.Logger.Warn("Committing Kafka offsets failed", zap.Int("records", len(accepted)), zap.Error(err))
			}
			cancel()
		}
		c.client.AllowRebalance()
	}
}

// consume hands one record's frame to the pipelines until every signal is
// accepted or rejected for good; false means ctx ended first.
func (c *kafkaConsumer) consume(ctx context.Context, record *kgo.Record) bool {
	r := c.r
	pos := fusionstore.Position{Source: record.Topic, Partition: record.Partition, Offset: record.Offset}
	// The tenant comes from the receiver's 'tenant' settings: the record
	// has no authenticated client, so "auth" and "metadata" find nothing.
	ctx = sourceposition.NewContext(client.NewContext(ctx, client.Info{}), pos)
	r.telemetry.OtlpgoReceiverFrames.Add(ctx, 1)
	r.telemetry.OtlpgoReceiverFrameSize.Record(ctx, int64(len(record.Value)))

	pending := [3]bool{true, true, true} // traces, logs, metrics
	backoff := c.cfg.InitialBackoff
	for {
		// Decoded afresh for each offer: the pipelines may have changed
		// what they were given.
		decoded, err := otlpgo.Decode(record.Value, r.limits)
		if err != nil {
			_, attrs := decodeErrorStatus(err)
			r.telemetry.OtlpgoReceiverDecodeErrors.Add(ctx, 1, metric.WithAttributes(attrs...))
			r.settings.Logger.Error("Dropping a Kafka record that is not a valid fused frame",
				zap.Stringer("position", pos), zap.Error(err))
			return true
		}
		if err := r.stampFrame(ctx, decoded); err != nil {
			r.settings.Logger.Error("Dropping a Kafka record whose tenant is refused",
				zap.Stringer("position", pos), zap.Error(err))
			return true
		}

		var (
			retry bool
			delay time.Duration
		)
		offer := func(i int, present bool, deliver func() deliveryOutcome) {
			if !pending[i] {
				return
			}
			if !present {
				pending[i] = false
				return
			}
			outcome := deliver()
			if outcome.refusal != nil {
				retry = true
				delay = max(delay, outcome.refusal.retryDelay)
				return
			}
			pending[i] = false
			if outcome.result.Rejected > 0 {
				r.settings.Logger.Warn("A pipeline rejected part of a Kafka record for good",
					zap.Stringer("position", pos), zap.Int64("items", outcome.result.Rejected),
					zap.String("message", outcome.result.Message))
			}
		}
		// Spans first, so the logs of the same frame find them indexed.
		offer(0, decoded.Traces.ResourceSpans().Len() > 0, func() deliveryOutcome { return r.deliverTraces(ctx, decoded.Traces) })
		offer(1, decoded.Logs.ResourceLogs().Len() > 0, func() deliveryOutcome { return r.deliverLogs(ctx, decoded.Logs) })
		offer(2, decoded.Metrics.ResourceMetrics().Len() > 0, func() deliveryOutcome { return r.deliverMetrics(ctx, decoded.Metrics) })
		if !retry {
			return true
		}

		wait := max(backoff, delay)
		backoff = min(2*backoff, c.cfg.MaxBackoff)
		r.settings.Logger.Debug("Pipeline refused a Kafka record for now; offering it again",
			zap.Stringer("position", pos), zap.Duration("after", wait))
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return false
		case <-timer.C:
		}
	}
}
