package otlpgoreceiver // import "github.com/otelfusion/otelfusion/receiver/otlpgoreceiver"

import (
	"bytes"
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
	"go.opentelemetry.io/collector/pdata/pcommon"
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

	ctx := req.Context()
	// A request that names no tenant where one is required costs no decode.
	if stamp := r.tenants.forRequest(ctx); stamp.refusesEveryResource() {
		_, _, err := stamp.decide(pcommon.NewResource())
		writeMessage(w, tenantErrorStatus(err), status.Convert(err).Message())
		return
	}

	// What this request reserves of fused::max_inflight_bytes is held until
	// its pipelines have returned, as they may still hold the decoded data.
	held := r.inflight.reserve()
	defer held.release(ctx)

	frame, statusCode, err := r.readFrame(ctx, req, held)
	if err != nil {
		r.writeRefusal(ctx, w, statusCode, err)
		return
	}

	r.telemetry.OtlpgoReceiverFrames.Add(ctx, 1)
	r.telemetry.OtlpgoReceiverFrameSize.Record(ctx, int64(len(frame)))

	if statusCode, err := r.reserve(ctx, held, r.limits.DecodeCost(frame)); err != nil {
		r.writeRefusal(ctx, w, statusCode, err)
		return
	}
	decoded, err := r.decodeFrame(ctx, req, frame)
	if err != nil {
		statusCode, attrs := decodeErrorStatus(err)
		if statusCode == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", retryAfterSeconds(r.cfg.Fused.RetryAfter))
		}
		r.telemetry.OtlpgoReceiverDecodeErrors.Add(ctx, 1, metric.WithAttributes(attrs...))
		writeMessage(w, statusCode, decodeErrorMessage(err))
		return
	}

	if err := r.stampFrame(ctx, decoded); err != nil {
		writeMessage(w, tenantErrorStatus(err), status.Convert(err).Message())
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
		w.Header().Set("Retry-After", retryAfterSeconds(retryAfter))
	}
	writeJSON(w, statusCode, resp)
}

// stampFrame writes the tenant into every resource of the frame, or refuses
// the whole frame: no signal of it reaches a pipeline then.
func (r *otlpgoReceiver) stampFrame(ctx context.Context, req otlpgo.Request) error {
	if err := r.tenants.stampTraces(ctx, req.Traces); err != nil {
		return err
	}
	if err := r.tenants.stampLogs(ctx, req.Logs); err != nil {
		return err
	}
	return r.tenants.stampMetrics(ctx, req.Metrics)
}

// readFrame reads the request body, refusing one larger than max_frame_bytes.
// confighttp has already bounded it by max_request_body_size. The body is
// reserved in held before it is read: its Content-Length, or when that is
// unknown (chunked, or Content-Encoding undone by confighttp) the most it may
// be, of which what the body did not use is given back after reading.
func (r *otlpgoReceiver) readFrame(ctx context.Context, req *http.Request, held *reservation) ([]byte, int, error) {
	maxFrame := int64(r.limits.MaxFrameBytes)
	if req.ContentLength > maxFrame {
		return nil, http.StatusRequestEntityTooLarge, frameTooLarge(maxFrame)
	}
	bodyReserve := req.ContentLength
	if bodyReserve < 0 {
		bodyReserve = maxFrame
		if maxBody := r.cfg.Fused.ServerConfig.MaxRequestBodySize; maxBody > 0 {
			bodyReserve = min(bodyReserve, maxBody)
		}
	}
	if statusCode, err := r.reserve(ctx, held, bodyReserve); err != nil {
		return nil, statusCode, err
	}
	// A body of known length is read into one buffer of that size, with
	// room for bytes.Buffer to see EOF without growing.
	body := bytes.NewBuffer(make([]byte, 0, max(req.ContentLength, 0)+bytes.MinRead))
	_, err := body.ReadFrom(io.LimitReader(req.Body, maxFrame+1))
	frame := body.Bytes()
	held.shrink(ctx, bodyReserve-int64(len(frame)))
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

// inflightFullError refuses a request for now: fused::max_inflight_bytes has
// not the room it needs while other requests hold their reservations.
type inflightFullError struct {
	need, capacity int64
}

func (e *inflightFullError) Error() string {
	return fmt.Sprintf("receiver busy: %d more bytes needed, but 'fused::max_inflight_bytes' (%d) is taken by requests in flight; retry later",
		e.need, e.capacity)
}

// reserve adds n bytes to what the request holds. It answers 503 (an
// *inflightFullError) when the budget has no room now, and 413 when the
// request could not fit even in an empty budget, so no retry would help.
func (r *otlpgoReceiver) reserve(ctx context.Context, held *reservation, n int64) (int, error) {
	capacity := r.inflight.capacity
	if held.held+n > capacity {
		return http.StatusRequestEntityTooLarge, fmt.Errorf(
			"frame needs %d bytes to read and decode, more than 'fused::max_inflight_bytes' (%d)", held.held+n, capacity)
	}
	if !held.grow(ctx, n) {
		return http.StatusServiceUnavailable, &inflightFullError{need: n, capacity: capacity}
	}
	return 0, nil
}

// writeRefusal answers a request refused before decoding; a refusal by the
// in-flight budget is counted and carries Retry-After.
func (r *otlpgoReceiver) writeRefusal(ctx context.Context, w http.ResponseWriter, statusCode int, err error) {
	if _, ok := errors.AsType[*inflightFullError](err); ok {
		r.telemetry.OtlpgoReceiverInflightRefused.Add(ctx, 1)
		w.Header().Set("Retry-After", retryAfterSeconds(r.cfg.Fused.RetryAfter))
	}
	writeMessage(w, statusCode, err.Error())
}

// deliveryOutcome is what became of one signal of a frame.
type deliveryOutcome struct {
	result *otlpgo.SignalResult
	// refusal is set when the pipeline refused the signal for now.
	refusal *refusal
	// err is the pipeline's error, nil when it accepted.
	err error
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
	rejected := deliveryOutcome{result: &otlpgo.SignalResult{Rejected: int64(items), Message: err.Error()}, err: err}
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
		err:     err,
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

// retryAfterSeconds is a Retry-After value: whole seconds, rounded up.
func retryAfterSeconds(d time.Duration) string {
	return strconv.FormatInt(int64(math.Ceil(d.Seconds())), 10)
}

// decodeErrorStatus answers a frame over one of fused::limits 413 and any
// other decode error 400, with the attributes of the decode errors metric:
// the reason and, for a limit, its key.
func decodeErrorStatus(err error) (int, []attribute.KeyValue) {
	if status, reason, ok := streamErrorStatus(err); ok {
		return status, []attribute.KeyValue{attribute.String("reason", reason)}
	}
	attrs := []attribute.KeyValue{attribute.String("reason", decodeErrorReason(err))}
	key, over := exceededLimit(err)
	if !over {
		return http.StatusBadRequest, attrs
	}
	if key != "" {
		attrs = append(attrs, attribute.String("limit", key))
	}
	return http.StatusRequestEntityTooLarge, attrs
}

// decodeErrorMessage names the limit a frame is over by its configuration
// key, followed by the decoder's own account of where and what.
func decodeErrorMessage(err error) string {
	key, over := exceededLimit(err)
	switch {
	case !over:
		return err.Error()
	case key == "":
		return fmt.Sprintf("frame over 'fused::limits': %s", err)
	default:
		return fmt.Sprintf("frame over 'fused::limits::%s': %s", key, err)
	}
}

// exceededLimit reports whether a decode error is over one of fused::limits,
// and the key of that limit when the decoder names it.
func exceededLimit(err error) (key string, over bool) {
	if !errors.Is(err, otlpgo.ErrLimitExceeded) && !errors.Is(err, otlpgo.ErrTooDeep) {
		return "", false
	}
	if decodeErr, ok := errors.AsType[*otlpgo.DecodeError](err); ok && decodeErr.Limit != "" {
		return decodeErr.Limit, true
	}
	if errors.Is(err, otlpgo.ErrTooDeep) {
		return "max_depth", true
	}
	return "", true
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
