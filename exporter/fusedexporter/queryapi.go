package fusedexporter

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelfusion/otelfusion/exporter/fusedexporter/internal/metadata"
	"github.com/otelfusion/otelfusion/internal/tenancy"
	"github.com/otelfusion/otelfusion/pkg/fusionql"
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
	store        *fusedStore
	limits       queryLimits
	tenantHeader string
	logger       *zap.Logger
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
	result, err := h.store.query(r.Context(), req.Query, tenant, h.limits)
	outcome := "ok"
	if err != nil {
		var qlErr *fusionql.Error
		switch {
		case errors.As(err, &qlErr), errors.Is(err, fusionql.ErrNotValidated):
			outcome = "invalid"
			writeQueryError(w, http.StatusBadRequest, err.Error())
		case errors.Is(err, errQueryTimeout):
			outcome = "timeout"
			writeQueryError(w, http.StatusGatewayTimeout, err.Error())
		case errors.Is(err, context.Canceled):
			// The client went away; nobody reads the answer.
			outcome = "cancelled"
		default:
			outcome = "failed"
			h.logger.Warn("Query failed", zap.Error(err))
			writeQueryError(w, http.StatusInternalServerError, err.Error())
		}
	}
	if h.telemetry != nil {
		ctx := context.WithoutCancel(r.Context())
		h.telemetry.StoreQueries.Add(ctx, 1, metric.WithAttributes(attribute.String("outcome", outcome)))
		h.telemetry.StoreQueryDuration.Record(ctx, time.Since(started).Seconds())
	}
	if err != nil {
		return
	}
	if req.Format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		_ = writeCSV(w, result)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(result)
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

// writeCSV writes a header line of column names, then one line per row;
// NULL is an empty field.
func writeCSV(w io.Writer, result *queryResult) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(result.Columns); err != nil {
		return err
	}
	record := make([]string, len(result.Columns))
	for _, row := range result.Rows {
		for i, v := range row {
			record[i] = formatValue(v)
		}
		if err := cw.Write(record); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// formatValue prints one value for CSV: numbers in full, lists as JSON.
func formatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case *big.Int:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return fmt.Sprint(x)
		}
		return string(b)
	}
}
