package diagnose_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/goleak"

	"github.com/otelfusion/otelfusion/pkg/diagnose"
	"github.com/otelfusion/otelfusion/pkg/fusionql"
	"github.com/otelfusion/otelfusion/pkg/fusionstore"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var smallEnd = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// smallTrace is an orders entry span of entryMs with one database call of
// dbMs under it, starting at start, in tenant.
func smallTrace(td ptrace.Traces, tenant string, n byte, start time.Time, entryMs, dbMs int) {
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("tenant.id", tenant)
	rs.Resource().Attributes().PutStr("service.name", "orders")
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	entry := spans.AppendEmpty()
	entry.SetTraceID(pcommon.TraceID{n, 1})
	entry.SetSpanID(pcommon.SpanID{n, 1})
	entry.SetName("POST /orders")
	entry.SetKind(ptrace.SpanKindServer)
	entry.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
	entry.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(time.Duration(entryMs) * time.Millisecond)))
	db := spans.AppendEmpty()
	db.SetTraceID(pcommon.TraceID{n, 1})
	db.SetSpanID(pcommon.SpanID{n, 2})
	db.SetParentSpanID(pcommon.SpanID{n, 1})
	db.SetName("SELECT order_items")
	db.SetKind(ptrace.SpanKindClient)
	dbStart := start.Add(time.Millisecond)
	db.SetStartTimestamp(pcommon.NewTimestampFromTime(dbStart))
	db.SetEndTimestamp(pcommon.NewTimestampFromTime(dbStart.Add(time.Duration(dbMs) * time.Millisecond)))
}

// Two baseline traces (entry 100 ms, database 50 ms) and two incident
// traces (entry 300 ms, database 250 ms): the mean goes from 100 to 300 ms
// and the database call's self time from 50 to 250 ms per trace, all of
// the increase. Another tenant's incident, far worse, is not seen.
func TestDiagnoseSmallStore(t *testing.T) {
	store := openStore(t)
	ctx := context.Background()
	td := ptrace.NewTraces()
	smallTrace(td, "acme", 1, smallEnd.Add(-40*time.Minute), 100, 50)
	smallTrace(td, "acme", 2, smallEnd.Add(-30*time.Minute), 100, 50)
	smallTrace(td, "acme", 3, smallEnd.Add(-10*time.Minute), 300, 250)
	smallTrace(td, "acme", 4, smallEnd.Add(-5*time.Minute), 300, 250)
	smallTrace(td, "other", 5, smallEnd.Add(-30*time.Minute), 100, 10)
	smallTrace(td, "other", 6, smallEnd.Add(-5*time.Minute), 9000, 10)
	require.NoError(t, store.AppendTraces(ctx, td))
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("tenant.id", "acme")
	rl.Resource().Attributes().PutStr("service.name", "orders")
	lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.SetTraceID(pcommon.TraceID{3, 1})
	lr.SetTimestamp(pcommon.NewTimestampFromTime(smallEnd.Add(-10*time.Minute + 2*time.Millisecond)))
	lr.SetSeverityText("WARN")
	lr.Body().SetStr("slow query on order 4711")
	require.NoError(t, store.AppendLogs(ctx, ld))

	report, err := diagnose.Diagnose(ctx, store, "acme", fusionstore.QueryLimits{Timeout: time.Minute},
		diagnose.Request{Service: "orders", End: smallEnd}, time.Now())
	require.NoError(t, err)
	assert.Equal(t, int64(2), report.Baseline.Spans)
	assert.Equal(t, int64(2), report.Incident.Spans)
	assert.Equal(t, 100.0, report.Baseline.MeanMs)
	assert.Equal(t, 300.0, report.Incident.MeanMs)
	assert.Equal(t, 300.0, report.Incident.P99Ms)
	assert.Equal(t, smallEnd.Add(-75*time.Minute), report.Baseline.Start)
	assert.Equal(t, smallEnd.Add(-15*time.Minute), report.Incident.Start)
	require.NotEmpty(t, report.Candidates)
	top := report.Candidates[0]
	assert.Equal(t, "latency orders SELECT order_items", top.Subject())
	assert.Equal(t, 1.0, top.Share)
	assert.Equal(t, 1.0, top.Score)
	assert.Equal(t, 50.0, top.Baseline)
	assert.Equal(t, 250.0, top.Incident)
	assert.ElementsMatch(t, []string{"03010000000000000000000000000000", "04010000000000000000000000000000"}, top.TraceIDs)
	assert.Equal(t, []string{"slow query on order 4711"}, top.LogLines)
	log := report.Candidates[1]
	assert.Equal(t, "log orders WARN slow query on order <n>", log.Subject())
	// 1.2 * 0.8 (WARN) * 1 (new) * min(1, 2 * 1/2) * 1 * 1.
	assert.InDelta(t, 0.96, log.Score, 1e-12)
	require.Len(t, report.Queries, 7)
	for _, q := range report.Queries {
		_, err := fusionql.Parse(q)
		require.NoError(t, err, q)
	}

	var table bytes.Buffer
	require.NoError(t, report.WriteTable(&table))
	assert.Contains(t, table.String(), "1     1.00   100% latency  latency  orders SELECT order_items")
	assert.Contains(t, table.String(), "self time per trace 50.0 ms -> 250.0 ms")
}

func TestDiagnoseRefusals(t *testing.T) {
	store := openStore(t)
	ctx := context.Background()
	limits := fusionstore.QueryLimits{Timeout: time.Minute}
	_, err := diagnose.Diagnose(ctx, store, "acme", limits, diagnose.Request{}, time.Now())
	require.ErrorIs(t, err, diagnose.ErrBadRequest)
	assert.Contains(t, err.Error(), "'service' is required")
	_, err = diagnose.Diagnose(ctx, store, "acme", limits, diagnose.Request{Service: "orders", Window: time.Millisecond}, time.Now())
	require.ErrorIs(t, err, diagnose.ErrBadRequest)
	assert.Contains(t, err.Error(), "'window' must be at least 1s")
	_, err = diagnose.Diagnose(ctx, store, "acme", limits, diagnose.Request{Service: "orders", Baseline: 8 * 24 * time.Hour}, time.Now())
	require.ErrorIs(t, err, diagnose.ErrBadRequest)
	_, err = diagnose.Diagnose(ctx, store, "acme", limits, diagnose.Request{Service: "orders", Limit: 101}, time.Now())
	require.ErrorIs(t, err, diagnose.ErrBadRequest)
	_, err = diagnose.Diagnose(ctx, store, "acme", limits, diagnose.Request{Service: "orders", End: smallEnd}, time.Now())
	require.ErrorIs(t, err, diagnose.ErrNoTraffic)
	assert.Contains(t, err.Error(), `service "orders" has no entry spans (SERVER or CONSUMER) in the baseline window`)

	// A quote in the service name is data, not FusionQL.
	_, err = diagnose.Diagnose(ctx, store, "acme", limits, diagnose.Request{Service: "o'rders", Operation: "x' OR '1'='1", End: smallEnd}, time.Now())
	require.ErrorIs(t, err, diagnose.ErrNoTraffic)

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = diagnose.Diagnose(cancelled, store, "acme", limits, diagnose.Request{Service: "orders", End: smallEnd}, time.Now())
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.Canceled), err)
}
