package tracing

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/open3ds/open3ds/internal/store"
)

// Exchange puts what a role learnt of one message exchange on the span in ctx: the roles call it
// where they record the exchange in their log. A message the role received names the span's request:
// its type and version become the span's attributes, with the transStatus it was answered with and
// the Erro code when there was one. A message the role sent becomes an event on the span, with the
// same facts of the answer that came back; its transStatus is the span's too (the 3DS Server's
// purchase is answered with the ARes's). The transaction ids go along, so that an operator can find a
// purchase's trace from its ids; the masked PAN, though only six and four digits, does not.
//
// Without a recording span in ctx this does nothing.
func Exchange(ctx context.Context, ex store.Exchange) {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	attrs := []attribute.KeyValue{attribute.String(AttrMessageType, ex.MessageType)}
	add := func(key, v string) {
		if v != "" {
			attrs = append(attrs, attribute.String(key, v))
		}
	}
	add(AttrMessageVersion, ex.MessageVersion)
	if transStatus(ex.Outcome) {
		add(AttrTransStatus, ex.Outcome)
	}
	add(AttrErrorCode, ex.ErrorCode)
	add("open3ds.three_ds_server_trans_id", ex.ThreeDSServerTransID)
	add("open3ds.ds_trans_id", ex.DSTransID)
	add("open3ds.acs_trans_id", ex.ACSTransID)
	if ex.Direction == store.In {
		span.SetAttributes(attrs...)
		return
	}
	if transStatus(ex.Outcome) {
		span.SetAttributes(attribute.String(AttrTransStatus, ex.Outcome))
	}
	add("open3ds.response_type", ex.ResponseType)
	add("open3ds.outcome", ex.Outcome)
	add("open3ds.peer", ex.Peer)
	span.AddEvent("sent "+ex.MessageType, trace.WithAttributes(attrs...))
}

// transStatus reports whether an exchange's outcome is a transStatus (one capital letter) rather
// than "Erro", "timeout" or an answer's type.
func transStatus(s string) bool { return len(s) == 1 && s[0] >= 'A' && s[0] <= 'Z' }

// TransStatus puts the transStatus a message carried on the span in ctx, where the exchange's
// outcome says something else (the 3DS Server's RReq, answered with a resultsStatus).
func TransStatus(ctx context.Context, status string) {
	if span := trace.SpanFromContext(ctx); span.IsRecording() && transStatus(status) {
		span.SetAttributes(attribute.String(AttrTransStatus, status))
	}
}

// Message names the protocol message a request carried on the span in ctx, for the requests whose
// message is not an exchange of the log (a browser's or an app's CReq).
func Message(ctx context.Context, messageType, version string) {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	span.SetAttributes(attribute.String(AttrMessageType, messageType))
	if version != "" {
		span.SetAttributes(attribute.String(AttrMessageVersion, version))
	}
}
