// Command benchmarks measures the sdk module beside what an application
// would use otherwise, in one run, with interleaved repetitions and medians
// so that a loaded machine weighs on both sides of every ratio alike:
//
//   - logs: the fusedslog Handler beside slog's JSON handler, zap and
//     zerolog, on the same record;
//   - metrics: hcmetric beside the OpenTelemetry SDK's instruments and
//     Prometheus client_golang, 16 goroutines updating 1M series:
//     updates/s and p99 update latency;
//   - exporters: the fused exporters beside the three OTLP/HTTP exporters
//     sending the same telemetry: bytes on the wire and CPU per item.
//
// It is its own module so that the sdk module does not require zap,
// zerolog or client_golang. `make bench-sdk` runs it.
package main
