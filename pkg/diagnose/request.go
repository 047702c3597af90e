package diagnose

import (
	"errors"
	"fmt"
	"time"
)

// Defaults of a Request.
const (
	// DefaultWindow is the incident window: the time before End.
	DefaultWindow = 15 * time.Minute
	// DefaultBaseline is the baseline: the time before the incident window.
	DefaultBaseline = time.Hour
	// maxSpan bounds both windows: a diagnosis reads at most this much history.
	maxSpan = 7 * 24 * time.Hour
)

// ErrBadRequest is a Request that cannot be diagnosed as given (its message
// names the field); the API answers it with 400.
var ErrBadRequest = errors.New("diagnose: bad request")

// ErrNoTraffic is a service without entry spans in the baseline or the
// incident window: there is nothing to compare. The API answers it with 422.
var ErrNoTraffic = errors.New("diagnose: no traffic to compare")

// Request names what to diagnose.
type Request struct {
	// Service is the service whose entry spans (SERVER or CONSUMER) changed.
	Service string
	// Operation narrows the entry spans to one operation; empty is all.
	Operation string
	// End is the end of the incident window; zero is now.
	End time.Time
	// Window is the incident window's length, before End.
	Window time.Duration
	// Baseline is the baseline's length, before the incident window.
	Baseline time.Duration
	// Limit is how many candidates the report keeps; 0 is 10.
	Limit int
}

// defaultLimit is the candidates a report keeps when Limit is 0.
const defaultLimit = 10

// withDefaults fills the zero fields of r and checks them; now is the end of
// a window that sets none.
func (r Request) withDefaults(now time.Time) (Request, error) {
	if r.End.IsZero() {
		r.End = now
	}
	if r.Window == 0 {
		r.Window = DefaultWindow
	}
	if r.Baseline == 0 {
		r.Baseline = DefaultBaseline
	}
	if r.Limit == 0 {
		r.Limit = defaultLimit
	}
	var errs []error
	if r.Service == "" {
		errs = append(errs, errors.New("'service' is required"))
	}
	if r.Window < time.Second {
		errs = append(errs, fmt.Errorf("'window' must be at least 1s, got %s", r.Window))
	}
	if r.Baseline < time.Second {
		errs = append(errs, fmt.Errorf("'baseline' must be at least 1s, got %s", r.Baseline))
	}
	if r.Window+r.Baseline > maxSpan {
		errs = append(errs, fmt.Errorf("'window' plus 'baseline' must be at most %s, got %s", maxSpan, r.Window+r.Baseline))
	}
	if r.Limit < 0 || r.Limit > 100 {
		errs = append(errs, fmt.Errorf("'limit' must be between 1 and 100, got %d", r.Limit))
	}
	if r.End.UnixNano() < int64(r.Window+r.Baseline) {
		errs = append(errs, fmt.Errorf("'end' %s leaves no room for the windows before it", r.End.UTC().Format(time.RFC3339)))
	}
	if len(errs) > 0 {
		return r, fmt.Errorf("%w: %w", ErrBadRequest, errors.Join(errs...))
	}
	return r, nil
}

// bounds are the windows in nanoseconds: baseline [baselineStart,
// incidentStart), incident [incidentStart, end).
type bounds struct {
	baselineStart, incidentStart, end int64
}

func (r Request) bounds() bounds {
	end := r.End.UnixNano()
	return bounds{baselineStart: end - int64(r.Window+r.Baseline), incidentStart: end - int64(r.Window), end: end}
}
