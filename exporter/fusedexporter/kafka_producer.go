package fusedexporter

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelfusion/otelfusion/pkg/otlpgo"
)

// kafkaProducer writes each flush to a topic in one Kafka transaction of an
// idempotent, transactional producer: consumers reading committed data see
// all of a flush or nothing of it, however the producer dies.
type kafkaProducer struct {
	cfg         *KafkaConfig
	compression otlpgo.Compression
	logger      *zap.Logger
	opts        []kgo.Opt

	// mu makes transactions one at a time: a transactional producer has at
	// most one open.
	mu sync.Mutex
	// client is nil until the first flush, and again after a failure that
	// leaves its transaction state unknown: a new client re-initialises the
	// producer id, which aborts whatever was left open.
	client      *kgo.Client
	partitions  int32
	refreshedAt time.Time
}

func newKafkaProducer(ctx context.Context, cfg *KafkaConfig, compression otlpgo.Compression, logger *zap.Logger) (*kafkaProducer, error) {
	opts, err := cfg.Options(ctx, logger)
	if err != nil {
		return nil, err
	}
	opts = append(opts,
		kgo.TransactionalID(cfg.TransactionalID),
		kgo.TransactionTimeout(cfg.TransactionTimeout),
		// Records are placed by trace id here, not by franz-go.
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		// A batch holds one record of max_record_bytes with its headers,
		// and stays under the topic's max.message.bytes.
		kgo.ProducerBatchMaxBytes(int32(cfg.MaxRecordBytes)+1024),
		kgo.RecordDeliveryTimeout(cfg.Timeout),
	)
	return &kafkaProducer{cfg: cfg, compression: compression, logger: logger, opts: opts}, nil
}

// close aborts nothing: an open transaction of a closed client is aborted by
// the cluster at transaction_timeout, or at once when the id comes back.
func (p *kafkaProducer) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.client != nil {
		p.client.Close()
		p.client = nil
	}
}

// produce writes req as one transaction and returns the bytes written. An
// error wrapped by consumererror.NewPermanent will fail however often it is
// retried (a frame that cannot be made small enough); any other is
// retryable, and nothing of req is visible to read_committed consumers.
func (p *kafkaProducer) produce(ctx context.Context, req otlpgo.Request) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()

	if p.client == nil {
		client, err := kgo.NewClient(p.opts...)
		if err != nil {
			return 0, fmt.Errorf("kafka: creating the producer: %w", err)
		}
		p.client, p.partitions = client, 0
	}
	partitions, err := p.partitionCount(ctx)
	if err != nil {
		return 0, err
	}
	records, err := p.appendRecords(nil, req, partitions, 0)
	if err != nil {
		return 0, err
	}
	if len(records) == 0 {
		return 0, nil
	}
	wire := 0
	for _, r := range records {
		wire += len(r.Value)
	}

	if err := p.client.BeginTransaction(); err != nil {
		p.reset()
		return 0, fmt.Errorf("kafka: beginning a transaction: %w", err)
	}
	if err := p.client.ProduceSync(ctx, records...).FirstErr(); err != nil {
		p.abort(ctx)
		return 0, fmt.Errorf("kafka: producing %d records to %q: %w", len(records), p.cfg.Topic, err)
	}
	if err := p.client.EndTransaction(ctx, kgo.TryCommit); err != nil {
		p.abort(ctx)
		return 0, fmt.Errorf("kafka: committing the transaction: %w", err)
	}
	return wire, nil
}

// abort ends a failed transaction; when even that fails the client is
// dropped, and the next flush's new client aborts the transaction by
// re-initialising the producer id.
func (p *kafkaProducer) abort(ctx context.Context) {
	err := p.client.AbortBufferedRecords(ctx)
	if err == nil {
		err = p.client.EndTransaction(ctx, kgo.TryAbort)
	}
	if err != nil {
		p.logger.Warn("Kafka transaction not aborted cleanly; reconnecting", zap.Error(err))
		p.reset()
	}
}

func (p *kafkaProducer) reset() {
	p.client.Close()
	p.client = nil
}

// partitionCount returns the topic's partitions, re-read every
// metadata_refresh. Called with mu held.
func (p *kafkaProducer) partitionCount(ctx context.Context) (int32, error) {
	if p.partitions > 0 && time.Since(p.refreshedAt) < p.cfg.MetadataRefresh {
		return p.partitions, nil
	}
	req := kmsg.NewPtrMetadataRequest()
	topic := kmsg.NewMetadataRequestTopic()
	topic.Topic = kmsg.StringPtr(p.cfg.Topic)
	req.Topics = append(req.Topics, topic)
	resp, err := req.RequestWith(ctx, p.client)
	if err != nil {
		return 0, fmt.Errorf("kafka: reading the metadata of topic %q: %w", p.cfg.Topic, err)
	}
	for _, t := range resp.Topics {
		if t.Topic == nil || *t.Topic != p.cfg.Topic {
			continue
		}
		if err := kerr.ErrorForCode(t.ErrorCode); err != nil {
			return 0, fmt.Errorf("kafka: topic %q ('kafka::topic'): %w", p.cfg.Topic, err)
		}
		if len(t.Partitions) == 0 {
			break
		}
		if p.partitions != 0 && p.partitions != int32(len(t.Partitions)) {
			p.logger.Warn("Kafka topic's partition count changed: traces now map to other partitions",
				zap.String("topic", p.cfg.Topic), zap.Int32("was", p.partitions), zap.Int("now", len(t.Partitions)))
		}
		p.partitions, p.refreshedAt = int32(len(t.Partitions)), time.Now()
		return p.partitions, nil
	}
	return 0, fmt.Errorf("kafka: topic %q ('kafka::topic') has no partitions in the cluster's metadata", p.cfg.Topic)
}

// appendRecords appends to dst a record per group of req at split depth
// depth, splitting a group whose frame exceeds max_record_bytes once more.
func (p *kafkaProducer) appendRecords(dst []*kgo.Record, req otlpgo.Request, partitions int32, depth int) ([]*kgo.Record, error) {
	groups, firstTrace := splitRequest(req, partitions, depth)
	keys := make([]recordGroup, 0, len(groups))
	for g := range groups {
		keys = append(keys, g)
	}
	slices.SortFunc(keys, func(a, b recordGroup) int {
		return cmp.Or(cmp.Compare(a.partition, b.partition), cmp.Compare(a.sub, b.sub))
	})
	for _, g := range keys {
		group := groups[g]
		frame, err := otlpgo.AppendFrame(nil, group, otlpgo.EncodeOptions{Compression: p.compression})
		if err != nil {
			return nil, consumererror.NewPermanent(fmt.Errorf("encoding fused frame: %w", err))
		}
		if len(frame) > p.cfg.MaxRecordBytes {
			if depth >= maxSplitDepth || requestItems(group) <= 1 {
				return nil, consumererror.NewPermanent(fmt.Errorf("kafka: a frame of %d items is %d bytes, over "+
					"'kafka::max_record_bytes' (%d), and cannot be split further", requestItems(group), len(frame), p.cfg.MaxRecordBytes))
			}
			if dst, err = p.appendRecords(dst, group, partitions, depth+1); err != nil {
				return nil, err
			}
			continue
		}
		record := &kgo.Record{Topic: p.cfg.Topic, Partition: g.partition, Value: frame}
		if id, ok := firstTrace[g]; ok {
			record.Key = id[:]
		}
		dst = append(dst, record)
	}
	return dst, nil
}

// exchangeKafka is exchange for 'kafka': the whole batch in one transaction,
// every signal of it committed or none.
func (e *fusedExporter) exchangeKafka(batch []*push) (results outcome, splittable bool) {
	req, present, items := fuse(batch)
	for s := range signalCount {
		if present[s] {
			e.telemetry.FusedRequestItems.Record(e.sendCtx, int64(items[s]),
				metric.WithAttributes(attribute.String("signal", s.String())))
		}
	}
	wire, err := e.kafka.produce(e.sendCtx, req)
	if err != nil {
		if consumererror.IsPermanent(err) {
			e.countRequest("rejected")
		} else {
			e.countRequest("failed")
		}
		if !consumererror.IsPermanent(err) && !errors.Is(err, context.Canceled) {
			e.settings.Logger.Debug("Kafka flush failed; the pushes will be retried", zap.Error(err))
		}
		return results.all(present, err), false
	}
	e.telemetry.FusedWireBytes.Add(e.sendCtx, int64(wire))
	e.countRequest("success")
	return results, false
}
