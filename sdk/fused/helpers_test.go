package fused

import (
	"slices"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

func equal(a, b []uint64) bool { return slices.Equal(a, b) }

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func metricAttr(i int) metric.AddOption {
	return metric.WithAttributes(attribute.Int("series", i))
}
