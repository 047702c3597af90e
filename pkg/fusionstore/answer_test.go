package fusionstore

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// answerAPI serves a store holding rows logs of tenant acme, each with a
// body of bodyLen bytes, with the given response cap.
func answerAPI(t *testing.T, rows, bodyLen int, maxResponseBytes int64) string {
	t.Helper()
	now := time.Now()
	s := newTestStore(t, &testClock{t: now}, nil)
	_, err := s.db.Exec(fmt.Sprintf(`INSERT INTO logs (tenant, timestamp, body)
		SELECT 'acme', %d, repeat('x', %d) FROM range(%d)`, now.UnixNano(), bodyLen, rows))
	require.NoError(t, err)
	srv := httptest.NewServer(answerHandler(s, QueryLimits{Timeout: 10 * time.Second, MaxRows: 1000}, maxResponseBytes))
	t.Cleanup(srv.Close)
	return srv.URL
}

// answerHandler streams the answer of the query in the request body (JSON
// {"query", "format"}) for tenant acme, as the query API does.
func answerHandler(s *Store, limits QueryLimits, maxResponseBytes int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Query, Format string }
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		answer := NewStreamedAnswer(w, req.Format, maxResponseBytes)
		err := s.Query(r.Context(), req.Query, "acme", limits, answer)
		if answer.Started() {
			answer.Finish(err)
			return
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
}

func queryBody(t *testing.T, query, format string) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]string{"query": query, "format": format})
	require.NoError(t, err)
	return b
}

// postForAnswer posts a query for tenant acme and returns the whole answer
// with its trailers.
func postForAnswer(t *testing.T, url, query, format string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(string(queryBody(t, query, format))))
	require.NoError(t, err)
	req.Header.Set("X-Tenant-ID", "acme")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body), resp.Trailer
}

func TestAnswerStopsAtMaxResponseBytes(t *testing.T) {
	const bodyLen, fitting = 1000, 10
	jsonHeader := `{"columns":["body"],"rows":[`
	jsonRow := len(`["`) + bodyLen + len(`"]`) // the first; the others add a comma
	csvHeader, csvRow := len("body\n"), bodyLen+1

	tests := []struct {
		name     string
		format   string
		maxBytes int64
		rows     int // in the store
		check    func(t *testing.T, body string)
	}{
		{
			name: "json, capped", format: "json", rows: 50,
			maxBytes: int64(len(jsonHeader) + fitting*(jsonRow+1) - 1 + jsonRow/2),
			check: func(t *testing.T, body string) {
				var answer queryResult
				require.NoError(t, json.Unmarshal([]byte(body), &answer), body)
				assert.Equal(t, []string{"body"}, answer.Columns)
				assert.Len(t, answer.Rows, fitting)
				assert.True(t, answer.Truncated)
				assert.Contains(t, answer.Error, "'query::max_response_bytes'")
				assert.Contains(t, answer.Error, fmt.Sprintf("after %d rows", fitting))
			},
		},
		{
			name: "csv, capped", format: "csv", rows: 50,
			maxBytes: int64(csvHeader + fitting*csvRow + csvRow/2),
			check: func(t *testing.T, body string) {
				records, err := csv.NewReader(strings.NewReader(body)).ReadAll()
				require.NoError(t, err)
				require.Len(t, records, 1+fitting)
				assert.Equal(t, []string{"body"}, records[0])
			},
		},
		{
			name: "json, exactly at the cap", format: "json", rows: fitting,
			maxBytes: int64(len(jsonHeader) + fitting*(jsonRow+1) - 1),
			check: func(t *testing.T, body string) {
				var answer queryResult
				require.NoError(t, json.Unmarshal([]byte(body), &answer))
				assert.Len(t, answer.Rows, fitting)
				assert.False(t, answer.Truncated)
				assert.NotContains(t, body, "truncated")
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := answerAPI(t, tt.rows, bodyLen, tt.maxBytes)
			status, body, trailer := postForAnswer(t, url, "SELECT log.body FROM logs", tt.format)
			require.Equal(t, http.StatusOK, status)
			tt.check(t, body)
			truncated := tt.rows > fitting
			if truncated {
				assert.Equal(t, "true", trailer.Get(trailerTruncated))
				assert.Contains(t, trailer.Get(trailerError), "'query::max_response_bytes'")
				// The rows stop before the cap; only the closing passes it.
				assert.LessOrEqual(t, int64(len(body)), tt.maxBytes+200)
			} else {
				assert.Empty(t, trailer.Get(trailerTruncated))
				assert.LessOrEqual(t, int64(len(body)), tt.maxBytes+len64("]}\n"))
			}
		})
	}
}

func len64(s string) int64 { return int64(len(s)) }

func TestAnswerIsStreamed(t *testing.T) {
	// 200 rows of 64 KiB: the first bytes reach the client while later rows
	// are still unread, and the answer never exists whole in the handler.
	url := answerAPI(t, 200, 64<<10, 1<<30)
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(string(queryBody(t, "SELECT log.body FROM logs", ""))))
	require.NoError(t, err)
	req.Header.Set("X-Tenant-ID", "acme")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, []string{"chunked"}, resp.TransferEncoding)
	var answer queryResult
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&answer))
	assert.Len(t, answer.Rows, 200)
	assert.False(t, answer.Truncated)
}
