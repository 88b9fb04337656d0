package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/open3ds/open3ds/internal/acs"
	"github.com/open3ds/open3ds/internal/httpx"
	"github.com/open3ds/open3ds/internal/otp"
	"github.com/open3ds/open3ds/internal/pki"
)

// acsPublicListening, when set (by tests), hears the public listener's address once it is open.
var acsPublicListening func(addr string)

// acsServePublic starts the listener shoppers' browsers reach: the 3DS Method, the challenge pages
// and their static files, over HTTPS without client certificates. Codes go through each issuer's
// providers (serve_acs_notify.go), by default to the development outbox shown on the admin listener
// at /outbox/; the challenge sweeper ends stale challenges. The returned function stops it all.
func acsServePublic(ctx context.Context, cfg *acsConfig, rt *roleRuntime, r *acsRole) (func(), error) {
	log := rt.log
	cert := rt.cert
	if cfg.PublicTLS.Cert != "" {
		var err error
		if cert, err = pki.LoadKeyPair(cfg.PublicTLS.Cert, cfg.PublicTLS.Key); err != nil {
			return nil, err
		}
	}
	codes, err := otp.New([]byte(cfg.OTPKey.Reveal()), otp.Policy{})
	if err != nil {
		return nil, err
	}
	delivery, err := openDelivery(ctx, cfg, log, r.store)
	if err != nil {
		return nil, err
	}
	r.adminMux.Handle("/outbox/", http.StripPrefix("/outbox", delivery.outbox.Handler()))
	br := &acs.Browser{Service: r.svc, Challenges: r.store, Codes: codes, Notify: delivery.queue, MethodRedirect: cfg.MethodMode == "redirect"}
	srv := rt.server(br.Handler(), pki.ServerConfig(cert, nil, false))
	ln, err := net.Listen("tcp", cfg.PublicListen)
	if err != nil {
		delivery.Close()
		return nil, err
	}
	log.Info("ACS public pages listening", "addr", ln.Addr().String())
	if acsPublicListening != nil {
		acsPublicListening(ln.Addr().String())
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go br.RunExpiry(sctx, 5*time.Second)
	go func() {
		defer close(done)
		if err := httpx.Serve(sctx, srv, ln); err != nil && !errors.Is(err, context.Canceled) {
			log.Error("ACS public listener failed", "err", err)
		}
	}()
	return func() {
		cancel()
		<-done
		delivery.Close()
	}, nil
}
