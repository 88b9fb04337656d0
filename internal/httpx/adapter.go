package httpx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
)

// failure is an error classified by one adapter: the answer it owes the client, and how to log and
// count it.
type failure interface {
	code() string       // the metrics label: an Erro errorCode or an HTTP status
	logAttr() slog.Attr // the same, named for the log ("errorCode" or "status"; a bare "code" is redacted)
	serverFault() bool  // our fault (logged as an error) rather than the client's (logged as info)
	write(w http.ResponseWriter, r *http.Request)
}

// serve is the one place where a handler's error becomes a response. It runs h, catching a panic as an
// error; lets classify turn the error into a failure; writes the failure unless the handler already
// started its answer; logs the error with everything known about it; and records it for the metrics.
func serve(kind string, w http.ResponseWriter, r *http.Request, h HandlerFunc, classify func(error) failure) {
	in, r := requestInfo(r)
	if r.Pattern != "" {
		in.pattern = r.Pattern
	}
	rec := record(w)
	err := callSafely(h, rec, r)
	if err == nil {
		return
	}
	ctx := r.Context()
	log := Logger(ctx)
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		// The client went away; nobody is left to answer, and it is not our failure.
		log.LogAttrs(ctx, slog.LevelDebug, "request canceled by the client", slog.String("error", err.Error()))
		return
	}
	f := classify(err)
	in.errKind, in.errCode = kind, f.code()
	attrs := []slog.Attr{
		slog.String("kind", kind),
		f.logAttr(),
		slog.String("route", route(r, in)),
		slog.String("error", err.Error()),
	}
	var pe *panicError
	if errors.As(err, &pe) {
		in.panicked = true
		attrs = append(attrs, slog.String("stack", string(pe.stack)))
	}
	level, msg := slog.LevelInfo, "request refused"
	if f.serverFault() {
		level, msg = slog.LevelError, "request failed"
	}
	if rec.wrote() {
		// The status line is gone; all we can do is tell the operator.
		level, msg = slog.LevelError, "request failed after the response started"
	} else {
		f.write(rec, r)
	}
	log.LogAttrs(ctx, level, msg, attrs...)
}

// callSafely runs h and turns a panic into an error, so that a bug in one handler answers one request
// badly instead of taking the process down. http.ErrAbortHandler is net/http's way of abandoning a
// response on purpose, so it is passed on.
func callSafely(h HandlerFunc, w http.ResponseWriter, r *http.Request) (err error) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			err = &panicError{value: v, stack: debug.Stack()}
		}
	}()
	return h(w, r)
}

// panicError is a recovered panic. It does not unwrap to a panicked error value: whatever a handler
// panicked with, the client gets an internal error.
type panicError struct {
	value any
	stack []byte
}

func (p *panicError) Error() string { return fmt.Sprintf("panic: %v", p.value) }
