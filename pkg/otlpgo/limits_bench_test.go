package otlpgo

import (
	"fmt"
	"testing"
)

// BenchmarkDecodeWideMaps decodes 256 log records whose attributes share a
// shape of 64 to 1024 distinct keys. The time per map entry stays flat:
// maps are built in time linear in their keys, where pdata's Put* takes
// time in the square of them.
func BenchmarkDecodeWideMaps(b *testing.B) {
	const records = 256
	for _, keys := range []int{64, 256, 1024} {
		frame := wideMapsFrame(b, records, keys, valueInt, false)
		b.Run(fmt.Sprintf("keys=%d", keys), func(b *testing.B) {
			d := NewDecoder(unlimited)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := d.Decode(frame); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*records*keys), "ns/entry")
		})
	}
}
