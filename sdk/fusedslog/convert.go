package fusedslog

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/attribute"
	otellog "go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/trace"
)

// emit converts the entry to an OTel log record and emits it with the
// entry's trace context.
func (c *core) emit(ctx context.Context, e *entry) {
	var rec otellog.Record
	rec.SetTimestamp(e.record.Time)
	rec.SetObservedTimestamp(time.Now())
	rec.SetSeverity(severity(e.record.Level))
	rec.SetSeverityText(e.record.Level.String())
	rec.SetBody(attribute.StringValue(e.record.Message))
	h := e.handler
	attrs := make([]attribute.KeyValue, 0, len(h.attrs)+e.record.NumAttrs())
	for _, a := range h.attrs {
		attrs = appendAttr(attrs, "", a)
	}
	e.record.Attrs(func(a slog.Attr) bool {
		attrs = appendAttr(attrs, h.prefix, a)
		return true
	})
	rec.AddAttributes(attrs...)
	if sc := trace.SpanContextFromContext(e.ctx); sc.IsValid() {
		ctx = trace.ContextWithSpanContext(ctx, sc)
	}
	c.logger.Emit(ctx, rec)
	c.emitted.Add(1)
}

// severity maps slog levels onto OTel severities: DEBUG 5, INFO 9, WARN 13,
// ERROR 17, and levels between them to the numbers between.
func severity(l slog.Level) otellog.Severity {
	s := int(otellog.SeverityInfo) + int(l)
	return otellog.Severity(min(max(s, int(otellog.SeverityTrace1)), int(otellog.SeverityFatal4)))
}

// appendAttr converts a slog attribute, flattening groups into dotted keys.
func appendAttr(dst []attribute.KeyValue, prefix string, a slog.Attr) []attribute.KeyValue {
	v := a.Value.Resolve()
	if a.Key == "" && v.Kind() != slog.KindGroup {
		return dst
	}
	key := prefix + a.Key
	switch v.Kind() {
	case slog.KindString:
		return append(dst, attribute.String(key, v.String()))
	case slog.KindInt64:
		return append(dst, attribute.Int64(key, v.Int64()))
	case slog.KindUint64:
		return append(dst, attribute.Int64(key, int64(v.Uint64())))
	case slog.KindFloat64:
		return append(dst, attribute.Float64(key, v.Float64()))
	case slog.KindBool:
		return append(dst, attribute.Bool(key, v.Bool()))
	case slog.KindDuration:
		return append(dst, attribute.Int64(key, int64(v.Duration())))
	case slog.KindTime:
		return append(dst, attribute.String(key, v.Time().Format(time.RFC3339Nano)))
	case slog.KindGroup:
		if a.Key != "" {
			prefix = key + "."
		}
		for _, g := range v.Group() {
			dst = appendAttr(dst, prefix, g)
		}
		return dst
	default:
		if err, ok := v.Any().(error); ok {
			return append(dst, attribute.String(key, err.Error()))
		}
		return append(dst, attribute.String(key, fmt.Sprint(v.Any())))
	}
}
