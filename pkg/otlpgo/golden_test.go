package otlpgo

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// -update rewrites the golden frames and the fuzz seed corpus:
//
//	go test ./pkg/otlpgo -run 'TestGolden|TestFuzzSeeds' -update
var update = flag.Bool("update", false, "rewrite testdata golden frames and fuzz seeds")

// goldenRequest is small and fixed: a change in its frame is a change in the
// byte layout, made on purpose.
func goldenRequest() Request {
	req := NewRequest()
	t0 := pcommon.Timestamp(1_764_115_200_000_000_000) // 2025-11-26T00:00:00Z

	rs := req.Traces.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "checkout")
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName("otelhttp")
	root := ss.Spans().AppendEmpty()
	root.SetTraceID(pcommon.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	root.SetSpanID(pcommon.SpanID{1, 1, 1, 1, 1, 1, 1, 1})
	root.SetName("GET /cart")
	root.SetKind(ptrace.SpanKindServer)
	root.SetStartTimestamp(t0)
	root.SetEndTimestamp(t0 + 20_000_000)
	root.Attributes().PutStr("http.route", "/cart")
	root.Attributes().PutInt("http.response.status_code", 200)
	child := ss.Spans().AppendEmpty()
	child.SetTraceID(root.TraceID())
	child.SetSpanID(pcommon.SpanID{2, 2, 2, 2, 2, 2, 2, 2})
	child.SetParentSpanID(root.SpanID())
	child.SetName("SELECT carts")
	child.SetKind(ptrace.SpanKindClient)
	child.SetStartTimestamp(t0 + 1_000_000)
	child.SetEndTimestamp(t0 + 5_000_000)

	lr := req.Logs.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.SetTimestamp(t0 + 2_000_000)
	lr.SetSeverityNumber(9)
	lr.SetSeverityText("INFO")
	lr.Body().SetStr("cart loaded")
	lr.SetTraceID(root.TraceID())
	lr.SetSpanID(root.SpanID())
	lr.Attributes().PutStr("trace_id", root.TraceID().String()) // lowercase hex: an id reference

	m := req.Metrics.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName("http.server.request.count")
	sum := m.SetEmptySum()
	sum.SetIsMonotonic(true)
	sum.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	for i := range 3 {
		p := sum.DataPoints().AppendEmpty()
		p.SetStartTimestamp(t0)
		p.SetTimestamp(t0 + pcommon.Timestamp(i+1)*10_000_000_000)
		p.SetIntValue(int64(100 * (i + 1)))
		p.Attributes().PutStr("http.route", "/cart")
	}
	return req
}

func TestGolden(t *testing.T) {
	for _, c := range []Compression{CompressionNone, CompressionZstd} {
		t.Run(c.String(), func(t *testing.T) {
			path := filepath.Join("testdata", "golden_v2_"+c.String()+".otlpgo")
			frame := encodeFrame(t, goldenRequest(), c)
			checkGolden(t, path, frame)
			got, err := Decode(frame, DefaultLimits())
			require.NoError(t, err)
			requireSameRequest(t, goldenRequest(), got)
		})
	}
}

// TestGoldenV1 reads the frames that the v1 writer wrote: v1 frames still decode.
func TestGoldenV1(t *testing.T) {
	for _, c := range []Compression{CompressionNone, CompressionZstd} {
		t.Run(c.String(), func(t *testing.T) {
			frame, err := os.ReadFile(filepath.Join("testdata", "golden_v1_"+c.String()+".otlpgo"))
			require.NoError(t, err)
			require.Equal(t, byte(versionV1), frame[4])
			got, err := Decode(frame, DefaultLimits())
			require.NoError(t, err)
			requireSameRequest(t, goldenRequest(), got)
			got, err = NewStreamDecoder(DefaultLimits()).Decode(frame)
			require.NoError(t, err)
			requireSameRequest(t, goldenRequest(), got)
		})
	}
}

// TestGoldenStream pins two frames of a stream: a reset frame, then the
// same request again, which needs no dictionary and defines no shape.
func TestGoldenStream(t *testing.T) {
	enc := NewStreamEncoder(EncodeOptions{}, 0)
	dec := NewStreamDecoder(DefaultLimits())
	for i := 1; i <= 2; i++ {
		frame, err := enc.AppendFrame(nil, goldenRequest())
		require.NoError(t, err)
		checkGolden(t, filepath.Join("testdata", fmt.Sprintf("golden_v2_stream_%d.otlpgo", i)), frame)
		got, err := dec.Decode(frame)
		require.NoError(t, err)
		requireSameRequest(t, goldenRequest(), got)
	}
}

func checkGolden(t *testing.T, path string, frame []byte) {
	t.Helper()
	if *update {
		require.NoError(t, os.WriteFile(path, frame, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, want, frame, "the byte layout changed: if on purpose, update docs/protocol.md and run with -update")
}

// TestFuzzSeeds writes real frames into the fuzz seed corpus with -update,
// and otherwise checks that the corpus decodes as recorded.
func TestFuzzSeeds(t *testing.T) {
	seeds := map[string]Request{
		"golden":       goldenRequest(),
		"empty":        NewRequest(),
		"fixture":      fixtureRequest(),
		"deep":         {Logs: deepLogs(5)},
		"full_logs":    roundTripCases()[3].req,
		"full_metrics": roundTripCases()[4].req,
		"full_traces":  roundTripCases()[2].req,
	}
	if !*update {
		t.Skip("run with -update to rewrite the seed corpus")
	}
	writeSeed := func(fuzzName, name string, frame []byte) {
		dir := filepath.Join("testdata", "fuzz", fuzzName)
		require.NoError(t, os.MkdirAll(dir, 0o755))
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", frame)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "seed_"+name), []byte(body), 0o644))
	}
	// The attacks of TestDecodeRefusesAttacks and TestZstdBodyLength, built
	// by hand; compressed, they are a few KiB.
	stream := bytes.Repeat([]byte("a zstd stream "), 5000)
	logs := appendSection(nil, sectionLogs, newHandLogs(0).section())
	attacks := map[string][]byte{
		"dict_refs":         dictRefsFrame(t, 4<<20, 128, true),
		"hex_refs":          wideMapsFrame(t, 113_000, 64, valueTraceIDHex, true),
		"wide_maps":         wideMapsFrame(t, 4056, 1024, valueInt, true),
		"zstd_longer":       zstdStreamFrame(t, stream, 16<<10),
		"zstd_shorter":      zstdStreamFrame(t, stream, 128<<10),
		"zstd_large_window": frameWithBody(flagZstd, rawBlockZstd(23, logs), len(logs)),
	}
	for name, frame := range attacks {
		writeSeed("FuzzDecode", "attack_"+name, frame)
	}
	// Streams: frames of each shape, a lost frame, a reset after it, and a
	// frame that takes a small state over its bound.
	for shape, newSource := range shapeSources() {
		src := newSource()
		enc := NewStreamEncoder(EncodeOptions{}, 0)
		var frames [][]byte
		for _, req := range []Request{{Traces: src.Traces(20)}, {Logs: src.Logs(20)}, {Metrics: src.Metrics(20)}, {Logs: src.Logs(20), Metrics: src.Metrics(20)}} {
			f, err := enc.AppendFrame(nil, req)
			require.NoError(t, err)
			frames = append(frames, f)
		}
		writeSeed("FuzzStreamDecode", "stream_"+shape, bytes.Join(frames, nil))
		writeSeed("FuzzStreamDecode", "lost_"+shape, bytes.Join([][]byte{frames[0], frames[2], frames[3]}, nil))
		enc.Reset()
		f, err := enc.AppendFrame(nil, Request{Traces: src.Traces(20)})
		require.NoError(t, err)
		writeSeed("FuzzStreamDecode", "reset_"+shape, bytes.Join([][]byte{frames[0], frames[2], f}, nil))
	}
	writeSeed("FuzzStreamDecode", "golden_v1_and_stream", bytes.Join([][]byte{
		mustRead(t, "testdata/golden_v1_zstd.otlpgo"), mustRead(t, "testdata/golden_v2_stream_1.otlpgo"),
		mustRead(t, "testdata/golden_v2_stream_2.otlpgo"), encodeFrame(t, goldenRequest(), CompressionZstd),
	}, nil))
	for _, fuzzName := range []string{"FuzzDecode", "FuzzRoundTrip"} {
		for name, req := range seeds {
			for _, c := range []Compression{CompressionNone, CompressionZstd} {
				writeSeed(fuzzName, name+"_"+c.String(), encodeFrame(t, req, c))
			}
		}
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}
