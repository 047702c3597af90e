// Package otlpgoreceiver implements the otlpgo receiver: fused OTLP-GO frames
// over HTTP (POST /v1/fused) plus standard OTLP/gRPC and OTLP/HTTP, the latter
// served by the collector's core otlp receiver. One instance serves every
// pipeline that names the same receiver configuration.
package otlpgoreceiver // import "github.com/otelfusion/otelfusion/receiver/otlpgoreceiver"
