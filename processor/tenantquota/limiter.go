package tenantquota

import (
	"errors"
	"fmt"
	"math"
	"time"

	"go.opentelemetry.io/collector/consumer/consumererror"
	"golang.org/x/time/rate"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

// signal is one of the three OTLP signals.
type signal int

const (
	signalTraces signal = iota
	signalLogs
	signalMetrics
	numSignals
)

func (s signal) String() string {
	switch s {
	case signalTraces:
		return "traces"
	case signalLogs:
		return "logs"
	default:
		return "metrics"
	}
}

// quota returns the quota of one signal.
func (l *LimitsConfig) quota(s signal) SignalQuota {
	switch s {
	case signalTraces:
		return l.Traces
	case signalLogs:
		return l.Logs
	default:
		return l.Metrics
	}
}

// tokenBucket is one rate limit; a nil limiter is unlimited.
type tokenBucket struct {
	limiter *rate.Limiter
}

// set applies a rate and burst, keeping the tokens already saved when the
// bucket exists.
func (b *tokenBucket) set(perSecond float64, burst int, now time.Time) {
	if perSecond <= 0 {
		b.limiter = nil
		return
	}
	if burst <= 0 {
		burst = int(math.Ceil(perSecond))
	}
	if b.limiter == nil {
		b.limiter = rate.NewLimiter(rate.Limit(perSecond), burst)
		return
	}
	b.limiter.SetLimitAt(now, rate.Limit(perSecond))
	b.limiter.SetBurstAt(now, burst)
}

func (b *tokenBucket) burst() int {
	if b.limiter == nil {
		return math.MaxInt
	}
	return b.limiter.Burst()
}

// signalBuckets are the item and byte buckets of one tenant and signal.
type signalBuckets struct {
	items, bytes tokenBucket
}

// reservation is tokens taken from some buckets, to give back if a later
// bucket of the same request says no.
type reservation []*rate.Reservation

// take reserves n tokens at now. It returns the wait before they would be
// available; a positive wait means the caller must cancel. ok is false when n
// exceeds the burst, which no wait can satisfy.
func (r *reservation) take(b *tokenBucket, n int, now time.Time) (wait time.Duration, ok bool) {
	if b.limiter == nil || n == 0 {
		return 0, true
	}
	res := b.limiter.ReserveN(now, n)
	if !res.OK() {
		return 0, false
	}
	*r = append(*r, res)
	return res.DelayFrom(now), true
}

// cancel gives every reserved token back, newest first, so each bucket's
// state is exactly as before. The caller holds the lock that serialises
// reservations, so nothing was reserved in between.
func (r reservation) cancel(now time.Time) {
	for i := len(r) - 1; i >= 0; i-- {
		r[i].CancelAt(now)
	}
}

// Sentinel errors, wrapped by the errors the processor returns.
var (
	// errOverQuota: the tenant is over a quota; retry after the delay given.
	errOverQuota = errors.New("tenant over quota")
	// errOverBurst: one request is bigger than the tenant's burst; retrying
	// cannot help.
	errOverBurst = errors.New("request exceeds the tenant's burst")
	// errUnlabelled: no tenant source labels the data and unlabelled data is
	// refused.
	errUnlabelled = errors.New("no tenant id")
)

// statusError is a gRPC status (what the receivers answer with) that also
// unwraps to one of the sentinel errors above.
type statusError struct {
	status   *status.Status
	sentinel error
}

func (e *statusError) Error() string              { return e.status.Err().Error() }
func (e *statusError) GRPCStatus() *status.Status { return e.status }
func (e *statusError) Unwrap() error              { return e.sentinel }

// throttleError is a gRPC ResourceExhausted status with a RetryInfo, which
// the OTLP receivers answer as 429 with Retry-After (HTTP) or
// RESOURCE_EXHAUSTED (gRPC). The delay is rounded up to whole seconds since
// Retry-After counts seconds and a truncated 0 would invite an immediate retry.
func throttleError(tenantID string, s signal, wait time.Duration) error {
	delay := max(time.Second, (wait+time.Second-1)/time.Second*time.Second)
	st := status.New(codes.ResourceExhausted,
		fmt.Sprintf("%v: tenant %q, %s; retry in %s", errOverQuota, tenantID, s, delay))
	if detailed, err := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(delay)}); err == nil {
		st = detailed
	}
	return &statusError{status: st, sentinel: errOverQuota}
}

// overBurstError is permanent: the request can never fit the bucket.
func overBurstError(tenantID string, s signal, what string, n, burst int) error {
	return consumererror.NewPermanent(&statusError{sentinel: errOverBurst, status: status.New(codes.InvalidArgument,
		fmt.Sprintf("%v: tenant %q, %s: %d %s > burst %d", errOverBurst, tenantID, s, n, what, burst))})
}

// unlabelledError is permanent: the sender must label its data.
func unlabelledError() error {
	return consumererror.NewPermanent(&statusError{sentinel: errUnlabelled, status: status.New(codes.InvalidArgument,
		fmt.Sprintf("%v: data carries no tenant id and unlabelled data is refused", errUnlabelled))})
}
