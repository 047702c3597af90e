package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// queryPath is the query API's path on the collector.
const queryPath = "/v1/query"

// answer is the JSON answer of the query API. An answer cut short (at the
// server's max_response_bytes, or by an error after the first rows) says so
// in truncated and error.
type answer struct {
	Columns   []string `json:"columns"`
	Rows      [][]any  `json:"rows"`
	Truncated bool     `json:"truncated"`
	Error     string   `json:"error"`
}

// truncatedTrailer is the HTTP trailer the query API sets, in every format,
// on an answer that ended early; errorTrailer says why.
const (
	truncatedTrailer = "X-Fusion-Truncated"
	errorTrailer     = "X-Fusion-Error"
)

// queryClient talks to one query API.
type queryClient struct {
	endpoint     string
	tenant       string // "" sends no tenant header
	tenantHeader string
	token        string // "" sends no Authorization header
	http         http.Client
}

// post sends query and returns the 200 response, or the server's error
// message (which carries the query position for FusionQL errors).
func (c *queryClient) post(ctx context.Context, query, format string) (*http.Response, error) {
	return c.postJSON(ctx, queryPath, map[string]string{"query": query, "format": format})
}

// postJSON sends request as JSON to path and returns the 200 response, or
// the server's error message.
func (c *queryClient) postJSON(ctx context.Context, path string, request any) (*http.Response, error) {
	body, err := json.Marshal(request)
	if err != nil {
		return nil, err
	}
	url := strings.TrimSuffix(c.endpoint, "/") + path
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("fusionql: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.tenant != "" {
		req.Header.Set(c.tenantHeader, c.tenant)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fusionql: %w", err)
	}
	if resp.StatusCode == http.StatusOK {
		return resp, nil
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var failure struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(data, &failure) == nil && failure.Error != "" {
		return nil, fmt.Errorf("%s (HTTP %d)", failure.Error, resp.StatusCode)
	}
	return nil, fmt.Errorf("fusionql: HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(data)))
}

// printQuery runs query and prints its answer in format.
func (c *queryClient) printQuery(ctx context.Context, query, format string, out io.Writer) error {
	wire := format
	if format == "table" {
		wire = "json"
	}
	resp, err := c.post(ctx, query, wire)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if format != "table" {
		if _, err := io.Copy(out, resp.Body); err != nil {
			return err
		}
		// The trailers are there once the body has been read to its end.
		if resp.Trailer.Get(truncatedTrailer) == "true" {
			return fmt.Errorf("fusionql: the answer is incomplete: %s", resp.Trailer.Get(errorTrailer))
		}
		return nil
	}
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	var a answer
	if err := dec.Decode(&a); err != nil {
		return fmt.Errorf("fusionql: reading the answer: %w", err)
	}
	if err := printTable(out, a); err != nil {
		return err
	}
	if a.Truncated {
		return fmt.Errorf("fusionql: the answer is incomplete: %s", a.Error)
	}
	return nil
}

// printTable prints columns and rows aligned, with a rule under the header
// and the row count at the end. Numbers are right-aligned.
func printTable(out io.Writer, a answer) error {
	cells := make([][]string, len(a.Rows))
	numeric := make([]bool, len(a.Columns))
	for i := range numeric {
		numeric[i] = len(a.Rows) > 0
	}
	widths := make([]int, len(a.Columns))
	for i, name := range a.Columns {
		widths[i] = len(name)
	}
	for r, row := range a.Rows {
		cells[r] = make([]string, len(a.Columns))
		for i := range a.Columns {
			var v any
			if i < len(row) {
				v = row[i]
			}
			cells[r][i] = cellText(v)
			if _, isNumber := v.(json.Number); !isNumber && v != nil {
				numeric[i] = false
			}
			widths[i] = max(widths[i], len([]rune(cells[r][i])))
		}
	}
	var buf bytes.Buffer
	line := func(values []string) {
		for i, v := range values {
			if i > 0 {
				buf.WriteString("  ")
			}
			pad := strings.Repeat(" ", widths[i]-len([]rune(v)))
			if numeric[i] {
				buf.WriteString(pad + v)
			} else if i < len(values)-1 {
				buf.WriteString(v + pad)
			} else {
				buf.WriteString(v)
			}
		}
		buf.WriteByte('\n')
	}
	line(a.Columns)
	rules := make([]string, len(widths))
	for i, w := range widths {
		rules[i] = strings.Repeat("-", w)
	}
	line(rules)
	for _, row := range cells {
		line(row)
	}
	noun := "rows"
	if len(a.Rows) == 1 {
		noun = "row"
	}
	fmt.Fprintf(&buf, "(%d %s)\n", len(a.Rows), noun)
	_, err := out.Write(buf.Bytes())
	return err
}

// cellText prints one value: NULL for null, lists and maps as JSON.
func cellText(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		if x {
			return "true"
		}
		return "false"
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return fmt.Sprint(x)
		}
		return string(b)
	}
}
