package fusionql

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"
)

// seedQuery1 and seedQuery2 are the two queries FusionQL was built for.
const (
	seedQuery1 = "SELECT span.operation, log.level, metric.value FROM traces " +
		"JOIN logs ON traces.trace_id = logs.trace_id AND logs.timestamp BETWEEN traces.start_time AND traces.end_time " +
		"JOIN metrics ON traces.service_name = metrics.service_name " +
		"WHERE span.duration_ns > 1000000000 AND log.level = 'ERROR' LIMIT 100;"
	seedQuery2 = "SELECT t.operation, l.body, m.value FROM traces t " +
		"JOIN logs l ON t.trace_id = l.trace_id AND ABS(t.start_time - l.timestamp) < INTERVAL '200ms' " +
		"JOIN metrics m ON m.service_name = t.service_name AND m.timestamp BETWEEN t.start_time - INTERVAL '1m' AND t.end_time + INTERVAL '1m' " +
		"WHERE t.duration_ns > 1000000000 AND l.level = 'ERROR' LIMIT 100"
)

var positionType = reflect.TypeOf(Position{})

func zeroPositions(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			zeroPositions(v.Elem())
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			zeroPositions(v.Index(i))
		}
	case reflect.Struct:
		if v.Type() == positionType {
			if v.CanSet() {
				v.Set(reflect.Zero(positionType))
			}
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).Name == "table" {
				continue // *Table points into Schema, not into the tree
			}
			zeroPositions(v.Field(i))
		}
	}
}

// requireRoundTrip checks that q prints to text that parses to the same tree
// (positions aside) and prints the same again. It zeroes q's positions.
func requireRoundTrip(t *testing.T, q *Query) {
	t.Helper()
	text := q.String()
	again, err := ParseSyntax(text)
	require.NoError(t, err, "re-parse of %q", text)
	require.Equal(t, text, again.String(), "printing is not stable")
	if q.validated {
		require.NoError(t, Validate(again), "validate re-parse of %q", text)
	}
	zeroPositions(reflect.ValueOf(q))
	zeroPositions(reflect.ValueOf(again))
	require.Equal(t, q, again, "re-parsed tree differs for %q", text)
}
