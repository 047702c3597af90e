package fusionql

import (
	"testing"
	"time"
)

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(seedQuery2); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTranslateDuckDB(b *testing.B) {
	q, err := Parse(seedQuery1)
	if err != nil {
		b.Fatal(err)
	}
	opts := TranslateOptions{Tenant: "acme", MaxRows: 1000, DefaultTimeWindow: time.Hour, Now: testNow}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := (DuckDB{}).Translate(q, opts); err != nil {
			b.Fatal(err)
		}
	}
}
