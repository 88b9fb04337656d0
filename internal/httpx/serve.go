package httpx

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// ShutdownGrace is how long Serve lets requests in flight finish once its context is done, before it
// closes their connections.
const ShutdownGrace = 10 * time.Second

// NewServer returns a server for h with timeouts that keep slow or idle clients from holding
// connections: headers within 10 s, a whole request within 30 s, an answer within 60 s (a DS may wait
// on an ACS for most of that), and idle keep-alive connections closed after 2 minutes. Headers are
// limited to 64 KiB. net/http's own messages (TLS handshake failures, mostly) go to log at WARN.
func NewServer(h http.Handler, log *slog.Logger) *http.Server {
	if log == nil {
		log = slog.Default()
	}
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// Serve accepts connections on ln until ctx is done, then shuts down gracefully: it stops accepting,
// lets requests in flight finish for up to ShutdownGrace, and returns nil. With srv.TLSConfig set it
// serves TLS using the certificates in it. Any other failure of the server is returned.
func Serve(ctx context.Context, srv *http.Server, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() {
		if srv.TLSConfig != nil {
			errc <- srv.ServeTLS(ln, "", "")
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return err // the server stopped by itself: the listener failed, say
	case <-ctx.Done():
	}
	// The parent context is done, so shutdown gets a fresh one with its own deadline.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ShutdownGrace)
	defer cancel()
	err := srv.Shutdown(sctx)
	if err != nil {
		srv.Close()
	}
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return serr
	}
	return err
}
