package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/open3ds/open3ds/internal/console"
	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/httpx"
	"github.com/open3ds/open3ds/internal/threedsserver"
)

func init() {
	register(command{name: "demo", summary: "the whole network in one process (DS, ACS, 3DS Server, demo shop) on SQLite or PostgreSQL, with test cards", run: runDemo})
}

// The demo runs every role in this one process, each built by the same function `open3ds serve`
// uses and talking to the others over loopback exactly as split roles would: AReqs, RReqs and PReqs
// over mutual TLS with the scheme PKI made on the first run. What faces a person's browser (the
// shop, the 3DS Server's script and notification pages, the ACS's method and challenge pages) is
// plain HTTP on localhost, which browsers treat as a secure context; with HTTPS the browser would
// refuse the challenge frame until someone trusted the demo's own CA by hand. Because acsURL must
// be https in 2.3.1, the demo lets the protocol checks accept http to loopback (emv.AllowLoopbackHTTP);
// nothing else turns that on.

// Offsets from --port of each listener. Ports are fixed so that a person's bookmarks and the
// registries seeded on the first run stay right between runs.
const (
	demoShopPort       = 0
	demoTDSSPublicPort = 1
	demoACSPublicPort  = 2
	demoDSPort         = 10
	demoACSPort        = 11
	demoTDSSPort       = 12
	demoTDSSAPIPort    = 13
	demoACSDownPort    = 14
	demoDSAdminPort    = 20
	demoACSAdminPort   = 21
	demoTDSSAdminPort  = 22
	demoListeners      = 23 // the span of ports from --port

	// With --acs-instances above one, the instances' own protocol listeners sit at +30, +31…, behind
	// a round-robin balancer on +11, and the admin listeners of the second and later at +41, +42…
	// (the first keeps +21).
	demoACSInstancePort      = 30
	demoACSInstanceAdminPort = 40
	demoMaxACSInstances      = 10
	demoInstanceListeners    = 50 // the span of ports from --port with more than one instance
)

// demoPorts are the offsets in use; the others are left alone.
var demoPorts = []int{demoShopPort, demoTDSSPublicPort, demoACSPublicPort, demoDSPort, demoACSPort, demoTDSSPort,
	demoTDSSAPIPort, demoACSDownPort, demoDSAdminPort, demoACSAdminPort, demoTDSSAdminPort}

// demoURLs are the network's addresses: what browsers reach under --host, what the roles call each
// other at on 127.0.0.1.
type demoURLs struct {
	Shop        string `json:"shop"`
	TDSSPublic  string `json:"threeDSServerPublic"`
	ACSPublic   string `json:"acsPublic"`
	DS          string `json:"ds"`
	ACSProtocol string `json:"acsProtocol"`
	TDSS        string `json:"threeDSServerProtocol"`
	TDSSAPI     string `json:"threeDSServerApi"`
	ACSDown     string `json:"acsOffline"`
	DSAdmin     string `json:"dsAdmin"`
	ACSAdmin    string `json:"acsAdmin"`
	TDSSAdmin   string `json:"threeDSServerAdmin"`
}

// demoAddrs reads the URLs off the open listeners, indexed by the offsets above.
func demoAddrs(host string, lns []net.Listener) demoURLs {
	port := func(i int) string { return strconv.Itoa(lns[i].Addr().(*net.TCPAddr).Port) }
	browser := func(i int) string { return "http://" + net.JoinHostPort(host, port(i)) }
	tls := func(i int) string { return "https://127.0.0.1:" + port(i) }
	plain := func(i int) string { return "http://127.0.0.1:" + port(i) }
	return demoURLs{Shop: browser(demoShopPort), TDSSPublic: browser(demoTDSSPublicPort), ACSPublic: browser(demoACSPublicPort),
		DS: tls(demoDSPort), ACSProtocol: tls(demoACSPort), TDSS: tls(demoTDSSPort), TDSSAPI: tls(demoTDSSAPIPort),
		ACSDown: tls(demoACSDownPort), DSAdmin: plain(demoDSAdminPort), ACSAdmin: plain(demoACSAdminPort), TDSSAdmin: plain(demoTDSSAdminPort)}
}

// demoOptions are the demo's flags.
type demoOptions struct {
	dir      string
	host     string
	port     int // 0: every listener on a port the kernel picks (tests)
	logLevel string
	pprof    bool // OPEN3DS_PPROF=1: every role serves /debug/pprof/ on its admin listener
	// postgres, when set, is the PostgreSQL database the roles store in (each in a schema of its
	// own) instead of the SQLite files in dir.
	postgres string
	// acsInstances is how many ACS instances share the ACS's store, behind one balanced address.
	acsInstances int
	// On Ctrl+C or SIGTERM: how long readiness fails before the listeners close (no balancer stands
	// in front of a demo, so none by default), and how long what is in flight then has to finish.
	drainDelay, grace time.Duration
}

// demoNetwork is a started demo: its addresses and the servers to run.
type demoNetwork struct {
	urls      demoURLs
	paths     demoPaths
	secrets   demoSecrets
	first     bool
	listeners []listener
	tdss      *threedsserver.Server
	closers   []func()
	stop      func()     // ends serving
	done      chan error // serving's end
	finished  bool       // done was received
	pprof     bool       // the roles serve /debug/pprof/
	// consoles are the roles' operations consoles, in the order they are printed; consolePassword
	// is the demo admin's password in all three, new at every start.
	consoles        []demoConsole
	consolePassword string

	// getenv reads the OTEL_* variables, for each role's tracing.
	getenv func(string) string
	// runtimes are the roles' runtimes by role (ds, acs, 3dss), for the tests that read their
	// metric registries.
	runtimes map[string]*roleRuntime
	// acsInstances are the ACS instances' own protocol and admin URLs, the first being the ACS the
	// demo always runs; with one instance, they are the usual addresses.
	acsInstances []demoACSInstance
	// drain stops every role's listeners together and waits for their work: one process, one drain.
	drain *httpx.Drain
}

// demoACSInstance is one ACS instance's own addresses, and its listeners' offsets from --port.
type demoACSInstance struct {
	protocol, admin         string
	protocolPort, adminPort int
}

// demoACSInstanceLayout gives each of n instances its listeners' offsets: one instance is the ACS
// on its usual ports; more sit behind the balancer on the usual protocol port.
func demoACSInstanceLayout(n int) []demoACSInstance {
	if n <= 1 {
		return []demoACSInstance{{protocolPort: demoACSPort, adminPort: demoACSAdminPort}}
	}
	out := make([]demoACSInstance, n)
	for i := range out {
		out[i] = demoACSInstance{protocolPort: demoACSInstancePort + i, adminPort: demoACSInstanceAdminPort + i}
	}
	out[0].adminPort = demoACSAdminPort
	return out
}

// demoConsole is one role's console as the demo prints it.
type demoConsole struct {
	title, url string
	c          *console.Console
}

// demoStarted, when set (by tests), hears the network once every listener serves.
var demoStarted func(*demoNetwork)

func runDemo(ctx context.Context, e env, args []string) error {
	o := demoOptions{pprof: e.getenv("OPEN3DS_PPROF") == "1"}
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.StringVar(&o.dir, "dir", "open3ds-data", "data directory: PKI, secrets and SQLite stores, kept between runs")
	fs.StringVar(&o.host, "host", "localhost", "the host name browsers use to reach the demo")
	fs.IntVar(&o.port, "port", 8400, "first port: shop +0, 3DS Server pages +1, ACS pages +2, protocol listeners +10…+14, admin +20…+22 (ACS instances: +30…, admin +41…)")
	fs.StringVar(&o.logLevel, "log-level", "warn", "debug, info, warn or error (logs go to standard error)")
	fs.DurationVar(&o.drainDelay, "drain-delay", 0, "on Ctrl+C or SIGTERM, how long /readyz fails while the listeners still serve")
	fs.DurationVar(&o.grace, "shutdown-grace", httpx.ShutdownGrace, "then how long requests and exchanges in flight have to finish")
	fs.StringVar(&o.postgres, "postgres", e.getenv("OPEN3DS_DEMO_POSTGRES"),
		"PostgreSQL DSN (postgres://…, or OPEN3DS_DEMO_POSTGRES): store the roles there, each in a schema of its own, instead of SQLite files")
	fs.IntVar(&o.acsInstances, "acs-instances", 1, "run this many ACS instances sharing the ACS's store, behind a round-robin TCP balancer (needs --postgres)")
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "Usage: open3ds demo [flags]\n\nRuns the DS, the ACS, the 3DS Server and a demo shop in one process, with test cards.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return exitError{code: 2, msg: err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError("demo takes no arguments (got %q)", fs.Arg(0))
	}
	if o.drainDelay < 0 || o.grace <= 0 {
		return usageError("--drain-delay must be zero or more and --shutdown-grace positive")
	}
	span := demoListeners
	if o.acsInstances > 1 {
		span = demoInstanceListeners
	}
	if o.port < 0 || o.port > 65535-span {
		return usageError("--port must leave room for %d ports below 65536", span)
	}
	if o.acsInstances < 1 || o.acsInstances > demoMaxACSInstances {
		return usageError("--acs-instances must be from 1 to %d", demoMaxACSInstances)
	}
	// Instances sharing one SQLite file would only queue on its single writer, and no deployment
	// can share a SQLite file between hosts: several instances are a PostgreSQL set-up.
	if o.acsInstances > 1 && o.postgres == "" {
		return usageError("--acs-instances: more than one ACS instance needs a shared store: give --postgres (or OPEN3DS_DEMO_POSTGRES)")
	}
	if o.postgres != "" {
		if err := checkDemoPostgres(o.postgres); err != nil {
			return usageError("--postgres: %v", err)
		}
	}
	var lvl = RoleLog{LogLevel: o.logLevel, LogFormat: "text"}
	if err := lvl.checkLevel(); err != nil {
		return err
	}
	began := time.Now()
	d, err := startDemo(ctx, e, o)
	if err != nil {
		return err
	}
	if err := d.writeInfo(); err != nil {
		d.close()
		return err
	}
	d.printReady(e.stdout, time.Since(began))
	if demoStarted != nil {
		demoStarted(d)
	}
	return d.wait()
}

// checkLevel refuses an unknown log level as a usage error.
func (l RoleLog) checkLevel() error {
	switch l.LogLevel {
	case "debug", "info", "warn", "error":
		return nil
	}
	return usageError("--log-level must be debug, info, warn or error")
}

// startDemo opens every listener, makes or reads the data directory, builds the roles and starts
// serving until ctx ends; it returns once the 3DS Server has loaded the card ranges, so the first
// purchase works. The caller waits on the network, or closes it.
func startDemo(ctx context.Context, e env, o demoOptions) (*demoNetwork, error) {
	dir, err := filepath.Abs(o.dir)
	if err != nil {
		return nil, err
	}
	ports := demoPorts
	instances := demoACSInstanceLayout(o.acsInstances)
	if len(instances) > 1 {
		ports = slices.Clone(demoPorts)
		for _, in := range instances {
			ports = append(ports, in.protocolPort)
			if in.adminPort != demoACSAdminPort {
				ports = append(ports, in.adminPort)
			}
		}
	}
	addrs := make([]string, len(ports))
	for i, off := range ports {
		addrs[i] = "127.0.0.1:0"
		if o.port != 0 {
			addrs[i] = "127.0.0.1:" + strconv.Itoa(o.port+off)
		}
	}
	opened, err := listenAll(addrs...)
	if err != nil {
		return nil, fmt.Errorf("demo: %w (is another demo running? try --port)", err)
	}
	lns := make([]net.Listener, demoInstanceListeners) // indexed by offset
	for i, off := range ports {
		lns[off] = opened[i]
	}
	n := &demoNetwork{urls: demoAddrs(o.host, lns), paths: demoPathsIn(dir), done: make(chan error, 1), pprof: o.pprof, getenv: e.getenv}
	for _, in := range instances {
		in.protocol = "https://" + lns[in.protocolPort].Addr().String()
		in.admin = "http://" + lns[in.adminPort].Addr().String()
		n.acsInstances = append(n.acsInstances, in)
	}
	if o.postgres != "" {
		if n.paths, err = n.paths.onPostgres(o.postgres); err != nil {
			closeAll(opened)
			return nil, usageError("--postgres: %v", err)
		}
	}
	n.closers = append(n.closers, func() { closeAll(opened) })
	fail := func(err error) (*demoNetwork, error) {
		n.close()
		return nil, err
	}
	st, first, err := demoPrepare(ctx, e, n.paths, n.urls)
	if err != nil {
		return fail(err)
	}
	n.secrets, n.first = st.Secrets, first
	emv.AllowLoopbackHTTP(true)
	log := RoleLog{LogLevel: o.logLevel, LogFormat: "text"}.logger(e.stderr)
	n.drain = &httpx.Drain{Delay: o.drainDelay, Grace: o.grace, Log: log}
	if err := n.build(ctx, log, lns); err != nil {
		return fail(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	go func() { n.done <- serveListeners(sctx, "demo", n.drain, n.listeners...) }()
	n.stop = cancel
	// On the first run the card ranges are loaded now, by a PReq to the DS, which is serving by now;
	// a later run has them cached. The refresher takes over from there.
	if err := n.tdss.RefreshIfDue(ctx); err != nil {
		return fail(fmt.Errorf("demo: the 3DS Server could not load the card ranges from the DS: %w", err))
	}
	go n.tdss.RunRefresher(sctx)
	go n.tdss.RunSweeper(sctx)
	return n, nil
}

// wait runs until the network stops: ctx ended (nil) or a listener failed.
func (d *demoNetwork) wait() error {
	err := <-d.done
	d.finished = true
	d.close()
	return err
}

// close stops the servers, then everything behind them, newest first.
func (d *demoNetwork) close() {
	if d.stop != nil {
		d.stop()
		if !d.finished {
			<-d.done
			d.finished = true
		}
		d.stop = nil
	}
	for i := len(d.closers) - 1; i >= 0; i-- {
		d.closers[i]()
	}
	d.closers = nil
}

// demoInfo is demo.json in the data directory: where the running network is, for `open3ds bench`
// and scripts. The merchant's API key stays in its own file; the outbox link carries the ACS's admin
// token, so the file is its owner's alone, as the other secrets in the data directory are.
type demoInfo struct {
	PID              int                 `json:"pid"`
	PKI              string              `json:"pki"`
	DS               map[string]string   `json:"ds"`
	ACS              map[string]string   `json:"acs"`
	TDSS             map[string]string   `json:"3dss"`
	Shop             string              `json:"shop"`
	Outbox           string              `json:"outbox"`
	MerchantKeyFile  string              `json:"merchantKeyFile"`
	Cards            map[string][]string `json:"cards"`
	ThreeDSServerURL string              `json:"threeDSServerURL"`
	RequestorID      string              `json:"requestorID"`
	ThreeDSServerRef string              `json:"threeDSServerRefNumber"`
	AcquirerBIN      string              `json:"acquirerBIN"`
	AcquirerMerchant string              `json:"acquirerMerchantID"`
	MerchantName     string              `json:"merchantName"`
	Console          map[string]string   `json:"console"`
}

func (d *demoNetwork) writeInfo() error {
	u := d.urls
	cards := map[string][]string{}
	for _, c := range demoCards {
		if c.Kind != "other" {
			cards[c.Kind] = append(cards[c.Kind], c.PAN)
		}
		// The app bench answers code screens: the bank-app and HTML cards are left out.
		if c.Kind == "challenge" && c.AppUI != "04" && c.AppUI != "05" {
			cards["appChallenge"] = append(cards["appChallenge"], c.PAN)
		}
	}
	cards["frictionless"] = append(cards["frictionless"], demoBenchCards()...)
	acs := map[string]string{"protocol": u.ACSProtocol, "public": u.ACSPublic, "admin": u.ACSAdmin}
	if len(d.acsInstances) > 1 {
		// Each instance's own address, behind the balanced protocol URL, comma-separated.
		var protos, admins []string
		for _, in := range d.acsInstances {
			protos, admins = append(protos, in.protocol), append(admins, in.admin)
		}
		acs["protocolInstances"], acs["adminInstances"] = strings.Join(protos, ","), strings.Join(admins, ",")
	}
	info := demoInfo{PID: os.Getpid(), PKI: d.paths.pki.Dir,
		DS:   map[string]string{"protocol": u.DS, "admin": u.DSAdmin},
		ACS:  acs,
		TDSS: map[string]string{"protocol": u.TDSS, "api": u.TDSSAPI, "public": u.TDSSPublic, "admin": u.TDSSAdmin},
		Shop: u.Shop, Outbox: d.outboxURL(), MerchantKeyFile: d.paths.merchantKey, Cards: cards,
		ThreeDSServerURL: u.TDSS + "/3ds/rreq", RequestorID: demoRequestorID, ThreeDSServerRef: demoTDSSRef, AcquirerBIN: demoAcquirerBIN,
		AcquirerMerchant: demoAcquirerMerchant, MerchantName: demoMerchantName,
		Console: map[string]string{"account": demoConsoleAccount, "password": d.consolePassword}}
	b, _ := json.MarshalIndent(info, "", "  ")
	return os.WriteFile(d.paths.info, append(b, '\n'), 0o600)
}

// outboxURL is the development outbox page, where the demo's codes arrive. The page asks for the
// ACS's admin token, which the link carries, so that only whoever started the demo (and can read
// what it prints or its demo.json) sees the codes.
func (d *demoNetwork) outboxURL() string {
	return d.urls.ACSAdmin + "/outbox/?" + url.Values{"token": {d.secrets.ACSAdmin}}.Encode()
}

// printReady tells the person where everything is.
func (d *demoNetwork) printReady(w io.Writer, took time.Duration) {
	u := d.urls
	how := "reused"
	if d.first {
		how = "created"
	}
	fmt.Fprintf(w, "open3ds demo is ready in %.1f s (data %s in %s)\n", took.Seconds(), how, d.paths.dir)
	if len(d.paths.schemas) > 0 {
		fmt.Fprintf(w, "Stores: %s\n", demoStoresAt(d.paths.schemas))
	}
	if n := len(d.acsInstances); n > 1 {
		fmt.Fprintf(w, "ACS: %d instances sharing its store, behind a round-robin TCP balancer on %s:\n", n, u.ACSProtocol)
		for i, in := range d.acsInstances {
			fmt.Fprintf(w, "  instance %d: %s  admin %s\n", i+1, in.protocol, in.admin)
		}
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, row := range [][2]string{
		{"Shop (start here):", u.Shop},
		{"One-time codes (development outbox):", d.outboxURL()},
		{"3DS Server merchant API:", u.TDSSAPI + "  (key in " + d.paths.merchantKey + ")"},
		{"3DS Server checkout script:", u.TDSSPublic + "/checkout.js"},
		{"DS / ACS / 3DS Server protocol:", u.DS + "  " + u.ACSProtocol + "  " + u.TDSS + "  (mutual TLS)"},
		{"Admin APIs and /metrics:", u.DSAdmin + "  " + u.ACSAdmin + "  " + u.TDSSAdmin},
	} {
		fmt.Fprintf(tw, "  %s\t%s\n", row[0], row[1])
	}
	tw.Flush()
	fmt.Fprintf(w, "\nOperations consoles: account %s, password %s (new at every start; an authenticator app\nis enrolled at the first sign-in and kept):\n", demoConsoleAccount, d.consolePassword)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range d.consoles {
		fmt.Fprintf(tw, "  %s\t%s\n", c.title+":", c.url+"/console/")
	}
	tw.Flush()
	fmt.Fprintf(w, "\nTest cards (expiry %s, any name):\n", demoExpiry)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range demoCards {
		fmt.Fprintf(tw, "  %s\t%s\n", groupPAN(c.PAN), c.Ending)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nFrom an app (the reference 3DS SDK, in another terminal in this folder):")
	fmt.Fprintln(w, "  open3ds sdk buy --card 4000010000001009     (any card above; --ds-key ec for the DS's EC key)")
	fmt.Fprintln(w, "\nPress Ctrl+C to stop. Everything is kept in the data directory for the next run.")
}

// groupPAN writes a card number in groups of four, as it is printed on a card.
func groupPAN(pan string) string {
	var out []byte
	for i := 0; i < len(pan); i++ {
		if i > 0 && i%4 == 0 {
			out = append(out, ' ')
		}
		out = append(out, pan[i])
	}
	return string(out)
}
