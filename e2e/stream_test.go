package e2e

import (
	"testing"
)

// TestGatewayOutageStreamMode is TestGatewayOutageLosesNothing with the
// agent's fused exporter in otlpgo stream mode: the gateway's restart
// drops every stream's state, the agent's streams resend as reset frames
// (on a failed send, or on the restarted gateway's 409), and nothing is
// lost or duplicated.
func TestGatewayOutageStreamMode(t *testing.T) {
	top := startTopologyWith(t, "\n    stream: {enabled: true}")
	gatewayOutage(t, top)
	conflicts := scrapeMetric(t, top.gatewayMetrics, "otelcol_otlpgo_receiver_decode_errors", `reason="stream_state"`)
	t.Logf("stream frames the restarted gateway could not follow (answered 409, resent as reset frames): %v", conflicts)
}
