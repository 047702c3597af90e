package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelfusion/otelfusion/pkg/fusiongen"
	"github.com/otelfusion/otelfusion/pkg/otlpgo"
)

const (
	memoryTestLimit    = 256 << 20 // fusionstore::memory_limit
	memoryTestMargin   = 128 << 20 // what the collector may hold beyond it
	memoryTestMaxBytes = 8 << 20   // fusionstore::query::max_response_bytes
)

// memoryCollector is a collector whose store is bounded: memoryLimit,
// threads 2, query_timeout 5s, answers capped at 8 MiB.
type memoryCollector struct {
	*collectorProcess
	fusedURL, queryURL, dbPath string
}

// storeMemoryEnv opts in to the store memory tests (make e2e-store-memory):
// they load hundreds of MiB into the store and measure the collector's RSS
// against DuckDB's memory_limit, which wants a machine to itself rather
// than the unit and end-to-end tests running beside it.
const storeMemoryEnv = "OTELFUSION_E2E_STORE_MEMORY"

func startMemoryCollector(t *testing.T, name string, memoryLimit int64) *memoryCollector {
	t.Helper()
	if os.Getenv(storeMemoryEnv) == "" {
		t.Skipf("set %s=1 (make e2e-store-memory) to run the store memory tests", storeMemoryEnv)
	}
	fusedPort, health, queryPort := freePort(t), freePort(t), freePort(t)
	dbPath := filepath.Join(t.TempDir(), "store", "fusion.duckdb")
	config := fmt.Sprintf(`
extensions:
  health_check: {endpoint: 127.0.0.1:%d}
  fusionstore:
    path: %s
    retention: 0s
    memory_limit: %d
    threads: 2
    checkpoint_interval: 2s
    query:
      endpoint: 127.0.0.1:%d
      query_timeout: 5s
      max_response_bytes: %d
receivers:
  otlpgo:
    fused: {endpoint: 127.0.0.1:%d}
exporters:
  fusionstore: {extension: fusionstore}
service:
  extensions: [health_check, fusionstore]
  pipelines:
    traces: {receivers: [otlpgo], exporters: [fusionstore]}
    logs: {receivers: [otlpgo], exporters: [fusionstore]}
`, health, dbPath, memoryLimit, queryPort, memoryTestMaxBytes, fusedPort)
	return &memoryCollector{
		collectorProcess: startCollector(t, name, writeConfig(t, name, config), health),
		fusedURL:         fmt.Sprintf("http://127.0.0.1:%d%s", fusedPort, otlpgo.HTTPPath),
		queryURL:         fmt.Sprintf("http://127.0.0.1:%d/v1/query", queryPort),
		dbPath:           dbPath,
	}
}

// send posts req as one fused frame; every item must be accepted.
func (c *memoryCollector) send(t *testing.T, req otlpgo.Request) {
	t.Helper()
	frame, err := otlpgo.AppendFrame(nil, req, otlpgo.EncodeOptions{Compression: otlpgo.CompressionZstd})
	require.NoError(t, err)
	answer, err := postFused(&http.Client{Timeout: time.Minute}, c.fusedURL, frame)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, answer.status, answer.message)
}

// count is COUNT(*) of table for tenant default, -1 unless answered.
func (c *memoryCollector) count(t *testing.T, table string) int {
	t.Helper()
	status, _, rows := queryStore(t, c.queryURL, "default", "SELECT COUNT(*) FROM "+table)
	if status != http.StatusOK || len(rows) != 1 {
		return -1
	}
	return int(rows[0][0].(float64))
}

// rssSampler records the collector's peak VmRSS every 50 ms until stop.
type rssSampler struct {
	peak atomic.Int64
	done chan struct{}
	wg   sync.WaitGroup
}

func sampleRSS(t *testing.T, pid int) *rssSampler {
	t.Helper()
	s := &rssSampler{done: make(chan struct{})}
	s.wg.Go(func() {
		ticker := time.NewTicker(50 * time.Millisecond)
		defer ticker.Stop()
		for {
			if rss, err := residentBytes(pid); err == nil && rss > s.peak.Load() {
				s.peak.Store(rss)
			}
			select {
			case <-s.done:
				return
			case <-ticker.C:
			}
		}
	})
	return s
}

// stop ends the sampling and returns the peak.
func (s *rssSampler) stop() int64 {
	close(s.done)
	s.wg.Wait()
	return s.peak.Load()
}

// queryAnswer is one raw answer of the query API.
type queryAnswer struct {
	status  int
	body    []byte
	trailer http.Header
	elapsed time.Duration
}

func postStoreQuery(url, query string) (queryAnswer, error) {
	body, err := json.Marshal(map[string]string{"query": query})
	if err != nil {
		return queryAnswer{}, err
	}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return queryAnswer{}, err
	}
	req.Header.Set("X-Tenant-ID", "default")
	started := time.Now()
	resp, err := (&http.Client{Timeout: time.Minute}).Do(req)
	if err != nil {
		return queryAnswer{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return queryAnswer{status: resp.StatusCode, body: data, trailer: resp.Trailer, elapsed: time.Since(started)}, err
}

// TestStoreMemoryHeavyQueries: four heavy queries at once (QUANTILE over a
// join of 200k spans that yields billions of rows, and large GROUP BYs) on a
// store with memory_limit 256 MiB. Each is answered 200, 507 (memory limit)
// or 504 (timeout), the collector's RSS stays under its base plus the limit
// plus 128 MiB, and it stays healthy.
func TestStoreMemoryHeavyQueries(t *testing.T) {
	c := startMemoryCollector(t, "store-memory", memoryTestLimit)
	const spans, perFrame = 200_000, 10_000
	gen := fusiongen.New(11)
	for range spans / perFrame {
		req := otlpgo.NewRequest()
		req.Traces = gen.Traces(perFrame)
		c.send(t, req)
	}
	waitFor(t, 2*time.Minute, "every span in the store", func() bool { return c.count(t, "traces") == spans })

	// The checkpointer writes the rows into the database file while the
	// collector runs (not only the write-ahead log).
	waitFor(t, 30*time.Second, "the database file to hold the rows", func() bool {
		info, err := os.Stat(c.dbPath)
		return err == nil && info.Size() > 1<<20
	})
	dbInfo, err := os.Stat(c.dbPath)
	require.NoError(t, err)

	time.Sleep(time.Second) // let ingest memory settle
	base := c.rssBytes(t)
	sampler := sampleRSS(t, c.cmd.Process.Pid)

	join := "FROM traces a JOIN traces b ON a.service_name = b.service_name " +
		"AND b.start_time BETWEEN a.start_time - INTERVAL '10s' AND a.end_time + INTERVAL '10s'"
	queries := []string{
		"SELECT QUANTILE(b.duration_ns, 0.5) AS p50 " + join,
		"SELECT QUANTILE(b.duration_ns, 0.99) AS p99, COUNT(*) AS n " + join,
		"SELECT a.span_id, QUANTILE(b.duration_ns, 0.9) AS p90 " + join + " GROUP BY a.span_id",
		"SELECT a.span_id, b.span_id, COUNT(*) AS n " + join + " GROUP BY a.span_id, b.span_id",
	}
	answers := make([]queryAnswer, len(queries))
	errs := make([]error, len(queries))
	var wg sync.WaitGroup
	for i, q := range queries {
		wg.Go(func() { answers[i], errs[i] = postStoreQuery(c.queryURL, q) })
	}
	wg.Wait()
	peak := sampler.stop()

	t.Logf("database file while running: %d bytes", dbInfo.Size())
	t.Logf("base RSS %.0f MiB, peak RSS %.0f MiB (+%.0f MiB), memory_limit %.0f MiB, margin %.0f MiB",
		mib(base), mib(peak), mib(peak-base), mib(memoryTestLimit), mib(memoryTestMargin))
	for i, a := range answers {
		require.NoError(t, errs[i], "query %d got no answer: the collector must not crash", i)
		var answer struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(a.body, &answer)
		t.Logf("query %d: %d in %s %s", i, a.status, a.elapsed.Round(time.Millisecond), answer.Error)
		assert.Contains(t, []int{http.StatusOK, http.StatusInsufficientStorage, http.StatusGatewayTimeout}, a.status, string(a.body))
		if a.status == http.StatusInsufficientStorage {
			assert.Contains(t, answer.Error, "'memory_limit'")
		}
	}
	assert.Less(t, peak, base+memoryTestLimit+memoryTestMargin,
		"peak RSS must stay under base + memory_limit + margin")

	// Still healthy, and still answering.
	resp, err := http.Get(c.healthURL)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	waitFor(t, 30*time.Second, "a plain query answered after the heavy ones", func() bool { return c.count(t, "traces") == spans })
	assert.NoError(t, c.stop(), "a clean exit on SIGINT")
}

// TestStoreMemoryLargeAnswer: 1000 log bodies of 256 KiB asked for at once
// are answered 200 with as many rows as fit in max_response_bytes (8 MiB),
// marked truncated, and the answer is streamed: the collector holds no copy
// of the 256 MB result beyond what DuckDB computes within memory_limit.
//
// memory_limit is 1 GiB here: at 256 MiB, DuckDB's own WAL autocheckpoint
// of these 256 MB of bodies can fail to pin a block, which DuckDB treats as
// fatal (the database is invalidated until restarted).
func TestStoreMemoryLargeAnswer(t *testing.T) {
	const memoryLimit = 1 << 30
	c := startMemoryCollector(t, "store-large-answer", memoryLimit)
	// 20 bodies a frame stay within the receiver's max_decoded_bytes (32 MiB).
	const records, perFrame, bodyLen = 1000, 20, 256 << 10
	body := strings.Repeat("0123456789abcdef", bodyLen/16)
	now := time.Now()
	for f := range records / perFrame {
		req := otlpgo.NewRequest()
		rl := req.Logs.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr("service.name", "bulky")
		lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
		for i := range perFrame {
			lr := lrs.AppendEmpty()
			lr.SetTimestamp(pcommon.NewTimestampFromTime(now.Add(time.Duration(f*perFrame+i) * time.Microsecond)))
			lr.SetSeverityNumber(plog.SeverityNumberInfo)
			lr.Body().SetStr(body)
		}
		c.send(t, req)
	}
	waitFor(t, 2*time.Minute, "every log in the store", func() bool { return c.count(t, "logs") == records })
	time.Sleep(time.Second)

	base := c.rssBytes(t)
	sampler := sampleRSS(t, c.cmd.Process.Pid)
	answer, err := postStoreQuery(c.queryURL, "SELECT log.body FROM logs LIMIT 1000")
	peak := sampler.stop()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, answer.status, string(answer.body))

	// Rows as fit: `{"columns":["body"],"rows":[` then `["…"]` joined by commas.
	header, row := len(`{"columns":["body"],"rows":[`), len(`[""]`)+bodyLen
	fitting := (memoryTestMaxBytes - header + 1) / (row + 1)
	var got struct {
		Columns   []string `json:"columns"`
		Rows      [][]any  `json:"rows"`
		Truncated bool     `json:"truncated"`
		Error     string   `json:"error"`
	}
	require.NoError(t, json.Unmarshal(answer.body, &got))
	t.Logf("answer: %d bytes, %d rows of %d, truncated=%v, in %s; error %q",
		len(answer.body), len(got.Rows), records, got.Truncated, answer.elapsed.Round(time.Millisecond), got.Error)
	t.Logf("base RSS %.0f MiB, peak RSS %.0f MiB (+%.0f MiB); max_response_bytes %.0f MiB, result in DuckDB %.0f MiB, memory_limit %.0f MiB",
		mib(base), mib(peak), mib(peak-base), mib(memoryTestMaxBytes), mib(records*bodyLen), mib(memoryLimit))
	assert.Len(t, got.Rows, fitting)
	assert.True(t, got.Truncated)
	assert.Contains(t, got.Error, "'query::max_response_bytes'")
	assert.Equal(t, "true", answer.trailer.Get("X-Fusion-Truncated"))
	assert.LessOrEqual(t, len(answer.body), memoryTestMaxBytes+200)
	// DuckDB reads the table and computes the whole result before the first
	// row is read (duckdb-go has no streaming results), within its
	// memory_limit; the collector adds no more than twice the cap on top of
	// it (it built the answer whole before: +1.25 GB at 256 MiB).
	assert.Less(t, peak-base, int64(memoryLimit+2*memoryTestMaxBytes))
	assert.NoError(t, c.stop(), "a clean exit on SIGINT")
}
