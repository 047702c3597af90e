package otlpgoreceiver // import "github.com/otelfusion/otelfusion/receiver/otlpgoreceiver"

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otelfusion/otelfusion/pkg/otlpgo"
)

// dataFormat names the encoding in the standard receiver metrics.
const dataFormat = "otlpgo"

// handleFused answers POST /v1/fused: decode the whole frame first, so a
// malformed frame reaches no pipeline, then hand each signal to its pipeline.
func (r *otlpgoReceiver) handleFused(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeMessage(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed, use POST", req.Method))
		return
	}
	if mediaType, _, err := mime.ParseMediaType(req.Header.Get("Content-Type")); err != nil || mediaType != otlpgo.ContentType {
		writeMessage(w, http.StatusUnsupportedMediaType,
			fmt.Sprintf("unsupported Content-Type %q, use %q", req.Header.Get("Content-Type"), otlpgo.ContentType))
		return
	}

	frame, statusCode, err := r.readFrame(req)
	if err != nil {
		writeMessage(w, statusCode, err.Error())
		return
	}

	ctx := req.Context()
	r.telemetry.OtlpgoReceiverFrames.Add(ctx, 1)
	r.telemetry.OtlpgoReceiverFrameSize.Record(ctx, int64(len(frame)))

	decoded, err := otlpgo.Decode(frame, r.limits)
	if err != nil {
		r.telemetry.OtlpgoReceiverDecodeErrors.Add(ctx, 1,
			metric.WithAttributes(attribute.String("reason", decodeErrorReason(err))))
		writeMessage(w, http.StatusBadRequest, err.Error())
		return
	}

	var (
		resp     otlpgo.Response
		outcomes []deliveryOutcome
	)
	if decoded.Traces.ResourceSpans().Len() > 0 {
		outcome := r.deliverTraces(ctx, decoded.Traces)
		resp.Traces = outcome.result
		outcomes = append(outcomes, outcome)
	}
	if decoded.Logs.ResourceLogs().Len() > 0 {
		outcome := r.deliverLogs(ctx, decoded.Logs)
		resp.Logs = outcome.result
		outcomes = append(outcomes, outcome)
	}
	if decoded.Metrics.ResourceMetrics().Len() > 0 {
		outcome := r.deliverMetrics(ctx, decoded.Metrics)
		resp.Metrics = outcome.result
		outcomes = append(outcomes, outcome)
	}

	statusCode, retryAfter := r.responseStatus(outcomes)
	if retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(int64(math.Ceil(retryAfter.Seconds())), 10))
	}
	writeJSON(w, statusCode, resp)
}

// readFrame reads the request body, refusing one larger than max_frame_bytes.
// confighttp has already bounded it by max_request_body_size.
func (r *otlpgoReceiver) readFrame(req *http.Request) ([]byte, int, error) {
	maxFrame := int64(r.limits.MaxFrameBytes)
	if req.ContentLength > maxFrame {
		return nil, http.StatusRequestEntityTooLarge, frameTooLarge(maxFrame)
	}
	frame, err := io.ReadAll(io.LimitReader(req.Body, maxFrame+1))
	if err != nil {
		if maxBytesErr, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, http.StatusRequestEntityTooLarge,
				fmt.Errorf("request body larger than %d bytes ('fused::max_request_body_size')", maxBytesErr.Limit)
		}
		return nil, http.StatusBadRequest, fmt.Errorf("reading request body: %w", err)
	}
	if int64(len(frame)) > maxFrame {
		return nil, http.StatusRequestEntityTooLarge, frameTooLarge(maxFrame)
	}
	return frame, 0, nil
}

func frameTooLarge(maxFrame int64) error {
	return fmt.Errorf("frame larger than %d bytes ('fused::limits::max_frame_bytes')", maxFrame)
}

// deliveryOutcome is what became of one signal of a frame.
type deliveryOutcome struct {
	result *otlpgo.SignalResult
	// refusal is set when the pipeline refused the signal for now.
	refusal *refusal
}

// refusal describes a retryable consumer error.
type refusal struct {
	// throttled is true for gRPC ResourceExhausted, answered 429 rather
	// than 503, as the core otlp receiver does.
	throttled bool
	// retryDelay comes from the error's gRPC RetryInfo; zero when it has none.
	retryDelay time.Duration
}

func (r *otlpgoReceiver) deliverTraces(ctx context.Context, td ptrace.Traces) deliveryOutcome {
	items := td.SpanCount()
	if r.nextTraces == nil {
		return noPipeline("traces", items)
	}
	if items == 0 {
		return deliveryOutcome{result: &otlpgo.SignalResult{}}
	}
	ctx = r.obsrep.StartTracesOp(ctx)
	err := r.nextTraces.ConsumeTraces(ctx, td)
	r.obsrep.EndTracesOp(ctx, dataFormat, items, err)
	return outcomeOf(items, err)
}

func (r *otlpgoReceiver) deliverLogs(ctx context.Context, ld plog.Logs) deliveryOutcome {
	items := ld.LogRecordCount()
	if r.nextLogs == nil {
		return noPipeline("logs", items)
	}
	if items == 0 {
		return deliveryOutcome{result: &otlpgo.SignalResult{}}
	}
	ctx = r.obsrep.StartLogsOp(ctx)
	err := r.nextLogs.ConsumeLogs(ctx, ld)
	r.obsrep.EndLogsOp(ctx, dataFormat, items, err)
	return outcomeOf(items, err)
}

func (r *otlpgoReceiver) deliverMetrics(ctx context.Context, md pmetric.Metrics) deliveryOutcome {
	items := md.DataPointCount()
	if r.nextMetrics == nil {
		return noPipeline("metrics", items)
	}
	if items == 0 {
		return deliveryOutcome{result: &otlpgo.SignalResult{}}
	}
	ctx = r.obsrep.StartMetricsOp(ctx)
	err := r.nextMetrics.ConsumeMetrics(ctx, md)
	r.obsrep.EndMetricsOp(ctx, dataFormat, items, err)
	return outcomeOf(items, err)
}

// noPipeline rejects a signal that no pipeline of this receiver takes; the
// sender must not resend it, and the other signals are unaffected.
func noPipeline(signal string, items int) deliveryOutcome {
	return deliveryOutcome{result: &otlpgo.SignalResult{
		Rejected: int64(items),
		Message:  "no " + signal + " pipeline uses this receiver",
	}}
}

// outcomeOf classifies a consumer error the way the core otlp receiver maps
// it to an HTTP status: permanent errors and non-retryable gRPC codes reject
// the items for good; ResourceExhausted is a throttle (429); any other error
// is retryable (503).
func outcomeOf(items int, err error) deliveryOutcome {
	if err == nil {
		return deliveryOutcome{result: &otlpgo.SignalResult{Accepted: int64(items)}}
	}
	rejected := deliveryOutcome{result: &otlpgo.SignalResult{Rejected: int64(items), Message: err.Error()}}
	if consumererror.IsPermanent(err) {
		return rejected
	}
	refused := &refusal{}
	if st, ok := status.FromError(err); ok {
		switch st.Code() {
		case codes.ResourceExhausted:
			refused.throttled = true
		case codes.Canceled, codes.DeadlineExceeded, codes.Aborted, codes.OutOfRange, codes.Unavailable, codes.DataLoss:
		default:
			return rejected
		}
		for _, detail := range st.Details() {
			if info, ok := detail.(*errdetails.RetryInfo); ok {
				refused.retryDelay = info.GetRetryDelay().AsDuration()
			}
		}
	}
	return deliveryOutcome{
		result:  &otlpgo.SignalResult{Retryable: true, Message: err.Error()},
		refusal: refused,
	}
}

// responseStatus is 200 unless a signal was refused for now: then 429 if any
// refusal was a throttle, else 503, with the longest delay asked for, or the
// configured default when no error carried one.
func (r *otlpgoReceiver) responseStatus(outcomes []deliveryOutcome) (int, time.Duration) {
	statusCode := http.StatusOK
	var retryAfter time.Duration
	for _, outcome := range outcomes {
		if outcome.refusal == nil {
			continue
		}
		if outcome.refusal.throttled {
			statusCode = http.StatusTooManyRequests
		} else if statusCode == http.StatusOK {
			statusCode = http.StatusServiceUnavailable
		}
		retryAfter = max(retryAfter, outcome.refusal.retryDelay)
	}
	if statusCode != http.StatusOK && retryAfter <= 0 {
		retryAfter = r.cfg.Fused.RetryAfter
	}
	return statusCode, retryAfter
}

// decodeErrorReason is the low-cardinality "reason" attribute of the decode
// errors metric.
func decodeErrorReason(err error) string {
	for _, reason := range []struct {
		sentinel error
		name     string
	}{
		{otlpgo.ErrTruncated, "truncated"},
		{otlpgo.ErrBadMagic, "bad_magic"},
		{otlpgo.ErrUnsupportedVersion, "unsupported_version"},
		{otlpgo.ErrLimitExceeded, "limit_exceeded"},
		{otlpgo.ErrDictIndex, "dict_index"},
		{otlpgo.ErrTooDeep, "too_deep"},
		{otlpgo.ErrTrailingBytes, "trailing_bytes"},
		{otlpgo.ErrMalformed, "malformed"},
	} {
		if errors.Is(err, reason.sentinel) {
			return reason.name
		}
	}
	return "other"
}

// messageBody is the JSON body of every error answer that is not an
// otlpgo.Response.
type messageBody struct {
	Message string `json:"message"`
}

func writeMessage(w http.ResponseWriter, statusCode int, msg string) {
	writeJSON(w, statusCode, messageBody{Message: msg})
}

func writeJSON(w http.ResponseWriter, statusCode int, body any) {
	encoded, err := json.Marshal(body)
	if err != nil {
		statusCode = http.StatusInternalServerError
		encoded = []byte(`{"message":"failed to encode response"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(statusCode)
	// Nothing useful can be done if the client went away.
	_, _ = w.Write(encoded)
}
