package scenarios

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"go.opentelemetry.io/collector/consumer/consumererror"

	"github.com/otelfusion/otelfusion/pkg/otlpgo"
)

// fusedStream makes a fusedSender send otlpgo stream frames (protocol v2,
// docs/protocol.md "Stream mode") under one Otlpgo-Stream id, as the fused
// exporter does with stream::enabled. Stream frames depend on the frames
// before them, so unlike stateless frames they are encoded at every send.
type fusedStream struct {
	mu  sync.Mutex
	id  string
	enc *otlpgo.StreamEncoder
}

func newFusedStream() *fusedStream {
	var id [8]byte
	_, _ = rand.Read(id[:])
	return &fusedStream{id: "testbed-" + hex.EncodeToString(id[:]), enc: otlpgo.NewStreamEncoder(otlpgo.EncodeOptions{Compression: otlpgo.CompressionZstd}, 0)}
}

// sendStream sends req as the stream's next frame and resends the refused
// signals as SendFused does; a 409 (the receiver lost the stream) resends
// at once as a reset frame, and an answer that leaves the receiver's state
// unknown resets the stream.
func (s *fusedSender) sendStream(ctx context.Context, req otlpgo.Request, maxDelay time.Duration) error {
	st := s.stream
	st.mu.Lock()
	defer st.mu.Unlock()
	deadline := time.Now().Add(maxDelay)
	for conflicts := 0; ; {
		frame, err := st.enc.AppendFrame(nil, req)
		if err != nil {
			return consumererror.NewPermanent(err)
		}
		code, answer, err := s.postStream(ctx, st.id, frame)
		switch {
		case err != nil:
			st.enc.Reset()
		case code == http.StatusConflict && conflicts < 3:
			conflicts++
			continue
		default:
			if code != http.StatusOK && code != http.StatusTooManyRequests && code != http.StatusServiceUnavailable {
				st.enc.Reset()
			}
			var refused bool
			req, refused, err = refusedSignals(req, code, answer)
			if err == nil && !refused {
				return nil
			}
		}
		if consumererror.IsPermanent(err) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(retryPause)
	}
}

func (s *fusedSender) postStream(ctx context.Context, id string, frame []byte) (int, []byte, error) {
	url := "http://" + s.GetEndpoint().String() + otlpgo.HTTPPath
	httpReq, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(frame))
	if err != nil {
		return 0, nil, consumererror.NewPermanent(err)
	}
	httpReq.Header.Set("Content-Type", otlpgo.ContentType)
	httpReq.Header.Set(otlpgo.StreamHeader, id)
	resp, err := s.client.Do(httpReq)
	if err != nil {
		time.Sleep(retryPause)
		return 0, nil, fmt.Errorf("fused stream: %w", err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusConflict {
		s.stream.enc.Reset()
	}
	return resp.StatusCode, answer, err
}
