package fusionstoreextension

import (
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// extensionHost is a component.Host that offers the given extensions, as
// the collector's service does for the extensions a config enables.
type extensionHost struct {
	extensions map[component.ID]component.Component
}

func (h extensionHost) GetExtensions() map[component.ID]component.Component { return h.extensions }

// reserveAddr returns a free local address with nothing listening on it.
func reserveAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// queryAnswer is the query API's JSON answer.
type queryAnswer struct {
	Columns   []string `json:"columns"`
	Rows      [][]any  `json:"rows"`
	Truncated bool     `json:"truncated"`
	Error     string   `json:"error"`
}

// tenantTraces is one span of tenant (none when empty) at ts.
func tenantTraces(tenant string, ts time.Time) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "svc-"+tenant)
	if tenant != "" {
		rs.Resource().Attributes().PutStr("tenant.id", tenant)
	}
	sp := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	sp.SetTraceID(pcommon.TraceID{1})
	sp.SetSpanID(pcommon.SpanID{1})
	sp.SetName("op")
	sp.SetStartTimestamp(pcommon.NewTimestampFromTime(ts))
	sp.SetEndTimestamp(pcommon.NewTimestampFromTime(ts.Add(time.Millisecond)))
	return td
}

// tenantLogs is one log record of tenant (none when empty) at ts.
func tenantLogs(tenant string, ts time.Time) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	if tenant != "" {
		rl.Resource().Attributes().PutStr("tenant.id", tenant)
	}
	lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.SetTimestamp(pcommon.NewTimestampFromTime(ts))
	lr.Body().SetStr("x")
	return ld
}
