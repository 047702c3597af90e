package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// Tenant quota scenario. The quotas are small so the load is cheap; the
// ratios are the point: A offers 10× its quota, B half of its own.
const (
	// quotaLoadDuration is how long A and B send together.
	quotaLoadDuration = 60 * time.Second
	// quotaAloneDuration is how long B sends alone first, for its baseline
	// latency.
	quotaAloneDuration = 20 * time.Second

	quotaA = 100 // spans/s, burst the same
	quotaB = 200 // spans/s, burst 2×

	spansPerRequestA = 50
	requestsPerSecA  = 10 * quotaA / spansPerRequestA // 10× the quota: 20 requests/s
	clientsA         = 4

	spansPerRequestB = 2
	requestsPerSecB  = quotaB / 2 / spansPerRequestB // half the quota: 50 requests/s

	// latencyTolerance is how much B's p99 may grow while A floods.
	latencyTolerance = 1.20

	adminTokenE2E = "e2e-admin-token"
)

// quotaClient posts OTLP/HTTP protobuf traces as one tenant. The body is
// marshalled once, so the load generator spends its CPU on sending, not on
// building requests, and disturbs the collector it measures as little as it can.
type quotaClient struct {
	url, tenant string
	body        []byte
	http        *http.Client
}

func newQuotaClient(t *testing.T, url, tenant, service string, spans int) *quotaClient {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", service)
	ss := rs.ScopeSpans().AppendEmpty()
	for i := range spans {
		span := ss.Spans().AppendEmpty()
		span.SetName("work")
		span.SetTraceID([16]byte{byte(i), 1})
		span.SetSpanID([8]byte{byte(i), 1})
	}
	body, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	require.NoError(t, err)
	return &quotaClient{url: url, tenant: tenant, body: body,
		http: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}}
}

// quotaResult is the outcome of one request.
type quotaResult struct {
	status     int
	retryAfter string
	latency    time.Duration
}

func (c *quotaClient) send(t *testing.T) quotaResult {
	req, err := http.NewRequest(http.MethodPost, c.url, bytes.NewReader(c.body))
	if err != nil {
		t.Error(err)
		return quotaResult{}
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("X-Tenant-ID", c.tenant)
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		t.Errorf("%s: %v", c.tenant, err)
		return quotaResult{}
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return quotaResult{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), latency: time.Since(start)}
}

// paced calls send at a fixed rate until the deadline.
func paced(perSecond int, until time.Time, send func()) {
	tick := time.NewTicker(time.Second / time.Duration(perSecond))
	defer tick.Stop()
	for time.Now().Before(until) {
		<-tick.C
		send()
	}
}

// bLoad is what tenant B sent and saw over one phase.
type bLoad struct {
	mu        sync.Mutex
	latencies []time.Duration
	spans     int
	failures  int
}

func (b *bLoad) run(t *testing.T, c *quotaClient, d time.Duration) {
	paced(requestsPerSecB, time.Now().Add(d), func() {
		res := c.send(t)
		b.mu.Lock()
		defer b.mu.Unlock()
		b.spans += spansPerRequestB
		b.latencies = append(b.latencies, res.latency)
		if res.status != http.StatusOK {
			b.failures++
		}
	})
}

func (b *bLoad) p99() time.Duration {
	s := slices.Clone(b.latencies)
	slices.Sort(s)
	return s[(len(s)*99)/100]
}

// TestTenantQuotaIsolation: tenant A floods at 10× its quota while tenant B
// sends half of its own. B loses nothing and its latency holds; A's clients
// are told to back off with 429 and Retry-After.
func TestTenantQuotaIsolation(t *testing.T) {
	dir := t.TempDir()
	httpPort, health, admin := freePort(t), freePort(t), freePort(t)
	config := fmt.Sprintf(`
extensions:
  health_check: {endpoint: 127.0.0.1:%d}
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:%d
        include_metadata: true
processors:
  tenant_quota:
    tenant: {metadata_key: X-Tenant-ID, precedence: [metadata]}
    defaults:
      traces: {items_per_second: %d, items_burst: %d}
    tenants:
      B:
        traces: {items_per_second: %d, items_burst: %d}
    admin:
      endpoint: 127.0.0.1:%d
      token: %s
exporters:
  file/traces: {path: %s/traces.json, append: true, flush_interval: 100ms}
service:
  extensions: [health_check]
  pipelines:
    traces: {receivers: [otlp], processors: [tenant_quota], exporters: [file/traces]}
`, health, httpPort, quotaA, quotaA, quotaB, 2*quotaB, admin, adminTokenE2E, dir)
	startCollector(t, "tenantquota", writeConfig(t, "tenantquota", config), health)
	url := fmt.Sprintf("http://127.0.0.1:%d/v1/traces", httpPort)
	adminURL := fmt.Sprintf("http://127.0.0.1:%d", admin)

	clientB := newQuotaClient(t, url, "B", "svc-b", spansPerRequestB)
	// Warm the connection so the baseline does not include the first dial.
	require.Equal(t, http.StatusOK, clientB.send(t).status)
	sentB := spansPerRequestB

	var alone bLoad
	alone.run(t, clientB, quotaAloneDuration)

	var (
		mixed bLoad
		flood floodResult
	)
	// A's clients run in a child process at the lowest CPU priority, so the
	// load generator does not take the cores from the collector under test;
	// what B may feel is the collector's own handling of A.
	until := time.Now().Add(quotaLoadDuration)
	floodCmd := exec.Command(os.Args[0], "-test.run=^TestQuotaFloodProcess$", "-test.count=1")
	floodCmd.Env = append(os.Environ(), floodURLEnv+"="+url, floodForEnv+"="+time.Until(until).String())
	var floodOut bytes.Buffer
	floodCmd.Stdout, floodCmd.Stderr = &floodOut, &floodOut
	require.NoError(t, floodCmd.Start())
	require.NoError(t, syscall.Setpriority(syscall.PRIO_PROCESS, floodCmd.Process.Pid, 19))
	mixed.run(t, clientB, time.Until(until))
	require.NoError(t, floodCmd.Wait(), "flood process: %s", floodOut.String())
	flood = parseFloodResult(t, floodOut.String())
	aRequests, a429, aRetryHdrs, aOther := flood.Requests, flood.TooMany, flood.RetryAfter, flood.Other
	// B alone once more, after the flood, for the latency baseline below.
	var after bLoad
	after.run(t, clientB, quotaAloneDuration)
	sentB += alone.spans + mixed.spans + after.spans

	// B loses nothing: every span it sent, exactly, at the exporter.
	var gotA, gotB int
	count := func() {
		gotA, gotB = 0, 0
		readFileExport(t, dir+"/traces.json", func(b []byte) error {
			td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(b)
			if err != nil {
				return err
			}
			for _, rs := range td.ResourceSpans().All() {
				svc, _ := rs.Resource().Attributes().Get("service.name")
				n := 0
				for _, ss := range rs.ScopeSpans().All() {
					n += ss.Spans().Len()
				}
				switch svc.AsString() {
				case "svc-a":
					gotA += n
				case "svc-b":
					gotB += n
				}
			}
			return nil
		})
	}
	waitFor(t, 30*time.Second, "all of B's spans at the exporter", func() bool {
		count()
		return gotB >= sentB
	})
	time.Sleep(500 * time.Millisecond)
	count()
	assert.Equal(t, sentB, gotB, "B's spans at the exporter")
	assert.Zero(t, alone.failures+mixed.failures+after.failures, "B requests refused")

	// A is held to its quota: at most the burst plus the rate over the run.
	maxA := quotaA + quotaA*int(quotaLoadDuration.Seconds()+5)
	assert.Positive(t, gotA)
	assert.LessOrEqual(t, gotA, maxA, "A's spans at the exporter")

	// A's clients were told to back off: 429 with a Retry-After of >= 1 s.
	offeredA := int(aRequests) * spansPerRequestA
	t.Logf("A: %d requests (%d spans offered, %.1f× quota), %d answered 429 (%d with Retry-After), %d other; %d spans exported",
		aRequests, offeredA, float64(offeredA)/(quotaA*quotaLoadDuration.Seconds()), a429, aRetryHdrs, aOther, gotA)
	assert.Positive(t, a429)
	assert.Equal(t, a429, aRetryHdrs, "every 429 carries Retry-After")
	assert.Zero(t, aOther, "A answers other than 200 and 429")
	assert.Greater(t, a429, aRequests*8/10, "about 90%% of A's requests are over quota")

	// B's p99 latency holds within 20% of B alone. B alone is measured both
	// before and after the flood and the samples pooled, so a drift in the
	// machine's own load during the run weighs on both sides alike.
	baseline := bLoad{latencies: append(slices.Clone(alone.latencies), after.latencies...)}
	pAlone, pMixed := baseline.p99(), mixed.p99()
	t.Logf("B: p99 alone %v before and %v after the flood, pooled %v over %d requests; with A flooding %v over %d requests (%.2f×)",
		alone.p99(), after.p99(), pAlone, len(baseline.latencies), pMixed, len(mixed.latencies), float64(pMixed)/float64(pAlone))
	// A p99 of a few milliseconds moves by more than the tolerance between
	// runs on a shared machine, so inside `make test` the ratio is logged
	// and only `make e2e-isolation` (OTELFUSION_E2E_ISOLATION=1), run on a
	// machine to itself, holds it to the tolerance: make test asserts exact
	// counts, not timings.
	if os.Getenv("OTELFUSION_E2E_ISOLATION") != "" {
		assert.LessOrEqual(t, float64(pMixed), latencyTolerance*float64(pAlone), "B's p99 with A flooding vs alone")
	}

	// The admin API reports the same story, and wants its token.
	resp, err := http.Get(adminURL + "/tenants/A")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	req, err := http.NewRequest(http.MethodGet, adminURL+"/tenants/A", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+adminTokenE2E)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var state struct {
		Refused  map[string]int64 `json:"refused_items"`
		Accepted map[string]int64 `json:"accepted_items"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&state))
	assert.Equal(t, int64(gotA), state.Accepted["traces"])
	assert.Equal(t, a429*spansPerRequestA, state.Refused["traces"])
}

const (
	// floodURLEnv, when set, makes TestQuotaFloodProcess run tenant A's flood
	// against that URL: the test binary re-executed as a load generator.
	floodURLEnv = "OTELFUSION_QUOTA_FLOOD_URL"
	floodForEnv = "OTELFUSION_QUOTA_FLOOD_FOR"
	floodPrefix = "FLOOD_RESULT "
)

// floodResult is what tenant A's clients saw.
type floodResult struct {
	Requests, TooMany, RetryAfter, Other int64
}

func parseFloodResult(t *testing.T, out string) floodResult {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(line, floodPrefix); ok {
			var r floodResult
			require.NoError(t, json.Unmarshal([]byte(rest), &r))
			return r
		}
	}
	t.Fatalf("flood process printed no result: %s", out)
	return floodResult{}
}

// TestQuotaFloodProcess is tenant A's load generator when the isolation test
// starts this binary with floodURLEnv set; otherwise it does nothing.
func TestQuotaFloodProcess(t *testing.T) {
	url := os.Getenv(floodURLEnv)
	if url == "" {
		t.Skip("the isolation test's load generator; runs only in its child process")
	}
	d, err := time.ParseDuration(os.Getenv(floodForEnv))
	require.NoError(t, err)
	until := time.Now().Add(d)
	var (
		requests, tooMany, retryAfter, other atomic.Int64
		wg                                   sync.WaitGroup
	)
	for range clientsA {
		clientA := newQuotaClient(t, url, "A", "svc-a", spansPerRequestA)
		wg.Go(func() {
			paced(requestsPerSecA/clientsA, until, func() {
				res := clientA.send(t)
				requests.Add(1)
				switch res.status {
				case http.StatusOK:
				case http.StatusTooManyRequests:
					tooMany.Add(1)
					if secs, err := strconv.Atoi(res.retryAfter); err == nil && secs >= 1 {
						retryAfter.Add(1)
					}
				default:
					other.Add(1)
				}
			})
		})
	}
	wg.Wait()
	out, err := json.Marshal(floodResult{Requests: requests.Load(), TooMany: tooMany.Load(), RetryAfter: retryAfter.Load(), Other: other.Load()})
	require.NoError(t, err)
	fmt.Println(floodPrefix + string(out))
}
