package fused

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// Compression is how a frame body is compressed on the wire.
type Compression int

const (
	// ZstdCompression compresses the frame body with zstd (the default).
	ZstdCompression Compression = iota
	// NoCompression sends the body as it is.
	NoCompression
)

// String returns the name of the compression.
func (c Compression) String() string {
	switch c {
	case ZstdCompression:
		return "zstd"
	case NoCompression:
		return "none"
	default:
		return "unknown"
	}
}

// RetryConfig says how a frame the collector refused for now (429, 502, 503,
// 504, or no answer) is sent again: after an exponential back-off from
// InitialInterval up to MaxInterval, or after the collector's Retry-After
// when that is longer, until MaxElapsedTime has passed since the first try.
type RetryConfig struct {
	// Enabled turns retries on.
	Enabled bool
	// InitialInterval is the wait before the first retry.
	InitialInterval time.Duration
	// MaxInterval caps the wait between two tries.
	MaxInterval time.Duration
	// MaxElapsedTime is how long a frame is tried before it is dropped.
	MaxElapsedTime time.Duration
}

// DefaultRetryConfig is the retry policy of the OTLP exporters.
var DefaultRetryConfig = RetryConfig{
	Enabled:         true,
	InitialInterval: 5 * time.Second,
	MaxInterval:     30 * time.Second,
	MaxElapsedTime:  time.Minute,
}

// config is what the options set.
type config struct {
	scheme        string
	host          string
	path          string
	headers       http.Header
	compression   Compression
	timeout       time.Duration
	retry         RetryConfig
	flushInterval time.Duration
	maxFrameBytes int
	queueFrames   int
	httpClient    *http.Client
	temporality   sdkmetric.TemporalitySelector
	aggregation   sdkmetric.AggregationSelector
	err           error
}

func newConfig(opts []Option) config {
	cfg := config{
		scheme:        "https",
		host:          "localhost:4319",
		path:          "/v1/fused",
		headers:       http.Header{},
		compression:   ZstdCompression,
		timeout:       10 * time.Second,
		retry:         DefaultRetryConfig,
		flushInterval: time.Second,
		maxFrameBytes: 1 << 20,
		queueFrames:   8,
		temporality:   sdkmetric.DefaultTemporalitySelector,
		aggregation:   sdkmetric.DefaultAggregationSelector,
	}
	for _, o := range opts {
		o.apply(&cfg)
	}
	return cfg
}

// Option configures a Client, in the style of the OTLP/HTTP exporters.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithEndpoint sets the host and port of the collector's fused receiver,
// without scheme or path ("localhost:4319", the default).
func WithEndpoint(hostPort string) Option {
	return optionFunc(func(c *config) { c.host = hostPort })
}

// WithEndpointURL sets scheme, host, port and path from one URL
// ("http://collector:4319/v1/fused").
func WithEndpointURL(rawURL string) Option {
	return optionFunc(func(c *config) {
		u, err := url.Parse(rawURL)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			c.err = fmt.Errorf("fused: endpoint URL %q is not an http(s) URL with a host", rawURL)
			return
		}
		c.scheme, c.host = u.Scheme, u.Host
		if u.Path != "" {
			c.path = u.Path
		}
	})
}

// WithInsecure sends over plain HTTP instead of HTTPS.
func WithInsecure() Option {
	return optionFunc(func(c *config) { c.scheme = "http" })
}

// WithURLPath sets the path frames are POSTed to ("/v1/fused").
func WithURLPath(path string) Option {
	return optionFunc(func(c *config) {
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		c.path = path
	})
}

// WithHeaders adds headers to every request (an authorization header, say).
// The collector decides the tenant from what it authenticates.
func WithHeaders(headers map[string]string) Option {
	return optionFunc(func(c *config) {
		for k, v := range headers {
			c.headers.Set(k, v)
		}
	})
}

// WithCompression sets the compression of frame bodies (zstd by default).
func WithCompression(comp Compression) Option {
	return optionFunc(func(c *config) { c.compression = comp })
}

// WithTimeout bounds one HTTP request (10 s by default).
func WithTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.timeout = d })
}

// WithRetry sets the retry policy (DefaultRetryConfig by default).
func WithRetry(rc RetryConfig) Option {
	return optionFunc(func(c *config) { c.retry = rc })
}

// WithFlushInterval sets how long spans, log records and points wait in the
// client for others to share their request (1 s by default). Flush sends at
// once.
func WithFlushInterval(d time.Duration) Option {
	return optionFunc(func(c *config) { c.flushInterval = d })
}

// WithMaxFrameBytes sets the size of an uncompressed frame body at which
// the client stops adding to it and sends it (1 MiB by default).
func WithMaxFrameBytes(n int) Option {
	return optionFunc(func(c *config) { c.maxFrameBytes = n })
}

// WithQueueSize sets how many full frames may wait to be sent (8 by
// default). When the queue is full, the export that filled a frame waits
// for room until its context ends, and then drops that frame and counts its
// items in Stats: the memory the client holds is bounded by the open frame,
// the frame being sent and the queue.
func WithQueueSize(frames int) Option {
	return optionFunc(func(c *config) { c.queueFrames = frames })
}

// WithHTTPClient sets the HTTP client requests are made with (for TLS
// settings or a proxy). Its Timeout is replaced by WithTimeout's.
func WithHTTPClient(hc *http.Client) Option {
	return optionFunc(func(c *config) { c.httpClient = hc })
}

// WithTemporalitySelector sets the temporality of the metric exporter
// (cumulative for every instrument by default).
func WithTemporalitySelector(s sdkmetric.TemporalitySelector) Option {
	return optionFunc(func(c *config) { c.temporality = s })
}

// WithAggregationSelector sets the aggregation of the metric exporter.
func WithAggregationSelector(s sdkmetric.AggregationSelector) Option {
	return optionFunc(func(c *config) { c.aggregation = s })
}

func (c *config) validate() error {
	switch {
	case c.err != nil:
		return c.err
	case c.host == "":
		return fmt.Errorf("fused: WithEndpoint: the endpoint is empty")
	case c.compression != ZstdCompression && c.compression != NoCompression:
		return fmt.Errorf("fused: WithCompression: unknown compression %d", c.compression)
	case c.timeout <= 0:
		return fmt.Errorf("fused: WithTimeout: %v is not positive", c.timeout)
	case c.flushInterval <= 0:
		return fmt.Errorf("fused: WithFlushInterval: %v is not positive", c.flushInterval)
	case c.maxFrameBytes < 1024:
		return fmt.Errorf("fused: WithMaxFrameBytes: %d is below 1024", c.maxFrameBytes)
	case c.queueFrames < 1:
		return fmt.Errorf("fused: WithQueueSize: %d is below 1", c.queueFrames)
	case c.retry.Enabled && (c.retry.InitialInterval <= 0 || c.retry.MaxInterval < c.retry.InitialInterval):
		return fmt.Errorf("fused: WithRetry: intervals must be positive and MaxInterval >= InitialInterval")
	}
	return nil
}
