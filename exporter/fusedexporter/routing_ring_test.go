package fusedexporter

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

func gatewayURLs(n int) []string {
	urls := make([]string, n)
	for i := range urls {
		urls[i] = fmt.Sprintf("http://gateway-%d.fleet:4319", i)
	}
	return urls
}

// randomTraceIDs returns n trace ids from a fixed seed.
func randomTraceIDs(n int) []pcommon.TraceID {
	rng := rand.New(rand.NewPCG(12, 34))
	ids := make([]pcommon.TraceID, n)
	for i := range ids {
		binary.BigEndian.PutUint64(ids[i][:8], rng.Uint64())
		binary.BigEndian.PutUint64(ids[i][8:], rng.Uint64())
	}
	return ids
}

func TestHashRingBalance(t *testing.T) {
	ids := randomTraceIDs(100_000)
	for _, n := range []int{1, 3, 4, 10, 50} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			ring := newHashRing(gatewayURLs(n))
			share := map[string]int{}
			for _, id := range ids {
				share[ring.lookup(traceKey(id))]++
			}
			require.Len(t, share, n, "every endpoint owns keys")
			for ep, c := range share {
				frac := float64(c) / float64(len(ids))
				assert.InDelta(t, 1/float64(n), frac, 0.3/float64(n), "%s's share", ep)
			}
		})
	}
}

// Adding a 4th endpoint moves keys only to it, about a quarter of them;
// removing one moves only its own keys.
func TestHashRingMovesOnlyWhatItMust(t *testing.T) {
	ids := randomTraceIDs(100_000)
	three, four := newHashRing(gatewayURLs(3)), newHashRing(gatewayURLs(4))
	newcomer := gatewayURLs(4)[3]
	moved := 0
	for _, id := range ids {
		before, after := three.lookup(traceKey(id)), four.lookup(traceKey(id))
		if before != after {
			moved++
			require.Equal(t, newcomer, after, "a key moved to an endpoint that did not join")
		}
	}
	frac := float64(moved) / float64(len(ids))
	t.Logf("adding a 4th endpoint moved %d of %d keys (%.1f%%)", moved, len(ids), 100*frac)
	assert.InDelta(t, 0.25, frac, 0.05)
	assert.LessOrEqual(t, frac, 1.0/3)

	withoutFirst := newHashRing(gatewayURLs(4)[1:])
	for _, id := range ids {
		before, after := four.lookup(traceKey(id)), withoutFirst.lookup(traceKey(id))
		if before != gatewayURLs(4)[0] {
			require.Equal(t, before, after, "a key of a remaining endpoint moved")
		}
	}
}

// Two agents with the same endpoint list, in any order, route alike.
func TestHashRingSameOnEveryAgent(t *testing.T) {
	a := newHashRing([]string{"http://a:4319", "http://b:4319", "http://c:4319"})
	b := newHashRing([]string{"http://c:4319", "http://a:4319", "http://b:4319"})
	for _, id := range randomTraceIDs(10_000) {
		require.Equal(t, a.lookup(traceKey(id)), b.lookup(traceKey(id)))
	}
	assert.Empty(t, newHashRing(nil).lookup(42), "an empty ring finds nothing")
}

// The key is the trace id's lower half, so a Datadog decimal id (lower 64
// bits only) hinted by a log routes like the span's full id.
func TestTraceKeyLowerHalf(t *testing.T) {
	full := pcommon.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	low := pcommon.TraceID{8: 9, 9: 10, 10: 11, 11: 12, 12: 13, 13: 14, 14: 15, 15: 16}
	assert.Equal(t, traceKey(full), traceKey(low))
}

func TestResourceKey(t *testing.T) {
	res := func(attrs map[string]any) pcommon.Resource {
		r := pcommon.NewResource()
		require.NoError(t, r.Attributes().FromRaw(attrs))
		return r
	}
	assert.Equal(t, resourceKey(res(map[string]any{"service.name": "cart", "host.name": "a"})),
		resourceKey(res(map[string]any{"service.name": "cart", "host.name": "b"})), "one service, one key")
	assert.NotEqual(t, resourceKey(res(map[string]any{"service.name": "cart"})), resourceKey(res(map[string]any{"service.name": "shop"})))
	assert.Equal(t, resourceKey(res(map[string]any{"a": "1", "b": "2"})), resourceKey(res(map[string]any{"b": "2", "a": "1"})),
		"without a service the attributes decide, in any order")
	assert.NotEqual(t, resourceKey(res(map[string]any{"a": "1"})), resourceKey(res(map[string]any{"a": "2"})))
}

func TestEndpointID(t *testing.T) {
	typ := component.MustNewType("fused")
	assert.Equal(t, "fused/http_gateway-1.fleet_4319", endpointID(component.NewID(typ), "http://gateway-1.fleet:4319").String())
	assert.Equal(t, "fused/edge_https_10.0.0.7_4319_v1_fused",
		endpointID(component.NewIDWithName(typ, "edge"), "https://10.0.0.7:4319/v1/fused").String())
}
