package otlpgo

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDictShortStrings checks that shortIndex tells apart strings that
// differ in any one byte, at every length it covers, and finds them again.
func TestDictShortStrings(t *testing.T) {
	d := &NewEncoder(EncodeOptions{}).dict
	d.reset()
	want := map[string]uint64{}
	base := "0123456789abcdefg"
	for n := 1; n <= maxShortLen+1; n++ {
		for i := range n {
			for _, c := range []byte{'x', 0, 0xff} {
				b := []byte(base[:n])
				b[i] = c
				s := string(b)
				ref := d.ref(s)
				if prev, ok := want[s]; ok {
					require.Equal(t, prev, ref, "%q", s)
				}
				want[s] = ref
			}
		}
	}
	seen := map[uint64]string{}
	var clones []string // alive until the end, as a request's strings are for a frame
	for s, ref := range want {
		require.Equal(t, s, string(d.entry(ref)), "ref %d", ref)
		require.NotContains(t, seen, ref, "%q and %q share ref %d", s, seen[ref], ref)
		seen[ref] = s
		clones = append(clones, strings.Clone(s))
		require.Equal(t, ref, d.ref(clones[len(clones)-1]), "%q at another address", s)
	}
}
