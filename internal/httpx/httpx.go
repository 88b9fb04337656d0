// Package httpx is what every open3ds role puts around its handlers. Handlers return errors instead of
// writing error responses; one adapter per kind of endpoint turns the error into the answer that kind
// owes its caller, logs the whole story with the request id and counts it:
//
//   - Protocol: EMV 3DS endpoints between 3DS Server, DS and ACS; the error becomes an Erro message.
//   - API: JSON APIs for merchants and operators; the error becomes an RFC 9457 problem document.
//   - Page: pages for people; the error becomes a short HTML page with no detail.
//
// The middleware gives each request an id, a logger that carries it, an access log line without the
// query string, panic recovery, Prometheus metrics and security headers; Serve runs a server and shuts
// it down gracefully.
package httpx

import (
	"context"
	"log/slog"
	"net/http"
	"time"
)

// HandlerFunc is a handler that reports failure by returning an error. It writes the success answer
// itself; the adapter (API, Page or Protocol) writes the failure.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Middleware wraps a handler.
type Middleware func(http.Handler) http.Handler

// Chain wraps h in the middleware, the first one outermost: Chain(h, a, b) is a(b(h)), so a request
// passes through a, then b, then h.
func Chain(h http.Handler, mw ...Middleware) http.Handler {
	for i := len(mw) - 1; i >= 0; i-- {
		h = mw[i](h)
	}
	return h
}

// Standard is the middleware every role's server uses, in the order that makes each one see what it
// needs: the request id first, so that every later log line carries it; metrics and the access log
// around the recovery, so that a recovered panic is counted and logged as the 500 it became; the
// security headers innermost, set before the handler runs so that a route can override them.
func Standard(log *slog.Logger, m *Metrics) Middleware {
	return func(h http.Handler) http.Handler {
		return Chain(h, RequestID(log), m.Middleware, AccessLog, Recover, SecurityHeaders)
	}
}

// info is what the middleware and the adapters learn about one request. The first middleware that
// runs puts it in the request's context; the others, and the adapters, fill it in.
type info struct {
	id      string
	log     *slog.Logger
	start   time.Time
	pattern string // the ServeMux pattern that matched, recorded by the adapters

	// Set by an adapter that answered with an error, for the metrics.
	errKind  string // "protocol", "api", "page" or "panic"
	errCode  string // the Erro errorCode or the HTTP status
	panicked bool
}

type infoKey struct{}

// requestInfo returns the request's info, adding it (and a new request carrying it) when no
// middleware has yet. Every middleware goes through here, so any subset of them, in any order, works.
func requestInfo(r *http.Request) (*info, *http.Request) {
	if in, ok := r.Context().Value(infoKey{}).(*info); ok {
		return in, r
	}
	in := &info{start: time.Now()}
	return in, r.WithContext(context.WithValue(r.Context(), infoKey{}, in))
}

func infoFrom(ctx context.Context) *info {
	in, _ := ctx.Value(infoKey{}).(*info)
	return in
}

// Logger returns the logger of the request that ctx belongs to: the server's logger with the request
// id attached. Outside a request handled by RequestID, it is slog.Default().
func Logger(ctx context.Context) *slog.Logger {
	if in := infoFrom(ctx); in != nil && in.log != nil {
		return in.log
	}
	return slog.Default()
}

// RequestIDFrom returns the id of the request that ctx belongs to, or "" outside one.
func RequestIDFrom(ctx context.Context) string {
	if in := infoFrom(ctx); in != nil {
		return in.id
	}
	return ""
}

// route names a request for logs and metrics: the pattern that matched when known (bounded, so safe
// as a metric label), else "unmatched". Raw paths never become labels: each distinct path would make
// a new time series.
func route(r *http.Request, in *info) string {
	switch {
	case r.Pattern != "":
		return r.Pattern
	case in != nil && in.pattern != "":
		return in.pattern
	}
	return "unmatched"
}
