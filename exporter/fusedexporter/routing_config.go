package fusedexporter

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.opentelemetry.io/collector/config/configoptional"

	"github.com/otelfusion/otelfusion/internal/tracehint"
)

// EndpointFailure names what routing does with the data of an endpoint that
// cannot be reached.
type EndpointFailure string

const (
	// EndpointFailureWait keeps the data in the endpoint's own queue and
	// retries it there until the endpoint answers (the default): a trace
	// never leaves its gateway, at the cost of waiting.
	EndpointFailureWait EndpointFailure = "wait"
	// EndpointFailureReroute takes an unreachable endpoint out of the ring
	// for 'down_for' and sends its data, queued or new, to the endpoints
	// that own its keys without it.
	EndpointFailureReroute EndpointFailure = "reroute"
)

// RoutingConfig spreads the exporter's data over a fleet of gateways:
// spans and the logs that point at them by trace id, metrics by resource,
// each endpoint with a queue and retry state of its own.
type RoutingConfig struct {
	// Resolver says where the endpoint list comes from: exactly one of
	// static, dns or file.
	Resolver ResolverConfig `mapstructure:"resolver"`

	// OnEndpointFailure is "wait" or "reroute".
	OnEndpointFailure EndpointFailure `mapstructure:"on_endpoint_failure"`

	// DownFor is how long an unreachable endpoint stays out of the ring with
	// on_endpoint_failure: reroute before it is tried again.
	DownFor time.Duration `mapstructure:"down_for"`

	// Attributes names the log attributes that carry trace context when a
	// log record's own trace id is empty; the same lists as the fusion
	// processor's, so a log is routed to the gateway that will link it.
	Attributes RoutingAttributes `mapstructure:"attributes"`

	_ struct{}
}

// RoutingAttributes lists the log attributes read for a trace id.
type RoutingAttributes struct {
	// TraceID lists attributes holding a 32-hex-digit trace id.
	TraceID []string `mapstructure:"trace_id"`
	// Traceparent lists attributes holding a W3C traceparent header.
	Traceparent []string `mapstructure:"traceparent"`
	// DatadogTraceID lists attributes holding a Datadog trace id.
	DatadogTraceID []string `mapstructure:"datadog_trace_id"`

	_ struct{}
}

// ResolverConfig holds the one resolver in use.
type ResolverConfig struct {
	// Static is a fixed list of endpoints.
	Static configoptional.Optional[StaticResolverConfig] `mapstructure:"static"`
	// DNS resolves a hostname to its addresses, again every interval.
	DNS configoptional.Optional[DNSResolverConfig] `mapstructure:"dns"`
	// File reads the endpoint list from a file, again every interval.
	File configoptional.Optional[FileResolverConfig] `mapstructure:"file"`

	_ struct{}
}

// StaticResolverConfig is a fixed endpoint list.
type StaticResolverConfig struct {
	// Endpoints are the gateways' fused endpoints, http:// or https:// URLs.
	Endpoints []string `mapstructure:"endpoints"`

	_ struct{}
}

// DNSResolverConfig builds one endpoint per address a hostname resolves to.
type DNSResolverConfig struct {
	// Hostname is resolved to its A/AAAA records (a headless service).
	Hostname string `mapstructure:"hostname"`
	// Port is the fused receiver's port on every address.
	Port int `mapstructure:"port"`
	// Scheme is "http" or "https".
	Scheme string `mapstructure:"scheme"`
	// Path is the URL path of the fused receiver; empty means /v1/fused.
	Path string `mapstructure:"path"`
	// Interval is how often the hostname is resolved again.
	Interval time.Duration `mapstructure:"interval"`
	// Timeout bounds one resolution.
	Timeout time.Duration `mapstructure:"timeout"`

	_ struct{}
}

// FileResolverConfig reads endpoints from a file, one URL a line; blank
// lines and lines starting with '#' are skipped. A deployment tool (or a
// person) rewrites the file to change the fleet while the agent runs.
type FileResolverConfig struct {
	// Path is the file to read.
	Path string `mapstructure:"path"`
	// Interval is how often the file is read again.
	Interval time.Duration `mapstructure:"interval"`

	_ struct{}
}

const (
	defaultDownFor     = 10 * time.Second
	defaultDNSInterval = 30 * time.Second
	defaultDNSTimeout  = 5 * time.Second
	defaultFileRead    = 5 * time.Second
)

func defaultRoutingConfig() RoutingConfig {
	hints := tracehint.DefaultReader()
	return RoutingConfig{
		Resolver: ResolverConfig{
			Static: configoptional.Default(StaticResolverConfig{}),
			DNS: configoptional.Default(DNSResolverConfig{
				Scheme: "http", Interval: defaultDNSInterval, Timeout: defaultDNSTimeout,
			}),
			File: configoptional.Default(FileResolverConfig{Interval: defaultFileRead}),
		},
		OnEndpointFailure: EndpointFailureWait,
		DownFor:           defaultDownFor,
		Attributes: RoutingAttributes{
			TraceID:        hints.TraceID,
			Traceparent:    hints.Traceparent,
			DatadogTraceID: hints.DatadogTraceID,
		},
	}
}

// hintReader is the tracehint reader of the configured attributes.
func (r *RoutingConfig) hintReader() tracehint.Reader {
	return tracehint.Reader{
		TraceID:        r.Attributes.TraceID,
		Traceparent:    r.Attributes.Traceparent,
		DatadogTraceID: r.Attributes.DatadogTraceID,
	}
}

// validate checks the routing keys; Config.Validate calls it so every
// error names its key under 'routing'.
func (r *RoutingConfig) validate() error {
	var errs error
	set := 0
	if r.Resolver.Static.HasValue() {
		s := r.Resolver.Static.Get()
		set++
		if len(s.Endpoints) == 0 {
			errs = errors.Join(errs, errors.New("'routing::resolver::static::endpoints' must list at least one endpoint"))
		}
		seen := map[string]bool{}
		for i, ep := range s.Endpoints {
			if _, err := fusedURL(ep); err != nil {
				errs = errors.Join(errs, fmt.Errorf("'routing::resolver::static::endpoints[%d]': %w", i, err))
			}
			if seen[ep] {
				errs = errors.Join(errs, fmt.Errorf("'routing::resolver::static::endpoints' lists %q twice", ep))
			}
			seen[ep] = true
		}
	}
	if r.Resolver.DNS.HasValue() {
		d := r.Resolver.DNS.Get()
		set++
		if d.Hostname == "" {
			errs = errors.Join(errs, errors.New("'routing::resolver::dns::hostname' must be set"))
		}
		if d.Port <= 0 || d.Port > 65535 {
			errs = errors.Join(errs, fmt.Errorf("'routing::resolver::dns::port' must be 1-65535, got %d", d.Port))
		}
		if d.Scheme != "http" && d.Scheme != "https" {
			errs = errors.Join(errs, fmt.Errorf("'routing::resolver::dns::scheme' must be \"http\" or \"https\", got %q", d.Scheme))
		}
		if d.Path != "" && !strings.HasPrefix(d.Path, "/") {
			errs = errors.Join(errs, fmt.Errorf("'routing::resolver::dns::path' must start with '/', got %q", d.Path))
		}
		if d.Interval <= 0 {
			errs = errors.Join(errs, fmt.Errorf("'routing::resolver::dns::interval' must be positive, got %s", d.Interval))
		}
		if d.Timeout <= 0 {
			errs = errors.Join(errs, fmt.Errorf("'routing::resolver::dns::timeout' must be positive, got %s", d.Timeout))
		}
	}
	if r.Resolver.File.HasValue() {
		f := r.Resolver.File.Get()
		set++
		if f.Path == "" {
			errs = errors.Join(errs, errors.New("'routing::resolver::file::path' must be set"))
		}
		if f.Interval <= 0 {
			errs = errors.Join(errs, fmt.Errorf("'routing::resolver::file::interval' must be positive, got %s", f.Interval))
		}
	}
	if set != 1 {
		errs = errors.Join(errs, fmt.Errorf("'routing::resolver' must set exactly one of 'static', 'dns' or 'file', got %d", set))
	}
	switch r.OnEndpointFailure {
	case EndpointFailureWait, EndpointFailureReroute:
	default:
		errs = errors.Join(errs, fmt.Errorf("'routing::on_endpoint_failure' must be %q or %q, got %q",
			EndpointFailureWait, EndpointFailureReroute, r.OnEndpointFailure))
	}
	if r.DownFor <= 0 {
		errs = errors.Join(errs, fmt.Errorf("'routing::down_for' must be positive, got %s", r.DownFor))
	}
	return errs
}
