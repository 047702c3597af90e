package otlpgo

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otelfusion/otelfusion/pkg/fusiongen"
)

// requireSameRequest compares two requests by their canonical OTLP proto
// bytes, which catches any field a codec drops or changes.
func requireSameRequest(t testing.TB, want, got Request) {
	t.Helper()
	wantTraces, gotTraces := marshalTraces(t, want.Traces), marshalTraces(t, got.Traces)
	require.True(t, bytes.Equal(wantTraces, gotTraces), "traces differ")
	wantLogs, gotLogs := marshalLogs(t, want.Logs), marshalLogs(t, got.Logs)
	require.True(t, bytes.Equal(wantLogs, gotLogs), "logs differ")
	wantMetrics, gotMetrics := marshalMetrics(t, want.Metrics), marshalMetrics(t, got.Metrics)
	require.True(t, bytes.Equal(wantMetrics, gotMetrics), "metrics differ")
}

func marshalTraces(t testing.TB, td ptrace.Traces) []byte {
	t.Helper()
	if td == (ptrace.Traces{}) {
		td = ptrace.NewTraces()
	}
	b, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
	require.NoError(t, err)
	return b
}

func marshalLogs(t testing.TB, ld plog.Logs) []byte {
	t.Helper()
	if ld == (plog.Logs{}) {
		ld = plog.NewLogs()
	}
	b, err := (&plog.ProtoMarshaler{}).MarshalLogs(ld)
	require.NoError(t, err)
	return b
}

func marshalMetrics(t testing.TB, md pmetric.Metrics) []byte {
	t.Helper()
	if md == (pmetric.Metrics{}) {
		md = pmetric.NewMetrics()
	}
	b, err := (&pmetric.ProtoMarshaler{}).MarshalMetrics(md)
	require.NoError(t, err)
	return b
}

func roundTripCases() []struct {
	name string
	req  Request
} {
	gen := fusiongen.New(1)
	return []struct {
		name string
		req  Request
	}{
		{"empty", NewRequest()},
		{"zero value", Request{}},
		{"full traces", Request{Traces: fusiongen.FullTraces()}},
		{"full logs", Request{Logs: fusiongen.FullLogs()}},
		{"full metrics", Request{Metrics: fusiongen.FullMetrics()}},
		{"full all", Request{Traces: fusiongen.FullTraces(), Logs: fusiongen.FullLogs(), Metrics: fusiongen.FullMetrics()}},
		{"fixture all", fixtureRequest()},
		{"only logs", Request{Logs: gen.Logs(200)}},
		{"traces and metrics", Request{Traces: gen.Traces(200), Metrics: gen.Metrics(300)}},
		{"all three", Request{Traces: gen.Traces(500), Logs: gen.Logs(500), Metrics: gen.Metrics(500)}},
	}
}

func TestRoundTrip(t *testing.T) {
	for _, tc := range roundTripCases() {
		for _, compression := range []Compression{CompressionNone, CompressionZstd} {
			t.Run(tc.name+"/"+compression.String(), func(t *testing.T) {
				frame, err := AppendFrame(nil, tc.req, EncodeOptions{Compression: compression})
				require.NoError(t, err)
				got, err := Decode(frame, DefaultLimits())
				require.NoError(t, err)
				requireSameRequest(t, tc.req, got)

				// Appending to a non-empty buffer leaves its prefix alone.
				prefixed, err := NewEncoder(EncodeOptions{Compression: compression}).AppendFrame([]byte("prefix"), tc.req)
				require.NoError(t, err)
				require.Equal(t, "prefix", string(prefixed[:6]))
				require.Equal(t, frame, prefixed[6:])
			})
		}
	}
}

// TestEncoderReuse checks that an Encoder carries nothing from one frame to
// the next.
func TestEncoderReuse(t *testing.T) {
	enc := NewEncoder(EncodeOptions{Compression: CompressionZstd})
	var buf []byte
	for _, tc := range roundTripCases() {
		var err error
		buf, err = enc.AppendFrame(buf[:0], tc.req)
		require.NoError(t, err)
		got, err := Decode(buf, Limits{})
		require.NoError(t, err, tc.name)
		requireSameRequest(t, tc.req, got)
	}
}
