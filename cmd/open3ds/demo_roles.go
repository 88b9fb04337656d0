package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/open3ds/open3ds/internal/console"
	"github.com/open3ds/open3ds/internal/httpx"
	"github.com/open3ds/open3ds/internal/logx"
	"github.com/open3ds/open3ds/internal/pki"
	"github.com/open3ds/open3ds/internal/risk"
	"github.com/open3ds/open3ds/internal/shop"
	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/tcplb"
)

// build makes each role from a configuration filled in as an operator's file would be, with the
// same build functions `open3ds serve` calls, and puts each server on its listener.
func (d *demoNetwork) build(ctx context.Context, log *slog.Logger, lns []net.Listener) error {
	u, p, sec, l := d.urls, d.paths, d.secrets, d.paths.pki
	quiet := RoleLog{LogLevel: "warn", LogFormat: "text"}
	serve := func(srv *http.Server, i int) { d.listeners = append(d.listeners, listener{srv, lns[i]}) }
	// Background work (the ACS's RReq sender) ends when the demo closes.
	bctx, cancel := context.WithCancel(ctx)
	d.closers = append(d.closers, cancel)

	// The Directory Server.
	dsCfg := &dsConfig{URL: u.DS + "/", DSN: p.ds, Timeout: 10 * time.Second, PReqEvery: time.Second, RegistryRecheck: defaultRegistryRecheck,
		AdminToken: logx.Secret(sec.DSAdmin), StandInKey: logx.Secret(sec.StandInKey), RoleLog: quiet}
	dsCfg.TLS.CA, dsCfg.TLS.Cert, dsCfg.TLS.Key = l.CA.Cert, l.DS.Cert, l.DS.Key
	// Both encryption keys the demo's PKI made, under the ids their public keys give them.
	for _, fp := range []pki.FilePair{l.DSEncryptionRSA, l.DSEncryptionEC} {
		dsCfg.SDKKeys = append(dsCfg.SDKKeys, fp.Prefix())
	}
	dsRT, err := d.open(ctx, log.With("role", "ds"), dsCfg.base())
	if err != nil {
		return err
	}
	dsProto, dsAdmin, err := buildDS(dsCfg, dsRT)
	if err != nil {
		return err
	}
	d.consoles = append(d.consoles, demoConsole{"Directory Server", u.DSAdmin, dsRT.console})
	serve(dsProto, demoDSPort)
	serve(dsAdmin, demoDSAdminPort)

	// The ACS, its browser pages on plain HTTP (see demo.go) and codes in the development outbox.
	riskSet, err := risk.LoadSet(p.risk)
	if err != nil {
		return err
	}
	acsCfg := &acsConfig{DSN: p.acs, ChallengeURL: u.ACSPublic + "/challenge", AppURL: u.ACSPublic + "/app", Reference: demoACSRef, DSURL: u.DS + "/",
		MethodMode: "page", RiskPolicies: p.risk, VaultKeys: logx.Secret(sec.VaultKeys), AuthValueKeys: logx.Secret(sec.AuthValueKeys),
		AdminToken: logx.Secret(sec.ACSAdmin), OTPKey: logx.Secret(sec.OTPKey), DevOutbox: true, RoleLog: quiet}
	acsCfg.TLS.CA, acsCfg.TLS.Cert, acsCfg.TLS.Key = l.CA.Cert, l.ACS.Cert, l.ACS.Key
	acsCfg.ACSSigning.Cert, acsCfg.ACSSigning.Key = l.ACSSigning.Cert, l.ACSSigning.Key
	var acs *acsRole
	for i, in := range d.acsInstances {
		// Each instance is what a process of its own would be: its runtime, store pool, metrics,
		// console and RReq sender. The first also serves the browser pages and the outbox (whose
		// codes it keeps in memory), so challenges stay on it whichever instance took the AReq;
		// the challenge state itself is in the shared store.
		name, b := "acs", acsCfg.base()
		if i > 0 {
			name = fmt.Sprintf("acs-%d", i+1)
			b.App = name
		}
		rt, err := d.openAs(ctx, name, log.With("role", "acs", "instance", i+1), b)
		if err != nil {
			return err
		}
		// Every issuer signs with the demo's one authentication-value key set (the fallback).
		inst, err := buildACS(acsCfg, rt, riskSet, func(string) string { return "" })
		if err != nil {
			return err
		}
		go inst.sender.Run(bctx)
		serve(rt.server(inst.svc.Handler(), rt.protocolTLS()), in.protocolPort)
		if i > 0 {
			serve(rt.server(inst.adminMux, nil), in.adminPort)
			continue
		}
		acs = inst
		pub, err := buildACSPublic(bctx, acsCfg, rt, acs)
		if err != nil {
			return err
		}
		d.closers = append(d.closers, pub.close)
		pub.srv.TLSConfig = nil
		if err := demoKeepLocked(ctx, acs); err != nil {
			return err
		}
		d.consoles = append(d.consoles, demoConsole{"ACS", u.ACSAdmin, rt.console})
		serve(rt.server(acs.adminMux, nil), demoACSAdminPort)
		serve(pub.srv, demoACSPublicPort)
	}
	if len(d.acsInstances) > 1 {
		// The DS reaches the instances as it would behind a network load balancer: connections,
		// not requests, are spread, and mutual TLS ends at the instance.
		backends := make([]string, len(d.acsInstances))
		for i, in := range d.acsInstances {
			backends[i] = lns[in.protocolPort].Addr().String()
		}
		lb := &tcplb.Balancer{Backends: backends, Log: log.With("role", "acs-balancer")}
		go lb.Serve(lns[demoACSPort])
		d.closers = append(d.closers, lb.CloseConnections)
	}

	// The issuer whose ACS is down: its listener takes each connection and drops it at once, so the
	// DS meets a failed ACS on every AReq, deterministically, and stands in.
	go demoDropConnections(lns[demoACSDownPort])

	// The 3DS Server: its script and notification pages on plain HTTP, its merchant API on HTTPS.
	tCfg := &tdssConfig{DSN: p.tdss, DSURL: u.DS + "/", PublicURL: u.TDSSPublic, ProtocolURL: u.TDSS, ParentOrigin: u.Shop,
		RefNumber: demoTDSSRef, Timeout: 10 * time.Second, Refresh: time.Hour, VaultKeys: logx.Secret(sec.VaultKeys),
		AdminToken: logx.Secret(sec.TDSSAdmin), RoleLog: quiet}
	tCfg.TLS.CA, tCfg.TLS.Cert, tCfg.TLS.Key = l.CA.Cert, l.ThreeDSServer.Cert, l.ThreeDSServer.Key
	tRT, err := d.open(ctx, log.With("role", "3dss"), tCfg.base())
	if err != nil {
		return err
	}
	t, err := build3DSS(tCfg, tRT, tRT.cert)
	if err != nil {
		return err
	}
	t.public.TLSConfig = nil
	d.tdss = t.server
	d.consoles = append(d.consoles, demoConsole{"3DS Server", u.TDSSAdmin, tRT.console})
	if err := d.consoleAccounts(ctx); err != nil {
		return err
	}
	serve(t.proto, demoTDSSPort)
	serve(t.api, demoTDSSAPIPort)
	serve(t.public, demoTDSSPublicPort)
	serve(t.admin, demoTDSSAdminPort)

	// The shop calls the merchant API as a merchant's back end would: HTTPS, the API key.
	api := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: pki.ClientConfig(nil, tRT.pool, "")}}
	d.closers = append(d.closers, api.CloseIdleConnections)
	cards := make([]shop.Card, 0, len(demoCards))
	for _, c := range demoCards {
		cards = append(cards, shop.Card{Number: c.PAN, Expiry: demoExpiry, Outcome: c.Ending, Product: c.Product})
	}
	sh, err := shop.New(shop.Config{APIURL: u.TDSSAPI, APIKey: sec.MerchantKey, Client: api, ScriptURL: u.TDSSPublic + "/checkout.js",
		PublicURL: u.Shop, Cards: cards, Log: log.With("role", "shop")})
	if err != nil {
		return err
	}
	// The shop's handler logs, recovers and sets its headers itself.
	serve(httpx.NewServer(sh.Handler(), log), demoShopPort)
	return nil
}

// open opens one role's runtime and closes it with the demo.
func (d *demoNetwork) open(ctx context.Context, log *slog.Logger, b roleBase) (*roleRuntime, error) {
	return d.openAs(ctx, b.Role, log, b)
}

// demoPostgresPool is each pool's size on PostgreSQL: the roles' read and write pools, and those of
// every ACS instance, share one server whose default max_connections is 100.
const demoPostgresPool = 8

// openAs opens a runtime known to the tests as name (the ACS instances share a role).
func (d *demoNetwork) openAs(ctx context.Context, name string, log *slog.Logger, b roleBase) (*roleRuntime, error) {
	b.Pprof, b.Getenv = d.pprof, d.getenv
	b.Ops = defaultRoleOps
	if d.paths.postgres != "" {
		b.Ops.DBMaxOpen = demoPostgresPool
	}
	rt, err := openRole(ctx, log, b)
	if err != nil {
		return nil, err
	}
	rt.drain = d.drain
	d.closers = append(d.closers, func() { rt.Close() })
	if d.runtimes == nil {
		d.runtimes = map[string]*roleRuntime{}
	}
	d.runtimes[name] = rt
	return rt, nil
}

// demoKeepLocked keeps the locked test card locked: the lock is ten failed code entries within a
// day, so each start tops them up to ten.
func demoKeepLocked(ctx context.Context, r *acsRole) error {
	now := time.Now()
	for _, c := range demoCards {
		if !c.Locked {
			continue
		}
		hash := r.store.LookupHash(c.PAN)
		n, err := r.store.OTPFailures(ctx, hash, now.Add(-24*time.Hour))
		if err != nil {
			return err
		}
		for ; n < 10; n++ {
			if err := r.store.RecordOTPFailure(ctx, hash, now); err != nil {
				return err
			}
		}
	}
	return nil
}

// demoDropConnections accepts connections and closes them at once, until the listener closes.
func demoDropConnections(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		c.Close()
	}
}

// openDemoStore opens one of the demo's stores, migrated.
func openDemoStore(ctx context.Context, dsn string) (*store.DB, error) {
	return store.Open(ctx, dsn, store.Options{Migrate: true})
}

// demoConsoleAccount is the account the demo makes in each role's console.
const demoConsoleAccount = "admin"

// consoleAccounts gives the demo's admin account in every console one new password, printed at
// start: the account is made on the first run and its password replaced on each later one, its
// authenticator app kept. A demo's password lives as long as the demo; a real deployment makes its
// accounts with `open3ds console account add`.
func (d *demoNetwork) consoleAccounts(ctx context.Context) error {
	d.consolePassword = console.NewPassword()
	for _, c := range d.consoles {
		_, err := c.c.Accounts().Create(ctx, demoConsoleAccount, console.Admin, d.consolePassword)
		if errors.Is(err, console.ErrExists) {
			_, err = c.c.Accounts().ResetPassword(ctx, demoConsoleAccount, d.consolePassword, false)
		}
		if err != nil {
			return fmt.Errorf("demo console account in the %s: %w", c.title, err)
		}
	}
	return nil
}
