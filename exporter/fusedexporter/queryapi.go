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

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelfusion/otelfusion/exporter/fusedexporter/internal/metadata"
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
	tenant := ""
	if h.tenantHeader != "" {
		tenant = r.Header.Get(h.tenantHeader)
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
