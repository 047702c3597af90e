package fusedslog

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"testing/slogtest"

	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
)

// TestSlogConformance runs the standard library's Handler conformance
// tests. Groups arrive as dotted keys; they are nested again here, as
// slogtest expects.
func TestSlogConformance(t *testing.T) {
	var h *Handler
	var rec *recorder
	newHandler := func(t *testing.T) slog.Handler {
		h, rec = newRecorded(t)
		return h
	}
	result := func(t *testing.T) map[string]any {
		if err := h.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		rec.mu.Lock()
		defer rec.mu.Unlock()
		if len(rec.records) != 1 {
			t.Fatalf("%d records, want 1", len(rec.records))
		}
		return asMap(rec.records[0])
	}
	slogtest.Run(t, newHandler, result)
}

// asMap is a record as slogtest reads one: time, level, msg and the
// attributes, dotted keys as nested maps.
func asMap(r sdklog.Record) map[string]any {
	m := map[string]any{"level": r.SeverityText(), "msg": r.Body().AsString()}
	if !r.Timestamp().IsZero() {
		m["time"] = r.Timestamp()
	}
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		path := strings.Split(string(kv.Key), ".")
		at := m
		for _, p := range path[:len(path)-1] {
			next, ok := at[p].(map[string]any)
			if !ok {
				next = map[string]any{}
				at[p] = next
			}
			at = next
		}
		at[path[len(path)-1]] = kv.Value.AsInterface()
		return true
	})
	return m
}
