package main

import (
	"context"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/open3ds/open3ds/internal/acs"
	"github.com/open3ds/open3ds/internal/httpx"
	"github.com/open3ds/open3ds/internal/otp"
	"github.com/open3ds/open3ds/internal/pki"
)

// acsPublicListening, when set (by tests), hears the public listener's address once it is open.
var acsPublicListening func(addr string)

// acsPublic is the built public side of the ACS: the server shoppers' browsers reach and what runs
// behind it.
type acsPublic struct {
	srv   *http.Server
	close func() // stops the challenge sweeper and drains the delivery queue
}

// buildACSPublic makes the public side: the 3DS Method, the challenge pages and their static files,
// served over HTTPS without client certificates. Codes go through each issuer's providers
// (serve_acs_notify.go), by default to the development outbox shown on the admin listener at
// /outbox/; the challenge sweeper, started here, ends stale challenges.
func buildACSPublic(ctx context.Context, cfg *acsConfig, rt *roleRuntime, r *acsRole) (*acsPublic, error) {
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
	delivery, err := openDelivery(ctx, cfg, rt.log, r.store)
	if err != nil {
		return nil, err
	}
	// Only the admin token's holder sees the codes; the link the demo prints carries it.
	r.adminMux.Handle("/outbox/", httpx.RequireToken("open3ds-acs", cfg.AdminToken.Reveal(), true)(
		http.StripPrefix("/outbox", delivery.outbox.Handler())))
	br := &acs.Browser{Service: r.svc, Challenges: r.store, Apps: r.store, Codes: codes, Notify: delivery.queue, MethodRedirect: cfg.MethodMode == "redirect",
		Decoupled: r.store, DecoupledURL: cfg.decoupledURL()}
	// Decoupled requests are sent through the same providers as codes, so the ACS answers D only
	// when this public side (the approval page and the sweeper) runs.
	r.svc.DecoupledStarted = br.SendDecoupled
	sctx, cancel := context.WithCancel(ctx)
	swept := make(chan struct{})
	go func() {
		defer close(swept)
		br.RunExpiry(sctx, 5*time.Second)
	}()
	return &acsPublic{srv: rt.server(br.Handler(), pki.ServerConfig(cert, nil, false)), close: func() {
		cancel()
		<-swept
		delivery.Close()
	}}, nil
}

// decoupledURL is the approval page's URL prefix: the configured one, or the challenge URL's
// sibling /decoupled/.
func (c *acsConfig) decoupledURL() string {
	if c.DecoupledURL != "" {
		return c.DecoupledURL
	}
	return strings.TrimSuffix(strings.TrimSuffix(c.ChallengeURL, "/"), "/challenge") + "/decoupled/"
}

// acsServePublic builds the public side on its own listener (public_listen), for the caller to serve
// with the others, so that it drains with them. The returned function stops what runs behind it
// (the sweeper, the delivery queue), once the listener has stopped.
func acsServePublic(ctx context.Context, cfg *acsConfig, rt *roleRuntime, r *acsRole) (listener, func(), error) {
	pub, err := buildACSPublic(ctx, cfg, rt, r)
	if err != nil {
		return listener{}, nil, err
	}
	ln, err := net.Listen("tcp", cfg.PublicListen)
	if err != nil {
		pub.close()
		return listener{}, nil, err
	}
	rt.log.Info("ACS public pages listening", "addr", ln.Addr().String())
	if acsPublicListening != nil {
		acsPublicListening(ln.Addr().String())
	}
	return listener{pub.srv, ln}, func() {
		ln.Close() // already closed when it was served; not when start-up failed after this
		pub.close()
	}, nil
}
