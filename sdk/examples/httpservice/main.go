// Command httpservice is an HTTP service instrumented with all three parts
// of the sdk module: otelhttp middleware makes the spans and request
// metrics, a fusedslog Handler logs with the trace context of each
// request, hcmetric counts requests per customer (one series per customer,
// high cardinality), and one fused Client sends spans, log records and
// points to otelcol-fusion in shared requests.
//
//	go run ./examples/httpservice -endpoint http://127.0.0.1:4319/v1/fused
//	curl localhost:8080/items/42?customer=c-1017
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelfusion/otelfusion/sdk/fused"
	"github.com/otelfusion/otelfusion/sdk/fusedslog"
	"github.com/otelfusion/otelfusion/sdk/hcmetric"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "httpservice:", err)
		os.Exit(1)
	}
}

func run() error {
	endpoint := flag.String("endpoint", "http://127.0.0.1:4319/v1/fused", "fused receiver of otelcol-fusion")
	listen := flag.String("listen", "127.0.0.1:8080", "address to serve on")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	svc, err := newService(ctx, *endpoint)
	if err != nil {
		return err
	}
	server := &http.Server{Addr: *listen, Handler: svc.handler, ReadHeaderTimeout: 5 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- server.ListenAndServe() }()
	svc.logger.Info("serving", "address", *listen, "endpoint", *endpoint)

	select {
	case err := <-serveErr:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = server.Shutdown(shutdownCtx)
	return svc.shutdown(shutdownCtx)
}

// service is the instrumented HTTP handler and what it takes to stop it.
type service struct {
	handler  http.Handler
	logger   *slog.Logger
	shutdown func(ctx context.Context) error
}

func newService(ctx context.Context, endpoint string) (*service, error) {
	// One client, three exporters: what the providers export in one
	// interval leaves in one request.
	client, err := fused.New(ctx, fused.WithEndpointURL(endpoint), fused.WithFlushInterval(2*time.Second))
	if err != nil {
		return nil, err
	}
	res := resource.NewSchemaless(attribute.String("service.name", "httpservice"))
	tp := sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithBatcher(client.SpanExporter()))
	lp := sdklog.NewLoggerProvider(sdklog.WithResource(res), sdklog.WithProcessor(sdklog.NewBatchProcessor(client.LogExporter())))
	customers := hcmetric.New("httpservice")
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithResource(res),
		sdkmetric.WithReader(sdkmetric.NewPeriodicReader(client.MetricExporter(), sdkmetric.WithInterval(10*time.Second),
			sdkmetric.WithProducer(customers))))

	logs := fusedslog.New(lp.Logger("httpservice"), fusedslog.WithSampling(fusedslog.Sampling{Every: 10, KeepLevel: slog.LevelWarn}))
	logger := slog.New(logs)
	requests, err := customers.Counter("customer.requests", hcmetric.WithSeriesLimit(1_000_000),
		hcmetric.WithDescription("requests per customer and route"))
	if err != nil {
		return nil, err
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.Atoi(r.PathValue("id"))
		customer := r.URL.Query().Get("customer")
		requests.Add(1, attribute.NewSet(attribute.String("customer", customer), attribute.String("route", "/items/{id}")))
		if err != nil {
			logger.WarnContext(r.Context(), "bad item id", "id", r.PathValue("id"), "err", err)
			http.Error(w, "bad item id", http.StatusBadRequest)
			return
		}
		logger.InfoContext(r.Context(), "item served", "item", id, "customer", customer)
		fmt.Fprintf(w, "item %d\n", id)
	})
	handler := otelhttp.NewHandler(mux, "httpservice", otelhttp.WithTracerProvider(tp), otelhttp.WithMeterProvider(mp))
	return &service{
		handler: handler,
		logger:  logger,
		// The logs reach the log pipeline first; then the client's
		// Shutdown drives the providers and sends what is left in one
		// request.
		shutdown: func(ctx context.Context) error {
			return errors.Join(logs.Close(ctx), client.Shutdown(ctx, tp, lp, mp))
		},
	}, nil
}
