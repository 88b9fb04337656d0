package main

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/open3ds/open3ds/internal/config"
	"github.com/open3ds/open3ds/internal/httpx"
	"github.com/open3ds/open3ds/internal/logx"
	"github.com/open3ds/open3ds/internal/pki"
	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/threedsserver"
	"github.com/open3ds/open3ds/internal/vault"
)

func init() {
	serveGroup.add(command{name: "3dss", summary: "the 3DS Server: merchant API, browser endpoints, RReq endpoint (mutual TLS) and admin API", run: runServe3DSS})
}

// tdssConfig is the configuration of `open3ds serve 3dss`: one listener per trust boundary.
type tdssConfig struct {
	Listen       string        `yaml:"listen" env:"3DSS_LISTEN" flag:"listen" help:"RReq listener address (mutual TLS, DS certificates only)"`
	APIListen    string        `yaml:"api_listen" env:"3DSS_API_LISTEN" flag:"api-listen" help:"merchant REST API listener (HTTPS; API keys)"`
	PublicListen string        `yaml:"public_listen" env:"3DSS_PUBLIC_LISTEN" flag:"public-listen" help:"browser listener (HTTPS): 3DS Method and challenge notifications"`
	AdminListen  string        `yaml:"admin_listen" env:"3DSS_ADMIN_LISTEN" flag:"admin-listen" help:"admin API and /metrics listener (plain HTTP; keep it on loopback)"`
	DSN          string        `yaml:"dsn" env:"DSN" flag:"dsn" help:"the store: postgres://… or sqlite:PATH"`
	Migrate      bool          `yaml:"migrate" env:"3DSS_MIGRATE" flag:"migrate" help:"apply pending PostgreSQL migrations on start"`
	DSURL        string        `yaml:"ds_url" env:"3DSS_DS_URL" flag:"ds-url" help:"the DS's protocol URL (AReq, PReq)"`
	PublicURL    string        `yaml:"public_url" env:"3DSS_PUBLIC_URL" flag:"public-url" help:"the browser listener's public URL (default: https:// and its address)"`
	ProtocolURL  string        `yaml:"protocol_url" env:"3DSS_PROTOCOL_URL" flag:"protocol-url" help:"the RReq listener's URL as the DS reaches it (default: https:// and its address)"`
	ParentOrigin string        `yaml:"parent_origin" env:"3DSS_PARENT_ORIGIN" flag:"parent-origin" help:"the one merchant page origin the notification pages post to (default: each merchant's requestorUrl origin)"`
	RefNumber    string        `yaml:"reference_number" env:"3DSS_REFERENCE_NUMBER" flag:"reference-number" help:"threeDSServerRefNumber (EMVCo approval number)"`
	OperatorID   string        `yaml:"operator_id" env:"3DSS_OPERATOR_ID" flag:"operator-id" help:"threeDSServerOperatorID"`
	Timeout      time.Duration `yaml:"timeout" env:"3DSS_TIMEOUT" flag:"timeout" help:"how long to wait for the DS"`
	Refresh      time.Duration `yaml:"preq_every" env:"3DSS_PREQ_EVERY" flag:"preq-every" help:"card-range refresh period, 1h to 24h"`
	TLS          struct {
		CA   string `yaml:"ca" env:"CA" flag:"ca" help:"the scheme CA certificate (PEM)"`
		Cert string `yaml:"cert" env:"CERT" flag:"cert" help:"the 3DS Server certificate (PEM)"`
		Key  string `yaml:"key" env:"KEY" flag:"key" help:"the 3DS Server private key file (PEM)"`
	} `yaml:"tls" env:"3DSS_TLS" flag:"tls"`
	// Browsers and merchants' back ends do not know the scheme CA: give them a certificate they trust.
	PublicTLS struct {
		Cert string `yaml:"cert" env:"CERT" flag:"cert" help:"certificate of the API and browser listeners (PEM); the 3DS Server certificate when empty"`
		Key  string `yaml:"key" env:"KEY" flag:"key" help:"its private key file (PEM)"`
	} `yaml:"public_tls" env:"3DSS_PUBLIC_TLS" flag:"public-tls"`
	VaultKeys  logx.Secret `yaml:"vault_keys" env:"VAULT_KEYS" help:"PAN encryption keyring spec (the PAN is sealed between start and AReq)"`
	AdminToken logx.Secret `yaml:"admin_token" env:"3DSS_ADMIN_TOKEN" help:"bearer token of the admin API"`
	// Retention (docs/operations.md): off while the maximum age is 0.
	RetentionMaxAge     string        `yaml:"retention_max_age" env:"3DSS_RETENTION_MAX_AGE" flag:"retention-max-age" help:"remove finished transactions and their messages once older than this: whole days (90d) or a duration (2160h), at least 24h; empty or 0 keeps everything"`
	RetentionInterval   time.Duration `yaml:"retention_interval" env:"3DSS_RETENTION_INTERVAL" flag:"retention-interval" help:"how often the retention job runs, once across all instances sharing the store"`
	RetentionArchiveDir string        `yaml:"retention_archive_dir" env:"3DSS_RETENTION_ARCHIVE_DIR" flag:"retention-archive-dir" help:"write the rows retention removes to a JSON-lines file per run in this directory first (default: purge without archive)"`

	RoleConsole
	RoleOps
	RoleLog
}

// Validate lists every problem of the configuration at once.
func (c *tdssConfig) Validate() error {
	var p config.Problems
	if c.DSN == "" {
		p.Add("dsn", "is required")
	}
	if c.DSURL == "" {
		p.Add("ds_url", "is required")
	}
	if c.TLS.CA == "" || c.TLS.Cert == "" || c.TLS.Key == "" {
		p.Add("tls", "ca, cert and key are all required")
	}
	if (c.PublicTLS.Cert == "") != (c.PublicTLS.Key == "") {
		p.Add("public_tls", "cert and key go together")
	}
	if c.AdminToken == "" {
		p.Add("admin_token", "is required (OPEN3DS_3DSS_ADMIN_TOKEN or OPEN3DS_3DSS_ADMIN_TOKEN_FILE)")
	}
	if _, err := vault.ParseKeyring(c.VaultKeys.Reveal()); err != nil {
		p.Add("vault_keys", "is required and must be a valid keyring spec (OPEN3DS_VAULT_KEYS or _FILE)")
	}
	if c.ProtocolURL != "" {
		if msg := checkProtocolURL(c.ProtocolURL); msg != "" {
			p.Add("protocol_url", "%s", msg)
		}
	}
	if c.Timeout <= 0 {
		p.Add("timeout", "must be positive")
	}
	if c.Refresh < threedsserver.MinRefresh || c.Refresh > threedsserver.MaxRefresh {
		p.Add("preq_every", "must be between 1h and 24h")
	}
	c.RoleConsole.check(&p)
	c.RoleOps.check(&p)
	checkRetention(&p, c.RetentionMaxAge, c.RetentionInterval, c.RetentionArchiveDir)
	c.RoleLog.check(&p)
	return p.Err()
}

// checkProtocolURL says what is wrong with a --protocol-url, or "". The 3DS Server appends the RReq
// route (/3ds/rreq) to it for each AReq's threeDSServerURL, so it must be the base of the RReq
// listener as the DS reaches it. Given with the route already on, every RReq went to
// …/3ds/rreq/3ds/rreq and was refused with a 404 while the ACS retried for ever; that mistake is
// refused here, at start. A path in front of the route stays allowed, for a proxy that serves the
// listener under a prefix.
func checkProtocolURL(raw string) string {
	const give = "give the base URL the DS reaches the RReq listener at, such as https://3dss.example:10443" +
		" (flag --protocol-url, env OPEN3DS_3DSS_PROTOCOL_URL); the 3DS Server adds /3ds/rreq itself"
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil:
		return "must be an absolute https:// URL: " + give
	case u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(raw, "?") || strings.HasSuffix(raw, "#"):
		return "must have no query or fragment: " + give
	case strings.HasSuffix(strings.TrimRight(u.Path, "/"), threedsserver.RReqPath):
		return "ends in " + threedsserver.RReqPath + ", which would send every RReq to …" + threedsserver.RReqPath +
			threedsserver.RReqPath + ": " + give
	}
	return ""
}

// base is what the shared start-up needs of this configuration.
func (c *tdssConfig) base() roleBase {
	return roleBase{DSN: c.DSN, Migrate: c.Migrate, CA: c.TLS.CA, Cert: c.TLS.Cert, Key: c.TLS.Key, Pprof: c.Pprof,
		MetricsToken: c.MetricsToken.Reveal(), Role: "3dss",
		App: "3dss", Ops: c.RoleOps}
}

// tdssListening, when set (by tests), hears the listeners' addresses once all are open.
var tdssListening func(protocol, api, public, admin string)

func runServe3DSS(ctx context.Context, e env, args []string) error {
	cfg := &tdssConfig{Listen: ":10443", APIListen: ":10446", PublicListen: ":10447", AdminListen: "127.0.0.1:10444",
		Timeout: 10 * time.Second, Refresh: threedsserver.DefaultRefresh, RetentionInterval: defaultRetentionInterval, RoleOps: defaultRoleOps, RoleLog: defaultRoleLog}
	if ok, err := loadConfig(e, "serve 3dss", cfg, args); !ok {
		return err
	}
	log := cfg.logger(e.stderr)
	rt, err := openRole(ctx, log, cfg.base().withEnv(e.getenv))
	if err != nil {
		return err
	}
	defer rt.Close()
	publicCert := rt.cert
	if cfg.PublicTLS.Cert != "" {
		if publicCert, err = pki.LoadKeyPair(cfg.PublicTLS.Cert, cfg.PublicTLS.Key); err != nil {
			return err
		}
	}

	lns, err := listenAll(cfg.Listen, cfg.APIListen, cfg.PublicListen, cfg.AdminListen)
	if err != nil {
		return err
	}
	defer closeAll(lns)
	if cfg.ProtocolURL == "" {
		cfg.ProtocolURL = dsSelfURL(lns[0].Addr())
	}
	if cfg.PublicURL == "" {
		cfg.PublicURL = dsSelfURL(lns[2].Addr())
	}
	r, err := build3DSS(cfg, rt, publicCert)
	if err != nil {
		return err
	}
	stopRetention, err := rt.startRetention(ctx, threedsserver.RetentionSpec(), cfg.RetentionMaxAge, cfg.RetentionInterval, cfg.RetentionArchiveDir)
	if err != nil {
		return err
	}
	defer stopRetention()

	log.Info("3DS Server listening", "protocol", lns[0].Addr().String(), "api", lns[1].Addr().String(),
		"public", lns[2].Addr().String(), "admin", lns[3].Addr().String(), "ds", cfg.DSURL, "store", store.RedactDSN(cfg.DSN))
	if tdssListening != nil {
		tdssListening(lns[0].Addr().String(), lns[1].Addr().String(), lns[2].Addr().String(), lns[3].Addr().String())
	}
	// Any listener failing stops them all; so does ctx ending, which also ends the card-range refresher
	// and the sweeper of transactions left in "sending" (by an instance that died mid-exchange).
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	go r.server.RunRefresher(rctx)
	go r.server.RunSweeper(rctx)
	return serveListeners(ctx, "serve 3dss", rt.drain, listener{r.proto, lns[0]}, listener{r.api, lns[1]},
		listener{r.public, lns[2]}, listener{r.admin, lns[3]})
}

// tdssRole is a built 3DS Server: its servers, one per trust boundary, and the core whose card-range
// refresher the caller runs.
type tdssRole struct {
	server                    *threedsserver.Server
	proto, api, public, admin *http.Server
}

// build3DSS makes the 3DS Server from its configuration, whose ProtocolURL and PublicURL must be set,
// its runtime, and the certificate its API and browser listeners show.
func build3DSS(cfg *tdssConfig, rt *roleRuntime, publicCert tls.Certificate) (*tdssRole, error) {
	ring, _ := vault.ParseKeyring(cfg.VaultKeys.Reveal())
	metrics, err := threedsserver.NewMetrics(rt.reg)
	if err != nil {
		return nil, err
	}
	st := threedsserver.NewSQLStore(rt.db)
	server := threedsserver.NewServer(threedsserver.Config{Store: st, Recorder: rt.db, Client: rt.peerClient(0, 64, 90*time.Second),
		DSURL: cfg.DSURL, PublicURL: cfg.PublicURL, ProtocolURL: cfg.ProtocolURL, ParentOrigin: cfg.ParentOrigin,
		RefNumber: cfg.RefNumber, OperatorID: cfg.OperatorID, Vault: ring, Timeout: cfg.Timeout, Refresh: cfg.Refresh,
		WebhookTransport: rt.tracing.Transport(nil), Metrics: metrics, Log: rt.log, Drain: rt.drain})
	rt.openConsole("3dss", "3DS Server", ring, cfg.RoleConsole)
	threedsserver.AddConsole(rt.console, st)
	return &tdssRole{
		server: server,
		proto:  rt.server(server.ProtocolHandler(), rt.protocolTLS()),
		api:    rt.server(server.MerchantHandler(), pki.ServerConfig(publicCert, nil, false)),
		public: rt.server(server.PublicHandler(), pki.ServerConfig(publicCert, nil, false)),
		admin: rt.server(rt.adminMux(threedsserver.NewAdmin(st, cfg.AdminToken.Reveal()).Handler(),
			httpx.Check{Name: "card_ranges", Run: server.RangesReady}), nil),
	}, nil
}
