// Package spanmetricsbench holds BenchmarkRED: the fusionmetrics connector
// beside contrib's spanmetrics connector v0.165.1 on the same spans (`make
// bench-red`). It is a module of its own so that contrib's connector and its
// dependencies stay out of the otelcol-fusion module (and the testbed's).
package spanmetricsbench
