package fused

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// request is one POST the test server saw.
type request struct {
	at          time.Time
	contentType string
	frame       []byte
}

// answer is how the test server answers one request.
type answer struct {
	status     int
	retryAfter string
	body       string
	block      chan struct{} // answer only once closed
}

// server records requests and answers from a script; past its end, 200 {}.
type server struct {
	mu       sync.Mutex
	requests []request
	script   []answer
	srv      *httptest.Server
}

func newServer(t *testing.T, script ...answer) *server {
	t.Helper()
	s := &server{script: script}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		frame, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.requests = append(s.requests, request{at: time.Now(), contentType: r.Header.Get("Content-Type"), frame: frame})
		a := answer{status: http.StatusOK, body: `{}`}
		if len(s.script) > 0 {
			a, s.script = s.script[0], s.script[1:]
		}
		s.mu.Unlock()
		if a.block != nil {
			<-a.block
		}
		if a.retryAfter != "" {
			w.Header().Set("Retry-After", a.retryAfter)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(a.status)
		_, _ = io.WriteString(w, a.body)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *server) seen() []request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]request(nil), s.requests...)
}

// sections lists the section tags of an uncompressed frame.
func sections(t *testing.T, frame []byte) []uint64 {
	t.Helper()
	if len(frame) < 16 || string(frame[:4]) != "OTGO" {
		t.Fatalf("not a frame: % x", frame[:min(len(frame), 16)])
	}
	if frame[6]&1 != 0 {
		t.Fatal("frame is compressed; the test wants NoCompression")
	}
	if got := binary.LittleEndian.Uint32(frame[8:]); int(got) != len(frame)-16 {
		t.Fatalf("body_len %d, frame body %d bytes", got, len(frame)-16)
	}
	var tags []uint64
	for body := frame[16:]; len(body) > 0; {
		tag, n := binary.Uvarint(body)
		size, m := binary.Uvarint(body[n:])
		if n <= 0 || m <= 0 || uint64(len(body)-n-m) < size {
			t.Fatalf("bad section head at % x", body[:min(len(body), 8)])
		}
		tags = append(tags, tag)
		body = body[n+m+int(size):]
	}
	return tags
}

// app is an application on the three SDK providers and one Client.
type app struct {
	client *Client
	tp     *sdktrace.TracerProvider
	lp     *sdklog.LoggerProvider
	mp     *sdkmetric.MeterProvider
}

func newApp(t *testing.T, url string, opts ...Option) *app {
	t.Helper()
	opts = append([]Option{WithEndpointURL(url + "/v1/fused"), WithCompression(NoCompression), WithFlushInterval(time.Hour),
		WithRetry(RetryConfig{Enabled: true, InitialInterval: 10 * time.Millisecond, MaxInterval: 50 * time.Millisecond, MaxElapsedTime: 10 * time.Second})}, opts...)
	c, err := New(context.Background(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	res := resource.NewSchemaless(attribute.String("service.name", "client-test"))
	a := &app{
		client: c,
		tp:     sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithBatcher(c.SpanExporter(), sdktrace.WithBatchTimeout(time.Hour))),
		lp:     sdklog.NewLoggerProvider(sdklog.WithResource(res), sdklog.WithProcessor(sdklog.NewBatchProcessor(c.LogExporter(), sdklog.WithExportInterval(time.Hour)))),
		mp:     sdkmetric.NewMeterProvider(sdkmetric.WithResource(res), sdkmetric.WithReader(sdkmetric.NewPeriodicReader(c.MetricExporter(), sdkmetric.WithInterval(time.Hour)))),
	}
	t.Cleanup(func() { _ = a.client.Shutdown(context.Background(), a.tp, a.lp, a.mp) })
	return a
}

// work makes n spans, n log records and one counter with n/2 attribute sets.
func (a *app) work(n int) {
	ctx := context.Background()
	tracer := a.tp.Tracer("t")
	logger := a.lp.Logger("l")
	counter, _ := a.mp.Meter("m").Int64Counter("c")
	for i := range n {
		spanCtx, span := tracer.Start(ctx, "op")
		var rec otellog.Record
		rec.SetBody(attribute.StringValue("hello"))
		rec.AddAttributes(attribute.Int("i", i))
		logger.Emit(spanCtx, rec)
		counter.Add(ctx, 1, metricAttr(i%max(1, n/2)))
		span.End()
	}
}

func (a *app) flush(t *testing.T) {
	t.Helper()
	if err := a.client.Flush(context.Background(), a.tp, a.lp, a.mp); err != nil {
		t.Fatal(err)
	}
}

func TestFlushIsOneRequest(t *testing.T) {
	srv := newServer(t)
	a := newApp(t, srv.srv.URL)
	a.work(10)
	a.flush(t)
	a.work(10)
	a.flush(t)
	got := srv.seen()
	if len(got) != 2 {
		t.Fatalf("2 flushes made %d requests", len(got))
	}
	for _, r := range got {
		if r.contentType != contentType {
			t.Errorf("Content-Type %q", r.contentType)
		}
		if tags := sections(t, r.frame); !equal(tags, []uint64{1, 2, 3, 4}) {
			t.Errorf("sections %v, want dict, traces, logs, metrics", tags)
		}
	}
	st := a.client.Stats()
	// The counter is cumulative: both collections hold its 5 series.
	if want := [3]int64{20, 20, 10}; st.Accepted != want {
		t.Errorf("accepted %v, want %v", st.Accepted, want)
	}
	if st.Requests != 2 || st.Retries != 0 {
		t.Errorf("requests %d retries %d", st.Requests, st.Retries)
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	srv := newServer(t, answer{status: http.StatusServiceUnavailable, retryAfter: "1", body: `{"message":"busy"}`})
	a := newApp(t, srv.srv.URL)
	a.work(4)
	a.flush(t)
	got := srv.seen()
	if len(got) != 2 {
		t.Fatalf("%d requests, want the refused one and its retry", len(got))
	}
	if wait := got[1].at.Sub(got[0].at); wait < time.Second {
		t.Errorf("retried after %v, before the collector's Retry-After of 1s (back-off is 10ms)", wait)
	}
	if st := a.client.Stats(); st.Accepted != [3]int64{4, 4, 2} || st.Retries != 1 || st.Dropped != [3]int64{} {
		t.Errorf("stats %+v", st)
	}
}

func TestOnlyRetryableSignalsAreSentAgain(t *testing.T) {
	srv := newServer(t, answer{status: http.StatusTooManyRequests, retryAfter: "0",
		body: `{"traces":{"accepted":3,"rejected":0},"logs":{"accepted":0,"rejected":0,"retryable":true,"message":"throttled"},"metrics":{"accepted":1,"rejected":1,"message":"bad point"}}`})
	a := newApp(t, srv.srv.URL)
	a.work(3)
	a.flush(t)
	got := srv.seen()
	if len(got) != 2 {
		t.Fatalf("%d requests, want 2", len(got))
	}
	if tags := sections(t, got[1].frame); !equal(tags, []uint64{1, 3}) {
		t.Errorf("retry carries sections %v, want dict and logs only", tags)
	}
	st := a.client.Stats()
	if st.Accepted != [3]int64{3, 3, 1} || st.Rejected != [3]int64{0, 0, 1} || st.Dropped != [3]int64{} {
		t.Errorf("stats %+v", st)
	}
}

func TestPermanentRefusalDropsWithoutRetry(t *testing.T) {
	srv := newServer(t, answer{status: http.StatusBadRequest, body: `{"message":"malformed"}`})
	a := newApp(t, srv.srv.URL)
	a.work(2)
	err := a.client.Flush(context.Background(), a.tp, a.lp, a.mp)
	if err == nil {
		t.Fatal("Flush hid a 400")
	}
	if n := len(srv.seen()); n != 1 {
		t.Errorf("%d requests after a 400, want 1", n)
	}
	if st := a.client.Stats(); st.Dropped != [3]int64{2, 2, 1} || st.Accepted != [3]int64{} {
		t.Errorf("stats %+v", st)
	}
}

func TestRetriesGiveUpAfterMaxElapsedTime(t *testing.T) {
	refuse := answer{status: http.StatusServiceUnavailable, body: `{"message":"down"}`}
	srv := newServer(t, refuse, refuse, refuse, refuse, refuse, refuse, refuse, refuse)
	a := newApp(t, srv.srv.URL, WithRetry(RetryConfig{Enabled: true, InitialInterval: 20 * time.Millisecond,
		MaxInterval: 20 * time.Millisecond, MaxElapsedTime: 70 * time.Millisecond}))
	a.work(2)
	if err := a.client.Flush(context.Background(), a.tp, a.lp, a.mp); err == nil {
		t.Fatal("Flush hid the dropped frame")
	}
	st := a.client.Stats()
	if st.Dropped != [3]int64{2, 2, 1} {
		t.Errorf("dropped %v", st.Dropped)
	}
	if st.Requests < 2 || st.Requests > 5 {
		t.Errorf("%d requests within a 70ms budget at 20ms intervals", st.Requests)
	}
}

func TestFullQueueDropsAndCounts(t *testing.T) {
	block := make(chan struct{})
	srv := newServer(t, answer{status: http.StatusOK, body: `{}`, block: block})
	c, err := New(context.Background(), WithEndpointURL(srv.srv.URL+"/v1/fused"), WithCompression(NoCompression),
		WithMaxFrameBytes(1024), WithQueueSize(1), WithFlushInterval(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	// Each export of one span with a 2 KiB attribute fills a frame.
	span := tracetest.SpanStub{Name: "op", Attributes: []attribute.KeyValue{attribute.String("payload", string(make([]byte, 2048)))}}
	spans := []sdktrace.ReadOnlySpan{span.Snapshot()}
	exporter := c.SpanExporter()
	// The first frame goes on the wire, where the server holds it.
	if err := exporter.ExportSpans(context.Background(), spans); err != nil {
		t.Fatal(err)
	}
	for len(srv.seen()) == 0 {
		time.Sleep(time.Millisecond)
	}
	// The second waits in the queue of one.
	if err := exporter.ExportSpans(context.Background(), spans); err != nil {
		t.Fatal(err)
	}
	// The third finds no room before its context ends.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := exporter.ExportSpans(ctx, spans); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("export into a full queue: %v, want context.DeadlineExceeded", err)
	}
	close(block)
	if err := c.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := c.Stats()
	if st.Accepted[0] != 2 || st.Dropped[0] != 1 {
		t.Errorf("accepted %d, dropped %d spans; want 2 and 1", st.Accepted[0], st.Dropped[0])
	}
}

func TestShutdownSendsWhatIsPending(t *testing.T) {
	srv := newServer(t)
	a := newApp(t, srv.srv.URL)
	a.work(6)
	if err := a.client.Shutdown(context.Background(), a.tp, a.lp, a.mp); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.seen()); n != 1 {
		t.Fatalf("Shutdown made %d requests, want 1", n)
	}
	if st := a.client.Stats(); st.Accepted != [3]int64{6, 6, 3} {
		t.Errorf("accepted %v", st.Accepted)
	}
	if err := a.client.SpanExporter().ExportSpans(context.Background(), make([]sdktrace.ReadOnlySpan, 1)); !errors.Is(err, ErrShutdown) {
		t.Errorf("export after Shutdown: %v, want ErrShutdown", err)
	}
	if err := a.client.Shutdown(context.Background()); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
}

func TestFlushIntervalSends(t *testing.T) {
	srv := newServer(t)
	a := newApp(t, srv.srv.URL, WithFlushInterval(20*time.Millisecond))
	tracer := a.tp.Tracer("t")
	_, span := tracer.Start(context.Background(), "op")
	span.End()
	if err := a.tp.ForceFlush(context.Background()); err != nil { // the batcher hands the span to the client
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(srv.seen()) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := srv.seen(); len(got) != 1 {
		t.Fatalf("%d requests, want the interval's 1", len(got))
	}
}

func TestOptionsAreValidated(t *testing.T) {
	for _, tc := range []struct {
		opt  Option
		want string
	}{
		{WithEndpointURL("ftp://x"), "not an http(s) URL"},
		{WithEndpoint(""), "WithEndpoint"},
		{WithCompression(7), "WithCompression"},
		{WithTimeout(0), "WithTimeout"},
		{WithFlushInterval(-1), "WithFlushInterval"},
		{WithMaxFrameBytes(10), "WithMaxFrameBytes"},
		{WithQueueSize(0), "WithQueueSize"},
		{WithRetry(RetryConfig{Enabled: true, InitialInterval: time.Second, MaxInterval: time.Millisecond}), "WithRetry"},
	} {
		_, err := New(context.Background(), tc.opt)
		if err == nil || !contains(err.Error(), tc.want) {
			t.Errorf("error %v, want one naming %s", err, tc.want)
		}
	}
}

func TestRetryAfterHeader(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{{"", 0}, {"3", 3 * time.Second}, {"-1", 0}, {"soon", 0}} {
		if got := retryAfter(tc.in); got != tc.want {
			t.Errorf("retryAfter(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
	if got := retryAfter(time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)); got < 59*time.Minute || got > time.Hour {
		t.Errorf("HTTP date an hour ahead: %v", got)
	}
}
