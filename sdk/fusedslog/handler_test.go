package fusedslog

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	otellog "go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/log/embedded"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/trace"
)

// recorder is an sdklog exporter that keeps clones of what it is given.
type recorder struct {
	mu      sync.Mutex
	records []sdklog.Record
}

func (r *recorder) Export(_ context.Context, records []sdklog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range records {
		r.records = append(r.records, records[i].Clone())
	}
	return nil
}
func (r *recorder) Shutdown(context.Context) error   { return nil }
func (r *recorder) ForceFlush(context.Context) error { return nil }

func newRecorded(t *testing.T, opts ...Option) (*Handler, *recorder) {
	t.Helper()
	rec := &recorder{}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewSimpleProcessor(rec)))
	h := New(lp.Logger("fusedslog-test"), opts...)
	t.Cleanup(func() { _ = h.Close(context.Background()) })
	return h, rec
}

func attrsOf(r sdklog.Record) map[string]attribute.Value {
	m := map[string]attribute.Value{}
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		m[string(kv.Key)] = kv.Value
		return true
	})
	return m
}

func TestRecordCarriesTraceContextAndAttributes(t *testing.T) {
	h, rec := newRecorded(t)
	logger := slog.New(h).With("service", "api").WithGroup("req")
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1, 2, 3}, SpanID: trace.SpanID{4, 5, 6}, TraceFlags: trace.FlagsSampled,
	})
	ctx := trace.ContextWithSpanContext(context.Background(), sc)
	logger.WarnContext(ctx, "slow request", "route", "/items", "status", 200, "ratio", 0.5, "ok", false,
		slog.Group("user", "id", int64(7)), "took", 3*time.Millisecond, "err", errors.New("deadline"))
	if err := h.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(rec.records) != 1 {
		t.Fatalf("%d records, want 1", len(rec.records))
	}
	r := rec.records[0]
	if r.TraceID() != sc.TraceID() || r.SpanID() != sc.SpanID() || r.TraceFlags() != trace.FlagsSampled {
		t.Errorf("trace context %v %v %v", r.TraceID(), r.SpanID(), r.TraceFlags())
	}
	if r.Severity() != otellog.SeverityWarn || r.SeverityText() != "WARN" || r.Body().AsString() != "slow request" {
		t.Errorf("severity %v %q body %q", r.Severity(), r.SeverityText(), r.Body().AsString())
	}
	want := map[string]attribute.Value{
		"service":     attribute.StringValue("api"),
		"req.route":   attribute.StringValue("/items"),
		"req.status":  attribute.Int64Value(200),
		"req.ratio":   attribute.Float64Value(0.5),
		"req.ok":      attribute.BoolValue(false),
		"req.user.id": attribute.Int64Value(7),
		"req.took":    attribute.Int64Value(int64(3 * time.Millisecond)),
		"req.err":     attribute.StringValue("deadline"),
	}
	got := attrsOf(r)
	if len(got) != len(want) {
		t.Errorf("attributes %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k].Emit(), v.Emit())
		}
	}
}

func TestSeverityMapping(t *testing.T) {
	for _, tc := range []struct {
		level slog.Level
		want  otellog.Severity
	}{
		{slog.LevelDebug, otellog.SeverityDebug}, {slog.LevelInfo, otellog.SeverityInfo},
		{slog.LevelWarn, otellog.SeverityWarn}, {slog.LevelError, otellog.SeverityError},
		{slog.LevelError + 2, otellog.SeverityError3}, {-100, otellog.SeverityTrace1}, {100, otellog.SeverityFatal4},
	} {
		if got := severity(tc.level); got != tc.want {
			t.Errorf("severity(%v) = %v, want %v", tc.level, got, tc.want)
		}
	}
}

func TestSamplingKeepsWarningsAndErrors(t *testing.T) {
	h, rec := newRecorded(t, WithSampling(Sampling{Every: 10, KeepLevel: slog.LevelWarn}))
	logger := slog.New(h)
	for range 100 {
		logger.Info("tick")
	}
	for range 5 {
		logger.Warn("careful")
		logger.Info("failed", "err", errors.New("boom"))
	}
	if err := h.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := h.Stats()
	if st.Emitted != 20 || st.SampledOut != 90 || st.Dropped != 0 {
		t.Errorf("stats %+v, want 10 sampled infos + 5 warnings + 5 errors emitted, 90 sampled out", st)
	}
	if len(rec.records) != 20 {
		t.Errorf("%d records reached the SDK", len(rec.records))
	}
}

// blockingLogger holds the worker in Emit until released.
type blockingLogger struct {
	embedded.Logger
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func (l *blockingLogger) Emit(context.Context, otellog.Record) {
	l.once.Do(func() { close(l.entered) })
	<-l.release
}
func (l *blockingLogger) Enabled(context.Context, otellog.EnabledParameters) bool { return true }

func TestFullBufferDropsAndCounts(t *testing.T) {
	bl := &blockingLogger{entered: make(chan struct{}), release: make(chan struct{})}
	h := New(bl, WithBufferSize(4))
	logger := slog.New(h)
	logger.Info("first") // taken by the worker, which then blocks
	<-bl.entered
	for range 4 + 3 { // four fill the ring, three find it full
		logger.Info("more")
	}
	if st := h.Stats(); st.Dropped != 3 {
		t.Errorf("dropped %d, want 3", st.Dropped)
	}
	close(bl.release)
	if err := h.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	logger.Info("after close")
	if st := h.Stats(); st.Emitted != 5 || st.Dropped != 4 {
		t.Errorf("stats %+v, want 5 emitted and 4 dropped", st)
	}
}

func TestHandleDoesNotAllocate(t *testing.T) {
	h, _ := newRecorded(t, WithBufferSize(1<<12))
	r := slog.NewRecord(time.Now(), slog.LevelInfo, "request handled", 0)
	r.AddAttrs(slog.String("method", "GET"), slog.Int("status", 200))
	ctx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}}))
	allocs := testing.AllocsPerRun(1000, func() { _ = h.Handle(ctx, r) })
	if allocs != 0 {
		t.Errorf("Handle allocates %.1f times per record", allocs)
	}
}

func TestConcurrentHandlersLoseNothingCounted(t *testing.T) {
	h, rec := newRecorded(t, WithBufferSize(64))
	logger := slog.New(h)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				logger.Info("x", "g", g, "i", i)
			}
		})
	}
	wg.Wait()
	if err := h.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := h.Stats()
	if st.Emitted+st.Dropped != 4000 || int(st.Emitted) != len(rec.records) {
		t.Errorf("emitted %d + dropped %d != 4000 (recorded %d)", st.Emitted, st.Dropped, len(rec.records))
	}
}
