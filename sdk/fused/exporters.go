package fused

import (
	"context"

	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelfusion/otelfusion/sdk/internal/otlpgo"
)

// SpanExporter returns the client's trace exporter, for
// sdktrace.WithBatcher. Its spans travel in the client's frames.
func (c *Client) SpanExporter() sdktrace.SpanExporter { return spanExporter{c} }

// LogExporter returns the client's log exporter, for
// sdklog.NewBatchProcessor.
func (c *Client) LogExporter() sdklog.Exporter { return logExporter{c} }

// MetricExporter returns the client's metric exporter, for
// sdkmetric.NewPeriodicReader.
func (c *Client) MetricExporter() sdkmetric.Exporter { return metricExporter{c} }

// The exporters add to the client's open frame and return: the client
// sends. Their Shutdown sends what is pending unless the client's own
// Shutdown is driving it; the client stops only in Client.Shutdown.

type spanExporter struct{ c *Client }

func (e spanExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	if len(spans) == 0 {
		return nil
	}
	return e.c.add(ctx, func(f *otlpgo.Builder) { f.AddSpans(spans) })
}

func (e spanExporter) Shutdown(ctx context.Context) error { return e.c.exporterFlush(ctx) }

type logExporter struct{ c *Client }

func (e logExporter) Export(ctx context.Context, records []sdklog.Record) error {
	if len(records) == 0 {
		return nil
	}
	return e.c.add(ctx, func(f *otlpgo.Builder) { f.AddLogs(records) })
}

func (e logExporter) ForceFlush(ctx context.Context) error { return e.c.exporterFlush(ctx) }

func (e logExporter) Shutdown(ctx context.Context) error { return e.c.exporterFlush(ctx) }

type metricExporter struct{ c *Client }

func (e metricExporter) Temporality(k sdkmetric.InstrumentKind) metricdata.Temporality {
	return e.c.cfg.temporality(k)
}

func (e metricExporter) Aggregation(k sdkmetric.InstrumentKind) sdkmetric.Aggregation {
	return e.c.cfg.aggregation(k)
}

func (e metricExporter) Export(ctx context.Context, rm *metricdata.ResourceMetrics) error {
	if len(rm.ScopeMetrics) == 0 {
		return nil
	}
	return e.c.add(ctx, func(f *otlpgo.Builder) { f.AddMetrics(rm) })
}

func (e metricExporter) ForceFlush(ctx context.Context) error { return e.c.exporterFlush(ctx) }

func (e metricExporter) Shutdown(ctx context.Context) error { return e.c.exporterFlush(ctx) }
