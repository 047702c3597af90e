// Command fusiondemo is the traffic of `make demo`: four services of a shop,
// instrumented with the OpenTelemetry Go SDK, handle checkout requests;
// after a healthy baseline the payment gateway they depend on turns slow on
// some of them (the injected fault) and the payment service logs errors
// while it waits. The demo sends it all to a running
// otelcol-fusion and waits until the fusion store holds it.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	otellog "go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/metric"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelfusion/otelfusion/sdk/fused"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "fusiondemo:", err)
		os.Exit(1)
	}
}

func run() error {
	fusedURL := flag.String("fused", "http://127.0.0.1:4319/v1/fused", "fused receiver of the collector: each service sends its spans, log records and points in shared requests (sdk/fused)")
	health := flag.String("health", "http://127.0.0.1:13133/", "health check URL to wait for")
	queryURL := flag.String("query", "http://127.0.0.1:4320/v1/query", "query API to wait on for the data")
	tenant := flag.String("tenant", "default", "tenant the data is filed under, named in the queries' X-Tenant-ID header (the demo sends none, so the receiver files it under \"default\")")
	requests := flag.Int("requests", 60, "checkout requests to make before the incident")
	incidentRequests := flag.Int("incident-requests", 40, "checkout requests to make during the incident")
	slowEvery := flag.Int("slow-every", 2, "during the incident, every n-th request meets the slow payment gateway")
	windowsFile := flag.String("windows-file", "", "write the baseline and incident windows here as shell variables (DIAGNOSE_END in Unix nanoseconds, DIAGNOSE_WINDOW, DIAGNOSE_BASELINE), for fusionql diagnose")
	flag.Parse()

	healthCtx, cancelHealth := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancelHealth()
	if err := waitUntil(healthCtx, "the collector to be healthy", func() (bool, error) {
		resp, err := http.Get(*health)
		if err != nil {
			return false, nil
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	}); err != nil {
		return err
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	shop, err := newShop(ctx, *fusedURL)
	if err != nil {
		return err
	}
	fmt.Printf("sending %d checkout requests through frontend → checkout → payment → payment-gateway, then %d more while the gateway is slow on every %d.\n",
		*requests, *incidentRequests, *slowEvery)
	var wg sync.WaitGroup
	baselineStart := time.Now()
	for i := range *requests {
		wg.Go(func() { shop.checkout(i, false) })
		time.Sleep(50 * time.Millisecond)
	}
	incidentStart := time.Now()
	for i := range *incidentRequests {
		wg.Go(func() { shop.checkout(*requests+i, *slowEvery > 0 && i%*slowEvery == 0) })
		time.Sleep(50 * time.Millisecond)
	}
	incidentEnd := time.Now()
	wg.Wait()
	if *windowsFile != "" {
		windows := fmt.Sprintf("DIAGNOSE_END=%d\nDIAGNOSE_WINDOW=%s\nDIAGNOSE_BASELINE=%s\n", incidentEnd.UnixNano(),
			incidentEnd.Sub(incidentStart).Round(time.Millisecond), incidentStart.Sub(baselineStart).Round(time.Millisecond))
		if err := os.WriteFile(*windowsFile, []byte(windows), 0o600); err != nil {
			return err
		}
	}
	if err := shop.shutdown(ctx); err != nil {
		return err
	}
	spans, logs := shop.spans.Load(), shop.logs.Load()
	fmt.Printf("sent %d spans, %d log records and the services' metrics\n", spans, logs)

	return waitUntil(ctx, "the store to hold what was sent", func() (bool, error) {
		gotSpans, err := count(*queryURL, *tenant, "SELECT COUNT(*) FROM traces WHERE span.service_name IN ('frontend', 'checkout', 'payment', 'cart')")
		if err != nil {
			return false, err
		}
		gotLogs, err := count(*queryURL, *tenant, "SELECT COUNT(*) FROM logs WHERE log.service_name IN ('frontend', 'checkout', 'payment', 'cart')")
		if err != nil {
			return false, err
		}
		gotPoints, err := count(*queryURL, *tenant, "SELECT COUNT(*) FROM metrics WHERE metric.name = 'http.server.request.duration'")
		if err != nil {
			return false, err
		}
		if gotSpans >= spans && gotLogs >= logs && gotPoints > 0 {
			fmt.Printf("the store holds %d spans, %d log records, %d request-duration points\n", gotSpans, gotLogs, gotPoints)
			return true, nil
		}
		return false, nil
	})
}

// waitUntil polls cond every 250ms until it holds, fails or ctx ends.
func waitUntil(ctx context.Context, what string, cond func() (bool, error)) error {
	for {
		ok, err := cond()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("gave up waiting for %s: %w", what, ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// count runs a single-number query over tenant's data on the query API. A
// connection error is not fatal (the API may not be up yet); a refused query
// is.
func count(url, tenant, query string) (int64, error) {
	body, _ := json.Marshal(map[string]string{"query": query})
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return -1, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Tenant-ID", tenant)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return -1, nil
	}
	defer resp.Body.Close()
	var answer struct {
		Rows  [][]int64 `json:"rows"`
		Error string    `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
		return -1, err
	}
	if answer.Error != "" {
		return -1, errors.New(answer.Error)
	}
	if len(answer.Rows) != 1 || len(answer.Rows[0]) != 1 {
		return -1, fmt.Errorf("unexpected answer to %q", query)
	}
	return answer.Rows[0][0], nil
}

// service is one instrumented service with its own SDK providers, whose
// three exporters share one fused client.
type service struct {
	name     string
	client   *fused.Client
	traces   *sdktrace.TracerProvider
	logs     *sdklog.LoggerProvider
	metrics  *sdkmetric.MeterProvider
	tracer   trace.Tracer
	logger   otellog.Logger
	duration metric.Float64Histogram
}

// shop is the demo's services and what they sent.
type shop struct {
	frontend, checkoutSvc, cart, payment *service
	spans, logs                          atomic.Int64
}

func newShop(ctx context.Context, endpoint string) (*shop, error) {
	s := &shop{}
	var err error
	for _, target := range []struct {
		svc  **service
		name string
	}{{&s.frontend, "frontend"}, {&s.checkoutSvc, "checkout"}, {&s.cart, "cart"}, {&s.payment, "payment"}} {
		if *target.svc, err = newService(ctx, endpoint, target.name); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func newService(ctx context.Context, endpoint, name string) (*service, error) {
	res, err := resource.New(ctx, resource.WithAttributes(semconv.ServiceName(name), semconv.ServiceVersion("1.0.0"),
		attribute.String("deployment.environment.name", "demo")))
	if err != nil {
		return nil, err
	}
	client, err := fused.New(ctx, fused.WithEndpointURL(endpoint), fused.WithFlushInterval(200*time.Millisecond))
	if err != nil {
		return nil, err
	}
	svc := &service{
		name:   name,
		client: client,
		traces: sdktrace.NewTracerProvider(sdktrace.WithResource(res),
			sdktrace.WithBatcher(client.SpanExporter(), sdktrace.WithBatchTimeout(200*time.Millisecond))),
		logs: sdklog.NewLoggerProvider(sdklog.WithResource(res),
			sdklog.WithProcessor(sdklog.NewBatchProcessor(client.LogExporter(), sdklog.WithExportInterval(200*time.Millisecond)))),
		metrics: sdkmetric.NewMeterProvider(sdkmetric.WithResource(res),
			sdkmetric.WithReader(sdkmetric.NewPeriodicReader(client.MetricExporter(), sdkmetric.WithInterval(time.Second)))),
	}
	svc.tracer = svc.traces.Tracer("fusiondemo")
	svc.logger = svc.logs.Logger("fusiondemo")
	svc.duration, err = svc.metrics.Meter("fusiondemo").Float64Histogram("http.server.request.duration", metric.WithUnit("s"))
	return svc, err
}

// handle runs work inside a span of svc and records its duration.
func (s *shop) handle(ctx context.Context, svc *service, operation string, kind trace.SpanKind, work func(ctx context.Context) error) error {
	ctx, span := svc.tracer.Start(ctx, operation, trace.WithSpanKind(kind))
	started := time.Now()
	err := work(ctx)
	if err != nil {
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
	s.spans.Add(1)
	if kind == trace.SpanKindServer {
		svc.duration.Record(ctx, time.Since(started).Seconds(), metric.WithAttributes(attribute.String("http.route", operation)))
	}
	return err
}

// log emits a record in the span of ctx.
func (s *shop) log(ctx context.Context, svc *service, severity otellog.Severity, level, body string) {
	var rec otellog.Record
	rec.SetTimestamp(time.Now())
	rec.SetSeverity(severity)
	rec.SetSeverityText(level)
	rec.SetBody(attribute.StringValue(body))
	svc.logger.Emit(ctx, rec)
	s.logs.Add(1)
}

// checkout is one request: frontend → checkout → (cart, payment → gateway).
func (s *shop) checkout(i int, slowGateway bool) {
	ctx := context.Background()
	_ = s.handle(ctx, s.frontend, "GET /checkout", trace.SpanKindServer, func(ctx context.Context) error {
		s.log(ctx, s.frontend, otellog.SeverityInfo, "INFO", fmt.Sprintf("checkout page for order %d", i))
		return s.handle(ctx, s.checkoutSvc, "POST /checkout", trace.SpanKindServer, func(ctx context.Context) error {
			_ = s.handle(ctx, s.cart, "GET /cart", trace.SpanKindServer, func(ctx context.Context) error {
				time.Sleep(time.Duration(5+rand.IntN(20)) * time.Millisecond)
				return nil
			})
			return s.handle(ctx, s.payment, "POST /charge", trace.SpanKindServer, func(ctx context.Context) error {
				return s.handle(ctx, s.payment, "payment-gateway authorize", trace.SpanKindClient, func(ctx context.Context) error {
					if !slowGateway {
						time.Sleep(time.Duration(20+rand.IntN(60)) * time.Millisecond)
						s.log(ctx, s.payment, otellog.SeverityInfo, "INFO", "card authorised")
						return nil
					}
					// The injected slow dependency: the gateway stalls and the
					// payment service logs errors while it retries.
					time.Sleep(50 * time.Millisecond)
					s.log(ctx, s.payment, otellog.SeverityError, "ERROR", "payment gateway did not answer, retrying")
					time.Sleep(600 * time.Millisecond)
					s.log(ctx, s.payment, otellog.SeverityWarn, "WARN", "payment gateway slow, still retrying")
					time.Sleep(650 * time.Millisecond)
					s.log(ctx, s.payment, otellog.SeverityError, "ERROR", "payment gateway timeout after 1.3s")
					return errors.New("payment gateway timeout")
				})
			})
		})
	})
}

func (s *shop) shutdown(ctx context.Context) error {
	var errs error
	for _, svc := range []*service{s.frontend, s.checkoutSvc, s.cart, s.payment} {
		// The client shuts the providers down and sends what they held in
		// one last request.
		errs = errors.Join(errs, svc.client.Shutdown(ctx, svc.traces, svc.logs, svc.metrics))
	}
	return errs
}
