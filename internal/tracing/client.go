package tracing

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

type sendingKey struct{}

// Sending tells the client span of the next call made with ctx what it carries: a protocol message
// type ("AReq", "RReq", "PReq") or another name for the call ("webhook"). The span is named after it;
// a call made without it is named by its method alone.
func Sending(ctx context.Context, what string) context.Context {
	return context.WithValue(ctx, sendingKey{}, what)
}

// Transport wraps base (http.DefaultTransport when nil) so that each call is a client span, a child
// of the span in the request's context (or a new trace when there is none, as for the ACS's RReq
// sender, which runs on its own), and carries that span as traceparent to the peer. With t nil it
// returns base unchanged. The span records the peer's host and port, the method and the status, never
// the URL: a peer's URL (a merchant's webhook, a 3DS Server's threeDSServerURL) is not ours to copy
// and may carry a token in its query string.
func (t *Tracing) Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	if t == nil {
		return base
	}
	return &transport{t: t, base: base}
}

type transport struct {
	t    *Tracing
	base http.RoundTripper
}

func (c *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	name := methodName(req.Method)
	attrs := []attribute.KeyValue{attribute.String("http.request.method", name), attribute.String(AttrRole, c.t.role)}
	if what, ok := req.Context().Value(sendingKey{}).(string); ok && what != "" {
		name += " " + what
		attrs = append(attrs, attribute.String(AttrMessageType, what))
	}
	if host, port, err := net.SplitHostPort(req.URL.Host); err == nil {
		attrs = append(attrs, attribute.String("server.address", host))
		if p, err := strconv.Atoi(port); err == nil {
			attrs = append(attrs, attribute.Int("server.port", p))
		}
	} else if req.URL.Host != "" {
		attrs = append(attrs, attribute.String("server.address", req.URL.Host))
	}
	ctx, span := c.t.tracer.Start(req.Context(), name, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	// A RoundTripper must not change the request it was given, so the header goes on a copy.
	out := req.Clone(ctx)
	c.t.prop.Inject(ctx, propagation.HeaderCarrier(out.Header))
	resp, err := c.base.RoundTrip(out)
	if err != nil {
		span.SetStatus(codes.Error, "the call failed")
		span.SetAttributes(attribute.String("error.type", errorType(err)))
		span.End()
		return nil, err
	}
	span.SetAttributes(attribute.Int("http.response.status_code", resp.StatusCode))
	if resp.StatusCode >= 400 {
		span.SetStatus(codes.Error, "HTTP "+strconv.Itoa(resp.StatusCode))
	}
	// The span lasts until the answer's body is read or closed: the peer's time includes sending it.
	resp.Body = &spanBody{ReadCloser: resp.Body, span: span}
	return resp, nil
}

// errorType names a failed call for the error.type attribute without the error's text, which can
// hold the URL.
func errorType(err error) string {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	return "transport"
}

// spanBody ends its span at the end of the body, or when it is closed, whichever comes first.
type spanBody struct {
	io.ReadCloser
	span trace.Span
	once sync.Once
}

func (b *spanBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		b.end()
	}
	return n, err
}

func (b *spanBody) Close() error {
	err := b.ReadCloser.Close()
	b.end()
	return err
}

func (b *spanBody) end() { b.once.Do(func() { b.span.End() }) }
