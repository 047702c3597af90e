package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestEveryCodecCarriesEveryShape runs each cell of the table on a few
// small batches: every codec must give back every item it was sent.
func TestEveryCodecCarriesEveryShape(t *testing.T) {
	for _, shape := range shapes {
		for _, signal := range signals {
			data := makeBatches(shape.new(), signal, 30, 3)
			results, err := runCell(data, signal, 1)
			require.NoError(t, err, "%s %s", shape.name, signal)
			want := 12 // otlpgo ×4, proto ×2, arrow ×4, stef ×2
			if signal != "metrics" {
				want = 10
			}
			require.Len(t, results, want, "%s %s", shape.name, signal)
			for name, r := range results {
				require.Positive(t, r.bytes, "%s %s %s", shape.name, signal, name)
			}
			row := summaryRow(shape.name, signal, 30, results)
			require.True(t, strings.HasPrefix(row, "| "+shape.name+" | "+signal+" | 30 | arrow"), row)
		}
	}
}

func TestMedian(t *testing.T) {
	rs := []result{{bytes: 3}, {bytes: 1}, {bytes: 2}, {bytes: 10}}
	require.Equal(t, 2.5, median(rs, func(r result) float64 { return r.bytes }))
	require.Equal(t, 2.0, median(rs[:3], func(r result) float64 { return r.bytes }))
}
