package scenarios

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// storeTenant is the tenant the store files the load under: the otlpgo
// receiver's default tenant, since the testbed's senders name none.
const storeTenant = "default"

// storeClient counts what the fusionstore extension of the collector under
// test holds, through its query API (POST /v1/query), the way a user would.
type storeClient struct {
	queryURL string
	http     *http.Client
}

func newStoreClient(port int) *storeClient {
	return &storeClient{
		queryURL: fmt.Sprintf("http://127.0.0.1:%d/v1/query", port),
		http:     &http.Client{Timeout: 10 * time.Second},
	}
}

// spanCount is the number of rows in the store's traces table.
func (c *storeClient) spanCount() (uint64, error) {
	body, err := json.Marshal(map[string]string{"query": "SELECT COUNT(*) AS n FROM traces", "format": "json"})
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequest(http.MethodPost, c.queryURL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Tenant-ID", storeTenant)
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("store query: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, fmt.Errorf("store query: reading the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("store query: status %d: %s", resp.StatusCode, raw)
	}
	var answer struct {
		Rows      [][]uint64 `json:"rows"`
		Truncated bool       `json:"truncated"`
		Error     string     `json:"error"`
	}
	if err := json.Unmarshal(raw, &answer); err != nil {
		return 0, fmt.Errorf("store query: answer %q: %w", raw, err)
	}
	if answer.Truncated || len(answer.Rows) != 1 || len(answer.Rows[0]) != 1 {
		return 0, fmt.Errorf("store query: want one row of one count, got %s", raw)
	}
	return answer.Rows[0][0], nil
}

// waitForSpans waits up to timeout until the store holds want spans, and
// returns what it last counted. More than want is returned at once: the
// store holds spans nobody was told were accepted, or some twice.
func (c *storeClient) waitForSpans(want uint64, timeout time.Duration) (uint64, error) {
	deadline := time.Now().Add(timeout)
	for {
		got, err := c.spanCount()
		if err == nil && got >= want {
			return got, nil
		}
		if time.Now().After(deadline) {
			return got, err
		}
		time.Sleep(100 * time.Millisecond)
	}
}
