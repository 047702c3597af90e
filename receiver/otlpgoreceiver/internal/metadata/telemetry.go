package metadata // import "github.com/otelfusion/otelfusion/receiver/otlpgoreceiver/internal/metadata"

import (
	"errors"

	"go.opentelemetry.io/otel/metric"

	"go.opentelemetry.io/collector/component"
)

// Meter returns the meter the receiver records its own metrics with.
func Meter(settings component.TelemetrySettings) metric.Meter {
	return settings.MeterProvider.Meter(ScopeName)
}

// TelemetryBuilder holds the receiver's own instruments. The standard
// accepted/refused item counts come from receiverhelper.ObsReport instead.
type TelemetryBuilder struct {
	// OtlpgoReceiverFrames counts fused frames received over HTTP or read
	// from Kafka, whether or not they decoded.
	OtlpgoReceiverFrames metric.Int64Counter
	// OtlpgoReceiverFrameSize records the encoded size of each received frame.
	OtlpgoReceiverFrameSize metric.Int64Histogram
	// OtlpgoReceiverDecodeErrors counts frames refused as malformed or over
	// a limit, by reason and, for a limit, by its key ("limit").
	OtlpgoReceiverDecodeErrors metric.Int64Counter
	// OtlpgoReceiverInflightRefused counts requests answered 503 because
	// fused::max_inflight_bytes had no room left for them.
	OtlpgoReceiverInflightRefused metric.Int64Counter
	// OtlpgoReceiverInflightBytes is the memory reserved by the fused
	// requests being served.
	OtlpgoReceiverInflightBytes metric.Int64UpDownCounter
	// OtlpgoReceiverTenantOverrides counts what the receiver changed in
	// senders' resources: a tenant overwritten ("conflict") or a server-only
	// attribute removed ("server_only_attribute").
	OtlpgoReceiverTenantOverrides metric.Int64Counter
	// OtlpgoReceiverTenantRefused counts requests refused for their tenant,
	// by reason: "no_tenant", "conflict", "invalid".
	OtlpgoReceiverTenantRefused metric.Int64Counter
	// OtlpgoReceiverKafkaCommittedRecords counts Kafka records whose
	// offsets were committed after the pipelines accepted them.
	OtlpgoReceiverKafkaCommittedRecords metric.Int64Counter
	// OtlpgoReceiverKafkaBackoffs counts offers of Kafka records that a
	// pipeline refused for now, each followed by a back-off and a new offer.
	OtlpgoReceiverKafkaBackoffs metric.Int64Counter
	// OtlpgoReceiverKafkaCommitErrors counts offset commits that failed
	// (their records are read again; the store skips what it holds).
	OtlpgoReceiverKafkaCommitErrors metric.Int64Counter
}

// NewTelemetryBuilder creates the receiver's instruments on the settings'
// MeterProvider.
func NewTelemetryBuilder(settings component.TelemetrySettings) (*TelemetryBuilder, error) {
	meter := Meter(settings)
	builder := TelemetryBuilder{}
	var err, errs error
	builder.OtlpgoReceiverFrames, err = meter.Int64Counter(
		"otelcol_otlpgo_receiver_frames",
		metric.WithDescription("Number of fused frames received over HTTP or read from Kafka. [Alpha]"),
		metric.WithUnit("{frame}"),
	)
	errs = errors.Join(errs, err)
	builder.OtlpgoReceiverFrameSize, err = meter.Int64Histogram(
		"otelcol_otlpgo_receiver_frame_size",
		metric.WithDescription("Encoded size of received fused frames. [Alpha]"),
		metric.WithUnit("By"),
	)
	errs = errors.Join(errs, err)
	builder.OtlpgoReceiverDecodeErrors, err = meter.Int64Counter(
		"otelcol_otlpgo_receiver_decode_errors",
		metric.WithDescription("Number of fused frames rejected because they did not decode, by reason. [Alpha]"),
		metric.WithUnit("{frame}"),
	)
	errs = errors.Join(errs, err)
	builder.OtlpgoReceiverInflightRefused, err = meter.Int64Counter(
		"otelcol_otlpgo_receiver_inflight_refused",
		metric.WithDescription("Number of fused requests refused with 503 because the in-flight decode memory budget was full. [Alpha]"),
		metric.WithUnit("{request}"),
	)
	errs = errors.Join(errs, err)
	builder.OtlpgoReceiverInflightBytes, err = meter.Int64UpDownCounter(
		"otelcol_otlpgo_receiver_inflight_bytes",
		metric.WithDescription("Bytes of decode memory reserved by the fused requests being served. [Alpha]"),
		metric.WithUnit("By"),
	)
	errs = errors.Join(errs, err)
	builder.OtlpgoReceiverTenantOverrides, err = meter.Int64Counter(
		"otelcol_otlpgo_receiver_tenant_overrides",
		metric.WithDescription("Number of resources whose sender-written tenant or server-only attribute the receiver replaced or removed, by reason. [Alpha]"),
		metric.WithUnit("{resource}"),
	)
	errs = errors.Join(errs, err)
	builder.OtlpgoReceiverTenantRefused, err = meter.Int64Counter(
		"otelcol_otlpgo_receiver_tenant_refused",
		metric.WithDescription("Number of requests refused because of their tenant, by reason. [Alpha]"),
		metric.WithUnit("{request}"),
	)
	errs = errors.Join(errs, err)
	builder.OtlpgoReceiverKafkaCommittedRecords, err = meter.Int64Counter(
		"otelcol_otlpgo_receiver_kafka_committed_records",
		metric.WithDescription("Number of Kafka records whose offsets were committed after the pipelines accepted them. [Alpha]"),
		metric.WithUnit("{record}"),
	)
	errs = errors.Join(errs, err)
	builder.OtlpgoReceiverKafkaBackoffs, err = meter.Int64Counter(
		"otelcol_otlpgo_receiver_kafka_backoffs",
		metric.WithDescription("Number of times Kafka records refused for now by a pipeline were offered again after a back-off. [Alpha]"),
		metric.WithUnit("{backoff}"),
	)
	errs = errors.Join(errs, err)
	builder.OtlpgoReceiverKafkaCommitErrors, err = meter.Int64Counter(
		"otelcol_otlpgo_receiver_kafka_commit_errors",
		metric.WithDescription("Number of Kafka offset commits that failed. [Alpha]"),
		metric.WithUnit("{commit}"),
	)
	errs = errors.Join(errs, err)
	return &builder, errs
}
