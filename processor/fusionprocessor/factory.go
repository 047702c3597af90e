package fusionprocessor

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"

	"github.com/otelfusion/otelfusion/internal/sharedcomponent"
	"github.com/otelfusion/otelfusion/internal/tracehint"
	"github.com/otelfusion/otelfusion/processor/fusionprocessor/internal/metadata"
)

// NewFactory returns the factory of the fusion processor.
func NewFactory() processor.Factory {
	return processor.NewFactory(
		metadata.Type,
		createDefaultConfig,
		processor.WithTraces(createTraces, metadata.TracesStability),
		processor.WithLogs(createLogs, metadata.LogsStability),
		processor.WithMetrics(createMetrics, metadata.MetricsStability),
	)
}

func createDefaultConfig() component.Config {
	hints := tracehint.DefaultReader()
	return &Config{
		Attributes: AttributesConfig{
			Service:        "service.name",
			TraceID:        hints.TraceID,
			SpanID:         hints.SpanID,
			Traceparent:    hints.Traceparent,
			DatadogTraceID: hints.DatadogTraceID,
			DatadogSpanID:  hints.DatadogSpanID,
		},
		Model: ModelConfig{
			Operation: "fusion.operation",
			Service:   "fusion.service_name",
		},
		Index:    IndexConfig{MaxEntries: 100_000, TTL: 2 * time.Minute},
		LateLogs: LateLogsConfig{MaxDelay: 2 * time.Second, MaxBuffered: 10_000},
	}
}

// processors holds one fusion processor per configuration, shared by every
// pipeline (traces, logs, metrics) that names that configuration.
var processors = sharedcomponent.NewMap[*Config, *fusionProcessor]()

func sharedProcessor(set processor.Settings, cfg *Config) (*sharedcomponent.Component[*fusionProcessor], error) {
	return processors.LoadOrStore(cfg, func() (*fusionProcessor, error) {
		return newFusionProcessor(cfg, set)
	})
}

// helperOptions hands the lifecycle to the shared instance; traces and logs
// are mutated (model attributes, ids from hints), metrics are not.
func helperOptions(shared *sharedcomponent.Component[*fusionProcessor], mutates bool) []processorhelper.Option {
	return []processorhelper.Option{
		processorhelper.WithStart(shared.Start),
		processorhelper.WithShutdown(func(ctx context.Context) error {
			shared.Unwrap().drain()
			return shared.Shutdown(ctx)
		}),
		processorhelper.WithCapabilities(consumer.Capabilities{MutatesData: mutates}),
	}
}

func createTraces(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Traces) (processor.Traces, error) {
	shared, err := sharedProcessor(set, cfg.(*Config))
	if err != nil {
		return nil, err
	}
	proc, err := processorhelper.NewTraces(ctx, set, cfg, next, shared.Unwrap().processTraces, helperOptions(shared, true)...)
	if err != nil {
		_ = shared.Shutdown(ctx)
		return nil, err
	}
	return proc, nil
}

func createLogs(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Logs) (processor.Logs, error) {
	shared, err := sharedProcessor(set, cfg.(*Config))
	if err != nil {
		return nil, err
	}
	fp := shared.Unwrap()
	process := func(ctx context.Context, ld plog.Logs) (plog.Logs, error) {
		return fp.processLogs(ctx, ld, next)
	}
	proc, err := processorhelper.NewLogs(ctx, set, cfg, next, process, helperOptions(shared, true)...)
	if err != nil {
		_ = shared.Shutdown(ctx)
		return nil, err
	}
	return proc, nil
}

func createMetrics(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Metrics) (processor.Metrics, error) {
	shared, err := sharedProcessor(set, cfg.(*Config))
	if err != nil {
		return nil, err
	}
	// Metrics pass unchanged: the processor is accepted in a metrics pipeline
	// so configurations from before the fusionmetrics connector still load.
	passThrough := func(_ context.Context, md pmetric.Metrics) (pmetric.Metrics, error) { return md, nil }
	proc, err := processorhelper.NewMetrics(ctx, set, cfg, next, passThrough, helperOptions(shared, false)...)
	if err != nil {
		_ = shared.Shutdown(ctx)
		return nil, err
	}
	return proc, nil
}
