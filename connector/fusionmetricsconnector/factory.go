package fusionmetricsconnector

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/consumer"

	"github.com/otelfusion/otelfusion/connector/fusionmetricsconnector/internal/metadata"
)

// NewFactory returns the factory of the fusion metrics connector.
func NewFactory() connector.Factory {
	return connector.NewFactory(
		metadata.Type,
		createDefaultConfig,
		connector.WithTracesToMetrics(createTracesToMetrics, metadata.TracesToMetricsStability),
		connector.WithLogsToMetrics(createLogsToMetrics, metadata.LogsToMetricsStability),
	)
}

func createDefaultConfig() component.Config {
	return &Config{
		Attributes: AttributesConfig{
			Service:    "service.name",
			LogService: "fusion.service_name",
			Tenant:     "tenant.id",
		},
		Histogram: HistogramConfig{
			Unit:     "ms",
			Explicit: []float64{2, 4, 6, 8, 10, 50, 100, 200, 400, 800, 1000, 1400, 2000, 5000, 10_000, 15_000},
		},
		Exemplars:        ExemplarsConfig{MaxPerDataPoint: 5},
		Temporality:      TemporalityDelta,
		FlushInterval:    15 * time.Second,
		CardinalityLimit: 1000,
		MaxServices:      256,
	}
}

func createTracesToMetrics(_ context.Context, set connector.Settings, cfg component.Config, next consumer.Metrics) (connector.Traces, error) {
	return newConnector(cfg.(*Config), set, next, true, false)
}

func createLogsToMetrics(_ context.Context, set connector.Settings, cfg component.Config, next consumer.Metrics) (connector.Logs, error) {
	return newConnector(cfg.(*Config), set, next, false, true)
}
