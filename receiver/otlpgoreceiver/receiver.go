package otlpgoreceiver // import "github.com/otelfusion/otelfusion/receiver/otlpgoreceiver"

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"

	"go.uber.org/zap"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"
	"go.opentelemetry.io/collector/receiver/receiverhelper"

	"github.com/otelfusion/otelfusion/pkg/otlpgo"
	"github.com/otelfusion/otelfusion/receiver/otlpgoreceiver/internal/metadata"
)

// otlpgoReceiver serves fused frames itself and delegates standard OTLP/gRPC
// and OTLP/HTTP to a core otlp receiver. One instance serves every pipeline
// that names its configuration.
type otlpgoReceiver struct {
	cfg       *Config
	settings  receiver.Settings
	limits    otlpgo.Limits
	obsrep    *receiverhelper.ObsReport
	telemetry *metadata.TelemetryBuilder
	tenants   *tenantStamper

	// fusedServer is the fused endpoint's server config, with
	// include_metadata on when the tenant comes from a header.
	fusedServer confighttp.ServerConfig
	// inflight bounds the memory of the fused requests being served.
	inflight *inflightBudget
	// streams holds the state of the otlpgo streams (stream.go).
	streams *streamTable

	// Consumers are registered while pipelines are built, before Start, and
	// only read afterwards. A nil consumer means no pipeline of that signal
	// names this receiver.
	nextTraces  consumer.Traces
	nextMetrics consumer.Metrics
	nextLogs    consumer.Logs

	// coreCfg is the core receiver's configuration; its address keys the core
	// factory's own shared instance, so it must stay the same for every signal.
	coreCfg      *otlpreceiver.Config
	coreSettings receiver.Settings
	// core is the core receiver; the core factory returns the same shared
	// component for each signal, so one handle starts and stops it.
	core component.Component

	// kafka consumes frames from Kafka with 'protocols::kafka'.
	kafka *kafkaConsumer

	server    *http.Server
	fusedAddr net.Addr
	serveWG   sync.WaitGroup
}

func newOtlpgoReceiver(cfg *Config, set receiver.Settings) (*otlpgoReceiver, error) {
	obsrep, err := receiverhelper.NewObsReport(receiverhelper.ObsReportSettings{
		ReceiverID:             set.ID,
		Transport:              "http",
		ReceiverCreateSettings: set,
	})
	if err != nil {
		return nil, err
	}
	telemetry, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}

	// The core factory insists on an ID of its own type. Naming it after our
	// full ID keeps its telemetry apart from any plain otlp receiver.
	coreSettings := set
	coreSettings.ID = component.NewIDWithName(otlpreceiver.NewFactory().Type(), set.ID.String())

	// The "metadata" tenant source reads a request header, which servers
	// pass on only with include_metadata; copies keep cfg as the user wrote it.
	fusedServer := cfg.Fused.ServerConfig
	grpcCfg, httpCfg := cfg.Protocols.GRPC, cfg.Protocols.HTTP
	if cfg.Tenant.uses(TenantSourceMetadata) {
		fusedServer.IncludeMetadata = true
		if grpcCfg.HasValue() {
			g := *grpcCfg.Get()
			g.IncludeMetadata = true
			grpcCfg = configoptional.Some(g)
		}
		if httpCfg.HasValue() {
			h := *httpCfg.Get()
			h.ServerConfig.IncludeMetadata = true
			httpCfg = configoptional.Some(h)
		}
	}

	return &otlpgoReceiver{
		cfg:         cfg,
		settings:    set,
		limits:      cfg.Fused.Limits.decoderLimits(),
		inflight:    newInflightBudget(cfg.Fused.MaxInflightBytes, telemetry.OtlpgoReceiverInflightBytes),
		streams:     newStreamTable(cfg.Fused.MaxStreams, cfg.Fused.Limits.decoderLimits()),
		obsrep:      obsrep,
		telemetry:   telemetry,
		tenants:     newTenantStamper(cfg.Tenant, telemetry),
		fusedServer: fusedServer,
		coreCfg: &otlpreceiver.Config{Protocols: otlpreceiver.Protocols{
			GRPC: grpcCfg,
			HTTP: httpCfg,
		}},
		coreSettings: coreSettings,
	}, nil
}

// coreEnabled reports whether any standard OTLP protocol is configured; the
// core receiver refuses a configuration without one.
func (r *otlpgoReceiver) coreEnabled() bool {
	return r.coreCfg.Protocols.GRPC.HasValue() || r.coreCfg.Protocols.HTTP.HasValue()
}

func (r *otlpgoReceiver) registerTraces(ctx context.Context, next consumer.Traces) error {
	r.nextTraces = next
	if !r.coreEnabled() {
		return nil
	}
	stamped, err := r.tenants.traces(next)
	if err != nil {
		return err
	}
	core, err := otlpreceiver.NewFactory().CreateTraces(ctx, r.coreSettings, r.coreCfg, stamped)
	if err != nil {
		return err
	}
	r.core = core
	return nil
}

func (r *otlpgoReceiver) registerMetrics(ctx context.Context, next consumer.Metrics) error {
	r.nextMetrics = next
	if !r.coreEnabled() {
		return nil
	}
	stamped, err := r.tenants.metrics(next)
	if err != nil {
		return err
	}
	core, err := otlpreceiver.NewFactory().CreateMetrics(ctx, r.coreSettings, r.coreCfg, stamped)
	if err != nil {
		return err
	}
	r.core = core
	return nil
}

func (r *otlpgoReceiver) registerLogs(ctx context.Context, next consumer.Logs) error {
	r.nextLogs = next
	if !r.coreEnabled() {
		return nil
	}
	stamped, err := r.tenants.logs(next)
	if err != nil {
		return err
	}
	core, err := otlpreceiver.NewFactory().CreateLogs(ctx, r.coreSettings, r.coreCfg, stamped)
	if err != nil {
		return err
	}
	r.core = core
	return nil
}

// Start serves fused frames, then starts the core OTLP servers.
func (r *otlpgoReceiver) Start(ctx context.Context, host component.Host) error {
	if err := r.startFused(ctx, host); err != nil {
		return errors.Join(err, r.Shutdown(ctx))
	}
	if r.core != nil {
		if err := r.core.Start(ctx, host); err != nil {
			return errors.Join(err, r.Shutdown(ctx))
		}
	}
	if r.cfg.Protocols.Kafka.HasValue() {
		if err := r.startKafka(ctx); err != nil {
			return errors.Join(err, r.Shutdown(ctx))
		}
	}
	return nil
}

func (r *otlpgoReceiver) startFused(ctx context.Context, host component.Host) error {
	serverCfg := &r.fusedServer
	mux := http.NewServeMux()
	// Registered for every method so that anything but POST is answered 405
	// by our handler rather than by the mux.
	mux.HandleFunc(otlpgo.HTTPPath, r.handleFused)

	server, err := serverCfg.ToServer(ctx, host.GetExtensions(), r.settings.TelemetrySettings, mux,
		confighttp.WithErrorHandler(func(w http.ResponseWriter, _ *http.Request, msg string, statusCode int) {
			writeMessage(w, statusCode, msg)
		}))
	if err != nil {
		return err
	}
	listener, err := serverCfg.ToListener(ctx)
	if err != nil {
		return err
	}
	r.server = server
	r.fusedAddr = listener.Addr()
	r.settings.Logger.Info("Starting fused HTTP server", zap.String("endpoint", listener.Addr().String()))

	r.serveWG.Go(func() {
		if err := server.Serve(listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			componentstatus.ReportStatus(host, componentstatus.NewFatalErrorEvent(err))
		}
	})
	return nil
}

// Shutdown stops both servers. It is safe without Start and when repeated.
func (r *otlpgoReceiver) Shutdown(ctx context.Context) error {
	var err error
	if r.kafka != nil {
		r.kafka.stop()
		r.kafka = nil
	}
	if r.server != nil {
		err = r.server.Shutdown(ctx)
		r.server = nil
	}
	r.serveWG.Wait()
	if r.core != nil {
		err = errors.Join(err, r.core.Shutdown(ctx))
		r.core = nil
	}
	return err
}
