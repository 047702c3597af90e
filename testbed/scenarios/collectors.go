package scenarios

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Ports of the collector under test and of the mock backend, away from the
// defaults so a `make run` collector on the same machine does not collide.
const (
	collectorGRPCPort  = 47317
	collectorHTTPPort  = 47318
	collectorFusedPort = 47319
	quotaAdminPort     = 47390
	backendGRPCPort    = 47417
	backendHTTPPort    = 47418
)

// collectorBinary is one of the two binaries under test.
type collectorBinary struct {
	// Name is what the tables call it: "fusion" or "stock".
	Name string
	// Path is the executable.
	Path string
	// Receiver is the receiver the binary takes OTLP (and, for otelcol-fusion,
	// fused frames) with.
	Receiver string
}

// binaries returns otelcol-fusion (bin/ of the repository) and the stock
// collector (testbed/bin/), overridable with FUSION_BIN and STOCK_BIN.
func binaries() (fusion, stock collectorBinary, err error) {
	fusionPath := envOr("FUSION_BIN", "../../bin/otelcol-fusion")
	stockPath := envOr("STOCK_BIN", "../bin/otelcol-stock")
	for _, p := range []*string{&fusionPath, &stockPath} {
		*p = fromStartDir(*p)
		if _, err = os.Stat(*p); err != nil {
			return fusion, stock, fmt.Errorf("collector binary: %w (run `make testbed` from the repository root)", err)
		}
	}
	fusion = collectorBinary{Name: "fusion", Path: fusionPath, Receiver: "otlpgo"}
	stock = collectorBinary{Name: "stock", Path: stockPath, Receiver: "otlp"}
	return fusion, stock, nil
}

// fusionBinary returns otelcol-fusion alone, for runs that need no baseline.
func fusionBinary() (collectorBinary, error) {
	path := fromStartDir(envOr("FUSION_BIN", "../../bin/otelcol-fusion"))
	if _, err := os.Stat(path); err != nil {
		return collectorBinary{}, fmt.Errorf("collector binary: %w (run `make build` from the repository root)", err)
	}
	return collectorBinary{Name: "fusion", Path: path, Receiver: "otlpgo"}, nil
}

func envOr(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
}

// pipeline is what runs between the receiver and the exporter.
type pipeline struct {
	// Name is the row label: "pass-through", "fusion", "fusion+quota", "raftwal queue".
	Name string
	// Processors, in order; batch is always last.
	Processors []string
	// RaftWAL puts the exporter's sending queue on the raftwal storage
	// extension.
	RaftWAL bool
}

var (
	passThrough = pipeline{Name: "pass-through", Processors: []string{"batch"}}
	withFusion  = pipeline{Name: "fusion", Processors: []string{"fusion", "batch"}}
	withQuota   = pipeline{Name: "fusion+quota", Processors: []string{"tenant_quota", "fusion", "batch"}}
	withRaftWAL = pipeline{Name: "raftwal queue", Processors: []string{"batch"}, RaftWAL: true}
)

// collectorConfig is the YAML the binary runs with: its receiver, the
// pipeline's processors for all three signals, and the exporter to the mock
// backend. Its own telemetry is off so both binaries do the same work.
func collectorConfig(bin collectorBinary, p pipeline, exporterYAML, dataDir string) string {
	var b strings.Builder
	b.WriteString("receivers:\n")
	fmt.Fprintf(&b, "  %s:\n    protocols:\n      grpc:\n        endpoint: 127.0.0.1:%d\n      http:\n        endpoint: 127.0.0.1:%d\n",
		bin.Receiver, collectorGRPCPort, collectorHTTPPort)
	if bin.Receiver == "otlpgo" {
		fmt.Fprintf(&b, "    fused:\n      endpoint: 127.0.0.1:%d\n", collectorFusedPort)
	}
	b.WriteString("processors:\n  batch: {}\n")
	for _, name := range p.Processors {
		switch name {
		case "fusion":
			b.WriteString("  fusion: {}\n")
		case "tenant_quota":
			// Generous quotas: the processor does all its per-tenant
			// accounting, but nothing of this load is throttled.
			fmt.Fprintf(&b, `  tenant_quota:
    defaults:
      traces: {items_per_second: 5000000, items_burst: 5000000, bytes_per_second: 5000000000, bytes_burst: 5000000000}
      logs: {items_per_second: 5000000, items_burst: 5000000, bytes_per_second: 5000000000, bytes_burst: 5000000000}
      metrics: {items_per_second: 5000000, items_burst: 5000000, bytes_per_second: 5000000000, bytes_burst: 5000000000}
      retention: 168h
    admin:
      endpoint: 127.0.0.1:%d
`, quotaAdminPort)
		}
	}
	b.WriteString("exporters:")
	b.WriteString(exporterYAML)
	b.WriteString("\n")
	if p.RaftWAL {
		b.WriteString("    sending_queue:\n      storage: raftwal\n")
		fmt.Fprintf(&b, "extensions:\n  raftwal:\n    directory: %s\n    node_id: testbed-1\n", filepath.Join(dataDir, "raftwal"))
	}
	b.WriteString("service:\n")
	if p.RaftWAL {
		b.WriteString("  extensions: [raftwal]\n")
	}
	b.WriteString("  telemetry:\n    metrics:\n      level: none\n    logs:\n      level: warn\n  pipelines:\n")
	for _, signal := range []string{"traces", "logs", "metrics"} {
		fmt.Fprintf(&b, "    %s:\n      receivers: [%s]\n      processors: [%s]\n      exporters: [otlp_grpc]\n",
			signal, bin.Receiver, strings.Join(p.Processors, ", "))
	}
	return b.String()
}

// raftWALAvailable tells whether the otelcol-fusion binary has the raftwal
// extension: the extension was still being written when the testbed was, so
// its scenario runs only when the binary lists it.
func raftWALAvailable(bin collectorBinary) bool {
	out, err := runOutput(bin.Path, "components")
	return err == nil && strings.Contains(out, "raftwal")
}
