package fusedexporter

import (
	"encoding/binary"
	"hash/fnv"
	"slices"
	"sort"
	"strconv"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// ringPointsPerEndpoint is how many points each endpoint owns on the ring.
// More points even out the share of each endpoint: with 256 the shares of
// 3-50 endpoints stay within a few percent of 1/n.
const ringPointsPerEndpoint = 256

// hashRing is a consistent-hash ring. A key belongs to the endpoint of the
// first point at or after it, so adding an endpoint moves to it only the
// keys that fall just before its points (about 1/n of them), and removing
// one moves only its own keys. Points depend on nothing but the endpoint
// names, so every agent with the same list routes a key alike. A ring is
// immutable once built and safe for concurrent use.
type hashRing struct {
	hashes    []uint64 // sorted
	endpoints []string // endpoints[i] owns hashes[i]
}

// newHashRing builds the ring of endpoints; an empty list makes an empty
// ring, whose lookups find nothing.
func newHashRing(endpoints []string) *hashRing {
	type point struct {
		hash     uint64
		endpoint string
	}
	points := make([]point, 0, len(endpoints)*ringPointsPerEndpoint)
	for _, ep := range endpoints {
		for i := range ringPointsPerEndpoint {
			points = append(points, point{hash: hashString(ep + "#" + strconv.Itoa(i)), endpoint: ep})
		}
	}
	// Ties (vanishingly rare) are broken by name so every agent agrees.
	sort.Slice(points, func(i, j int) bool {
		if points[i].hash != points[j].hash {
			return points[i].hash < points[j].hash
		}
		return points[i].endpoint < points[j].endpoint
	})
	r := &hashRing{hashes: make([]uint64, len(points)), endpoints: make([]string, len(points))}
	for i, p := range points {
		r.hashes[i], r.endpoints[i] = p.hash, p.endpoint
	}
	return r
}

// lookup returns the endpoint owning key, or "" on an empty ring.
func (r *hashRing) lookup(key uint64) string {
	if len(r.hashes) == 0 {
		return ""
	}
	i, _ := slices.BinarySearch(r.hashes, key)
	if i == len(r.hashes) {
		i = 0
	}
	return r.endpoints[i]
}

// mix64 is the splitmix64 finaliser: it spreads keys that differ in few
// bits (sequential ids, similar names) over the whole ring.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

func hashString(s string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(s))
	return mix64(h.Sum64())
}

// traceKey is the ring key of a trace: its lower 8 bytes. A Datadog decimal
// trace id found in a log attribute carries only those, so a log hinted that
// way still meets its span.
func traceKey(id pcommon.TraceID) uint64 {
	return mix64(binary.BigEndian.Uint64(id[8:]))
}

// resourceKey is the ring key of data routed by where it comes from: the
// service name, or every resource attribute when there is none.
func resourceKey(res pcommon.Resource) uint64 {
	attrs := res.Attributes()
	if v, ok := attrs.Get("service.name"); ok && v.Type() == pcommon.ValueTypeStr && v.Str() != "" {
		return hashString("service.name=" + v.Str())
	}
	pairs := make([]string, 0, attrs.Len())
	for k, v := range attrs.All() {
		pairs = append(pairs, k+"="+v.AsString())
	}
	slices.Sort(pairs)
	h := fnv.New64a()
	for _, p := range pairs {
		_, _ = h.Write([]byte(p))
		_, _ = h.Write([]byte{0})
	}
	return mix64(h.Sum64())
}
