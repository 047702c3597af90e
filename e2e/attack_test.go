package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelfusion/otelfusion/pkg/fusiongen"
	"github.com/otelfusion/otelfusion/pkg/otlpgo"
)

// attackFrame is a small frame built to cost the receiver far more than its
// size, and what the receiver must answer it with.
type attackFrame struct {
	name  string
	frame []byte
	// status is the answer: 413 for a frame over a limit, 400 for one that
	// is malformed.
	status int
	// explains holds what the message must name, one of them: the limit
	// ('fused::limits::<key>') or the field of the frame that is refused.
	explains []string
}

// attackFrames builds, by hand from docs/protocol.md, the frames that make a
// few kilobytes cost gigabytes if the decoder trusts them.
func attackFrames(t *testing.T) []attackFrame {
	t.Helper()
	return []attackFrame{
		{
			// 128 bodies × 4 MiB = 512 MiB of strings from one dictionary entry.
			name:     "dictionary_string_amplification",
			frame:    dictionaryAmplification(t),
			status:   http.StatusRequestEntityTooLarge,
			explains: limitKeys("max_decoded_bytes", "max_expansion"),
		},
		{
			// 113k × 64 attributes, each a 32-byte hex string from one byte.
			name:     "shared_shape_trace_id_values",
			frame:    sharedShapeTraceIDs(t),
			status:   http.StatusRequestEntityTooLarge,
			explains: limitKeys("max_attributes", "max_decoded_bytes", "max_expansion"),
		},
		{
			// 4,056 maps of 1,024 keys: 4M pdata inserts, each checked
			// against the keys before it.
			name:     "wide_maps",
			frame:    wideMaps(t),
			status:   http.StatusRequestEntityTooLarge,
			explains: limitKeys("max_attributes", "max_decoded_bytes", "max_expansion"),
		},
		{
			// raw_len says 1 MiB, and the zstd window fits in it, but the
			// stream holds 64 MiB: zstd must stop writing at raw_len.
			name:     "zstd_bomb_under_honest_raw_len",
			frame:    zstdStreamFrame(t, 64<<20, 1<<20, 1<<20),
			status:   http.StatusBadRequest,
			explains: []string{"raw_len"},
		},
		{
			// The same bomb with zstd's usual 8 MiB window: a body of
			// raw_len 1 MiB has no use for it, so the header gives it away.
			name:     "zstd_window_over_raw_len",
			frame:    zstdStreamFrame(t, 64<<20, 8<<20, 1<<20),
			status:   http.StatusBadRequest,
			explains: []string{"zstd window"},
		},
	}
}

func dictionaryAmplification(t *testing.T) []byte {
	t.Helper()
	const bodies = 128
	body := appendSection(nil, sectionDict, dictPayload(bytes.Repeat([]byte{'a'}, 4<<20)))
	body = appendSection(body, sectionLogs, logsSection(bodies, func(w *signalWriter, _ int) {
		w.uvarint(streamStruct, valueTagString)
		w.uvarint(streamStrings, 1)
	}, noAttributes))
	return zstdFrame(t, body)
}

func sharedShapeTraceIDs(t *testing.T) []byte {
	t.Helper()
	const records, keys = 113_000, 64
	// The shape after the empty one (shape 1) is shape 2.
	const shapeRef = 2
	names := make([][]byte, keys)
	for k := range names {
		names[k] = fmt.Appendf(nil, "trace.ref.%02d", k)
	}
	body := appendSection(nil, sectionDict, dictPayload(names...))
	body = appendSection(body, sectionLogs, logsSection(records, emptyBody, func(w *signalWriter, i int) {
		if i > 0 {
			w.uvarint(streamStruct, shapeRef)
			for range keys {
				w.uvarint(streamStruct, 1) // the last trace id of the frame
			}
			return
		}
		w.uvarint(streamStruct, 0) // define the shape
		w.uvarint(streamStruct, keys)
		for k := range keys {
			w.uvarint(streamStrings, uint64(k+1))
			w.uvarint(streamStruct, valueTagTraceIDHx)
		}
		w.uvarint(streamStruct, 0) // a trace id new to the frame
		w.raw(bytes.Repeat([]byte{0xab}, 16))
		for range keys - 1 {
			w.uvarint(streamStruct, 1)
		}
	}))
	return zstdFrame(t, body)
}

func wideMaps(t *testing.T) []byte {
	t.Helper()
	const maps, keys = 4056, 1024
	const shapeRef = 2
	names := make([][]byte, keys)
	for k := range names {
		names[k] = fmt.Appendf(nil, "key-%04d", k)
	}
	body := appendSection(nil, sectionDict, dictPayload(names...))
	body = appendSection(body, sectionLogs, logsSection(maps, emptyBody, func(w *signalWriter, i int) {
		if i == 0 {
			w.uvarint(streamStruct, 0)
			w.uvarint(streamStruct, keys)
			for k := range keys {
				w.uvarint(streamStrings, uint64(k+1))
				w.uvarint(streamStruct, valueTagBool)
			}
		} else {
			w.uvarint(streamStruct, shapeRef)
		}
		for range keys {
			w.uvarint(streamStruct, 0) // false
		}
	}))
	return zstdFrame(t, body)
}

// rssBytes is the collector's resident set size.
func (p *collectorProcess) rssBytes(t *testing.T) int64 {
	t.Helper()
	require.NotNil(t, p.cmd, "%s is not running", p.name)
	rss, err := residentBytes(p.cmd.Process.Pid)
	require.NoError(t, err)
	return rss
}

// residentBytes reads VmRSS from /proc/<pid>/status.
func residentBytes(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if kb, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(kb), "kB")), 10, 64)
			return n << 10, err
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// fusedAnswer is what the fused endpoint said to one request.
type fusedAnswer struct {
	status     int
	retryAfter string
	message    string
	response   otlpgo.Response
	elapsed    time.Duration
}

func postFused(client *http.Client, url string, frame []byte) (fusedAnswer, error) {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url, bytes.NewReader(frame))
	if err != nil {
		return fusedAnswer{}, err
	}
	req.Header.Set("Content-Type", otlpgo.ContentType)
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return fusedAnswer{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	answer := fusedAnswer{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), elapsed: time.Since(start)}
	if err != nil {
		return answer, err
	}
	if resp.StatusCode == http.StatusOK {
		return answer, json.Unmarshal(body, &answer.response)
	}
	var msg struct {
		Message string `json:"message"`
	}
	if err := json.Unmarshal(body, &msg); err != nil {
		return answer, fmt.Errorf("status %d, body %q: %w", resp.StatusCode, body, err)
	}
	answer.message = msg.Message
	return answer, nil
}

// limitKeys quotes limits by their full configuration key, as a refusal
// names them.
func limitKeys(keys ...string) []string {
	quoted := make([]string, len(keys))
	for i, k := range keys {
		quoted[i] = "'fused::limits::" + k + "'"
	}
	return quoted
}

// explained reports whether a refusal says one of the things it must.
func explained(message string, explains []string) bool {
	for _, e := range explains {
		if strings.Contains(message, e) {
			return true
		}
	}
	return false
}

// normalFrame is an ordinary frame of all three signals, encoded by
// pkg/otlpgo, with its item counts.
func normalFrame(t *testing.T) ([]byte, otlpgo.Response) {
	t.Helper()
	g := fusiongen.New(7)
	req := otlpgo.Request{Traces: g.Traces(200), Logs: g.Logs(200), Metrics: g.Metrics(200)}
	frame, err := otlpgo.AppendFrame(nil, req, otlpgo.EncodeOptions{Compression: otlpgo.CompressionZstd})
	require.NoError(t, err)
	spans, logRecords, points := req.Counts()
	return frame, otlpgo.Response{
		Traces:  &otlpgo.SignalResult{Accepted: int64(spans)},
		Logs:    &otlpgo.SignalResult{Accepted: int64(logRecords)},
		Metrics: &otlpgo.SignalResult{Accepted: int64(points)},
	}
}

// TestAttackFrames sends the built collector frames of a few kilobytes that
// would decode into gigabytes, one by one and then from eight clients at
// once: each is refused quickly, naming the limit it hit, the collector's
// memory stays bounded, and ordinary frames still get through.
func TestAttackFrames(t *testing.T) {
	fusedPort, healthPort, metricsPort := freePort(t), freePort(t), freePort(t)
	url := fmt.Sprintf("http://127.0.0.1:%d%s", fusedPort, otlpgo.HTTPPath)
	config := fmt.Sprintf(`
extensions:
  health_check: {endpoint: 127.0.0.1:%d}
receivers:
  otlpgo:
    fused: {endpoint: 127.0.0.1:%d}
exporters:
  debug: {verbosity: basic}
service:
  extensions: [health_check]
  pipelines:
    traces: {receivers: [otlpgo], exporters: [debug]}
    logs: {receivers: [otlpgo], exporters: [debug]}
    metrics: {receivers: [otlpgo], exporters: [debug]}%s
`, healthPort, fusedPort, telemetry(metricsPort))
	col := startCollector(t, "attack-target", writeConfig(t, "attack-target", config), healthPort)
	metricsURL := fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort)

	client := &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 16},
	}
	attacks := attackFrames(t)
	normal, wantNormal := normalFrame(t)

	// A normal frame first: the collector takes what it should.
	answer, err := postFused(client, url, normal)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, answer.status, answer.message)
	require.Equal(t, wantNormal, answer.response)

	t.Run("one_by_one", func(t *testing.T) {
		for _, attack := range attacks {
			t.Run(attack.name, func(t *testing.T) {
				rawLen := binary.LittleEndian.Uint32(attack.frame[12:16])
				before := col.rssBytes(t)
				answer, err := postFused(client, url, attack.frame)
				require.NoError(t, err)
				after := col.rssBytes(t)
				t.Logf("%s: %d bytes on the wire, raw_len %d: status %d in %v; RSS %.1f MiB before, %.1f MiB after (%+.1f MiB); %q",
					attack.name, len(attack.frame), rawLen, answer.status, answer.elapsed.Round(time.Millisecond),
					mib(before), mib(after), mib(after-before), answer.message)

				assert.Equal(t, attack.status, answer.status, answer.message)
				assert.True(t, explained(answer.message, attack.explains), "%q names none of %v", answer.message, attack.explains)
				assert.Less(t, answer.elapsed, time.Second, "time to refuse")
				assert.Less(t, after-before, int64(64<<20), "RSS growth for one request")
			})
		}
	})

	t.Run("eight_clients", func(t *testing.T) {
		const (
			clients      = 8
			floodFor     = 4 * time.Second
			maxPerClient = 200
		)
		ctx, stop := context.WithTimeout(context.Background(), floodFor)
		defer stop()

		// Sample the collector's RSS every 50 ms until the last answer.
		var (
			peak        atomic.Int64
			samples     atomic.Int64
			sampleErr   atomic.Value
			floodOver   = make(chan struct{})
			samplerDone = make(chan struct{})
		)
		baseline := col.rssBytes(t)
		peak.Store(baseline)
		pid := col.cmd.Process.Pid
		go func() {
			defer close(samplerDone)
			ticker := time.NewTicker(50 * time.Millisecond)
			defer ticker.Stop()
			for {
				select {
				case <-floodOver:
					return
				case <-ticker.C:
					rss, err := residentBytes(pid)
					if err != nil {
						sampleErr.Store(err)
						return
					}
					samples.Add(1)
					if rss > peak.Load() {
						peak.Store(rss)
					}
				}
			}
		}()

		var (
			mu       sync.Mutex
			statuses = map[int]int{}
			// unexpected counts each distinct unexpected answer.
			unexpected = map[string]int{}
			slowest    time.Duration
			wg         sync.WaitGroup
			sent       atomic.Int64
		)
		for c := range clients {
			wg.Go(func() {
				for i := 0; i < maxPerClient && ctx.Err() == nil; i++ {
					attack := attacks[(c+i)%len(attacks)]
					answer, err := postFused(client, url, attack.frame)
					sent.Add(1)
					mu.Lock()
					switch {
					case err != nil:
						unexpected[fmt.Sprintf("%s: %v", attack.name, err)]++
					case answer.status == http.StatusServiceUnavailable:
						// The in-flight budget refused it before reading.
						statuses[answer.status]++
						if answer.retryAfter == "" || !strings.Contains(answer.message, "'fused::max_inflight_bytes'") {
							unexpected[fmt.Sprintf("%s: 503 with Retry-After %q, %q", attack.name, answer.retryAfter, answer.message)]++
						}
					default:
						statuses[answer.status]++
						if answer.status != attack.status || !explained(answer.message, attack.explains) {
							unexpected[fmt.Sprintf("%s: %d %q", attack.name, answer.status, answer.message)]++
						}
					}
					slowest = max(slowest, answer.elapsed)
					mu.Unlock()
				}
			})
		}

		// Normal frames alongside, each retried on 503 a bounded number of
		// times, as a sender honouring Retry-After only loosely would.
		const maxTries = 100
		var normalSent, normalTries, normalRefused int
		for ctx.Err() == nil {
			tries := 0
			for {
				tries++
				answer, err := postFused(client, url, normal)
				require.NoError(t, err)
				if answer.status == http.StatusServiceUnavailable && tries < maxTries {
					assert.NotEmpty(t, answer.retryAfter)
					normalRefused++
					time.Sleep(20 * time.Millisecond)
					continue
				}
				require.Equal(t, http.StatusOK, answer.status, "normal frame after %d tries: %s", tries, answer.message)
				assert.Equal(t, wantNormal, answer.response)
				break
			}
			normalSent++
			normalTries += tries
			time.Sleep(100 * time.Millisecond)
		}
		wg.Wait()
		close(floodOver)
		<-samplerDone
		require.Nil(t, sampleErr.Load(), "sampling RSS")

		t.Logf("%d clients for %v: %d attack requests, answers by status %v, slowest %v; RSS %.1f MiB before, peak %.1f MiB over %d samples",
			clients, floodFor, sent.Load(), statuses, slowest.Round(time.Millisecond), mib(baseline), mib(peak.Load()), samples.Load())
		t.Logf("normal frames alongside: %d sent, all 200 with every item accepted, %d tries in all (%d refused with 503 first)",
			normalSent, normalTries, normalRefused)
		byLimit := map[string]float64{}
		for _, key := range []string{"max_decoded_bytes", "max_expansion", "max_attributes", "max_nested_values", "max_body_bytes", "max_items"} {
			if n := scrapeMetric(t, metricsURL, "otelcol_otlpgo_receiver_decode_errors", `limit="`+key+`"`); n > 0 {
				byLimit[key] = n
			}
		}
		t.Logf("collector counters: frames %v, decode_errors %v (by limit %v), inflight_refused %v",
			scrapeMetric(t, metricsURL, "otelcol_otlpgo_receiver_frames"),
			scrapeMetric(t, metricsURL, "otelcol_otlpgo_receiver_decode_errors"), byLimit,
			scrapeMetric(t, metricsURL, "otelcol_otlpgo_receiver_inflight_refused"))

		assert.Empty(t, unexpected, "unexpected answers, with their counts")
		assert.Positive(t, normalSent)
		assert.Less(t, peak.Load(), int64(512<<20), "peak RSS under the flood")
	})
}
