package tenantquota

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"

	"github.com/otelfusion/otelfusion/internal/sharedcomponent"
	"github.com/otelfusion/otelfusion/processor/tenantquota/internal/metadata"
)

// defaultAdminEndpoint keeps the admin API on loopback unless told otherwise.
const defaultAdminEndpoint = "localhost:13190"

// NewFactory returns the factory of the tenant quota processor.
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
	admin := confighttp.NewDefaultServerConfig()
	admin.NetAddr.Endpoint = defaultAdminEndpoint
	return &Config{
		Tenant: TenantConfig{
			MetadataKey:       "X-Tenant-ID",
			ResourceAttribute: "tenant.id",
			Precedence:        []Source{SourceResource},
			Default:           "default",
		},
		Defaults: LimitsConfig{SamplingRate: 1},
		Breaker: BreakerConfig{
			OpenRatio:          1.2,
			OpenAfter:          3 * time.Minute,
			CloseRatio:         0.8,
			CloseAfter:         5 * time.Minute,
			Bucket:             10 * time.Second,
			DegradedSampleRate: 0.01,
		},
		Summary:              SummaryConfig{FlushInterval: 15 * time.Second, MaxSeries: 1000},
		ReloadInterval:       500 * time.Millisecond,
		EnvironmentAttribute: "deployment.environment.name",
		RetentionAttribute:   "otelfusion.retention",
		MaxTenants:           10_000,
		Admin:                configoptional.Default(AdminConfig{ServerConfig: admin}),
	}
}

// processors holds one instance per configuration, shared by every pipeline
// (traces, logs, metrics) that names that configuration.
var processors = sharedcomponent.NewMap[*Config, *quotaProcessor]()

func sharedProcessor(set processor.Settings, cfg *Config) (*sharedcomponent.Component[*quotaProcessor], error) {
	return processors.LoadOrStore(cfg, func() (*quotaProcessor, error) {
		return newQuotaProcessor(cfg, set)
	})
}

func helperOptions(shared *sharedcomponent.Component[*quotaProcessor], mutates bool) []processorhelper.Option {
	return []processorhelper.Option{
		processorhelper.WithStart(shared.Start),
		processorhelper.WithShutdown(shared.Shutdown),
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
	proc, err := processorhelper.NewLogs(ctx, set, cfg, next, shared.Unwrap().processLogs, helperOptions(shared, true)...)
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
	// Summary metrics of sampled tenants join this pipeline at each flush.
	shared.Unwrap().addMetricsConsumer(next)
	proc, err := processorhelper.NewMetrics(ctx, set, cfg, next, shared.Unwrap().processMetrics, helperOptions(shared, true)...)
	if err != nil {
		_ = shared.Shutdown(ctx)
		return nil, err
	}
	return proc, nil
}
