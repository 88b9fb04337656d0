package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/open3ds/open3ds/internal/audit"
	"github.com/open3ds/open3ds/internal/config"
	"github.com/open3ds/open3ds/internal/console"
	"github.com/open3ds/open3ds/internal/httpx"
	"github.com/open3ds/open3ds/internal/logx"
	"github.com/open3ds/open3ds/internal/pki"
	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/tracing"
	"github.com/open3ds/open3ds/internal/vault"
)

// This file is the start-up every role shares: `open3ds serve ds|acs|3dss` each load their own
// configuration, then build the same runtime from it (logger, store, key pair, CA pool, metrics) and
// run their listeners the same way. The steps are separate functions so that `open3ds demo`, which
// runs every role in one process, can build each role from the same pieces without its flags.

// RoleLog is the logging and profiling configuration of every role, embedded last in each role's
// configuration, where the fields always stood, so that their flags, variables and YAML keys are
// shared. It is exported only because the configuration loader reads exported fields alone.
type RoleLog struct {
	LogLevel  string `yaml:"log_level" env:"LOG_LEVEL" flag:"log-level" help:"debug, info, warn or error"`
	LogFormat string `yaml:"log_format" env:"LOG_FORMAT" flag:"log-format" help:"json or text"`
	Pprof     bool   `yaml:"pprof" env:"PPROF" flag:"pprof" help:"serve /debug/pprof/ on the admin listener, for measuring (BENCHMARKS.md)"`
	// MetricsToken, when set, is the bearer token /metrics asks of a scraper; without it /metrics
	// answers anyone who reaches the admin listener, which should then be on loopback or a private
	// network only.
	MetricsToken logx.Secret `yaml:"metrics_token" env:"METRICS_TOKEN" help:"bearer token /metrics requires; /metrics is open when empty"`
}

// RoleConsole is the operations console's configuration, the same for every role, embedded in each
// role's configuration beside RoleLog. The zero value is the safe default: a second factor required,
// five attempts, a fifteen-minute lock.
type RoleConsole struct {
	ConsoleSecureCookies bool          `yaml:"console_secure_cookies" env:"CONSOLE_SECURE_COOKIES" flag:"console-secure-cookies" help:"mark console cookies Secure on plain HTTP too: set it when TLS ends at a proxy in front of the admin listener"`
	ConsoleTOTPOptional  bool          `yaml:"console_totp_optional" env:"CONSOLE_TOTP_OPTIONAL" help:"let console accounts sign in without an authenticator app (not recommended: by default each account enrols one at its first sign-in)"`
	ConsoleMaxAttempts   int           `yaml:"console_max_attempts" env:"CONSOLE_MAX_ATTEMPTS" help:"wrong passwords or codes in a row that lock a console account (default 5)"`
	ConsoleLockFor       time.Duration `yaml:"console_lock_for" env:"CONSOLE_LOCK_FOR" help:"how long a locked console account stays locked (default 15m)"`
	ConsoleIdleTimeout   time.Duration `yaml:"console_idle_timeout" env:"CONSOLE_IDLE_TIMEOUT" help:"a console session unused this long ends (default 30m)"`
}

func (c RoleConsole) check(p *config.Problems) {
	if c.ConsoleMaxAttempts < 0 || c.ConsoleMaxAttempts > 100 {
		p.Add("console_max_attempts", "must be between 1 and 100 (0 for the default, 5)")
	}
	if c.ConsoleLockFor < 0 {
		p.Add("console_lock_for", "must not be negative")
	}
	if c.ConsoleIdleTimeout < 0 {
		p.Add("console_idle_timeout", "must not be negative")
	}
}

func (c RoleConsole) policy() console.Policy {
	p := console.DefaultPolicy
	p.RequireSecondFactor = !c.ConsoleTOTPOptional
	if c.ConsoleMaxAttempts > 0 {
		p.MaxAttempts = c.ConsoleMaxAttempts
	}
	if c.ConsoleLockFor > 0 {
		p.LockFor = c.ConsoleLockFor
	}
	if c.ConsoleIdleTimeout > 0 {
		p.IdleTimeout = c.ConsoleIdleTimeout
	}
	return p
}

// defaultRoleLog is the logging every role starts from before its configuration is read.
var defaultRoleLog = RoleLog{LogLevel: "info", LogFormat: "json"}

// check adds the problems of the logging fields to a role's Validate.
func (l RoleLog) check(p *config.Problems) {
	var lvl slog.Level
	if lvl.UnmarshalText([]byte(l.LogLevel)) != nil {
		p.Add("log_level", "must be debug, info, warn or error")
	}
}

// logger makes the role's logger. The level was checked by Validate, so an error cannot happen here.
func (l RoleLog) logger(w io.Writer) *slog.Logger {
	var lvl slog.Level
	lvl.UnmarshalText([]byte(l.LogLevel))
	return logx.New(w, lvl, l.LogFormat)
}

// RoleOps is how a role runs among many instances: how it stops (docs/operations.md, "Shutdown and
// draining") and how it uses a shared PostgreSQL ("Database timeouts", "Connection pools"). Like
// RoleLog it is embedded in each role's configuration, so that the keys, variables and flags are
// the same for every role.
type RoleOps struct {
	DrainDelay    time.Duration `yaml:"drain_delay" env:"DRAIN_DELAY" flag:"drain-delay" help:"on SIGTERM, how long /readyz fails while the listeners still serve, for the load balancer to stop sending"`
	ShutdownGrace time.Duration `yaml:"shutdown_grace" env:"SHUTDOWN_GRACE" flag:"shutdown-grace" help:"after the drain delay, how long requests and exchanges in flight have to finish"`
	DBMaxOpen     int           `yaml:"db_max_open" env:"DB_MAX_OPEN" flag:"db-max-open" help:"PostgreSQL: most connections of each of the role's two pools (writes, reads)"`
	DBMaxIdle     int           `yaml:"db_max_idle" env:"DB_MAX_IDLE" flag:"db-max-idle" help:"PostgreSQL: connections each pool keeps open when idle (0: db_max_open)"`
	DBMaxIdleTime time.Duration `yaml:"db_max_idle_time" env:"DB_MAX_IDLE_TIME" flag:"db-max-idle-time" help:"PostgreSQL: an idle connection is closed after this long"`
	// The timeouts are PostgreSQL's own, set on every pooled connection. SQLite has no such setting:
	// its statements end with their callers' deadlines (docs/operations.md).
	DBStatementTimeout time.Duration `yaml:"db_statement_timeout" env:"DB_STATEMENT_TIMEOUT" flag:"db-statement-timeout" help:"PostgreSQL statement_timeout of the role's connections (0: the server's)"`
	DBIdleInTxTimeout  time.Duration `yaml:"db_idle_in_transaction_timeout" env:"DB_IDLE_IN_TRANSACTION_TIMEOUT" flag:"db-idle-in-transaction-timeout" help:"PostgreSQL idle_in_transaction_session_timeout of the role's connections (0: the server's)"`
}

// defaultRoleOps are the values every role starts from.
var defaultRoleOps = RoleOps{DrainDelay: httpx.DefaultDrainDelay, ShutdownGrace: httpx.ShutdownGrace,
	DBMaxOpen: store.DefaultMaxOpen, DBMaxIdleTime: store.DefaultMaxIdleTime,
	DBStatementTimeout: store.DefaultStatementTimeout, DBIdleInTxTimeout: store.DefaultIdleInTransactionTimeout}

// check adds the problems of these fields to a role's Validate, each named by its key.
func (o RoleOps) check(p *config.Problems) {
	if o.DrainDelay < 0 {
		p.Add("drain_delay", "must be zero or more")
	}
	if o.ShutdownGrace <= 0 {
		p.Add("shutdown_grace", "must be positive")
	}
	if o.DBMaxOpen < 1 {
		p.Add("db_max_open", "must be at least 1")
	}
	if o.DBMaxIdle < 0 || o.DBMaxIdle > o.DBMaxOpen {
		p.Add("db_max_idle", "must be between 0 and db_max_open (%d)", o.DBMaxOpen)
	}
	if o.DBMaxIdleTime <= 0 {
		p.Add("db_max_idle_time", "must be positive")
	}
	if o.DBStatementTimeout < 0 {
		p.Add("db_statement_timeout", "must be zero (the server's) or more")
	}
	if o.DBIdleInTxTimeout < 0 {
		p.Add("db_idle_in_transaction_timeout", "must be zero (the server's) or more")
	}
}

// storeOptions are the store's options for a role named app ("ds", "acs", "3dss").
func (o RoleOps) storeOptions(app string, migrate bool) store.Options {
	return store.Options{Migrate: migrate, MaxOpen: o.DBMaxOpen, MaxIdle: o.DBMaxIdle, MaxIdleTime: o.DBMaxIdleTime,
		StatementTimeout: o.DBStatementTimeout, IdleInTransactionTimeout: o.DBIdleInTxTimeout, ApplicationName: "open3ds-" + app}
}

// roleBase is what the shared start-up needs of a role's configuration. The roles keep these values
// in their own fields, because the variables and help texts name the role (OPEN3DS_DS_MIGRATE,
// "the DS certificate"), and each hands them over through its base method.
type roleBase struct {
	DSN     string
	Migrate bool
	CA      string // the scheme CA: peers' certificates must chain to it
	Cert    string // the role's own certificate and key, for its protocol listener and as a client
	Key     string
	Pprof   bool // serve /debug/pprof/ on the admin listener
	// MetricsToken is the bearer token /metrics requires; empty leaves it open.
	MetricsToken string
	// Role is the role's short name (ds, acs, 3dss): its traces' service is open3ds-<Role> unless
	// OTEL_SERVICE_NAME names another.
	Role string
	// Getenv reads the OTEL_* variables that configure tracing; nil traces nothing.
	Getenv func(string) string
	// App names the role in the database's list of connections: open3ds-<App>.
	App string
	Ops RoleOps
}

// withEnv is b reading the tracing variables through getenv.
func (b roleBase) withEnv(getenv func(string) string) roleBase {
	b.Getenv = getenv
	return b
}

// loadConfig reads a role's configuration from its defaults, file, environment and args. ok is false
// when the command should stop: with a nil error after -h printed the flags, or with an exit-2 error
// listing what is wrong.
func loadConfig(e env, name string, cfg any, args []string) (ok bool, err error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	if err := config.Load(cfg, fs, args, e.getenv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return false, nil
		}
		return false, exitError{code: 2, msg: err.Error()}
	}
	return true, nil
}

// roleRuntime is what every role runs on. Each role has its own registry, so that roles sharing a
// process (the demo) never collide on metric names.
type roleRuntime struct {
	log     *slog.Logger
	db      *store.DB
	cert    tls.Certificate // the role's own: protocol listener and client of its peers
	pool    *x509.CertPool  // the scheme CA
	reg     *prometheus.Registry
	metrics *httpx.Metrics
	// drain stops the role's listeners and waits for its work on shutdown; the demo's roles share one.
	drain *httpx.Drain
	pprof bool
	// metricsToken is the bearer token /metrics requires; empty leaves it open.
	metricsToken string
	// console is the role's operations console, served by adminMux under /console/ once openConsole
	// has made it.
	console *console.Console
	// tracing makes the role's spans; nil when the environment asks for none.
	tracing *tracing.Tracing
}

// openConsole makes the role's console; role names its cookies ("acs"), title is what operators call
// the role. keys, when the role has vault keys, seal the accounts' TOTP secrets.
func (rt *roleRuntime) openConsole(role, title string, keys *vault.Keyring, c RoleConsole) *console.Console {
	rt.console = console.New(console.Options{Role: role, Title: title, DB: rt.db, Vault: keys, Policy: c.policy(),
		Log: rt.log, SecureCookies: c.ConsoleSecureCookies})
	return rt.console
}

// openRole opens the store and loads the role's key pair and the CA pool. The caller closes the
// runtime when it returns no error.
func openRole(ctx context.Context, log *slog.Logger, b roleBase) (*roleRuntime, error) {
	// Tracing first: a wrong OTEL_* variable is a configuration problem, reported before anything opens.
	var tr *tracing.Tracing
	if b.Getenv != nil {
		var err error
		if tr, err = tracing.New(b.Getenv, "open3ds-"+b.Role, b.Role, log); err != nil {
			return nil, exitError{code: 2, msg: err.Error()}
		}
	}
	db, err := store.Open(ctx, b.DSN, b.Ops.storeOptions(b.App, b.Migrate))
	if err != nil {
		tr.Shutdown(ctx)
		return nil, err
	}
	rt := &roleRuntime{log: log, db: db, reg: prometheus.NewRegistry(), pprof: b.Pprof, metricsToken: b.MetricsToken,
		tracing: tr, drain: &httpx.Drain{Delay: b.Ops.DrainDelay, Grace: b.Ops.ShutdownGrace, Log: log}}
	if err := rt.load(b); err != nil {
		rt.Close()
		return nil, err
	}
	if tr.Enabled() {
		log.Info("tracing: spans go to the OTLP receiver the OTEL_* variables name", "service", "open3ds-"+b.Role)
	}
	return rt, nil
}

func (rt *roleRuntime) load(b roleBase) error {
	var err error
	if rt.cert, err = pki.LoadKeyPair(b.Cert, b.Key); err != nil {
		return err
	}
	if rt.pool, err = pki.LoadPool(b.CA); err != nil {
		return err
	}
	rt.metrics, err = httpx.NewMetrics(rt.reg)
	return err
}

// Close sends the spans still buffered, then closes the store. The roles close their runtime once
// their listeners have stopped and their detached work has finished or been cut off
// (serveListeners), so no write is under way and the last requests' spans are among those sent.
func (rt *roleRuntime) Close() error {
	if err := rt.tracing.Shutdown(context.Background()); err != nil {
		rt.log.Warn("tracing: the last spans were not exported", "err", err)
	}
	return rt.db.Close()
}

// peerClient is the mutual-TLS client a role calls its peers with, presenting its own certificate and
// trusting only the scheme CA. The roles tune its pool to the traffic they send.
func (rt *roleRuntime) peerClient(timeout time.Duration, maxIdlePerHost int, idleTimeout time.Duration) *http.Client {
	t := &http.Transport{TLSClientConfig: pki.ClientConfig(&rt.cert, rt.pool, ""),
		MaxIdleConnsPerHost: maxIdlePerHost, IdleConnTimeout: idleTimeout}
	return &http.Client{Timeout: timeout, Transport: rt.tracing.Transport(t)}
}

// untraced are the admin paths that get no span: probes and scrapes come every few seconds and say
// nothing about a purchase.
var untraced = []string{"/livez", "/readyz", "/metrics"}

// server wraps h in the tracing and the standard middleware; tlsConfig nil serves plain HTTP.
func (rt *roleRuntime) server(h http.Handler, tlsConfig *tls.Config) *http.Server {
	srv := httpx.NewServer(httpx.Chain(h, httpx.Trace(rt.tracing, untraced...), httpx.Standard(rt.log, rt.metrics)), rt.log)
	srv.TLSConfig = tlsConfig
	return srv
}

// protocolTLS is the protocol listener's TLS: the role's certificate, clients chaining to the CA.
func (rt *roleRuntime) protocolTLS() *tls.Config { return pki.ServerConfig(rt.cert, rt.pool, true) }

// adminMux serves a role's admin API under /v1/ (every change it makes recorded in the audit log),
// its console under /console/ when the role opened one, its metrics and its health (/livez, and
// /readyz with the store's check and the role's own); roles may add more to it.
func (rt *roleRuntime) adminMux(api http.Handler, checks ...httpx.Check) *http.ServeMux {
	mux := http.NewServeMux()
	auditLog := audit.New(rt.db)
	mux.Handle("/v1/", auditLog.API("admin-api", func(err error) {
		rt.log.Error("audit entry of an admin API change not written", "err", err)
	})(api))
	if rt.console != nil {
		mux.Handle("/console/", rt.console.Handler())
		mux.Handle("/console", rt.console.Handler())
	}
	all := append([]httpx.Check{{Name: "store", Run: rt.db.Ready}, rt.drain.Check()}, checks...)
	health := &httpx.Health{Checks: all, Log: rt.log}
	health.Register(mux)
	var metrics http.Handler = httpx.MetricsHandler(rt.reg)
	if rt.metricsToken != "" {
		metrics = httpx.RequireToken("open3ds-metrics", rt.metricsToken, false)(metrics)
	}
	mux.Handle("GET /metrics", metrics)
	// Profiles are for the engineer measuring a role (BENCHMARKS.md); they are off unless asked for,
	// and only ever on the admin listener.
	if rt.pprof {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	return mux
}

// listenAll opens a listener on each address, in order; on a failure it closes those already open.
func listenAll(addrs ...string) ([]net.Listener, error) {
	lns := make([]net.Listener, 0, len(addrs))
	for _, addr := range addrs {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			closeAll(lns)
			return nil, err
		}
		lns = append(lns, ln)
	}
	return lns, nil
}

func closeAll(lns []net.Listener) {
	for _, ln := range lns {
		ln.Close()
	}
}

// listener is one server on its open listener.
type listener struct {
	srv *http.Server
	ln  net.Listener
}

// serveListeners runs every listener until ctx ends or one of them fails; either stops them all,
// through drain: readiness fails at once, the listeners close after the drain delay, and it returns
// once the requests and detached work in flight have finished or the grace is over, so that the
// caller may close the store. The first failure comes back named after the command ("serve ds: …").
func serveListeners(ctx context.Context, name string, drain *httpx.Drain, ls ...listener) error {
	hl := make([]httpx.Listener, len(ls))
	for i, l := range ls {
		hl[i] = httpx.Listener{Server: l.srv, Listener: l.ln}
	}
	if err := drain.Serve(ctx, hl...); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// checkFIDOAuthData checks the fido_auth_data setting of the DS and the ACS (emv.SetOpaqueFIDOAuthData).
func checkFIDOAuthData(p *config.Problems, v string) {
	if v != "" && v != "webauthn" && v != "opaque" {
		p.Add("fido_auth_data", "must be webauthn or opaque")
	}
}
