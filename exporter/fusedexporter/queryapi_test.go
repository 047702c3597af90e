package fusedexporter

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/zap"

	"github.com/otelfusion/otelfusion/exporter/fusedexporter/internal/metadata"
)

// storeConfig is a store-only configuration in the test's temp dir with the
// query API on a free loopback port.
func storeConfig(t *testing.T) (*Config, string) {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	cfg.QueueConfig = configoptional.None[exporterhelper.QueueBatchConfig]()
	store := defaultStoreConfig()
	store.Path = filepath.Join(t.TempDir(), "fusion.duckdb")
	store.Query.Get().ServerConfig.NetAddr.Endpoint = reserveAddr(t)
	store.Query.Get().ServerConfig.MaxRequestBodySize = 4096
	cfg.Store = configoptional.Some(store)
	return cfg, "http://" + store.Query.Get().ServerConfig.NetAddr.Endpoint + QueryPath
}

// postQuery sends body to url with an optional tenant and returns status
// and body.
func postQuery(t *testing.T, url, tenant string, body []byte) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if tenant != "" {
		req.Header.Set("X-Tenant-ID", tenant)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(data), resp.Header
}

func queryBody(t *testing.T, query, format string) []byte {
	t.Helper()
	b, err := json.Marshal(queryRequest{Query: query, Format: format})
	require.NoError(t, err)
	return b
}

func TestQueryAPI(t *testing.T) {
	cfg, url := storeConfig(t)
	p := startNopPipelines(t, cfg)
	now := time.Now()
	ctx := context.Background()
	require.NoError(t, p.traces.ConsumeTraces(ctx, tenantTraces("acme", "", now.Add(-time.Minute))))
	require.NoError(t, p.traces.ConsumeTraces(ctx, tenantTraces("globex", "", now.Add(-2*time.Minute))))
	require.NoError(t, p.logs.ConsumeLogs(ctx, tenantLogs("acme", now)))

	const q = "SELECT span.service_name, span.duration_ns FROM traces ORDER BY span.service_name"
	tests := []struct {
		name       string
		tenant     string
		body       []byte
		wantStatus int
		wantBody   string // exact when wantJSON is false
		wantJSON   bool
		contains   string
	}{
		{name: "json, every tenant", body: queryBody(t, q, "json"), wantStatus: 200, wantJSON: true,
			wantBody: `{"columns":["service_name","duration_ns"],"rows":[["svc-acme",1000000],["svc-globex",1000000]]}`},
		{name: "json is the default format", tenant: "acme", body: queryBody(t, q, ""), wantStatus: 200, wantJSON: true,
			wantBody: `{"columns":["service_name","duration_ns"],"rows":[["svc-acme",1000000]]}`},
		{name: "csv, one tenant", tenant: "globex", body: queryBody(t, q, "csv"), wantStatus: 200,
			wantBody: "service_name,duration_ns\nsvc-globex,1000000\n"},
		{name: "unknown tenant sees nothing", tenant: "initech", body: queryBody(t, q, "json"), wantStatus: 200, wantJSON: true,
			wantBody: `{"columns":["service_name","duration_ns"],"rows":[]}`},
		{name: "unknown column", body: queryBody(t, "SELECT span.nope FROM traces", "json"), wantStatus: 400, contains: `fusionql: 1:13: unknown column "nope"`},
		{name: "syntax error", body: queryBody(t, "SELECT FROM", "json"), wantStatus: 400, contains: "fusionql: 1:"},
		{name: "not JSON", body: []byte("SELECT 1"), wantStatus: 400, contains: "request body must be JSON"},
		{name: "bad format", body: queryBody(t, q, "xml"), wantStatus: 400, contains: `'format' must be "json" or "csv", got "xml"`},
		{name: "too large", body: queryBody(t, q+strings.Repeat(" ", 5000), "json"), wantStatus: 413, contains: "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body, header := postQuery(t, url, tt.tenant, tt.body)
			require.Equal(t, tt.wantStatus, status, body)
			switch {
			case tt.contains != "":
				var answer queryError
				require.NoError(t, json.Unmarshal([]byte(body), &answer))
				assert.Contains(t, answer.Error, tt.contains)
				assert.Equal(t, "application/json", header.Get("Content-Type"))
			case tt.wantJSON:
				assert.JSONEq(t, tt.wantBody, body)
			default:
				assert.Equal(t, tt.wantBody, body)
			}
		})
	}

	resp, err := http.Get(url)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}

func TestQueryAPITimeout(t *testing.T) {
	s := newTestStore(t, &testClock{t: time.Now()}, nil)
	_, err := s.db.Exec(`INSERT INTO traces (tenant, trace_id, start_time, end_time)
		SELECT '', 't' || (i % 1000), i, i + 1 FROM range(200000) r(i)`)
	require.NoError(t, err)
	h := &queryHandler{store: s, limits: queryLimits{timeout: 50 * time.Millisecond, maxRows: 10}, logger: zap.NewNop()}
	srv := httptest.NewServer(newQueryMux(h))
	defer srv.Close()
	status, body, _ := postQuery(t, srv.URL+QueryPath, "", queryBody(t,
		"SELECT COUNT(*) FROM traces a JOIN traces b ON a.trace_id = b.trace_id AND b.start_time BETWEEN a.start_time AND a.end_time + 100000000", ""))
	assert.Equal(t, http.StatusGatewayTimeout, status)
	assert.Contains(t, body, "query_timeout")
}

func TestStoreBesideEndpoint(t *testing.T) {
	fr := startFakeReceiver(t, "", nil)
	cfg, url := storeConfig(t)
	cfg.ClientConfig.Endpoint = fr.endpoint()
	cfg.Flush.Timeout = 50 * time.Millisecond
	p := startNopPipelines(t, cfg)
	require.NoError(t, p.traces.ConsumeTraces(context.Background(), tenantTraces("acme", "", time.Now())))
	assert.Equal(t, 1, fr.ingestedItems()[signalTraces])
	status, body, _ := postQuery(t, url, "", queryBody(t, "SELECT COUNT(*) AS n FROM traces", ""))
	require.Equal(t, http.StatusOK, status)
	assert.JSONEq(t, `{"columns":["n"],"rows":[[1]]}`, body)
}

func TestStoreOnlyShutdownWithoutStart(t *testing.T) {
	cfg, _ := storeConfig(t)
	exp, err := newFusedExporter(cfg, exportertest.NewNopSettings(metadata.Type))
	require.NoError(t, err)
	assert.NoError(t, exp.Shutdown(context.Background()))
}

func TestStoreTelemetry(t *testing.T) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	set := exportertest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	cfg, url := storeConfig(t)
	p := startPipelines(t, cfg, componenttest.NewNopHost(), set)
	ctx := context.Background()
	require.NoError(t, p.traces.ConsumeTraces(ctx, tenantTraces("acme", "", time.Now())))
	require.NoError(t, p.logs.ConsumeLogs(ctx, tenantLogs("acme", time.Now())))
	require.NoError(t, p.logs.ConsumeLogs(ctx, tenantLogs("acme", time.Now())))
	postQuery(t, url, "", queryBody(t, "SELECT COUNT(*) FROM logs", ""))
	postQuery(t, url, "", queryBody(t, "SELECT nope FROM logs", ""))

	sums := func(name, key string) map[string]int64 {
		t.Helper()
		m, err := tel.GetMetric(name)
		require.NoError(t, err)
		out := map[string]int64{}
		for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
			v, _ := dp.Attributes.Value(attribute.Key(key))
			out[v.AsString()] += dp.Value
		}
		return out
	}
	assert.Equal(t, map[string]int64{"traces": 1, "logs": 2}, sums("otelcol_exporter_fused_store_rows", "table"))
	assert.Equal(t, map[string]int64{"ok": 1, "invalid": 1}, sums("otelcol_exporter_fused_store_queries", "outcome"))
}

func TestStartFailureReleasesStore(t *testing.T) {
	cfg, _ := storeConfig(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	cfg.Store.Get().Query.Get().ServerConfig.NetAddr.Endpoint = busy.Addr().String()
	exp, err := newFusedExporter(cfg, exportertest.NewNopSettings(metadata.Type))
	require.NoError(t, err)
	require.Error(t, exp.Start(context.Background(), componenttest.NewNopHost()))
	require.NoError(t, exp.Shutdown(context.Background()))

	// The database file is closed: it opens again.
	s, err := openStore(context.Background(), cfg.Store.Get(), time.Now)
	require.NoError(t, err)
	require.NoError(t, s.close())
}
