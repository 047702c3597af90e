package otlpgoreceiver // import "github.com/otelfusion/otelfusion/receiver/otlpgoreceiver"

import (
	"context"
	"errors"
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
				for _, batch := range c.batches(p.Records) {
					if !c.consumeBatch(ctx, batch) {
						return
					}
					mu.Lock()
					accepted = append(accepted, batch...)
					mu.Unlock()
				}
			})
		})
		wg.Wait()
		if len(accepted) > 0 {
			commitCtx, cancel := context.WithTimeout(context.Background(), commitTimeout)
			if err := c.client.CommitRecords(commitCtx, accepted...); err != nil {
				// The records will be read again; the store skips what it has.
				c.r.telemetry.OtlpgoReceiverKafkaCommitErrors.Add(commitCtx, 1)
				c.r.settings.Logger.Warn("Committing Kafka offsets failed", zap.Int("records", len(accepted)), zap.Error(err))
			} else {
				c.r.telemetry.OtlpgoReceiverKafkaCommittedRecords.Add(commitCtx, int64(len(accepted)))
			}
			cancel()
		}
		c.client.AllowRebalance()
	}
}

// batches cuts a partition's records of one poll into runs of at most
// max_batch_items items (counted by record size until decoded: a frame's
// items are not known before), each handed to the pipelines as one export.
func (c *kafkaConsumer) batches(records []*kgo.Record) [][]*kgo.Record {
	var (
		out   [][]*kgo.Record
		bytes int
	)
	for i, record := range records {
		if i == 0 || bytes+len(record.Value) > c.cfg.MaxBatchBytes {
			out = append(out, nil)
			bytes = 0
		}
		out[len(out)-1] = append(out[len(out)-1], record)
		bytes += len(record.Value)
	}
	return out
}

// decodeBatch decodes and stamps the frames of records into one request,
// with the position of the run; records that are not valid frames, or
// whose tenant is refused, are logged and left out.
func (c *kafkaConsumer) decodeBatch(ctx context.Context, records []*kgo.Record, count bool) (otlpgo.Request, fusionstore.Position, bool) {
	r := c.r
	merged := otlpgo.NewRequest()
	var (
		pos   fusionstore.Position
		valid int
	)
	for _, record := range records {
		at := fusionstore.Position{Source: record.Topic, Partition: record.Partition, Offset: record.Offset, First: record.Offset}
		if count {
			r.telemetry.OtlpgoReceiverFrames.Add(ctx, 1)
			r.telemetry.OtlpgoReceiverFrameSize.Record(ctx, int64(len(record.Value)))
		}
		decoded, err := otlpgo.Decode(record.Value, r.limits)
		if err != nil {
			if count {
				_, attrs := decodeErrorStatus(err)
				r.telemetry.OtlpgoReceiverDecodeErrors.Add(ctx, 1, metric.WithAttributes(attrs...))
				r.settings.Logger.Error("Dropping a Kafka record that is not a valid fused frame",
					zap.Stringer("position", at), zap.Error(err))
			}
			continue
		}
		if err := r.stampFrame(ctx, decoded); err != nil {
			if count {
				r.settings.Logger.Error("Dropping a Kafka record whose tenant is refused",
					zap.Stringer("position", at), zap.Error(err))
			}
			continue
		}
		if valid == 0 {
			pos = at
		}
		pos.Offset = record.Offset
		valid++
		decoded.Traces.ResourceSpans().MoveAndAppendTo(merged.Traces.ResourceSpans())
		decoded.Logs.ResourceLogs().MoveAndAppendTo(merged.Logs.ResourceLogs())
		decoded.Metrics.ResourceMetrics().MoveAndAppendTo(merged.Metrics.ResourceMetrics())
	}
	return merged, pos, valid > 0
}

// consumeBatch hands a run of one partition's records to the pipelines as
// one export until every signal is accepted or rejected for good; false
// means ctx ended first. When the store finds the run partly stored (after
// a crash, the first run read again), the records are offered one by one.
func (c *kafkaConsumer) consumeBatch(ctx context.Context, records []*kgo.Record) bool {
	r := c.r
	// The tenant comes from the receiver's 'tenant' settings: the record
	// has no authenticated client, so "auth" and "metadata" find nothing.
	ctx = client.NewContext(ctx, client.Info{})
	pending := [3]bool{true, true, true} // traces, logs, metrics
	backoff := c.cfg.InitialBackoff
	for attempt := 0; ; attempt++ {
		// Decoded afresh for each offer: the pipelines may have changed
		// what they were given.
		decoded, pos, ok := c.decodeBatch(ctx, records, attempt == 0)
		if !ok {
			return true
		}
		ctx := sourceposition.NewContext(ctx, pos)

		var (
			retry, overlap bool
			delay          time.Duration
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
			if errors.Is(outcome.err, fusionstore.ErrPositionOverlap) {
				overlap = true
				return
			}
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
		if overlap {
			if len(records) == 1 {
				// Cannot happen for one record: its first and last offsets agree.
				r.settings.Logger.Error("Store refused a single Kafka record as partly stored", zap.Stringer("position", pos))
				return true
			}
			for _, record := range records {
				if !c.consumeBatch(ctx, []*kgo.Record{record}) {
					return false
				}
			}
			return true
		}
		if !retry {
			return true
		}

		r.telemetry.OtlpgoReceiverKafkaBackoffs.Add(ctx, 1)
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
