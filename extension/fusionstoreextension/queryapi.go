package fusionstoreextension

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelfusion/otelfusion/extension/fusionstoreextension/internal/metadata"
	"github.com/otelfusion/otelfusion/internal/tenancy"
	"github.com/otelfusion/otelfusion/pkg/fusionql"
	"github.com/otelfusion/otelfusion/pkg/fusionstore"
)

// QueryPath is where the query API answers.
const QueryPath = "/v1/query"

// queryRequest is the body of POST /v1/query.
type queryRequest struct {
	Query  string `json:"query"`
	Format string `json:"format"` // "json" (default) or "csv"
}

// queryError is the JSON body of every error answer.
type queryError struct {
	Error string `json:"error"`
}

// queryHandler serves POST /v1/query over a store.
type queryHandler struct {
	store            *fusionstore.Store
	limits           fusionstore.QueryLimits
	maxResponseBytes int64
	tenantHeader     string
	logger           *zap.Logger
	// telemetry counts and times queries; nil records nothing.
	telemetry *metadata.TelemetryBuilder
}

func newQueryMux(h *queryHandler) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle(QueryPath, h)
	return mux
}

func (h *queryHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeQueryError(w, http.StatusMethodNotAllowed, "use POST")
		return
	}
	// The scope is decided before the body is read: a refused caller costs
	// nothing more.
	tenant, refusal := h.scope(r)
	if refusal != nil {
		writeQueryError(w, refusal.status, refusal.message)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeQueryError(w, http.StatusRequestEntityTooLarge, "request body too large")
			return
		}
		writeQueryError(w, http.StatusBadRequest, "reading request body: "+err.Error())
		return
	}
	var req queryRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeQueryError(w, http.StatusBadRequest, "request body must be JSON {\"query\": \"...\", \"format\": \"json\"|\"csv\"}: "+err.Error())
		return
	}
	if req.Format != "" && req.Format != "json" && req.Format != "csv" {
		writeQueryError(w, http.StatusBadRequest, fmt.Sprintf("'format' must be \"json\" or \"csv\", got %q", req.Format))
		return
	}
	started := time.Now()
	answer := fusionstore.NewStreamedAnswer(w, req.Format, h.maxResponseBytes)
	err = h.store.Query(r.Context(), req.Query, tenant, h.limits, answer)
	outcome, status := queryOutcome(err)
	switch {
	case answer.Started():
		answer.Finish(err)
	case status != 0:
		writeQueryError(w, status, err.Error())
	}
	if outcome == "failed" {
		h.logger.Warn("Query failed", zap.Error(err))
	}
	if h.telemetry != nil {
		ctx := context.WithoutCancel(r.Context())
		h.telemetry.Queries.Add(ctx, 1, metric.WithAttributes(attribute.String("outcome", outcome)))
		h.telemetry.QueryDuration.Record(ctx, time.Since(started).Seconds())
	}
}

// queryOutcome names how a query ended, for telemetry, and the status of an
// error answer when none has been started; 0 when nobody reads the answer.
func queryOutcome(err error) (outcome string, status int) {
	var qlErr *fusionql.Error
	switch {
	case err == nil:
		return "ok", http.StatusOK
	case errors.Is(err, fusionstore.ErrAnswerTooLarge):
		return "truncated", http.StatusOK
	case errors.As(err, &qlErr), errors.Is(err, fusionql.ErrNotValidated):
		return "invalid", http.StatusBadRequest
	case errors.Is(err, fusionstore.ErrQueryTimeout):
		return "timeout", http.StatusGatewayTimeout
	case errors.Is(err, fusionstore.ErrMemoryLimit):
		// 507: the store lacks the room this query needs; a narrower query,
		// fewer at once or a larger limit can succeed.
		return "memory_limit", http.StatusInsufficientStorage
	case errors.Is(err, context.Canceled):
		// The client went away; nobody reads the answer.
		return "cancelled", 0
	default:
		return "failed", http.StatusInternalServerError
	}
}

// scopeRefusal is why a request may not run a query, and its status.
type scopeRefusal struct {
	status  int
	message string
}

// scope decides the tenant a query sees from what the server authenticated:
// a tenant's credential sees its own tenant only; an admin's sees the tenant
// the header names, or every tenant ("") without the header; any other
// request (no auth, or an authenticator that names no tenant) must name its
// tenant in the header. A query is never widened to every tenant otherwise.
func (h *queryHandler) scope(r *http.Request) (string, *scopeRefusal) {
	info := client.FromContext(r.Context())
	named, hasHeader, refusal := h.headerTenant(r)
	if refusal != nil {
		return "", refusal
	}
	if own := tenancy.FromAuth(info, tenancy.AuthTenantAttribute); own != "" {
		if hasHeader && named != own {
			return "", &scopeRefusal{http.StatusForbidden, fmt.Sprintf(
				"the credential is tenant %q's and may not query tenant %q named in the %s header", own, named, h.tenantHeader)}
		}
		return own, nil
	}
	if tenancy.IsAdmin(info) {
		return named, nil // "" without the header: every tenant
	}
	if !hasHeader {
		return "", &scopeRefusal{http.StatusBadRequest, fmt.Sprintf(
			"a query must name its tenant in the %s header (or carry a tenant's credential, with 'auth' set to a tenantauth extension)", h.tenantHeader)}
	}
	return named, nil
}

// headerTenant returns the tenant the request's tenant header names and
// whether the header is there; an empty or repeated header is refused.
func (h *queryHandler) headerTenant(r *http.Request) (string, bool, *scopeRefusal) {
	values := r.Header.Values(h.tenantHeader)
	switch {
	case len(values) == 0:
		return "", false, nil
	case len(values) > 1:
		return "", true, &scopeRefusal{http.StatusBadRequest, fmt.Sprintf("the %s header must name one tenant, got %d", h.tenantHeader, len(values))}
	case values[0] == "":
		return "", true, &scopeRefusal{http.StatusBadRequest, fmt.Sprintf("the %s header is empty: it must name a tenant", h.tenantHeader)}
	}
	return values[0], true, nil
}

func writeQueryError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(queryError{Error: msg})
}
