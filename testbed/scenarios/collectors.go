package scenarios

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// Ports of the collector under test and of the mock backend, away from the
// defaults so a `make run` collector on the same machine does not collide.
const (
	collectorGRPCPort  = 47317
	collectorHTTPPort  = 47318
	collectorFusedPort = 47319
	quotaAdminPort     = 47390
	storeQueryPort     = 47391
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
	// Name is the row label: "pass-through", "correlation", "correlation+quota",
	// "raftwal queue", "store, memory queue", "store, raftwal queue".
	Name string
	// Processors, in order; batch, where there is one, is last.
	Processors []string
	// RED adds the fusionmetrics connector: the traces and logs pipelines
	// export to it beside otlp_grpc, and the metrics pipeline takes its RED
	// and log-count metrics (after the metrics pipeline's processors) to
	// the backend, which counts them apart from the load.
	RED bool
	// RaftWAL puts the exporter's sending queue on the raftwal storage
	// extension.
	RaftWAL bool
	// Store also writes every item into the embedded store: the fusionstore
	// extension on the run's temporary directory and the fusionstore exporter
	// beside otlp_grpc. Both exporters batch in their sending queue, as
	// distro/config.yaml does, so the pipeline has no batch processor.
	Store bool
	// StoreOnRaftWAL puts the fusionstore exporter's queue on the raftwal
	// storage extension (acknowledged once fsync'd, the default config's
	// durability); without it the queue is in memory (acknowledged at once).
	// It is the only difference between the two store pipelines.
	StoreOnRaftWAL bool
}

var (
	passThrough = pipeline{Name: "pass-through", Processors: []string{"batch"}}
	// Correlation is the fusion processor's log↔span linking and the
	// fusionmetrics connector's RED metrics: what otelcol-fusion adds.
	withFusion  = pipeline{Name: "correlation", Processors: []string{"fusion", "batch"}, RED: true}
	withQuota   = pipeline{Name: "correlation+quota", Processors: []string{"tenant_quota", "fusion", "batch"}, RED: true}
	withRaftWAL = pipeline{Name: "raftwal queue", Processors: []string{"batch"}, RaftWAL: true}
	// The cost of durability is the difference between these two rows.
	withStoreMemory  = pipeline{Name: "store, memory queue", Store: true}
	withStoreRaftWAL = pipeline{Name: "store, raftwal queue", Store: true, StoreOnRaftWAL: true}
)

// storeQueueYAML is the sending queue of both exporters of the store
// pipelines: distro/config.yaml's fusionstore queue (items, batches of
// 8192 to 16384 spans flushed after at most 200ms), indented under an
// exporter, with storage when the queue is on a storage extension.
func storeQueueYAML(storage string) string {
	var b strings.Builder
	b.WriteString("    sending_queue:\n      enabled: true\n")
	if storage != "" {
		fmt.Fprintf(&b, "      storage: %s\n", storage)
	}
	b.WriteString("      sizer: items\n      queue_size: 200000\n      batch:\n        flush_timeout: 200ms\n        min_size: 8192\n        max_size: 16384\n")
	return b.String()
}

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
	// A binary from before the connector (its fusion processor derived the
	// RED metrics itself) runs the same rows without it: `make testbed` with
	// FUSION_BIN set to an older build gives the before figures.
	red := p.RED && hasComponents(bin, "fusionmetrics")
	if red {
		b.WriteString("connectors:\n  fusionmetrics: {}\n")
	}
	b.WriteString("exporters:")
	b.WriteString(exporterYAML)
	b.WriteString("\n")
	exporters := "otlp_grpc"
	var extensions []string
	if p.RaftWAL {
		b.WriteString("    sending_queue:\n      storage: raftwal\n")
	}
	if p.Store {
		b.WriteString(storeQueueYAML(""))
		b.WriteString("  fusionstore:\n    extension: fusionstore\n")
		storage := ""
		if p.StoreOnRaftWAL {
			storage = "raftwal"
		}
		b.WriteString(storeQueueYAML(storage))
		exporters = "otlp_grpc, fusionstore"
	}
	if p.RaftWAL || p.StoreOnRaftWAL {
		extensions = append(extensions, "raftwal")
	}
	if p.Store {
		extensions = append(extensions, "fusionstore")
	}
	profile := pprofFile(bin, p)
	if profile != "" {
		extensions = append(extensions, "pprof")
	}
	if len(extensions) > 0 {
		b.WriteString("extensions:\n")
	}
	for _, name := range extensions {
		switch name {
		case "raftwal":
			fmt.Fprintf(&b, "  raftwal:\n    directory: %s\n    node_id: testbed-1\n", filepath.Join(dataDir, "raftwal"))
		case "fusionstore":
			fmt.Fprintf(&b, "  fusionstore:\n    path: %s\n    query:\n      endpoint: 127.0.0.1:%d\n",
				filepath.Join(dataDir, "fusion.duckdb"), storeQueryPort)
		case "pprof":
			// The CPU profile of the collector's whole run, written at
			// shutdown: at saturation the top steps dominate it.
			fmt.Fprintf(&b, "  pprof:\n    endpoint: 127.0.0.1:0\n    save_to_file: %s\n", profile)
		}
	}
	b.WriteString("service:\n")
	if len(extensions) > 0 {
		fmt.Fprintf(&b, "  extensions: [%s]\n", strings.Join(extensions, ", "))
	}
	b.WriteString("  telemetry:\n    metrics:\n      level: none\n    logs:\n      level: warn\n  pipelines:\n")
	for _, signal := range []string{"traces", "logs", "metrics"} {
		receivers, processors, out := bin.Receiver, p.Processors, exporters
		if red {
			switch signal {
			case "traces", "logs":
				out += ", fusionmetrics"
			case "metrics":
				// The derived metrics pass the metrics pipeline's
				// processors; the fusion processor links logs to spans
				// and has nothing to do on metrics.
				receivers += ", fusionmetrics"
				processors = slices.DeleteFunc(slices.Clone(processors), func(name string) bool { return name == "fusion" })
			}
		}
		fmt.Fprintf(&b, "    %s:\n      receivers: [%s]\n      processors: [%s]\n      exporters: [%s]\n",
			signal, receivers, strings.Join(processors, ", "), out)
	}
	return b.String()
}

// hasComponents tells whether the otelcol-fusion binary lists every named
// component: the raftwal extension and the store were written after the
// testbed, so their scenarios run only when the binary has them.
func hasComponents(bin collectorBinary, names ...string) bool {
	out, err := components(bin.Path)
	if err != nil {
		return false
	}
	for _, name := range names {
		if !strings.Contains(out, name) {
			return false
		}
	}
	return true
}

// raftWALAvailable tells whether the binary has the raftwal extension.
func raftWALAvailable(bin collectorBinary) bool { return hasComponents(bin, "raftwal") }

// storeAvailable tells whether the binary has the fusionstore extension and
// exporter (one type name for both) and the raftwal extension.
func storeAvailable(bin collectorBinary) bool { return hasComponents(bin, "fusionstore", "raftwal") }

// pprofFile is where otelcol-fusion saves the CPU profile of a run when
// TESTBED_PPROF names a directory: <dir>/<pipeline>.pprof. The stock
// collector has no pprof extension; it is never profiled.
func pprofFile(bin collectorBinary, p pipeline) string {
	dir := os.Getenv("TESTBED_PPROF")
	if dir == "" || bin.Name != "fusion" {
		return ""
	}
	name := strings.NewReplacer(" ", "-", ",", "", "+", "-").Replace(p.Name)
	if dir = fromStartDir(dir); os.MkdirAll(dir, 0o755) != nil {
		return ""
	}
	for i := 1; ; i++ {
		path := filepath.Join(dir, fmt.Sprintf("%s-%d.pprof", name, i))
		if _, err := os.Stat(path); os.IsNotExist(err) {
			return path
		}
	}
}

var componentLists sync.Map // binary path -> its `components` output

// components is the binary's `components` output, asked once per binary.
func components(path string) (string, error) {
	if out, ok := componentLists.Load(path); ok {
		return out.(string), nil
	}
	out, err := runOutput(path, "components")
	if err != nil {
		return "", err
	}
	componentLists.Store(path, out)
	return out, nil
}
