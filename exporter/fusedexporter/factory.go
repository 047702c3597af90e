package fusedexporter

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/otelfusion/otelfusion/exporter/fusedexporter/internal/metadata"
	"github.com/otelfusion/otelfusion/internal/sharedcomponent"
)

const (
	defaultTimeout       = 30 * time.Second
	defaultFlushTimeout  = 200 * time.Millisecond
	defaultFlushMaxItems = 8192
)

// NewFactory returns the factory of the fused exporter.
func NewFactory() exporter.Factory {
	return exporter.NewFactory(
		metadata.Type,
		createDefaultConfig,
		exporter.WithTraces(createTraces, metadata.TracesStability),
		exporter.WithLogs(createLogs, metadata.LogsStability),
		exporter.WithMetrics(createMetrics, metadata.MetricsStability),
	)
}

func createDefaultConfig() component.Config {
	client := confighttp.NewDefaultClientConfig()
	client.Timeout = defaultTimeout
	// Frames carry their own zstd flag; HTTP compression stays off (the zero
	// value) so a frame is not compressed twice.
	return &Config{
		ClientConfig:     client,
		FrameCompression: FrameCompressionZstd,
		Flush:            FlushConfig{Timeout: defaultFlushTimeout, MaxItems: defaultFlushMaxItems},
		QueueConfig:      configoptional.Some(exporterhelper.NewDefaultQueueConfig()),
		RetryConfig:      configretry.NewDefaultBackOffConfig(),
		Routing:          configoptional.Default(defaultRoutingConfig()),
		Kafka:            configoptional.Default(defaultKafkaConfig()),
	}
}

// exporters holds one fused exporter per configuration, shared by every
// pipeline (traces, logs, metrics) that names that configuration.
var exporters = sharedcomponent.NewMap[*Config, *fusedExporter]()

// sharedExporter returns the instance for cfg, creating it for the first
// signal that asks.
func sharedExporter(set exporter.Settings, cfg *Config) (*sharedcomponent.Component[*fusedExporter], error) {
	return exporters.LoadOrStore(cfg, func() (*fusedExporter, error) {
		return newFusedExporter(cfg, set)
	})
}

// helperOptions wires exporterhelper to the shared instance: the collector
// provides the queue, retries and lifecycle; the instance coalesces and sends.
func helperOptions(cfg *Config, shared *sharedcomponent.Component[*fusedExporter]) []exporterhelper.Option {
	return []exporterhelper.Option{
		exporterhelper.WithStart(shared.Start),
		exporterhelper.WithShutdown(shared.Shutdown),
		exporterhelper.WithCapabilities(consumer.Capabilities{MutatesData: false}),
		// A push waits for its flush window plus the request; the request
		// itself is bounded by the HTTP client's 'timeout'.
		exporterhelper.WithTimeout(exporterhelper.TimeoutConfig{Timeout: 0}),
		exporterhelper.WithRetry(cfg.RetryConfig),
		exporterhelper.WithQueue(cfg.QueueConfig),
	}
}

func createTraces(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Traces, error) {
	fCfg := cfg.(*Config)
	if fCfg.Routing.HasValue() {
		return createRoutedTraces(ctx, set, fCfg)
	}
	shared, err := sharedExporter(set, fCfg)
	if err != nil {
		return nil, err
	}
	exp, err := exporterhelper.NewTraces(ctx, set, cfg, shared.Unwrap().pushTraces, helperOptions(fCfg, shared)...)
	if err != nil {
		_ = shared.Shutdown(ctx)
		return nil, err
	}
	return exp, nil
}

func createLogs(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Logs, error) {
	fCfg := cfg.(*Config)
	if fCfg.Routing.HasValue() {
		return createRoutedLogs(ctx, set, fCfg)
	}
	shared, err := sharedExporter(set, fCfg)
	if err != nil {
		return nil, err
	}
	exp, err := exporterhelper.NewLogs(ctx, set, cfg, shared.Unwrap().pushLogs, helperOptions(fCfg, shared)...)
	if err != nil {
		_ = shared.Shutdown(ctx)
		return nil, err
	}
	return exp, nil
}

func createMetrics(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Metrics, error) {
	fCfg := cfg.(*Config)
	if fCfg.Routing.HasValue() {
		return createRoutedMetrics(ctx, set, fCfg)
	}
	shared, err := sharedExporter(set, fCfg)
	if err != nil {
		return nil, err
	}
	exp, err := exporterhelper.NewMetrics(ctx, set, cfg, shared.Unwrap().pushMetrics, helperOptions(fCfg, shared)...)
	if err != nil {
		_ = shared.Shutdown(ctx)
		return nil, err
	}
	return exp, nil
}
