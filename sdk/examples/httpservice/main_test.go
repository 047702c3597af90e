package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// TestServiceSendsOneFusedRequest serves requests and shuts down: the
// spans, log records and points all leave in one fused request.
func TestServiceSendsOneFusedRequest(t *testing.T) {
	var mu sync.Mutex
	var frames [][]byte
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		frames = append(frames, body)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{}`)
	}))
	defer collector.Close()

	svc, err := newService(context.Background(), collector.URL+"/v1/fused")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/items/1?customer=a", "/items/2?customer=b", "/items/x?customer=a"} {
		rec := httptest.NewRecorder()
		svc.handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if want := map[bool]int{true: 400, false: 200}[path == "/items/x?customer=a"]; rec.Code != want {
			t.Errorf("%s: status %d, want %d", path, rec.Code, want)
		}
	}
	if err := svc.shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(frames) != 1 {
		t.Fatalf("%d requests, want 1", len(frames))
	}
	if tags := sectionTags(t, frames[0]); fmt.Sprint(tags) != "[1 2 3 4]" {
		t.Errorf("sections %v, want dict, traces, logs and metrics", tags)
	}
}

// sectionTags lists the sections of a zstd-compressed frame.
func sectionTags(t *testing.T, frame []byte) []uint64 {
	t.Helper()
	if len(frame) < 16 || string(frame[:4]) != "OTGO" || frame[6]&1 == 0 {
		t.Fatalf("not a zstd fused frame: % x", frame[:min(16, len(frame))])
	}
	dec, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	body, err := dec.DecodeAll(frame[16:], nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := binary.LittleEndian.Uint32(frame[12:]); int(got) != len(body) {
		t.Fatalf("raw_len %d, body %d bytes", got, len(body))
	}
	var tags []uint64
	for len(body) > 0 {
		tag, n := binary.Uvarint(body)
		size, m := binary.Uvarint(body[n:])
		if n <= 0 || m <= 0 || uint64(len(body)-n-m) < size {
			t.Fatal("bad section head")
		}
		tags = append(tags, tag)
		body = body[n+m+int(size):]
	}
	return tags
}
