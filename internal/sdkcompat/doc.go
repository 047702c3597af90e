// Package sdkcompat holds the tests that keep the sdk module's frame writer
// (github.com/otelfusion/otelfusion/sdk, its own module so that applications
// do not link the collector) in step with pkg/otlpgo: telemetry made by the
// OpenTelemetry Go SDK is exported through the sdk's fused exporters and
// through the OTLP/HTTP exporters, and what pkg/otlpgo decodes from the
// fused frames must equal what the OTLP exporters sent, item for item.
package sdkcompat
