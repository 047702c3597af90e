package fusedexporter

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/consumer/consumererror"
)

// kind is how exporterhelper treats a signal's result.
type kind int

const (
	absent kind = iota
	accepted
	permanent
	retryable
	throttled
)

func kindOf(err error) kind {
	switch {
	case err == nil:
		return accepted
	case consumererror.IsPermanent(err):
		return permanent
	case strings.HasPrefix(err.Error(), "Throttle"): // exporterhelper's throttle error type is internal
		return throttled
	default:
		return retryable
	}
}

func TestInterpret(t *testing.T) {
	all := [signalCount]bool{true, true, true}
	items := [signalCount]int{3, 4, 5}
	tests := []struct {
		name       string
		status     int
		retryAfter string
		body       string
		want       [signalCount]kind
	}{
		{
			name:   "all accepted",
			status: http.StatusOK,
			body:   `{"traces":{"accepted":3},"logs":{"accepted":4},"metrics":{"accepted":5}}`,
			want:   [signalCount]kind{accepted, accepted, accepted},
		},
		{
			name:   "some rejected",
			status: http.StatusOK,
			body:   `{"traces":{"accepted":3},"logs":{"accepted":3,"rejected":1},"metrics":{"accepted":5}}`,
			want:   [signalCount]kind{accepted, permanent, accepted},
		},
		{
			name:       "503 with one signal retryable",
			status:     http.StatusServiceUnavailable,
			retryAfter: "2",
			body:       `{"traces":{"accepted":3},"logs":{"retryable":true},"metrics":{"accepted":5}}`,
			want:       [signalCount]kind{accepted, throttled, accepted},
		},
		{
			name:   "429 without Retry-After",
			status: http.StatusTooManyRequests,
			body:   `{"traces":{"retryable":true},"logs":{"accepted":4},"metrics":{"retryable":true}}`,
			want:   [signalCount]kind{retryable, accepted, retryable},
		},
		{
			name:       "503 from a proxy, no fused body",
			status:     http.StatusServiceUnavailable,
			retryAfter: "1",
			body:       `<html>maintenance</html>`,
			want:       [signalCount]kind{throttled, throttled, throttled},
		},
		{
			name:   "400 malformed",
			status: http.StatusBadRequest,
			body:   `{"traces":{"message":"bad frame"}}`,
			want:   [signalCount]kind{permanent, permanent, permanent},
		},
		{
			name:   "415 wrong content type",
			status: http.StatusUnsupportedMediaType,
			want:   [signalCount]kind{permanent, permanent, permanent},
		},
		{
			name:   "502 bad gateway",
			status: http.StatusBadGateway,
			want:   [signalCount]kind{retryable, retryable, retryable},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := interpret(tt.status, tt.retryAfter, []byte(tt.body), all, items)
			var kinds [signalCount]kind
			for s := range signalCount {
				kinds[s] = kindOf(got[s])
			}
			assert.Equal(t, tt.want, kinds, "%v", got.join())
		})
	}
}

func TestInterpretSkipsAbsentSignals(t *testing.T) {
	got := interpret(http.StatusBadRequest, "", nil, [signalCount]bool{signalLogs: true}, [signalCount]int{})
	assert.NoError(t, got[signalTraces])
	assert.Error(t, got[signalLogs])
	assert.NoError(t, got[signalMetrics])
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		value string
		want  time.Duration
	}{
		{value: "", want: 0},
		{value: "3", want: 3 * time.Second},
		{value: "-1", want: 0},
		{value: "soon", want: 0},
		{value: now.Add(90 * time.Second).Format(http.TimeFormat), want: 90 * time.Second},
		{value: now.Add(-time.Minute).Format(http.TimeFormat), want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			assert.Equal(t, tt.want, parseRetryAfter(tt.value, now))
		})
	}
}
