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
	// OtlpgoReceiverFrames counts fused frames received over HTTP,
	// whether or not they decoded.
	OtlpgoReceiverFrames metric.Int64Counter
	// OtlpgoReceiverFrameSize records the encoded size of each received frame.
	OtlpgoReceiverFrameSize metric.Int64Histogram
	// OtlpgoReceiverDecodeErrors counts frames refused as malformed, by reason.
	OtlpgoReceiverDecodeErrors metric.Int64Counter
}

// NewTelemetryBuilder creates the receiver's instruments on the settings'
// MeterProvider.
func NewTelemetryBuilder(settings component.TelemetrySettings) (*TelemetryBuilder, error) {
	meter := Meter(settings)
	builder := TelemetryBuilder{}
	var err, errs error
	builder.OtlpgoReceiverFrames, err = meter.Int64Counter(
		"otelcol_otlpgo_receiver_frames",
		metric.WithDescription("Number of fused frames received over HTTP. [Alpha]"),
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
	return &builder, errs
}
