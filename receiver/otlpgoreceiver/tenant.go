package otlpgoreceiver // import "github.com/otelfusion/otelfusion/receiver/otlpgoreceiver"

import (
	"context"
	"net/http"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otelfusion/otelfusion/internal/tenancy"
	"github.com/otelfusion/otelfusion/receiver/otlpgoreceiver/internal/metadata"
)

// tenantStamper writes the tenant the server decided into every resource of
// a request, before any pipeline sees it. It is the receiver's trust
// boundary: after it, the resource attribute is the server's word.
type tenantStamper struct {
	cfg       TenantConfig
	telemetry *metadata.TelemetryBuilder

	overwritten, stripped, refusedNoTenant, refusedConflict, refusedInvalid metric.MeasurementOption
}

func newTenantStamper(cfg TenantConfig, tb *metadata.TelemetryBuilder) *tenantStamper {
	reason := func(r string) metric.MeasurementOption {
		return metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", r)))
	}
	return &tenantStamper{
		cfg:             cfg,
		telemetry:       tb,
		overwritten:     reason("conflict"),
		stripped:        reason("server_only_attribute"),
		refusedNoTenant: reason("no_tenant"),
		refusedConflict: reason("conflict"),
		refusedInvalid:  reason("invalid"),
	}
}

// requestTenant is the tenant the request itself names (auth or header),
// "" when neither source does or is configured.
func (s *tenantStamper) requestTenant(info client.Info) string {
	for _, src := range s.cfg.Sources {
		switch src {
		case TenantSourceAuth:
			if t := tenancy.FromAuth(info, s.cfg.AuthAttribute); t != "" {
				return t
			}
		case TenantSourceMetadata:
			if t := tenancy.FromMetadata(info, s.cfg.MetadataKey); t != "" {
				return t
			}
		case TenantSourceResource:
			// Per resource; see resourceTenant. A request source listed
			// after "resource" only applies where the resource has none.
			return ""
		}
	}
	return ""
}

// afterResource is the tenant of the request sources listed after
// "resource", used for resources that carry no tenant of their own.
func (s *tenantStamper) afterResource(info client.Info) string {
	i := 0
	for i < len(s.cfg.Sources) && s.cfg.Sources[i] != TenantSourceResource {
		i++
	}
	for _, src := range s.cfg.Sources[min(i+1, len(s.cfg.Sources)):] {
		switch src {
		case TenantSourceAuth:
			if t := tenancy.FromAuth(info, s.cfg.AuthAttribute); t != "" {
				return t
			}
		case TenantSourceMetadata:
			if t := tenancy.FromMetadata(info, s.cfg.MetadataKey); t != "" {
				return t
			}
		}
	}
	return ""
}

// requestStamp holds what one request's resources are stamped with.
type requestStamp struct {
	s          *tenantStamper
	ctx        context.Context
	tenant     string // from auth or header, before any "resource" source
	fallback   string // from sources after "resource", else the default
	trustsData bool   // "resource" is a source: senders' attributes stand
}

func (s *tenantStamper) forRequest(ctx context.Context) requestStamp {
	info := client.FromContext(ctx)
	rs := requestStamp{s: s, ctx: ctx, tenant: s.requestTenant(info), trustsData: s.cfg.uses(TenantSourceResource)}
	if rs.trustsData && rs.tenant == "" {
		rs.fallback = s.afterResource(info)
	}
	if rs.fallback == "" {
		rs.fallback = s.cfg.DefaultTenant
	}
	return rs
}

// refusesEveryResource reports, from the request alone, that every resource
// of it would be refused for naming no tenant: the fused endpoint then
// answers before reading or decoding the body.
func (rs *requestStamp) refusesEveryResource() bool {
	return rs.tenant == "" && rs.fallback == "" && !rs.trustsData
}

// decide returns the tenant of one resource and whether the sender wrote a
// different one, or the refusal. It writes nothing.
func (rs *requestStamp) decide(res pcommon.Resource) (tenant string, conflict bool, err error) {
	s := rs.s
	written, hasWritten := res.Attributes().Get(s.cfg.ResourceAttribute)
	tenant = rs.tenant
	if tenant == "" && rs.trustsData && hasWritten {
		tenant = written.AsString()
	}
	if tenant == "" {
		tenant = rs.fallback
	}
	switch {
	case tenant == "":
		s.telemetry.OtlpgoReceiverTenantRefused.Add(rs.ctx, 1, s.refusedNoTenant)
		return "", false, status.Error(codes.Unauthenticated, "the request names no tenant and 'tenant::default_tenant' is empty")
	case len(tenant) > maxTenantIDBytes:
		s.telemetry.OtlpgoReceiverTenantRefused.Add(rs.ctx, 1, s.refusedInvalid)
		return "", false, status.Errorf(codes.InvalidArgument, "tenant name of %d bytes, limit is %d", len(tenant), maxTenantIDBytes)
	}
	conflict = hasWritten && written.AsString() != tenant
	if conflict && s.cfg.OnConflict == ConflictRefuse {
		s.telemetry.OtlpgoReceiverTenantRefused.Add(rs.ctx, 1, s.refusedConflict)
		return "", false, status.Errorf(codes.PermissionDenied, "resource attribute %s=%q differs from the request's tenant %q",
			s.cfg.ResourceAttribute, written.AsString(), tenant)
	}
	return tenant, conflict, nil
}

// apply writes a decided tenant and removes server-only attributes a sender
// wrote.
func (rs *requestStamp) apply(res pcommon.Resource, tenant string, conflict bool) {
	s := rs.s
	attrs := res.Attributes()
	if conflict {
		s.telemetry.OtlpgoReceiverTenantOverrides.Add(rs.ctx, 1, s.overwritten)
	}
	if !rs.trustsData {
		for _, key := range s.cfg.ServerOnlyAttributes {
			if attrs.Remove(key) {
				s.telemetry.OtlpgoReceiverTenantOverrides.Add(rs.ctx, 1, s.stripped)
			}
		}
	}
	attrs.PutStr(s.cfg.ResourceAttribute, tenant)
}

// The stamp* functions stamp every resource of a request, or none: a
// refusal leaves the data as it was and nothing of it reaches a pipeline.

func (s *tenantStamper) stampTraces(ctx context.Context, td ptrace.Traces) error {
	rs := s.forRequest(ctx)
	return stampAll(td.ResourceSpans().Len(), func(i int) pcommon.Resource { return td.ResourceSpans().At(i).Resource() }, &rs)
}

func (s *tenantStamper) stampLogs(ctx context.Context, ld plog.Logs) error {
	rs := s.forRequest(ctx)
	return stampAll(ld.ResourceLogs().Len(), func(i int) pcommon.Resource { return ld.ResourceLogs().At(i).Resource() }, &rs)
}

func (s *tenantStamper) stampMetrics(ctx context.Context, md pmetric.Metrics) error {
	rs := s.forRequest(ctx)
	return stampAll(md.ResourceMetrics().Len(), func(i int) pcommon.Resource { return md.ResourceMetrics().At(i).Resource() }, &rs)
}

// stampAll decides every resource before writing any, so a refused request
// is left as it was.
func stampAll(n int, resource func(int) pcommon.Resource, rs *requestStamp) error {
	for i := range n {
		if _, _, err := rs.decide(resource(i)); err != nil {
			return err
		}
	}
	for i := range n {
		res := resource(i)
		tenant, conflict, _ := rs.decide(res)
		rs.apply(res, tenant, conflict)
	}
	return nil
}

// traces, logs and metrics put the stamper in front of the core receiver's
// pipelines.
func (s *tenantStamper) traces(next consumer.Traces) (consumer.Traces, error) {
	return consumer.NewTraces(func(ctx context.Context, td ptrace.Traces) error {
		if err := s.stampTraces(ctx, td); err != nil {
			return err
		}
		return next.ConsumeTraces(ctx, td)
	}, consumer.WithCapabilities(consumer.Capabilities{MutatesData: true}))
}

func (s *tenantStamper) logs(next consumer.Logs) (consumer.Logs, error) {
	return consumer.NewLogs(func(ctx context.Context, ld plog.Logs) error {
		if err := s.stampLogs(ctx, ld); err != nil {
			return err
		}
		return next.ConsumeLogs(ctx, ld)
	}, consumer.WithCapabilities(consumer.Capabilities{MutatesData: true}))
}

func (s *tenantStamper) metrics(next consumer.Metrics) (consumer.Metrics, error) {
	return consumer.NewMetrics(func(ctx context.Context, md pmetric.Metrics) error {
		if err := s.stampMetrics(ctx, md); err != nil {
			return err
		}
		return next.ConsumeMetrics(ctx, md)
	}, consumer.WithCapabilities(consumer.Capabilities{MutatesData: true}))
}

// tenantErrorStatus is the HTTP status of a stamping refusal on the fused
// endpoint, the same mapping the core OTLP/HTTP server applies.
func tenantErrorStatus(err error) int {
	st, _ := status.FromError(err)
	switch st.Code() {
	case codes.Unauthenticated:
		return http.StatusUnauthorized
	case codes.PermissionDenied:
		return http.StatusForbidden
	default:
		return http.StatusBadRequest
	}
}
