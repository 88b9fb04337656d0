package logx

import (
	"context"
	"log/slog"

	"go.opentelemetry.io/otel/trace"
)

// The keys under which a log line names the trace and the span it was written in, the names the
// OpenTelemetry log data model gives them.
const (
	TraceIDKey = "trace_id"
	SpanIDKey  = "span_id"
)

// traceHandler adds the trace and span ids of the context a line is logged with, when that context
// holds a span that is part of a trace, so that an operator can go from a log line to its trace and
// back. Lines logged without a context (Info rather than InfoContext), or outside a trace, are as
// they were.
type traceHandler struct{ slog.Handler }

func (h traceHandler) Handle(ctx context.Context, r slog.Record) error {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r = r.Clone()
		r.AddAttrs(slog.Any(TraceIDKey, hexID(sc.TraceID().String())), slog.Any(SpanIDKey, hexID(sc.SpanID().String())))
	}
	return h.Handler.Handle(ctx, r)
}

func (h traceHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return traceHandler{h.Handler.WithAttrs(as)}
}

func (h traceHandler) WithGroup(name string) slog.Handler {
	return traceHandler{h.Handler.WithGroup(name)}
}

// hexID is a trace or span id in hex. It has a type of its own, which only this package can make, so
// that ReplaceAttr lets it through unmasked: a random id has a run of thirteen or more decimal
// digits often enough that masking it as a card number would break one trace link in a few dozen.
type hexID string
