package fusedexporter

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	"go.uber.org/zap"
)

// maxEndpointsFile bounds how much of an endpoints file is read.
const maxEndpointsFile = 1 << 20

// resolver produces the endpoint list routing spreads data over.
type resolver interface {
	// start resolves once, hands the sorted list to update (also when it is
	// empty because the first resolution failed), then resolves again until
	// shutdown, calling update only when the list changed. update is never
	// called from two goroutines at once.
	start(update func(endpoints []string))
	// shutdown stops resolving; it is safe without start.
	shutdown()
}

// lookupFunc runs one resolution: the endpoint list or why there is none.
type lookupFunc func(ctx context.Context) ([]string, error)

// pollingResolver runs a lookup every interval; the dns and file resolvers
// are one each. A failed lookup keeps the last list: a resolver hiccup does
// not empty the fleet.
type pollingResolver struct {
	name     string
	interval time.Duration
	timeout  time.Duration
	lookup   lookupFunc
	logger   *zap.Logger
	// outcome counts lookups by success or failure.
	outcome func(success bool)

	stop chan struct{}
	done sync.WaitGroup
}

func (p *pollingResolver) start(update func([]string)) {
	p.stop = make(chan struct{})
	last, _ := p.resolve()
	update(last)
	p.done.Add(1)
	go func() {
		defer p.done.Done()
		ticker := time.NewTicker(p.interval)
		defer ticker.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-ticker.C:
			}
			next, ok := p.resolve()
			if ok && !slices.Equal(next, last) {
				last = next
				update(next)
			}
		}
	}()
}

// resolve runs one lookup; ok is false when it failed.
func (p *pollingResolver) resolve() ([]string, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), p.timeout)
	defer cancel()
	endpoints, err := p.lookup(ctx)
	p.outcome(err == nil)
	if err != nil {
		p.logger.Warn("Routing resolver failed; keeping the endpoints it found last",
			zap.String("resolver", p.name), zap.Error(err))
		return nil, false
	}
	slices.Sort(endpoints)
	return slices.Compact(endpoints), true
}

func (p *pollingResolver) shutdown() {
	if p.stop == nil {
		return
	}
	close(p.stop)
	p.done.Wait()
	p.stop = nil
}

// staticResolver hands over its list once.
type staticResolver struct{ endpoints []string }

func (s staticResolver) start(update func([]string)) {
	eps := slices.Clone(s.endpoints)
	slices.Sort(eps)
	update(slices.Compact(eps))
}

func (staticResolver) shutdown() {}

// dnsLookup resolves cfg.Hostname with lookupHost (net.Resolver.LookupHost
// outside tests) into one endpoint URL per address.
func dnsLookup(cfg DNSResolverConfig, lookupHost func(ctx context.Context, host string) ([]string, error)) lookupFunc {
	return func(ctx context.Context) ([]string, error) {
		addrs, err := lookupHost(ctx, cfg.Hostname)
		if err != nil {
			return nil, fmt.Errorf("resolving %q: %w", cfg.Hostname, err)
		}
		endpoints := make([]string, 0, len(addrs))
		for _, addr := range addrs {
			u := url.URL{Scheme: cfg.Scheme, Host: net.JoinHostPort(addr, strconv.Itoa(cfg.Port)), Path: cfg.Path}
			endpoints = append(endpoints, u.String())
		}
		return endpoints, nil
	}
}

// fileLookup reads the endpoints file at path.
func fileLookup(path string) lookupFunc {
	return func(context.Context) ([]string, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		data, err := io.ReadAll(io.LimitReader(f, maxEndpointsFile+1))
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", path, err)
		}
		if len(data) > maxEndpointsFile {
			return nil, fmt.Errorf("%s is larger than %d bytes", path, maxEndpointsFile)
		}
		return parseEndpoints(data, path)
	}
}

// parseEndpoints reads an endpoints file's text: one fused endpoint URL a
// line, blank lines and '#' comments skipped. The first bad line fails the
// whole file, named by source and line number, so a half-written edit never
// shrinks the fleet; so does a file without endpoints.
func parseEndpoints(data []byte, source string) ([]string, error) {
	var endpoints []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), maxEndpointsFile)
	for line := 1; sc.Scan(); line++ {
		text := string(bytes.TrimSpace(sc.Bytes()))
		if text == "" || text[0] == '#' {
			continue
		}
		if _, err := fusedURL(text); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", source, line, err)
		}
		endpoints = append(endpoints, text)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	if len(endpoints) == 0 {
		// An empty file is more likely a write in progress than a fleet
		// scaled to nothing.
		return nil, fmt.Errorf("%s lists no endpoint", source)
	}
	return endpoints, nil
}
