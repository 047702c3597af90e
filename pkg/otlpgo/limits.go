package otlpgo

import (
	"errors"
	"fmt"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Validate reports limits that are negative, and a body limit over the
// decoded-size limit (a body that large could never decode). A zero limit
// means "use the default" (see DefaultLimits). Errors quote the config key.
func (l Limits) Validate() error {
	var errs []error
	for _, f := range l.fields() {
		if *f.value < 0 {
			errs = append(errs, fmt.Errorf("'%s' must not be negative, got %d", f.key, *f.value))
		}
	}
	if d := l.orDefaults(); d.MaxBodyBytes > d.MaxDecodedBytes {
		errs = append(errs, fmt.Errorf("'max_body_bytes' (%d) must not exceed 'max_decoded_bytes' (%d)",
			d.MaxBodyBytes, d.MaxDecodedBytes))
	}
	return errors.Join(errs...)
}

// limitField is one field of Limits with its config key.
type limitField struct {
	key   string
	value *int
}

// fields lists the limits of l in the order of the Limits struct.
func (l *Limits) fields() []limitField {
	return []limitField{
		{"max_frame_bytes", &l.MaxFrameBytes},
		{"max_body_bytes", &l.MaxBodyBytes},
		{"max_decoded_bytes", &l.MaxDecodedBytes},
		{"max_expansion", &l.MaxExpansion},
		{"max_items", &l.MaxItems},
		{"max_attributes", &l.MaxAttributes},
		{"max_nested_values", &l.MaxNestedValues},
		{"max_dict_entries", &l.MaxDictEntries},
		{"max_string_bytes", &l.MaxStringBytes},
		{"max_depth", &l.MaxDepth},
		{"max_map_entries", &l.MaxMapEntries},
		{"max_stream_state_bytes", &l.MaxStreamStateBytes},
	}
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
		MaxFrameBytes:   pick(l.MaxFrameBytes, d.MaxFrameBytes),
		MaxBodyBytes:    pick(l.MaxBodyBytes, d.MaxBodyBytes),
		MaxDecodedBytes: pick(l.MaxDecodedBytes, d.MaxDecodedBytes),
		MaxExpansion:    pick(l.MaxExpansion, d.MaxExpansion),
		MaxItems:        pick(l.MaxItems, d.MaxItems),
		MaxAttributes:   pick(l.MaxAttributes, d.MaxAttributes),
		MaxNestedValues: pick(l.MaxNestedValues, d.MaxNestedValues),
		MaxDictEntries:  pick(l.MaxDictEntries, d.MaxDictEntries),
		MaxStringBytes:  pick(l.MaxStringBytes, d.MaxStringBytes),
		MaxDepth:        pick(l.MaxDepth, d.MaxDepth),
		MaxMapEntries:   pick(l.MaxMapEntries, d.MaxMapEntries),

		MaxStreamStateBytes: pick(l.MaxStreamStateBytes, d.MaxStreamStateBytes),
	}
}

// DecodeCost returns, from the 16-byte header of frame alone, the most
// memory decoding frame may take under l: the frame's decoded-size budget,
// min(MaxDecodedBytes, max(64 KiB, MaxExpansion × raw_len)), which the
// decoder enforces, plus, for a compressed frame, the zstd history window
// (at most 8 MiB + 256 KiB, less for a smaller raw_len), plus a fixed 64 KiB
// for the decoder's own structures. A caller can reserve it from a budget
// shared by concurrent decodes before calling Decode. It returns 0 for a
// frame whose header Decode refuses: decoding it allocates only the error.
func (l Limits) DecodeCost(frame []byte) int64 {
	l = l.orDefaults()
	h, err := readHeader(frame, l)
	if err != nil {
		return 0
	}
	cost := l.decodedBudget(h.rawLen).bytes + decodeOverhead
	if h.flags&flagZstd != 0 {
		cost += zstdHistory(h.rawLen)
	}
	return cost
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
