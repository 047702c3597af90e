package fused

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"go.opentelemetry.io/otel"

	"github.com/otelfusion/otelfusion/sdk/internal/otlpgo"
)

// contentType is the media type of a fused frame.
const contentType = "application/x-otlpgo"

// maxResponseBytes bounds the answer read from the collector.
const maxResponseBytes = 64 << 10

// response is the collector's answer to a frame (pkg/otlpgo.Response).
type response struct {
	Traces  *signalResult `json:"traces,omitempty"`
	Logs    *signalResult `json:"logs,omitempty"`
	Metrics *signalResult `json:"metrics,omitempty"`
	Message string        `json:"message,omitempty"`
}

type signalResult struct {
	Accepted  int64  `json:"accepted"`
	Rejected  int64  `json:"rejected"`
	Retryable bool   `json:"retryable,omitempty"`
	Message   string `json:"message,omitempty"`
}

func (r *response) signal(sig otlpgo.Signal) *signalResult {
	switch sig {
	case otlpgo.Traces:
		return r.Traces
	case otlpgo.Logs:
		return r.Logs
	default:
		return r.Metrics
	}
}

// sendLoop sends the queued frames one at a time, in order.
func (c *Client) sendLoop() {
	defer c.stopped.Done()
	for {
		select {
		case b := <-c.queue:
			c.deliver(b)
		case <-c.stop:
			for {
				select {
				case b := <-c.queue:
					if b.frame != nil {
						c.stats.drop(b.frame, otlpgo.AllSignals)
					}
					b.err = ErrShutdown
					close(b.done)
				default:
					return
				}
			}
		}
	}
}

// deliver sends b's frame until every signal of it is accepted or rejected
// for good, or retries are used up; errors go to the OTel error handler.
func (c *Client) deliver(b *batch) {
	defer close(b.done)
	if b.frame == nil {
		return
	}
	defer c.recycle(b.frame)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		select {
		case <-c.stop:
			cancel()
		case <-b.done:
		}
	}()
	defer cancel()
	b.err = c.sendFrame(ctx, b.frame)
	if b.err != nil {
		otel.Handle(b.err)
	}
}

// sendFrame posts the frame and then, as long as the collector refuses
// some signals for now, a frame of only those.
func (c *Client) sendFrame(ctx context.Context, f *otlpgo.Builder) error {
	pending := f.Present()
	start := time.Now()
	var buf []byte
	for attempt := 0; ; attempt++ {
		var err error
		buf, err = f.AppendFrame(buf[:0], pending, c.encoding)
		if err != nil {
			c.stats.drop(f, pending)
			return err
		}
		c.stats.requests.Add(1)
		if attempt > 0 {
			c.stats.retries.Add(1)
		}
		retry, after, err := c.post(ctx, f, buf, &pending)
		if !retry {
			if err != nil {
				c.stats.drop(f, pending)
			}
			return err
		}
		wait := c.backoff(attempt)
		if after > wait {
			wait = after
		}
		if !c.cfg.retry.Enabled || time.Since(start)+wait > c.cfg.retry.MaxElapsedTime {
			c.stats.drop(f, pending)
			return fmt.Errorf("fused: %s dropped after %d tries: %w", describe(f, pending), attempt+1, err)
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			c.stats.drop(f, pending)
			return fmt.Errorf("fused: %s dropped at shutdown: %w", describe(f, pending), err)
		}
	}
}

// post makes one request. It returns whether to try again (and the
// collector's Retry-After), having taken the signals settled for good out of
// *pending and counted them.
func (c *Client) post(ctx context.Context, f *otlpgo.Builder, frame []byte, pending *otlpgo.SignalSet) (retry bool, after time.Duration, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(frame))
	if err != nil {
		return false, 0, fmt.Errorf("fused: %w", err)
	}
	req.Header = c.cfg.headers.Clone()
	req.Header.Set("Content-Type", contentType)
	resp, err := c.http.Do(req)
	if err != nil {
		return true, 0, fmt.Errorf("fused: POST %s: %w", c.url, err)
	}
	defer resp.Body.Close()
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	var answer response
	parsed := readErr == nil && json.Unmarshal(body, &answer) == nil

	switch resp.StatusCode {
	case http.StatusOK, http.StatusAccepted:
		if parsed {
			return false, 0, c.settle(f, &answer, pending)
		}
		c.accept(f, *pending)
		*pending = 0
		return false, 0, nil
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		after = retryAfter(resp.Header.Get("Retry-After"))
		err = fmt.Errorf("fused: collector answered %d: %s", resp.StatusCode, answer.Message)
		if parsed && (answer.Traces != nil || answer.Logs != nil || answer.Metrics != nil) {
			// Per signal: those not refused for now are settled.
			if settleErr := c.settle(f, &answer, pending); settleErr != nil {
				otel.Handle(settleErr)
			}
		}
		return *pending != 0, after, err
	default:
		return false, 0, fmt.Errorf("fused: collector refused %s with %d: %s", describe(f, *pending), resp.StatusCode, answer.Message)
	}
}

// settle counts the per-signal results of an answer and leaves in *pending
// the signals refused for now.
func (c *Client) settle(f *otlpgo.Builder, answer *response, pending *otlpgo.SignalSet) error {
	var errs []error
	for sig := range otlpgo.Signal(3) {
		if !pending.Has(sig) {
			continue
		}
		r := answer.signal(sig)
		switch {
		case r == nil: // the collector did not say: sent with a 2xx, so taken
			c.stats.accepted[sig].Add(int64(f.Items(sig)))
		case r.Retryable:
			continue
		default:
			c.stats.accepted[sig].Add(r.Accepted)
			c.stats.rejected[sig].Add(r.Rejected)
			if r.Rejected > 0 {
				errs = append(errs, fmt.Errorf("fused: collector rejected %d of %d %s: %s", r.Rejected, f.Items(sig), itemName(sig), r.Message))
			}
		}
		*pending &^= 1 << sig
	}
	return errors.Join(errs...)
}

func (c *Client) accept(f *otlpgo.Builder, which otlpgo.SignalSet) {
	for sig := range otlpgo.Signal(3) {
		if which.Has(sig) {
			c.stats.accepted[sig].Add(int64(f.Items(sig)))
		}
	}
}

// backoff is the wait before retry attempt+1: InitialInterval doubled per
// attempt up to MaxInterval.
func (c *Client) backoff(attempt int) time.Duration {
	d := c.cfg.retry.InitialInterval
	for range attempt {
		d *= 2
		if d >= c.cfg.retry.MaxInterval {
			return c.cfg.retry.MaxInterval
		}
	}
	return d
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil && secs > 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return time.Until(t)
	}
	return 0
}

func itemName(sig otlpgo.Signal) string {
	switch sig {
	case otlpgo.Traces:
		return "spans"
	case otlpgo.Logs:
		return "log records"
	default:
		return "data points"
	}
}

func describe(f *otlpgo.Builder, which otlpgo.SignalSet) string {
	s := ""
	for sig := range otlpgo.Signal(3) {
		if which.Has(sig) && f.Items(sig) > 0 {
			if s != "" {
				s += ", "
			}
			s += fmt.Sprintf("%d %s", f.Items(sig), itemName(sig))
		}
	}
	if s == "" {
		return "empty frame"
	}
	return s
}
