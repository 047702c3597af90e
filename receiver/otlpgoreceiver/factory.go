package otlpgoreceiver // import "github.com/otelfusion/otelfusion/receiver/otlpgoreceiver"

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"

	"github.com/otelfusion/otelfusion/internal/sharedcomponent"
	"github.com/otelfusion/otelfusion/receiver/otlpgoreceiver/internal/metadata"
)

// NewFactory returns the factory of the otlpgo receiver.
func NewFactory() receiver.Factory {
	return receiver.NewFactory(
		metadata.Type,
		createDefaultConfig,
		receiver.WithTraces(createTraces, metadata.TracesStability),
		receiver.WithMetrics(createMetrics, metadata.MetricsStability),
		receiver.WithLogs(createLogs, metadata.LogsStability),
	)
}

// receivers holds one running receiver per configuration: the traces, logs
// and metrics pipelines that name the same receiver share its servers.
var receivers = sharedcomponent.NewMap[*Config, *otlpgoReceiver]()

func createTraces(ctx context.Context, set receiver.Settings, cfg component.Config, next consumer.Traces) (receiver.Traces, error) {
	return createShared(ctx, set, cfg.(*Config), func(r *otlpgoReceiver) error {
		return r.registerTraces(ctx, next)
	})
}

func createMetrics(ctx context.Context, set receiver.Settings, cfg component.Config, next consumer.Metrics) (receiver.Metrics, error) {
	return createShared(ctx, set, cfg.(*Config), func(r *otlpgoReceiver) error {
		return r.registerMetrics(ctx, next)
	})
}

func createLogs(ctx context.Context, set receiver.Settings, cfg component.Config, next consumer.Logs) (receiver.Logs, error) {
	return createShared(ctx, set, cfg.(*Config), func(r *otlpgoReceiver) error {
		return r.registerLogs(ctx, next)
	})
}

// createShared returns the shared receiver for cfg, creating it on first use,
// and registers one pipeline's consumer with it.
func createShared(ctx context.Context, set receiver.Settings, cfg *Config, register func(*otlpgoReceiver) error) (*sharedcomponent.Component[*otlpgoReceiver], error) {
	shared, err := receivers.LoadOrStore(cfg, func() (*otlpgoReceiver, error) {
		return newOtlpgoReceiver(cfg, set)
	})
	if err != nil {
		return nil, err
	}
	if err := register(shared.Unwrap()); err != nil {
		// Give back the use LoadOrStore counted, so a failed pipeline does not
		// keep the instance alive.
		_ = shared.Shutdown(ctx)
		return nil, err
	}
	return shared, nil
}
