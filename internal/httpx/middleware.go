package httpx

import (
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"
)

// RequestIDHeader carries the request id, in both directions.
const RequestIDHeader = "X-Request-ID"

// maxRequestIDLen bounds an id we accept from a client: long enough for a UUID or a trace id, short
// enough that it cannot bloat every log line of the request.
const maxRequestIDLen = 64

// RequestID gives each request an id: the client's X-Request-ID when it is sane (1 to 64 letters,
// digits, '.', '_' or '-'), so that a caller's id follows the request through our logs, else a new
// random one. The id goes back in the response header and into every line logged through Logger(ctx)
// for the request, attached to log (slog.Default() when nil).
func RequestID(log *slog.Logger) Middleware {
	if log == nil {
		log = slog.Default()
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			in, r := requestInfo(r)
			id := r.Header.Get(RequestIDHeader)
			if !saneID(id) {
				id = rand.Text()
			}
			in.id = id
			in.log = log.With(slog.String("request_id", id))
			w.Header().Set(RequestIDHeader, id)
			next.ServeHTTP(w, r)
		})
	}
}

func saneID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		ok := c == '-' || c == '_' || c == '.' || ('0' <= c && c <= '9') || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
		if !ok {
			return false
		}
	}
	return true
}

// AccessLog writes one line per request: method, route, status, bytes and duration, plus the request id
// from the request's logger. The route is the pattern that matched or else the path, never the query
// string: 3DS Method and challenge URLs may carry card data or codes there.
func AccessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, r := requestInfo(r)
		rec := record(w)
		start := time.Now()
		defer func() {
			// Deferred so that a panic nobody recovered still leaves its line.
			what := r.Pattern
			if what == "" {
				what = in.pattern
			}
			if what == "" {
				what = r.URL.Path
			}
			status := rec.statusOr()
			level := slog.LevelInfo
			if status >= 500 {
				level = slog.LevelWarn
			}
			Logger(r.Context()).LogAttrs(r.Context(), level, "http request",
				slog.String("method", r.Method),
				slog.String("route", what),
				slog.Int("status", status),
				slog.Int64("bytes", rec.bytes),
				slog.Duration("duration", time.Since(start)),
			)
		}()
		next.ServeHTTP(rec, r)
	})
}

// Recover catches a panic that escaped the handler (the adapters catch their own, so this is for
// plain handlers and middleware), logs it with its stack and answers 500: a page for a browser, a
// problem document for anything else. A panic must not take down the process that is serving every
// other shopper.
func Recover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, r := requestInfo(r)
		rec := record(w)
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			in.panicked = true
			in.errKind, in.errCode = "panic", "500"
			Logger(r.Context()).LogAttrs(r.Context(), slog.LevelError, "panic",
				slog.String("route", route(r, in)),
				slog.String("error", fmt.Sprintf("panic: %v", v)),
				slog.String("stack", string(debug.Stack())),
			)
			if rec.wrote() {
				return
			}
			if wantsHTML(r) {
				writePage(rec, r, http.StatusInternalServerError, sentence(http.StatusInternalServerError))
				return
			}
			WriteProblem(rec, internalProblem(nil))
		}()
		next.ServeHTTP(rec, r)
	})
}

// DefaultCSP is the Content-Security-Policy of every answer unless its route sets another (see
// WithCSP): our own scripts, styles and images only, no plugins, no framing, forms posting only to
// us. Pages that must differ (the ACS challenge page is framed by the merchant and posts to the 3DS
// Server) say so where they are routed.
const DefaultCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// hsts asks browsers to use HTTPS for a year. We send it only on requests that came over TLS, since a
// browser ignores it over plain HTTP and a plain-HTTP development server should not claim it.
const hsts = "max-age=31536000"

// SecurityHeaders sets the headers every answer carries: nosniff, no referrer, DefaultCSP, and
// Strict-Transport-Security over TLS. They are set before the handler runs, so a handler (or WithCSP)
// that sets its own wins.
func SecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", DefaultCSP)
		if r.TLS != nil {
			h.Set("Strict-Transport-Security", hsts)
		}
		next.ServeHTTP(w, r)
	})
}

// WithCSP gives one route its own Content-Security-Policy in place of DefaultCSP.
func WithCSP(policy string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", policy)
		h.ServeHTTP(w, r)
	})
}
