package fusionstoreexporter

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/otelfusion/otelfusion/exporter/fusionstoreexporter/internal/metadata"
)

// defaultExtension is the ID of a fusionstore extension configured without
// a name.
var defaultExtension = component.MustNewID("fusionstore")

// NewFactory returns the factory of the fusionstore exporter.
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
	return &Config{
		Extension:   defaultExtension,
		QueueConfig: configoptional.Some(exporterhelper.NewDefaultQueueConfig()),
		RetryConfig: configretry.NewDefaultBackOffConfig(),
	}
}

// helperOptions hands start, shutdown, queueing and retries to
// exporterhelper; the exporter only finds the extension and appends.
func helperOptions(cfg *Config, exp *storeExporter) []exporterhelper.Option {
	return []exporterhelper.Option{
		exporterhelper.WithStart(exp.start),
		exporterhelper.WithCapabilities(consumer.Capabilities{MutatesData: false}),
		// An append is local and is not interrupted once begun.
		exporterhelper.WithTimeout(exporterhelper.TimeoutConfig{Timeout: 0}),
		exporterhelper.WithRetry(cfg.RetryConfig),
		exporterhelper.WithQueue(cfg.QueueConfig),
	}
}

func createTraces(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Traces, error) {
	sCfg := cfg.(*Config)
	exp := newStoreExporter(sCfg, set.Logger)
	return exporterhelper.NewTraces(ctx, set, cfg, exp.pushTraces, helperOptions(sCfg, exp)...)
}

func createLogs(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Logs, error) {
	sCfg := cfg.(*Config)
	exp := newStoreExporter(sCfg, set.Logger)
	return exporterhelper.NewLogs(ctx, set, cfg, exp.pushLogs, helperOptions(sCfg, exp)...)
}

func createMetrics(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Metrics, error) {
	sCfg := cfg.(*Config)
	exp := newStoreExporter(sCfg, set.Logger)
	return exporterhelper.NewMetrics(ctx, set, cfg, exp.pushMetrics, helperOptions(sCfg, exp)...)
}
