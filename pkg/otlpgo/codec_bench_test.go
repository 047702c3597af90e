package otlpgo_test

import (
	"fmt"
	"testing"

	"github.com/otelfusion/otelfusion/pkg/otlpgo/internal/codecbench"
)

// BenchmarkCodec encodes and decodes fusiongen batches with otlpgo (plain
// and zstd) and OTLP protobuf (plain and zstd at the same level), reporting
// bytes/item and ns/item. `go run ./pkg/otlpgo/internal/benchtable` prints
// the same figures as a table.
func BenchmarkCodec(b *testing.B) {
	for _, signal := range codecbench.Signals {
		for _, batch := range codecbench.Batches {
			req := codecbench.Request(signal, batch)
			for _, codec := range codecbench.Codecs {
				b.Run(fmt.Sprintf("%s/%d/%s", signal, batch, codec), codecbench.EncodeDecode(codec, req))
			}
		}
	}
}
