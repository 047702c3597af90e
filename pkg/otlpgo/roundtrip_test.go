package otlpgo

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
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
		{"many distinct strings", manyStrings(5000)},
	}
}

// manyStrings has n distinct short strings and a few long ones, enough to
// grow the encoder's dictionary table several times.
func manyStrings(n int) Request {
	req := NewRequest()
	lr := req.Logs.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	attrs := lr.Attributes()
	for i := range n {
		attrs.PutStr(fmt.Sprintf("k%d", i%1000), fmt.Sprintf("value-%d", i))
	}
	body := lr.Body().SetEmptySlice()
	for i := range n {
		body.AppendEmpty().SetStr(fmt.Sprintf("v-%d-%s", i%(n/2), strings.Repeat("x", i%300)))
	}
	return req
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

// TestConcurrentUse runs the package-level AppendFrame and Decode (pooled
// encoders and decoders) from many goroutines; run with -race.
func TestConcurrentUse(t *testing.T) {
	req := Request{Traces: fusiongen.FullTraces(), Logs: fusiongen.FullLogs(), Metrics: fusiongen.FullMetrics()}
	want := encodeFrame(t, req, CompressionZstd)
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			for range 20 {
				frame, err := AppendFrame(nil, req, EncodeOptions{Compression: CompressionZstd})
				if err == nil && !bytes.Equal(frame, want) {
					err = errors.New("frames differ between goroutines")
				}
				if err == nil {
					_, err = Decode(frame, Limits{})
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		require.NoError(t, <-errs)
	}
}

func TestAppendFrameUnknownCompression(t *testing.T) {
	dst := []byte("keep")
	got, err := AppendFrame(dst, NewRequest(), EncodeOptions{Compression: 7})
	require.Error(t, err)
	require.Equal(t, "keep", string(got))
	_, err = NewEncoder(EncodeOptions{Compression: 7}).AppendFrame(nil, NewRequest())
	require.Error(t, err)
	require.Equal(t, "unknown", Compression(7).String())
}
