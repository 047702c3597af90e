package scenarios

import (
	"os"
	"path/filepath"
	"testing"
)

// TestCollectorConfigs has each binary validate the config of every
// pipeline it runs, so a config mistake shows up before a long run.
func TestCollectorConfigs(t *testing.T) {
	fusion, stock := requireTestbed(t)
	exporter := newBackendReceiver(backendGRPCPort, backendHTTPPort).GenConfigYAMLStr()
	type run struct {
		bin      collectorBinary
		pipeline pipeline
	}
	runs := []run{{stock, passThrough}, {fusion, passThrough}, {fusion, withFusion}, {fusion, withQuota}}
	if raftWALAvailable(fusion) {
		runs = append(runs, run{fusion, withRaftWAL})
	}
	if storeAvailable(fusion) {
		runs = append(runs, run{fusion, withStoreMemory}, run{fusion, withStoreRaftWAL})
	}
	for _, r := range runs {
		t.Run(r.bin.Name+"/"+r.pipeline.Name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "config.yaml")
			if err := os.WriteFile(path, []byte(collectorConfig(r.bin, r.pipeline, exporter, dir)), 0o600); err != nil {
				t.Fatal(err)
			}
			if out, err := runOutput(r.bin.Path, "validate", "--config", path); err != nil {
				t.Errorf("%s validate: %v\n%s", r.bin.Name, err, out)
			}
		})
	}
}
