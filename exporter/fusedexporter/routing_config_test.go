package fusedexporter

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/otelfusion/otelfusion/exporter/fusedexporter/internal/metadata"
)

func TestLoadRoutingConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)

	withRouting := func(edit func(*RoutingConfig)) *Config {
		cfg := createDefaultConfig().(*Config)
		rc := defaultRoutingConfig()
		edit(&rc)
		cfg.Routing = configoptional.Some(rc)
		return cfg
	}
	defaults := defaultRoutingConfig()
	tests := []struct {
		name    string
		want    *Config
		wantErr string
	}{
		{
			name: "routing_static",
			want: withRouting(func(rc *RoutingConfig) {
				rc.Resolver.Static = configoptional.Some(StaticResolverConfig{
					Endpoints: []string{"http://gateway-1:4319", "http://gateway-2:4319", "http://gateway-3:4319"},
				})
				rc.OnEndpointFailure = EndpointFailureReroute
				rc.DownFor = 30 * time.Second
			}),
		},
		{
			name: "routing_dns",
			want: withRouting(func(rc *RoutingConfig) {
				rc.Resolver.DNS = configoptional.Some(DNSResolverConfig{
					Hostname: "gateways.observability.svc.cluster.local", Port: 4319, Scheme: "http",
					Interval: 10 * time.Second, Timeout: defaultDNSTimeout,
				})
			}),
		},
		{
			name: "routing_file",
			want: withRouting(func(rc *RoutingConfig) {
				rc.Resolver.File = configoptional.Some(FileResolverConfig{Path: "/etc/otelfusion/gateways.txt", Interval: defaultFileRead})
				rc.Attributes = RoutingAttributes{TraceID: []string{"traceid"}, Traceparent: []string{}, DatadogTraceID: []string{}}
			}),
		},
		{
			name:    "routing_and_endpoint",
			wantErr: "'endpoint' and 'routing' are exclusive: routing names the endpoints",
		},
		{
			name:    "routing_two_resolvers",
			wantErr: "'routing::resolver' must set exactly one of 'static', 'dns' or 'file', got 2",
		},
		{
			name:    "routing_no_resolver",
			wantErr: "'routing::resolver' must set exactly one of 'static', 'dns' or 'file', got 0",
		},
		{
			name: "routing_bad",
			wantErr: "'routing::resolver::dns::hostname' must be set\n" +
				"'routing::resolver::dns::port' must be 1-65535, got 70000\n" +
				"'routing::resolver::dns::scheme' must be \"http\" or \"https\", got \"ftp\"\n" +
				"'routing::resolver::dns::path' must start with '/', got \"v1/fused\"\n" +
				"'routing::resolver::dns::interval' must be positive, got 0s\n" +
				"'routing::on_endpoint_failure' must be \"wait\" or \"reroute\", got \"drop\"\n" +
				"'routing::down_for' must be positive, got 0s",
		},
		{
			name: "routing_bad_static",
			wantErr: "'routing::resolver::static::endpoints[0]': 'endpoint' must be an http:// or https:// URL with a host, got \"gateway-1:4319\"\n" +
				"'routing::resolver::static::endpoints' lists \"http://gateway-2:4319\" twice",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := createDefaultConfig()
			sub, err := cm.Sub(component.NewIDWithName(metadata.Type, tt.name).String())
			require.NoError(t, err)
			require.NoError(t, sub.Unmarshal(cfg))
			if tt.wantErr != "" {
				assert.EqualError(t, cfg.(*Config).Validate(), tt.wantErr)
				assert.Error(t, confmap.Validate(cfg))
				return
			}
			require.NoError(t, confmap.Validate(cfg))
			assert.Equal(t, tt.want, cfg)
		})
	}
	assert.Equal(t, EndpointFailureWait, defaults.OnEndpointFailure, "waiting is the default")
}

func TestParseEndpoints(t *testing.T) {
	got, err := parseEndpoints([]byte("# fleet\n\n  http://a:4319  \nhttps://b:4319/ingest\n"), "gateways.txt")
	require.NoError(t, err)
	assert.Equal(t, []string{"http://a:4319", "https://b:4319/ingest"}, got)

	_, err = parseEndpoints([]byte("http://a:4319\nb:4319\n"), "gateways.txt")
	assert.EqualError(t, err, `gateways.txt line 2: 'endpoint' must be an http:// or https:// URL with a host, got "b:4319"`)

	_, err = parseEndpoints([]byte("# nothing yet\n"), "gateways.txt")
	assert.EqualError(t, err, "gateways.txt lists no endpoint")
}

// FuzzParseEndpoints: the endpoints file never panics the parser, and every
// endpoint it accepts is a URL the exporter can send to.
func FuzzParseEndpoints(f *testing.F) {
	for _, seed := range []string{"http://a:4319\n", "# c\n\nhttps://b/x\n", "a:1\n", "http://[::1]:4319\n", "\x00\n", ""} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		endpoints, err := parseEndpoints(data, "fuzz")
		if err != nil {
			return
		}
		for _, ep := range endpoints {
			if _, err := fusedURL(ep); err != nil {
				t.Fatalf("accepted %q: %v", ep, err)
			}
		}
	})
}
