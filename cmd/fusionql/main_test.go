package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fakeAPI answers like the query API and records the last request.
type fakeAPI struct {
	query, format, tenant string
	hasTenant             bool
	authorization         string
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req struct{ Query, Format string }
	body, _ := io.ReadAll(r.Body)
	_ = json.Unmarshal(body, &req)
	f.query, f.format, f.tenant = req.Query, req.Format, r.Header.Get("X-Tenant-ID")
	_, f.hasTenant = r.Header["X-Tenant-Id"]
	f.authorization = r.Header.Get("Authorization")
	switch {
	case strings.Contains(req.Query, "huge"):
		// Cut short at the server's max_response_bytes.
		w.Header().Set("Trailer", "X-Fusion-Truncated, X-Fusion-Error")
		if req.Format == "csv" {
			_, _ = w.Write([]byte("body\nx\n"))
		} else {
			_, _ = w.Write([]byte(`{"columns":["body"],"rows":[["x"]],"truncated":true,"error":"answer exceeded 'query::max_response_bytes'"}`))
		}
		w.Header().Set("X-Fusion-Truncated", "true")
		w.Header().Set("X-Fusion-Error", "answer exceeded 'query::max_response_bytes'")
	case strings.Contains(req.Query, "bad"):
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"fusionql: 1:8: unknown column \"bad\""}`))
	case req.Format == "csv":
		_, _ = w.Write([]byte("operation,level\nGET /a,ERROR\n"))
	default:
		_, _ = w.Write([]byte(`{"columns":["operation","level","value"],"rows":[["GET /checkout","ERROR",1.5],["GET /a","WARN",null],["POST /pay","ERROR",12345678901234567]]}`))
	}
}

func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestTable(t *testing.T) {
	api := &fakeAPI{}
	srv := httptest.NewServer(api)
	defer srv.Close()
	code, out, errOut := runCLI(t, "", "--endpoint", srv.URL, "--tenant", "acme", "SELECT", "x")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, "SELECT x", api.query)
	assert.Equal(t, "json", api.format)
	assert.Equal(t, "acme", api.tenant)
	assert.Equal(t, ""+
		"operation      level              value\n"+
		"-------------  -----  -----------------\n"+
		"GET /checkout  ERROR                1.5\n"+
		"GET /a         WARN                NULL\n"+
		"POST /pay      ERROR  12345678901234567\n"+
		"(3 rows)\n", out)
}

func TestCSVAndStdin(t *testing.T) {
	api := &fakeAPI{}
	srv := httptest.NewServer(api)
	defer srv.Close()
	code, out, _ := runCLI(t, "SELECT y FROM logs\n", "--endpoint", srv.URL, "--format", "csv")
	require.Equal(t, 0, code)
	assert.Equal(t, "SELECT y FROM logs\n", api.query)
	assert.Equal(t, "csv", api.format)
	assert.Equal(t, "operation,level\nGET /a,ERROR\n", out)
}

func TestErrors(t *testing.T) {
	srv := httptest.NewServer(&fakeAPI{})
	defer srv.Close()
	code, _, errOut := runCLI(t, "", "--endpoint", srv.URL, "SELECT bad")
	assert.Equal(t, 1, code)
	assert.Equal(t, "fusionql: 1:8: unknown column \"bad\" (HTTP 400)\n", errOut)

	code, _, errOut = runCLI(t, "", "--format", "xml", "SELECT 1")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "--format must be table, json or csv")

	code, _, _ = runCLI(t, "  ")
	assert.Equal(t, 2, code)
}

func TestTruncatedAnswer(t *testing.T) {
	srv := httptest.NewServer(&fakeAPI{})
	defer srv.Close()
	for _, tt := range []struct{ format, out string }{
		{"table", "body\n----\nx\n(1 row)\n"},
		{"json", `{"columns":["body"],"rows":[["x"]],"truncated":true,"error":"answer exceeded 'query::max_response_bytes'"}`},
		{"csv", "body\nx\n"},
	} {
		t.Run(tt.format, func(t *testing.T) {
			// The rows that came are printed, and the run fails saying why.
			code, out, errOut := runCLI(t, "", "--endpoint", srv.URL, "--format", tt.format, "SELECT huge")
			assert.Equal(t, 1, code)
			assert.Equal(t, tt.out, out)
			assert.Equal(t, "fusionql: the answer is incomplete: answer exceeded 'query::max_response_bytes'\n", errOut)
		})
	}
}

func TestTenantAndToken(t *testing.T) {
	const noHeader = "(none)"
	tests := []struct {
		name       string
		args       []string
		env        map[string]string
		wantTenant string
		wantAuth   string
	}{
		{name: "default tenant", wantTenant: "default"},
		{name: "--tenant", args: []string{"--tenant", "acme"}, wantTenant: "acme"},
		{name: "env tenant", env: map[string]string{"FUSIONQL_TENANT": "globex"}, wantTenant: "globex"},
		{name: "--tenant beats env", args: []string{"--tenant", "acme"}, env: map[string]string{"FUSIONQL_TENANT": "globex"}, wantTenant: "acme"},
		{name: "--tenant empty sends none", args: []string{"--tenant", ""}, wantTenant: noHeader},
		{name: "token alone: the credential decides", args: []string{"--token", "s3cret"}, wantTenant: noHeader, wantAuth: "Bearer s3cret"},
		{name: "env token", env: map[string]string{"FUSIONQL_TOKEN": "envtoken"}, wantTenant: noHeader, wantAuth: "Bearer envtoken"},
		{name: "token and tenant", args: []string{"--token", "ops", "--tenant", "acme"}, wantTenant: "acme", wantAuth: "Bearer ops"},
		{name: "env token and env tenant", env: map[string]string{"FUSIONQL_TOKEN": "ops", "FUSIONQL_TENANT": "acme"}, wantTenant: "acme", wantAuth: "Bearer ops"},
		{name: "--token beats env", args: []string{"--token", "flag"}, env: map[string]string{"FUSIONQL_TOKEN": "env"}, wantTenant: noHeader, wantAuth: "Bearer flag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, name := range []string{"FUSIONQL_TENANT", "FUSIONQL_TOKEN"} {
				if v, ok := tt.env[name]; ok {
					t.Setenv(name, v)
				} else {
					unsetEnv(t, name)
				}
			}
			api := &fakeAPI{}
			srv := httptest.NewServer(api)
			defer srv.Close()
			code, _, errOut := runCLI(t, "", append(append([]string{"--endpoint", srv.URL}, tt.args...), "SELECT x")...)
			require.Equal(t, 0, code, errOut)
			gotTenant := noHeader
			if api.hasTenant {
				gotTenant = api.tenant
			}
			assert.Equal(t, tt.wantTenant, gotTenant)
			assert.Equal(t, tt.wantAuth, api.authorization)
		})
	}
}

func TestTokenNotInUsage(t *testing.T) {
	t.Setenv("FUSIONQL_TOKEN", "do-not-print")
	code, _, errOut := runCLI(t, "", "-h")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "-token")
	assert.NotContains(t, errOut, "do-not-print")
}

// unsetEnv removes name for the test and restores it afterwards.
func unsetEnv(t *testing.T, name string) {
	t.Helper()
	t.Setenv(name, "") // registers the restore
	require.NoError(t, os.Unsetenv(name))
}
