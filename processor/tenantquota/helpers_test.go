package tenantquota

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/otelfusion/otelfusion/internal/fusiontest"
	"github.com/otelfusion/otelfusion/processor/tenantquota/internal/metadata"
)

// newFakeClock starts on a bucket boundary of every bucket width used here.
func newFakeClock() *fusiontest.Clock {
	return fusiontest.ClockAt(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
}

// testConfig is the default configuration with unlimited quotas, reading the
// tenant from the request header first (tenantContext), then the resource.
func testConfig() *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.Tenant.Precedence = []Source{SourceMetadata, SourceResource}
	return cfg
}

// newTestProcessor builds an unstarted processor on a fake clock.
func newTestProcessor(t *testing.T, cfg *Config, clock *fusiontest.Clock) *quotaProcessor {
	t.Helper()
	require.NoError(t, cfg.Validate())
	p, err := newQuotaProcessor(cfg, nopSettings())
	require.NoError(t, err)
	p.now = clock.Now
	return p
}

func nopSettings() processor.Settings {
	return processortest.NewNopSettings(metadata.Type)
}

// startTestProcessor starts p and shuts it down at the end of the test.
func startTestProcessor(t *testing.T, p *quotaProcessor) {
	t.Helper()
	require.NoError(t, p.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, p.Shutdown(context.Background())) })
}

// tenantContext is a request context carrying the tenant header, as a
// receiver with include_metadata builds it.
func tenantContext(tenantID string) context.Context {
	return client.NewContext(context.Background(), client.Info{
		Metadata: client.NewMetadata(map[string][]string{"X-Tenant-ID": {tenantID}}),
	})
}

// traceID makes a distinct trace id from n.
func traceID(n uint64) pcommon.TraceID {
	var id pcommon.TraceID
	binary.BigEndian.PutUint64(id[:8], n*0x9E3779B97F4A7C15+1)
	binary.BigEndian.PutUint64(id[8:], n)
	return id
}

// spanSpec is one span to build.
type spanSpec struct {
	service, name string
	trace         uint64
	err           bool
	duration      time.Duration
}

// makeTraces builds one resource per span, in order.
func makeTraces(specs ...spanSpec) ptrace.Traces {
	td := ptrace.NewTraces()
	for i, s := range specs {
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", s.service)
		span := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
		span.SetName(s.name)
		span.SetTraceID(traceID(s.trace))
		span.SetSpanID(pcommon.SpanID{byte(i + 1), 1})
		start := pcommon.Timestamp(1_000_000_000)
		span.SetStartTimestamp(start)
		span.SetEndTimestamp(start + pcommon.Timestamp(s.duration))
		if s.err {
			span.Status().SetCode(ptrace.StatusCodeError)
		}
	}
	return td
}

// spans makes n spans of one service and operation in distinct traces.
func spans(n int) ptrace.Traces {
	td := ptrace.NewTraces()
	ss := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty()
	for i := range n {
		span := ss.Spans().AppendEmpty()
		span.SetName("op")
		span.SetTraceID(traceID(uint64(i)))
	}
	return td
}

// logRecords makes n log records, the first withTrace of them in trace i.
func logRecords(n, withTrace int) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "svc")
	lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
	for i := range n {
		lr := lrs.AppendEmpty()
		lr.Body().SetStr("line")
		lr.SetTimestamp(pcommon.Timestamp(i + 1))
		if i < withTrace {
			lr.SetTraceID(traceID(uint64(i)))
		}
	}
	return ld
}
