package e2e

import (
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// fusionExport is what the file exporters behind the fusion processor wrote,
// decoded.
type fusionExport struct {
	spans   []exportedSpan
	logs    []plog.LogRecord
	metrics []pmetric.Metric
}

type exportedSpan struct {
	service string
	span    ptrace.Span
}

// redKey is one RED series: service, operation, kind, status.
type redKey struct {
	service, operation, kind, status string
}

func readFusionExport(t *testing.T, dir string) fusionExport {
	t.Helper()
	var out fusionExport
	tu, lu, mu := ptrace.JSONUnmarshaler{}, plog.JSONUnmarshaler{}, pmetric.JSONUnmarshaler{}
	readFileExport(t, dir+"/traces.json", func(b []byte) error {
		td, err := tu.UnmarshalTraces(b)
		if err != nil {
			return err
		}
		for i := range td.ResourceSpans().Len() {
			rs := td.ResourceSpans().At(i)
			svc, _ := rs.Resource().Attributes().Get("service.name")
			for j := range rs.ScopeSpans().Len() {
				spans := rs.ScopeSpans().At(j).Spans()
				for k := range spans.Len() {
					out.spans = append(out.spans, exportedSpan{service: svc.AsString(), span: spans.At(k)})
				}
			}
		}
		return nil
	})
	readFileExport(t, dir+"/logs.json", func(b []byte) error {
		ld, err := lu.UnmarshalLogs(b)
		if err != nil {
			return err
		}
		for i := range ld.ResourceLogs().Len() {
			sls := ld.ResourceLogs().At(i).ScopeLogs()
			for j := range sls.Len() {
				lrs := sls.At(j).LogRecords()
				for k := range lrs.Len() {
					out.logs = append(out.logs, lrs.At(k))
				}
			}
		}
		return nil
	})
	readFileExport(t, dir+"/metrics.json", func(b []byte) error {
		md, err := mu.UnmarshalMetrics(b)
		if err != nil {
			return err
		}
		for i := range md.ResourceMetrics().Len() {
			sms := md.ResourceMetrics().At(i).ScopeMetrics()
			for j := range sms.Len() {
				ms := sms.At(j).Metrics()
				for k := range ms.Len() {
					out.metrics = append(out.metrics, ms.At(k))
				}
			}
		}
		return nil
	})
	return out
}

// sumByRED adds up the delta points of one derived sum by RED series.
func (e fusionExport) sumByRED(name string) map[redKey]int64 {
	got := map[redKey]int64{}
	for _, m := range e.metrics {
		if m.Name() != name || m.Type() != pmetric.MetricTypeSum {
			continue
		}
		for p := range m.Sum().DataPoints().Len() {
			dp := m.Sum().DataPoints().At(p)
			attr := func(k string) string {
				if v, ok := dp.Attributes().Get(k); ok {
					return v.AsString()
				}
				return ""
			}
			got[redKey{attr("service.name"), attr("span.name"), attr("span.kind"), attr("status.code")}] += dp.IntValue()
		}
	}
	return got
}

func (e fusionExport) sumPoints(name string) int64 {
	var total int64
	for _, v := range e.sumByRED(name) {
		total += v
	}
	return total
}

// One collector, otlp → fusion → file exporters, fed by the OpenTelemetry Go
// SDK. The logs that carry trace context only as attributes come out linked
// to their span, and the RED metrics the processor derives equal the counts
// computed here from the spans the exporter received.
func TestFusionLinksLogsAndDerivesRED(t *testing.T) {
	dir := t.TempDir()
	grpcPort, health, metricsPort := freePort(t), freePort(t), freePort(t)
	config := fmt.Sprintf(`
extensions:
  health_check: {endpoint: 127.0.0.1:%d}
receivers:
  otlp:
    protocols:
      grpc: {endpoint: 127.0.0.1:%d}
processors:
  fusion:
    late_logs: {max_delay: 5s, max_buffered: 100000}
    index: {max_entries: 100000, ttl: 1m}
connectors:
  fusionmetrics:
    temporality: delta
    flush_interval: 500ms
    exemplars: {max_per_data_point: 3}
    rollups:
      - {name: by_service, keep: [service.name]}
exporters:%s
service:
  extensions: [health_check]
  pipelines:
    traces: {receivers: [otlp], processors: [fusion], exporters: [file/traces, fusionmetrics]}
    logs: {receivers: [otlp], processors: [fusion], exporters: [file/logs, fusionmetrics]}
    metrics: {receivers: [otlp, fusionmetrics], exporters: [file/metrics]}%s
`, health, grpcPort, fileExporters(dir), telemetry(metricsPort))
	startCollector(t, "fusion", writeConfig(t, "fusion", config), health)

	app := newSDKApp(t, "checkout", fmt.Sprintf("127.0.0.1:%d", grpcPort))
	const requests = 500
	for i := range requests {
		app.handleRequest(i)
	}
	app.flush(t)
	app.shutdown(t)

	var got fusionExport
	waitFor(t, 90*time.Second, "every span, log and derived call at the exporters", func() bool {
		got = readFusionExport(t, dir)
		return len(got.spans) == 2*requests && len(got.logs) == 2*requests &&
			got.sumPoints("fusion.span.calls") == 2*requests
	})

	// The right span of a log is computed from the exported spans: the
	// client span ("SELECT items") of the trace its trace_id attribute names.
	client := map[pcommon.TraceID]ptrace.Span{}
	want := map[redKey]int64{}
	wantErrors := map[redKey]int64{}
	for _, s := range got.spans {
		k := redKey{s.service, s.span.Name(), spanKindName(s.span.Kind()), statusName(s.span.Status().Code())}
		want[k]++
		if s.span.Status().Code() == ptrace.StatusCodeError {
			wantErrors[k]++
		}
		if s.span.Kind() == ptrace.SpanKindClient {
			client[s.span.TraceID()] = s.span
		}
	}
	require.Len(t, client, requests)

	var hinted, hintedRight, linked, linkedRight int
	for _, lr := range got.logs {
		op := pcommon.NewValueEmpty()
		if v, ok := lr.Attributes().Get("fusion.operation"); ok {
			op = v
		}
		switch lr.Body().AsString() {
		case "slow query":
			hinted++
			var tid pcommon.TraceID
			if v, ok := lr.Attributes().Get("trace_id"); ok {
				if b, err := hex.DecodeString(v.AsString()); err == nil && len(b) == 16 {
					copy(tid[:], b)
				}
			}
			span, ok := client[tid]
			if ok && lr.TraceID() == span.TraceID() && lr.SpanID() == span.SpanID() && op.AsString() == span.Name() {
				hintedRight++
			}
		case "loading item":
			linked++
			if span, ok := client[lr.TraceID()]; ok && lr.SpanID() == span.SpanID() && op.AsString() == span.Name() {
				linkedRight++
			}
		}
	}
	t.Logf("attribute-only logs linked right: %d/%d; context logs enriched right: %d/%d", hintedRight, hinted, linkedRight, linked)
	require.Equal(t, requests, hinted)
	assert.GreaterOrEqual(t, float64(hintedRight), 0.99*float64(hinted), "attribute-only logs with the right TraceID, SpanID and operation")
	assert.GreaterOrEqual(t, float64(linkedRight), 0.99*float64(linked), "context-linked logs enriched with their operation")

	// RED: calls and errors per service, operation, kind and status.
	assert.Equal(t, want, got.sumByRED("fusion.span.calls"), "calls")
	assert.Equal(t, wantErrors, got.sumByRED("fusion.span.errors"), "errors")
	assert.Equal(t, int64(requests/10), got.sumPoints("fusion.span.errors"), "every tenth server span failed")
	assert.Equal(t, map[redKey]int64{{service: "checkout"}: 2 * requests}, got.sumByRED("fusion.span.calls.by_service"), "rollup")
	waitFor(t, 30*time.Second, "the log counts", func() bool {
		got = readFusionExport(t, dir)
		return got.sumPoints("fusion.log.records") == 2*requests
	})
	selfMetrics := fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort)
	// The connector's own telemetry: every span and log record aggregated once.
	assert.Equal(t, float64(2*requests), scrapeMetric(t, selfMetrics, "otelcol_connector_fusionmetrics_recorded", `signal="spans"`), "spans recorded")
	assert.Equal(t, float64(2*requests), scrapeMetric(t, selfMetrics, "otelcol_connector_fusionmetrics_recorded", `signal="logs"`), "log records recorded")
	t.Logf("processor telemetry: enriched=%v delayed (log before span)=%v unlinked=%v invalid_hints=%v",
		scrapeMetric(t, selfMetrics, "otelcol_processor_fusion_logs_enriched"),
		scrapeMetric(t, selfMetrics, "otelcol_processor_fusion_logs_delayed"),
		scrapeMetric(t, selfMetrics, "otelcol_processor_fusion_logs_unlinked"),
		scrapeMetric(t, selfMetrics, "otelcol_processor_fusion_invalid_hints"))
}

func spanKindName(k ptrace.SpanKind) string {
	return map[ptrace.SpanKind]string{
		ptrace.SpanKindUnspecified: "SPAN_KIND_UNSPECIFIED", ptrace.SpanKindInternal: "SPAN_KIND_INTERNAL",
		ptrace.SpanKindServer: "SPAN_KIND_SERVER", ptrace.SpanKindClient: "SPAN_KIND_CLIENT",
		ptrace.SpanKindProducer: "SPAN_KIND_PRODUCER", ptrace.SpanKindConsumer: "SPAN_KIND_CONSUMER",
	}[k]
}

func statusName(c ptrace.StatusCode) string {
	return map[ptrace.StatusCode]string{
		ptrace.StatusCodeUnset: "STATUS_CODE_UNSET", ptrace.StatusCodeOk: "STATUS_CODE_OK", ptrace.StatusCodeError: "STATUS_CODE_ERROR",
	}[c]
}
