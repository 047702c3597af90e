package otlpgo

// Response is the JSON body a fused receiver answers a frame with. A signal
// that was absent from the frame is absent from the response.
type Response struct {
	Traces  *SignalResult `json:"traces,omitempty"`
	Logs    *SignalResult `json:"logs,omitempty"`
	Metrics *SignalResult `json:"metrics,omitempty"`
}

// SignalResult tells what became of one signal of a frame.
type SignalResult struct {
	// Accepted counts the items (spans, log records, data points) ingested.
	Accepted int64 `json:"accepted"`
	// Rejected counts the items refused for good; they must not be sent again.
	Rejected int64 `json:"rejected"`
	// Retryable is true when the signal was refused for now (throttled or
	// unavailable): none of its items were ingested and the sender should
	// send this signal, and only this one, again later.
	Retryable bool `json:"retryable,omitempty"`
	// Message explains a rejection or refusal.
	Message string `json:"message,omitempty"`
}
