package fusedexporter

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/otelfusion/otelfusion/pkg/otlpgo"
)

// outcome is the result of one fused request for each signal it carried:
// nil (accepted), a permanent error, or a retryable error that
// exporterhelper's retry answers by sending that signal's push again.
type outcome [signalCount]error

// all returns an outcome with err for every present signal.
func (o outcome) all(present [signalCount]bool, err error) outcome {
	for s := range signalCount {
		if present[s] {
			o[s] = err
		}
	}
	return o
}

// any reports whether some signal failed.
func (o outcome) any() bool { return o.join() != nil }

func (o outcome) join() error { return errors.Join(o[:]...) }

// statusOutcome is the "outcome" attribute of the fused requests metric.
func statusOutcome(status int) string {
	switch {
	case status >= 200 && status < 300:
		return "success"
	case retryableStatus(status):
		return "refused"
	default:
		return "rejected"
	}
}

// retryableStatus lists the statuses that mean "not now" rather than "never",
// as OTLP/HTTP does: throttled, unavailable, or a gateway that failed; and
// 409, an otlpgo receiver that lost a stream: nothing was ingested, and the
// stream's next frame is a reset frame it can read (stream.go).
func retryableStatus(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout,
		http.StatusConflict:
		return true
	}
	return false
}

// interpret maps the receiver's answer to a result per present signal.
//   - 2xx: each signal per its SignalResult; rejected items are permanent.
//   - 429, 502, 503, 504: the signals marked retryable (all of them when the
//     body says nothing, e.g. from a proxy) are retried after Retry-After;
//     the others were ingested and are resolved like a 2xx.
//   - any other status: nothing was ingested and resending will not help.
func interpret(status int, retryAfter string, body []byte, present [signalCount]bool, items [signalCount]int) outcome {
	var results outcome
	var resp otlpgo.Response
	parsed := json.Unmarshal(body, &resp) == nil
	delay := parseRetryAfter(retryAfter, time.Now())

	switch {
	case status >= 200 && status < 300:
		for s := range signalCount {
			if present[s] {
				results[s] = signalError(s, signalResult(resp, s), items[s], status, delay)
			}
		}
	case retryableStatus(status):
		for s := range signalCount {
			if !present[s] {
				continue
			}
			r := signalResult(resp, s)
			if !parsed || r == nil || r.Retryable {
				results[s] = refused(s, items[s], status, describe(r, body, parsed), delay)
				continue
			}
			results[s] = signalError(s, r, items[s], status, delay)
		}
	default:
		msg := strings.TrimSpace(describe(nil, body, false))
		if parsed {
			msg = responseMessage(resp)
		}
		err := consumererror.NewPermanent(fmt.Errorf("receiver answered HTTP %d: %s", status, msg))
		results = results.all(present, err)
	}
	return results
}

// signalError resolves one signal the receiver answered for.
func signalError(s signal, r *otlpgo.SignalResult, items, status int, delay time.Duration) error {
	switch {
	case r == nil:
		return nil // absent from a success answer: nothing to report against it
	case r.Retryable:
		return refused(s, items, status, r.Message, delay)
	case r.Rejected > 0:
		return consumererror.NewPermanent(fmt.Errorf("receiver rejected %d of %d %s: %s",
			r.Rejected, items, s.itemNoun(), r.Message))
	}
	return nil
}

// refused is the retryable error of a signal; with a Retry-After it is a
// throttle error so exporterhelper waits at least that long.
func refused(s signal, items, status int, msg string, delay time.Duration) error {
	err := fmt.Errorf("receiver refused %d %s for now (HTTP %d): %s", items, s.itemNoun(), status, msg)
	if delay > 0 {
		return exporterhelper.NewThrottleRetry(err, delay)
	}
	return err
}

func signalResult(resp otlpgo.Response, s signal) *otlpgo.SignalResult {
	switch s {
	case signalTraces:
		return resp.Traces
	case signalLogs:
		return resp.Logs
	case signalMetrics:
		return resp.Metrics
	}
	return nil
}

// describe returns the signal's message, else a short excerpt of a body that
// was not a fused response.
func describe(r *otlpgo.SignalResult, body []byte, parsed bool) string {
	if r != nil {
		return r.Message
	}
	if parsed {
		return ""
	}
	const maxExcerpt = 256
	if len(body) > maxExcerpt {
		body = body[:maxExcerpt]
	}
	return strings.TrimSpace(string(body))
}

// responseMessage joins the signal messages of a failed answer.
func responseMessage(resp otlpgo.Response) string {
	var msgs []string
	for s := range signalCount {
		if r := signalResult(resp, s); r != nil && r.Message != "" {
			msgs = append(msgs, s.String()+": "+r.Message)
		}
	}
	return strings.Join(msgs, "; ")
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date.
// It returns 0 when the header is absent or unusable.
func parseRetryAfter(value string, now time.Time) time.Duration {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0
	}
	if seconds, err := strconv.Atoi(value); err == nil {
		if seconds <= 0 {
			return 0
		}
		return time.Duration(seconds) * time.Second
	}
	if at, err := http.ParseTime(value); err == nil && at.After(now) {
		return at.Sub(now)
	}
	return 0
}
