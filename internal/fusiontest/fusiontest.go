// Package fusiontest holds test fixtures shared by otelfusion's components:
// spans and logs described in a line and the ids they use (the fusion
// processor, the fusionmetrics connector), and an injectable clock.
package fusiontest

import (
	"maps"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// TraceID is a trace id that differs from others by its last byte.
func TraceID(b byte) pcommon.TraceID { return pcommon.TraceID{0: 0xaa, 15: b} }

// SpanID is a span id that differs from others by its last byte.
func SpanID(b byte) pcommon.SpanID { return pcommon.SpanID{0: 0xbb, 7: b} }

// Span describes one span, alone under its resource.
type Span struct {
	Service  string // service.name of the resource, when not empty
	Name     string
	Trace    pcommon.TraceID
	Span     pcommon.SpanID
	Kind     ptrace.SpanKind
	Status   ptrace.StatusCode
	Duration time.Duration // from a start at 1 s
	Attrs    map[string]any
	Resource map[string]any // more resource attributes
}

// Traces makes one resource and one span per spec, in order.
func Traces(specs ...Span) ptrace.Traces {
	td := ptrace.NewTraces()
	for _, s := range specs {
		rs := td.ResourceSpans().AppendEmpty()
		resource := maps.Clone(s.Resource)
		if s.Service != "" {
			if resource == nil {
				resource = map[string]any{}
			}
			resource["service.name"] = s.Service
		}
		_ = rs.Resource().Attributes().FromRaw(resource)
		span := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
		span.SetName(s.Name)
		span.SetTraceID(s.Trace)
		span.SetSpanID(s.Span)
		span.SetKind(s.Kind)
		span.Status().SetCode(s.Status)
		start := pcommon.Timestamp(1_000_000_000)
		span.SetStartTimestamp(start)
		span.SetEndTimestamp(start + pcommon.Timestamp(s.Duration))
		_ = span.Attributes().FromRaw(s.Attrs)
	}
	return td
}

// Log describes one log record, alone under its resource.
type Log struct {
	Service  string // service.name of the resource, when not empty
	Body     string
	Trace    pcommon.TraceID
	Span     pcommon.SpanID
	Severity plog.SeverityNumber
	Attrs    map[string]any
}

// Logs makes one resource and one record per spec, in order, at 2 s.
func Logs(specs ...Log) plog.Logs {
	ld := plog.NewLogs()
	for _, s := range specs {
		rl := ld.ResourceLogs().AppendEmpty()
		if s.Service != "" {
			rl.Resource().Attributes().PutStr("service.name", s.Service)
		}
		lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
		lr.Body().SetStr(s.Body)
		lr.SetTraceID(s.Trace)
		lr.SetSpanID(s.Span)
		lr.SetSeverityNumber(s.Severity)
		lr.SetTimestamp(pcommon.Timestamp(2_000_000_000))
		_ = lr.Attributes().FromRaw(s.Attrs)
	}
	return ld
}

// Clock is an injectable time that moves only when told.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock starts at 2026-01-02 03:04:05 UTC.
func NewClock() *Clock { return ClockAt(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) }

// ClockAt starts at t.
func ClockAt(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
