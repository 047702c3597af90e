package otlpgo

import (
	"errors"
	"fmt"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Validate reports limits that are negative. A zero limit means "use the
// default" (see DefaultLimits).
func (l Limits) Validate() error {
	var errs []error
	check := func(name string, v int) {
		if v < 0 {
			errs = append(errs, fmt.Errorf("'%s' must not be negative, got %d", name, v))
		}
	}
	check("max_frame_bytes", l.MaxFrameBytes)
	check("max_body_bytes", l.MaxBodyBytes)
	check("max_items", l.MaxItems)
	check("max_dict_entries", l.MaxDictEntries)
	check("max_string_bytes", l.MaxStringBytes)
	check("max_depth", l.MaxDepth)
	check("max_map_entries", l.MaxMapEntries)
	return errors.Join(errs...)
}

// orDefaults replaces zero and negative limits with the defaults.
func (l Limits) orDefaults() Limits {
	d := DefaultLimits()
	pick := func(v, def int) int {
		if v <= 0 {
			return def
		}
		return v
	}
	return Limits{
		MaxFrameBytes:  pick(l.MaxFrameBytes, d.MaxFrameBytes),
		MaxBodyBytes:   pick(l.MaxBodyBytes, d.MaxBodyBytes),
		MaxItems:       pick(l.MaxItems, d.MaxItems),
		MaxDictEntries: pick(l.MaxDictEntries, d.MaxDictEntries),
		MaxStringBytes: pick(l.MaxStringBytes, d.MaxStringBytes),
		MaxDepth:       pick(l.MaxDepth, d.MaxDepth),
		MaxMapEntries:  pick(l.MaxMapEntries, d.MaxMapEntries),
	}
}

// Counts returns the items of a request: spans, log records, metric data
// points, as a fused receiver reports them in its Response. A zero-value
// signal counts as empty.
func (r Request) Counts() (spans, logRecords, dataPoints int) {
	if r.Traces != (ptrace.Traces{}) {
		spans = r.Traces.SpanCount()
	}
	if r.Logs != (plog.Logs{}) {
		logRecords = r.Logs.LogRecordCount()
	}
	if r.Metrics != (pmetric.Metrics{}) {
		dataPoints = r.Metrics.DataPointCount()
	}
	return spans, logRecords, dataPoints
}
