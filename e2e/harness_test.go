// Package e2e runs the built otelcol-fusion binary as real processes and
// drives it with the OpenTelemetry Go SDK.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// collectorBinary is the otelcol-fusion built once for the whole package.
var collectorBinary string

func TestMain(m *testing.M) {
	if os.Getenv(floodURLEnv) != "" {
		// Re-executed as the tenant quota test's load generator: no build.
		os.Exit(m.Run())
	}
	os.Exit(runWithBinary(m))
}

func runWithBinary(m *testing.M) int {
	dir, err := os.MkdirTemp("", "otelcol-fusion-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	collectorBinary = filepath.Join(dir, "otelcol-fusion")
	build := exec.Command("go", "build", "-o", collectorBinary, "./distro")
	build.Dir = ".."
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building otelcol-fusion:", err)
		return 1
	}
	return m.Run()
}

// collectorProcess is one running otelcol-fusion.
type collectorProcess struct {
	t          *testing.T
	name       string
	configPath string
	logPath    string
	healthURL  string
	cmd        *exec.Cmd
	exited     chan error
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// writeConfig writes a collector config into the test's temp dir.
func writeConfig(t *testing.T, name, yaml string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name+".yaml")
	require.NoError(t, os.WriteFile(path, []byte(yaml), 0o600))
	return path
}

// startCollector starts the binary on configPath and waits until the health
// check at healthPort answers 200.
func startCollector(t *testing.T, name, configPath string, healthPort int) *collectorProcess {
	t.Helper()
	p := &collectorProcess{
		t:          t,
		name:       name,
		configPath: configPath,
		logPath:    filepath.Join(t.TempDir(), name+".log"),
		healthURL:  fmt.Sprintf("http://127.0.0.1:%d/", healthPort),
	}
	p.start()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			p.dumpLog()
		}
	})
	return p
}

func (p *collectorProcess) start() {
	p.t.Helper()
	logFile, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	require.NoError(p.t, err)
	p.cmd = exec.Command(collectorBinary, "--config", p.configPath)
	p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
	p.cmd.Env = append(os.Environ(), "GOMAXPROCS=2")
	require.NoError(p.t, p.cmd.Start())
	p.exited = make(chan error, 1)
	go func() {
		p.exited <- p.cmd.Wait()
		logFile.Close()
	}()
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case err := <-p.exited:
			p.exited <- err
			p.dumpLog()
			p.t.Fatalf("%s exited while starting: %v", p.name, err)
		default:
		}
		if resp, err := http.Get(p.healthURL); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			p.dumpLog()
			p.t.Fatalf("%s not healthy after 60s", p.name)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stop sends SIGINT and returns the exit error (nil for a clean exit).
func (p *collectorProcess) stop() error {
	p.t.Helper()
	if p.cmd == nil {
		return nil
	}
	require.NoError(p.t, p.cmd.Process.Signal(syscall.SIGINT))
	select {
	case err := <-p.exited:
		p.cmd = nil
		return err
	case <-time.After(30 * time.Second):
		p.kill()
		return errors.New("did not stop within 30s of SIGINT")
	}
}

func (p *collectorProcess) kill() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.exited
	p.cmd = nil
}

func (p *collectorProcess) dumpLog() {
	data, err := os.ReadFile(p.logPath)
	if err != nil {
		return
	}
	const tail = 8000
	if len(data) > tail {
		data = data[len(data)-tail:]
	}
	p.t.Logf("--- %s log (tail) ---\n%s", p.name, data)
}

// scrapeMetric sums the samples of one metric from a Prometheus text page,
// over every label set whose labels contain all of the given fragments.
func scrapeMetric(t *testing.T, url, name string, labelFragments ...string) float64 {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var total float64
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
lines:
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name) {
			continue
		}
		rest := line[len(name):]
		if rest == "" || (rest[0] != '{' && rest[0] != ' ') {
			continue
		}
		for _, f := range labelFragments {
			if !strings.Contains(rest, f) {
				continue lines
			}
		}
		fields := strings.Fields(rest[strings.LastIndex(rest, "}")+1:])
		if len(fields) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		require.NoError(t, err)
		total += v
	}
	return total
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
