package httpx

import (
	"context"
	"net/http"
	"slices"
)

// Tracer makes the server span of each request; *tracing.Tracing is one. StartServer returns the
// request's context holding the span, and end, which the middleware calls with the route pattern and
// the status once the answer is done.
type Tracer interface {
	StartServer(r *http.Request) (ctx context.Context, end func(route string, status int))
}

// Trace gives each request a server span through t, except requests for the paths in skip (the
// probes and scrapes an orchestrator sends every few seconds, which would bury the traces that
// matter). It goes outside Standard, so that the span covers all of the request, and the request it
// passes on (with the span in its context) is the one the router names: the route is read back from
// it once the handler returns. Log lines written with that context carry the span's trace and span
// ids (logx). A nil t, or one that says it is not Enabled, adds nothing, not even a function call.
func Trace(t Tracer, skip ...string) Middleware {
	if e, ok := t.(interface{ Enabled() bool }); t == nil || ok && !e.Enabled() {
		return func(next http.Handler) http.Handler { return next }
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if slices.Contains(skip, r.URL.Path) {
				next.ServeHTTP(w, r)
				return
			}
			in, r := requestInfo(r)
			ctx, end := t.StartServer(r)
			r = r.WithContext(ctx)
			rec := record(w)
			// Deferred, so that the span ends even when the handler abandons the answer
			// (http.ErrAbortHandler, which Recover passes on).
			defer func() { end(route(r, in), rec.statusOr()) }()
			next.ServeHTTP(rec, r)
		})
	}
}
