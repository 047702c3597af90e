package tenantquota

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.uber.org/zap"

	"github.com/otelfusion/otelfusion/internal/tenancy"
)

// maxAdminBody bounds an admin request body.
const maxAdminBody = 1 << 20

// startAdmin serves the admin API on its own listener.
func (p *quotaProcessor) startAdmin(ctx context.Context, host component.Host) (*http.Server, error) {
	cfg := p.cfg.Admin.Get()
	ln, err := cfg.ServerConfig.ToListener(ctx)
	if err != nil {
		return nil, fmt.Errorf("tenant_quota admin: %w", err)
	}
	srv, err := cfg.ServerConfig.ToServer(ctx, host.GetExtensions(), p.set.TelemetrySettings, p.adminHandler(string(cfg.Token)))
	if err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("tenant_quota admin: %w", err)
	}
	p.adminAddr = ln.Addr().String()
	p.logger.Info("Tenant quota admin API listening", zap.String("address", p.adminAddr))
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			componentstatus.ReportStatus(host, componentstatus.NewFatalErrorEvent(err))
		}
	}()
	return srv, nil
}

// adminHandler routes the admin API. The server's 'auth' authenticator, when
// configured, has already run (confighttp wraps this handler in it); a
// credential it names as a tenant's is refused here, since the API changes
// every tenant's limits. token, when set, is required as a bearer token too.
func (p *quotaProcessor) adminHandler(token string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /tenants", p.handleListTenants)
	mux.HandleFunc("GET /tenants/{id}", p.handleGetTenant)
	mux.HandleFunc("PUT /tenants/{id}/quota", p.handlePutQuota)
	mux.HandleFunc("PUT /tenants/{id}/sampling", p.handlePutSampling)
	mux.HandleFunc("DELETE /tenants/{id}/overrides", p.handleDeleteOverrides)
	operatorsOnly := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := client.FromContext(r.Context())
		if tenant := tenancy.FromAuth(info, tenancy.AuthTenantAttribute); tenant != "" && !tenancy.IsAdmin(info) {
			writeError(w, http.StatusForbidden, fmt.Errorf("the credential is tenant %q's: the admin API takes an admin's credential", tenant))
			return
		}
		mux.ServeHTTP(w, r)
	})
	if token == "" {
		return operatorsOnly
	}
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="tenant_quota"`)
			writeError(w, http.StatusUnauthorized, errors.New("missing or wrong bearer token"))
			return
		}
		operatorsOnly.ServeHTTP(w, r)
	})
}

// tenantView is one tenant's state as the admin API shows it.
type tenantView struct {
	ID           string  `json:"id"`
	Tracked      bool    `json:"tracked"`
	Breaker      string  `json:"breaker"`
	BreakerSince string  `json:"breaker_since,omitempty"`
	LoadRatio    float64 `json:"load_ratio"`
	// Effective limits after every override layer.
	Limits limitsView `json:"limits"`
	// Overrides by layer: config, file, api.
	Overrides        map[string]overrideView `json:"overrides,omitempty"`
	OfferedPerSecond map[string]float64      `json:"offered_items_per_second"`
	Accepted         map[string]int64        `json:"accepted_items"`
	Refused          map[string]int64        `json:"refused_items"`
	SampledOut       map[string]int64        `json:"sampled_out_items"`
}

type limitsView struct {
	Traces           SignalQuota        `json:"traces"`
	Logs             SignalQuota        `json:"logs"`
	Metrics          SignalQuota        `json:"metrics"`
	SamplingRate     float64            `json:"sampling_rate"`
	EnvSamplingRates map[string]float64 `json:"env_sampling_rates,omitempty"`
	Retention        string             `json:"retention,omitempty"`
}

type overrideView struct {
	Traces           *SignalQuota       `json:"traces,omitempty"`
	Logs             *SignalQuota       `json:"logs,omitempty"`
	Metrics          *SignalQuota       `json:"metrics,omitempty"`
	SamplingRate     *float64           `json:"sampling_rate,omitempty"`
	EnvSamplingRates map[string]float64 `json:"env_sampling_rates,omitempty"`
	Retention        string             `json:"retention,omitempty"`
}

func newLimitsView(l LimitsConfig) limitsView {
	v := limitsView{Traces: l.Traces, Logs: l.Logs, Metrics: l.Metrics, SamplingRate: l.SamplingRate, EnvSamplingRates: l.EnvSamplingRates}
	if l.Retention > 0 {
		v.Retention = l.Retention.String()
	}
	return v
}

func newOverrideView(o TenantOverrides) overrideView {
	v := overrideView{Traces: o.Traces, Logs: o.Logs, Metrics: o.Metrics, SamplingRate: o.SamplingRate, EnvSamplingRates: o.EnvSamplingRates}
	if o.Retention != nil {
		v.Retention = o.Retention.String()
	}
	return v
}

// view describes a tenant; ok is false for a tenant neither seen nor named
// by any override.
func (p *quotaProcessor) view(id string) (tenantView, bool) {
	v := tenantView{ID: id, Breaker: breakerClosed.String(), Overrides: map[string]overrideView{}}
	for l := range numLayers {
		if o, ok := p.store.layer(l, id); ok {
			v.Overrides[l.String()] = newOverrideView(o)
		}
	}
	p.tenantsMu.RLock()
	ts, tracked := p.tenants[id]
	p.tenantsMu.RUnlock()
	if !tracked {
		v.Limits = newLimitsView(p.store.limits(id))
		return v, len(v.Overrides) > 0
	}
	v.Tracked = true
	v.OfferedPerSecond, v.Accepted, v.Refused, v.SampledOut = map[string]float64{}, map[string]int64{}, map[string]int64{}, map[string]int64{}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	v.Breaker = ts.breaker.state.String()
	if !ts.breaker.since.IsZero() {
		v.BreakerSince = ts.breaker.since.UTC().Format(time.RFC3339)
	}
	v.LoadRatio = ts.ratio
	v.Limits = newLimitsView(ts.limits)
	for s := range numSignals {
		name := signal(s).String()
		v.OfferedPerSecond[name] = ts.meter.last[s]
		v.Accepted[name] = ts.accepted[s]
		v.Refused[name] = ts.refused[s]
		v.SampledOut[name] = ts.sampledOut[s]
	}
	return v, true
}

func (p *quotaProcessor) handleListTenants(w http.ResponseWriter, _ *http.Request) {
	ids := p.store.tenantIDs()
	for _, ts := range p.allTenants() {
		ids = append(ids, ts.id)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	views := make([]tenantView, 0, len(ids))
	for _, id := range ids {
		if v, ok := p.view(id); ok {
			views = append(views, v)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"tenants": views})
}

func (p *quotaProcessor) handleGetTenant(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	v, ok := p.view(id)
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Errorf("tenant %q is neither seen nor overridden", id))
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// quotaRequest is the body of PUT /tenants/{id}/quota: the sections given
// replace the tenant's API override of them.
type quotaRequest struct {
	Traces    *SignalQuota   `mapstructure:"traces"`
	Logs      *SignalQuota   `mapstructure:"logs"`
	Metrics   *SignalQuota   `mapstructure:"metrics"`
	Retention *time.Duration `mapstructure:"retention"`
}

func (p *quotaProcessor) handlePutQuota(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var req quotaRequest
	if err := decodeBody(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	o := TenantOverrides{Traces: req.Traces, Logs: req.Logs, Metrics: req.Metrics, Retention: req.Retention}
	if o.Traces == nil && o.Logs == nil && o.Metrics == nil && o.Retention == nil {
		writeError(w, http.StatusBadRequest, errors.New("body must set at least one of 'traces', 'logs', 'metrics', 'retention'"))
		return
	}
	if err := o.validate(""); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	p.store.updateAPI(id, func(cur *TenantOverrides) {
		if o.Traces != nil {
			cur.Traces = o.Traces
		}
		if o.Logs != nil {
			cur.Logs = o.Logs
		}
		if o.Metrics != nil {
			cur.Metrics = o.Metrics
		}
		if o.Retention != nil {
			cur.Retention = o.Retention
		}
	})
	p.applied(w, id)
}

// samplingRequest is the body of PUT /tenants/{id}/sampling: the normal-mode
// rate of the tenant, or of its resources in one environment.
type samplingRequest struct {
	Rate *float64 `mapstructure:"rate"`
	Env  string   `mapstructure:"env"`
}

func (p *quotaProcessor) handlePutSampling(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var req samplingRequest
	if err := decodeBody(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	if req.Rate == nil {
		writeError(w, http.StatusBadRequest, errors.New("'rate' must be set"))
		return
	}
	if err := validRate(*req.Rate); err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("'rate' %w", err))
		return
	}
	p.store.updateAPI(id, func(cur *TenantOverrides) {
		if req.Env == "" {
			cur.SamplingRate = req.Rate
			return
		}
		if cur.EnvSamplingRates == nil {
			cur.EnvSamplingRates = map[string]float64{}
		}
		cur.EnvSamplingRates[req.Env] = *req.Rate
	})
	p.applied(w, id)
}

func (p *quotaProcessor) handleDeleteOverrides(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !p.store.deleteAPI(id) {
		writeError(w, http.StatusNotFound, fmt.Errorf("tenant %q has no API override", id))
		return
	}
	p.refreshLimits([]string{id})
	w.WriteHeader(http.StatusNoContent)
}

// applied makes an API change take effect at once and answers with the
// tenant's new state.
func (p *quotaProcessor) applied(w http.ResponseWriter, id string) {
	p.refreshLimits([]string{id})
	p.logger.Info("Tenant override set through the admin API", zap.String("tenant", id))
	v, _ := p.view(id)
	writeJSON(w, http.StatusOK, v)
}

// decodeBody reads a JSON object and decodes it with the configuration's
// rules (snake_case keys, duration strings, unknown keys refused).
func decodeBody(r *http.Request, into any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxAdminBody+1))
	if err != nil {
		return fmt.Errorf("reading body: %w", err)
	}
	if len(body) > maxAdminBody {
		return fmt.Errorf("body larger than %d bytes", maxAdminBody)
	}
	var raw map[string]any
	if err := json.Unmarshal(body, &raw); err != nil {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	if err := decodeOverrides(raw, into); err != nil {
		return errors.New(strings.TrimPrefix(err.Error(), "decoding failed due to the following error(s):\n\n"))
	}
	return nil
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, code int, err error) {
	writeJSON(w, code, map[string]string{"error": err.Error()})
}
