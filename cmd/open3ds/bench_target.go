package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"
	"unicode"

	"github.com/open3ds/open3ds/internal/bench"
	"github.com/open3ds/open3ds/internal/ids"
	"github.com/open3ds/open3ds/internal/pki"
	"github.com/open3ds/open3ds/pkg/sdk"
)

// benchTarget is what a bench mode runs against, resolved from the demo file and the flags (which
// win over the file).
type benchTarget struct {
	mode     string
	target   string // the URL the report names
	scenario bench.Scenario
	pid      int
	clients  []*http.Client

	// For the ceiling: the AReqs, the client's TLS and the target's own certificate and client
	// authentication, so that the bare server costs the same handshakes.
	areqs     *bench.AReqs
	clientTLS *tls.Config
	serverTLS *tls.Config
	workers   int
	timeout   time.Duration
}

// benchSource is where the values come from: the flags first, then the demo file.
type benchSource struct {
	f      benchFlags
	demo   *benchDemo
	layout *pki.Layout
	getenv func(string) string
}

func (s benchSource) demoOr(get func(d *benchDemo) string) string {
	if s.demo == nil {
		return ""
	}
	return get(s.demo)
}

// file is a flag's value, or else the PKI layout's file, or "".
func (s benchSource) file(flagValue string, fromLayout func(l pki.Layout) string) string {
	if flagValue != "" || s.layout == nil {
		return flagValue
	}
	return fromLayout(*s.layout)
}

func resolveBenchTarget(e env, f benchFlags, workers int) (*benchTarget, error) {
	d, err := loadBenchDemo(f.demo)
	if err != nil {
		return nil, err
	}
	t, err := resolveBenchFrom(e, f, d, workers)
	if err != nil && d == nil && f.demo == "" {
		// Most often bench was started outside the demo's folder: say so, not only which flag is missing.
		err = withoutBenchDemo(err, f.mode)
	}
	return t, err
}

// resolveBenchFrom builds the target from the flags and d, the demo file (nil when there is none).
func resolveBenchFrom(e env, f benchFlags, d *benchDemo, workers int) (*benchTarget, error) {
	s := benchSource{f: f, demo: d, getenv: e.getenv}
	dir := f.pki
	if dir == "" && d != nil && d.PKI != "" {
		dir = d.path(d.PKI)
	}
	if dir != "" {
		l := pki.Paths(dir)
		s.layout = &l
	}
	t := &benchTarget{mode: f.mode, workers: workers, timeout: f.timeout}
	if d != nil {
		t.pid = d.PID
	}
	cards, err := benchCardList(f.cards)
	if err != nil {
		return nil, err
	}
	if len(cards) == 0 && d != nil {
		cards = d.Cards.Frictionless
		if f.mode == "challenge" {
			cards = d.Cards.Challenge
		}
		if f.mode == "app-challenge" {
			cards = d.Cards.AppChallenge
		}
	}
	if len(cards) == 0 {
		return nil, usageError("bench: --cards: no cards to use: give --cards or --demo")
	}
	if f.mode == "acs-areq" || f.mode == "ds-areq" {
		return t, t.protocol(s, cards)
	}
	return t, t.merchant(s, cards)
}

// protocol sets up acs-areq (the DS's certificate to the ACS) or ds-areq (the 3DS Server's to the DS).
func (t *benchTarget) protocol(s benchSource, cards []string) error {
	f := s.f
	client, server, who := pki.RoleDS, pki.RoleACS, "the DS"
	url := s.demoOr(func(d *benchDemo) string { return withPath(d.ACS.Protocol, "/areq") })
	if f.mode == "ds-areq" {
		client, server, who = pki.RoleThreeDSServer, pki.RoleDS, "the 3DS Server"
		url = s.demoOr(func(d *benchDemo) string { return withPath(d.DS.Protocol, "/") })
	}
	if f.url != "" {
		url = f.url
	}
	if url == "" {
		return usageError("bench: --url: give the protocol URL of the %s, or --demo", server)
	}
	requestor := firstOf(f.requestorID, s.demoOr(func(d *benchDemo) string { return d.RequestorID }))
	if requestor == "" && f.mode == "ds-areq" {
		return usageError("bench: --requestor-id: the DS accepts only a requestor registered for the 3DS Server's certificate: give --requestor-id or --demo")
	}
	ref := firstOf(f.refNumber, s.demoOr(func(d *benchDemo) string { return d.ThreeDSServerRef }))
	if ref == "" && f.mode == "ds-areq" {
		return usageError("bench: --ref-number: the DS accepts only the reference number it enrolled for the 3DS Server's certificate: give --ref-number or --demo (of this version)")
	}
	ca := s.file(f.ca, func(l pki.Layout) string { return l.CA.Cert })
	cert := s.file(f.cert, func(l pki.Layout) string { return l.TLS(client).Cert })
	key := s.file(f.key, func(l pki.Layout) string { return l.TLS(client).Key })
	if ca == "" || cert == "" || key == "" {
		return usageError("bench: --cert: %s sends as %s: give --ca, --cert and --key, or --pki, or --demo", f.mode, who)
	}
	pair, pool, err := loadBenchPKI(ca, cert, key)
	if err != nil {
		return err
	}
	t.clientTLS = pki.ClientConfig(&pair, pool, "")
	if f.ceiling {
		if s.layout == nil {
			return usageError("bench: --ceiling: the bare server needs the %s's own certificate: give --pki or --demo", server)
		}
		own, err := pki.LoadKeyPair(s.layout.TLS(server).Cert, s.layout.TLS(server).Key)
		if err != nil {
			return err
		}
		t.serverTLS = pki.ServerConfig(own, pool, true)
	}

	cfg := bench.AReqConfig{Cards: cards, RequestorID: firstOf(requestor, "OPEN3DS*BENCH"), RequestorName: "open3ds bench",
		ThreeDSServerURL:   firstOf(f.tdssURL, s.demoOr(func(d *benchDemo) string { return d.ThreeDSServerURL }), "https://localhost/3ds/rreq"),
		ThreeDSServerRef:   firstOf(ref, "OPEN3DS-BENCH"),
		AcquirerBIN:        firstOf(s.demoOr(func(d *benchDemo) string { return d.AcquirerBIN }), "412345"),
		AcquirerMerchantID: firstOf(s.demoOr(func(d *benchDemo) string { return d.AcquirerMerchantID }), "BENCH0001"),
		MerchantName:       firstOf(s.demoOr(func(d *benchDemo) string { return d.MerchantName }), "Bench Shop"),
		// Frictionless answers never use it, and an http URL of the demo's shop would break the
		// https rule of a split deployment's ACS.
		NotificationURL: "https://shop.example.com/checkout/3ds/notification",
		StampAsDS:       f.mode == "acs-areq", DSReferenceNumber: "OPEN3DS-BENCH-DS"}
	if t.areqs, err = bench.NewAReqs(cfg); err != nil {
		return err
	}
	t.target = url
	sc := &bench.AReqScenario{Client: t.client(t.clientTLS), URL: url, AReqs: t.areqs, Expect: splitList(f.expect)}
	if strings.Contains(url, ",") {
		// Several instances' URLs, taken in turn by request.
		for _, u := range strings.Split(url, ",") {
			if u = strings.TrimSpace(u); !strings.HasPrefix(u, "https://") {
				return usageError("bench: --url: %q is not an https:// URL (give one URL, or several separated by commas)", u)
			}
			sc.URLs = append(sc.URLs, strings.TrimSpace(u))
		}
		if f.ceiling {
			return usageError("bench: --ceiling: the bare server stands in for one URL, not several")
		}
	}
	t.scenario = sc
	return nil
}

// merchant sets up e2e and challenge, which go through the merchant API.
func (t *benchTarget) merchant(s benchSource, cards []string) error {
	f := s.f
	api := firstOf(f.apiURL, s.demoOr(func(d *benchDemo) string { return d.ThreeDSS.API }))
	if api == "" {
		return usageError("bench: --api-url: give the merchant API's URL, or --demo")
	}
	key := firstOf(f.apiKey, s.getenv("OPEN3DS_BENCH_API_KEY"))
	if key == "" && s.demo != nil {
		var err error
		if key, err = s.demo.merchantKey(); err != nil {
			return err
		}
	}
	if key == "" {
		return usageError("bench: --api-key: give the merchant's API key (or OPEN3DS_BENCH_API_KEY), or --demo")
	}
	// The merchant API and the challenge pages are HTTPS under the scheme CA, or plain HTTP on
	// loopback in the demo; no client certificate either way.
	var pool *x509.CertPool
	if ca := s.file(f.ca, func(l pki.Layout) string { return l.CA.Cert }); ca != "" {
		var err error
		if pool, err = pki.LoadPool(ca); err != nil {
			return err
		}
	} else if strings.HasPrefix(api, "https:") {
		return usageError("bench: --ca: the merchant API is HTTPS: give the CA that signed its certificate (--ca, --pki or --demo)")
	}
	browser := t.client(pki.ClientConfig(nil, pool, ""))
	m := &bench.MerchantAPI{Client: browser, URL: strings.TrimSuffix(api, "/"), Key: key}
	t.target = m.URL
	if f.mode == "e2e" {
		t.scenario = &bench.E2EScenario{API: m, Cards: cards, Expect: splitList(f.expect)}
		return nil
	}
	outbox := firstOf(f.outbox, s.demoOr(func(d *benchDemo) string { return firstOf(d.Outbox, withPath(d.ACS.Admin, "/outbox")) }))
	if outbox == "" {
		return usageError("bench: --outbox-url: the challenge reads its codes from the ACS's development outbox: give --outbox-url or --demo")
	}
	codes := &bench.ChallengeScenario{API: m, Browser: browser, Outbox: outbox, Cards: cards, Expect: splitList(f.expect), Poll: f.timeout}
	if f.mode != "app-challenge" {
		t.scenario = codes
		return nil
	}
	app, err := benchSDK(s, pool, browser)
	if err != nil {
		return err
	}
	t.scenario = &bench.AppChallengeScenario{API: m, SDK: app, Codes: codes, Cards: cards, Expect: splitList(f.expect)}
	return nil
}

// benchSDK is the reference SDK the app-challenge mode buys with: it bundles the scheme's DS RSA
// encryption certificate and CA from the PKI, and talks to the ACS over the load client. Against the
// demo it may use the plain-HTTP loopback acsURL the demo serves.
func benchSDK(s benchSource, roots *x509.CertPool, client *http.Client) (*sdk.SDK, error) {
	dsCert := s.file("", func(l pki.Layout) string { return l.DSEncryptionRSA.Cert })
	if dsCert == "" || roots == nil {
		return nil, usageError("bench: app-challenge needs the scheme's PKI (the DS encryption certificate and the CA): give --pki or --demo")
	}
	cert, err := loadCertificate(dsCert)
	if err != nil {
		return nil, err
	}
	return sdk.New(sdk.Config{DSCertificate: cert, DSID: pki.DefaultDSID, Roots: roots, ReferenceNumber: sdkReferenceNumber,
		AppID: ids.New(), Client: client, Device: sdk.DeviceInfo{AppPackage: "org.open3ds.bench"}, LoopbackHTTP: s.demo != nil})
}

// client is a load client on tlsConfig, kept to be closed with the target.
func (t *benchTarget) client(tlsConfig *tls.Config) *http.Client {
	c := bench.NewClient(tlsConfig, t.workers, t.timeout)
	t.clients = append(t.clients, c)
	return c
}

func (t *benchTarget) close() {
	for _, c := range t.clients {
		c.CloseIdleConnections()
	}
}

// runCeiling runs the same load against a bare server that decodes the AReq and echoes a fixed
// ARes, over the same TLS, in this process.
func (t *benchTarget) runCeiling(ctx context.Context, e env, opts bench.Options) (*bench.Report, error) {
	c, err := bench.StartCeiling(t.serverTLS, t.target)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	client := t.client(t.clientTLS)
	defer client.CloseIdleConnections()
	opts.PID = 0 // the bare server runs in this process, beside the client: its cost cannot be told apart
	fmt.Fprintf(e.stderr, "ceiling → %s\n", c.URL)
	r, err := bench.Run(ctx, &bench.AReqScenario{Client: client, URL: c.URL, AReqs: t.areqs}, opts)
	if r == nil {
		return nil, err
	}
	r.Scenario, r.Target = t.mode+" ceiling", c.URL
	return r, err
}

func loadBenchPKI(ca, cert, key string) (tls.Certificate, *x509.CertPool, error) {
	pair, err := pki.LoadKeyPair(cert, key)
	if err != nil {
		return pair, nil, err
	}
	pool, err := pki.LoadPool(ca)
	return pair, pool, err
}

// withPath joins a base URL from the demo file and a path; an empty base stays empty.
func withPath(base, path string) string {
	if base == "" {
		return ""
	}
	return strings.TrimSuffix(base, "/") + path
}

func firstOf(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// benchCardList reads --cards: numbers separated by commas, or @FILE naming a file of them separated
// by commas, spaces or lines, for the thousands a long run needs (the risk engine challenges a card
// seen more than three times in an hour).
func benchCardList(v string) ([]string, error) {
	path, ok := strings.CutPrefix(v, "@")
	if !ok {
		return splitList(v), nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usageError("bench: --cards: %v", err)
	}
	return strings.FieldsFunc(string(b), func(r rune) bool { return r == ',' || unicode.IsSpace(r) }), nil
}
