package fusionstoreextension

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelfusion/otelfusion/extension/fusionstoreextension/internal/metadata"
	"github.com/otelfusion/otelfusion/pkg/diagnose"
)

// DiagnosePath is where the diagnosis API answers, beside QueryPath, with
// the same tenant scope and authentication.
const DiagnosePath = "/v1/diagnose"

// diagnoseRequest is the body of POST /v1/diagnose (docs/diagnose.md).
type diagnoseRequest struct {
	Service   string `json:"service"`
	Operation string `json:"operation"`
	// Window and Baseline are Go durations ("15m", "1h"); empty is the default.
	Window   string `json:"window"`
	Baseline string `json:"baseline"`
	// End is RFC 3339 or Unix nanoseconds; empty is now.
	End   string `json:"end"`
	Limit int    `json:"limit"`
}

// diagnoseHandler serves POST /v1/diagnose over the query handler's store,
// limits and tenant scope.
type diagnoseHandler struct {
	query    *queryHandler
	runs     metric.Int64Counter
	duration metric.Float64Histogram
}

// newDiagnoseHandler makes the handler and its instruments:
// otelcol_fusionstore_diagnoses by outcome and
// otelcol_fusionstore_diagnosis_duration.
func newDiagnoseHandler(query *queryHandler, set component.TelemetrySettings) (*diagnoseHandler, error) {
	meter := set.MeterProvider.Meter(metadata.ScopeName)
	runs, err := meter.Int64Counter("otelcol_fusionstore_diagnoses",
		metric.WithDescription("Diagnoses answered by the fusion store's diagnosis API, by outcome (ok, invalid, no_traffic, timeout, memory_limit, failed, cancelled)."),
		metric.WithUnit("{diagnoses}"))
	if err != nil {
		return nil, err
	}
	duration, err := meter.Float64Histogram("otelcol_fusionstore_diagnosis_duration",
		metric.WithDescription("Run time of the fusion store's diagnoses, all their queries."),
		metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30))
	if err != nil {
		return nil, err
	}
	return &diagnoseHandler{query: query, runs: runs, duration: duration}, nil
}

func (h *diagnoseHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeQueryError(w, http.StatusMethodNotAllowed, "use POST")
		return
	}
	tenant, refusal := h.query.scope(r)
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
	req, err := parseDiagnoseRequest(body)
	if err != nil {
		writeQueryError(w, http.StatusBadRequest, err.Error())
		return
	}
	started := time.Now()
	report, err := diagnose.Diagnose(r.Context(), h.query.store, tenant, h.query.limits, req, time.Now())
	outcome, status := diagnoseOutcome(err)
	switch {
	case err == nil:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		enc := json.NewEncoder(w)
		// The report quotes queries and log lines: "<" and ">" stay as they are.
		enc.SetEscapeHTML(false)
		_ = enc.Encode(report)
	case status != 0:
		writeQueryError(w, status, err.Error())
	}
	if outcome == "failed" {
		h.query.logger.Warn("Diagnosis failed", zap.Error(err))
	}
	ctx := context.WithoutCancel(r.Context())
	h.runs.Add(ctx, 1, metric.WithAttributes(attribute.String("outcome", outcome)))
	h.duration.Record(ctx, time.Since(started).Seconds())
}

// parseDiagnoseRequest reads the body into a diagnose.Request; its errors
// name the JSON key.
func parseDiagnoseRequest(body []byte) (diagnose.Request, error) {
	var in diagnoseRequest
	if err := json.Unmarshal(body, &in); err != nil {
		return diagnose.Request{}, fmt.Errorf(`request body must be JSON {"service": "...", "operation": "...", "window": "15m", "baseline": "1h", "end": "RFC 3339"}: %w`, err)
	}
	req := diagnose.Request{Service: in.Service, Operation: in.Operation, Limit: in.Limit}
	var errs []error
	for _, field := range []struct {
		key  string
		text string
		into *time.Duration
	}{{"window", in.Window, &req.Window}, {"baseline", in.Baseline, &req.Baseline}} {
		if field.text == "" {
			continue
		}
		d, err := time.ParseDuration(field.text)
		if err != nil {
			errs = append(errs, fmt.Errorf("'%s' must be a duration such as \"15m\": %w", field.key, err))
			continue
		}
		*field.into = d
	}
	if in.End != "" {
		end, err := parseEnd(in.End)
		if err != nil {
			errs = append(errs, err)
		}
		req.End = end
	}
	return req, errors.Join(errs...)
}

// parseEnd reads RFC 3339 or Unix nanoseconds.
func parseEnd(text string) (time.Time, error) {
	if ns, err := strconv.ParseInt(text, 10, 64); err == nil {
		if ns <= 0 {
			return time.Time{}, fmt.Errorf("'end' must be after 1970, got %d", ns)
		}
		return time.Unix(0, ns).UTC(), nil
	}
	end, err := time.Parse(time.RFC3339Nano, text)
	if err != nil {
		return time.Time{}, fmt.Errorf("'end' must be RFC 3339 or Unix nanoseconds, got %q", text)
	}
	return end, nil
}

// diagnoseOutcome names how a diagnosis ended, for telemetry, and the
// status of its error answer; 0 when nobody reads the answer.
func diagnoseOutcome(err error) (outcome string, status int) {
	switch {
	case err == nil:
		return "ok", http.StatusOK
	case errors.Is(err, diagnose.ErrBadRequest):
		return "invalid", http.StatusBadRequest
	case errors.Is(err, diagnose.ErrNoTraffic):
		return "no_traffic", http.StatusUnprocessableEntity
	}
	outcome, status = queryOutcome(err)
	if outcome == "invalid" {
		// The queries are the diagnosis's own: a refused one is our fault.
		return "failed", http.StatusInternalServerError
	}
	return outcome, status
}
