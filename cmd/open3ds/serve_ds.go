package main

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/open3ds/open3ds/internal/config"
	"github.com/open3ds/open3ds/internal/ds"
	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/logx"
	"github.com/open3ds/open3ds/internal/pki"
	"github.com/open3ds/open3ds/internal/store"
)

func init() {
	serveGroup.add(command{name: "ds", summary: "the Directory Server: protocol endpoint (mutual TLS) and admin API", run: runServeDS})
}

// dsConfig is the configuration of `open3ds serve ds`.
type dsConfig struct {
	Listen      string        `yaml:"listen" env:"DS_LISTEN" flag:"listen" help:"protocol listener address (mutual TLS)"`
	AdminListen string        `yaml:"admin_listen" env:"DS_ADMIN_LISTEN" flag:"admin-listen" help:"admin API and /metrics listener address (plain HTTP; keep it on loopback)"`
	URL         string        `yaml:"url" env:"DS_URL" flag:"url" help:"this DS's public protocol URL, stamped into each AReq as dsURL (default: https:// and the protocol listener's address)"`
	DSN         string        `yaml:"dsn" env:"DSN" flag:"dsn" help:"the store: postgres://… or sqlite:PATH"`
	Migrate     bool          `yaml:"migrate" env:"DS_MIGRATE" flag:"migrate" help:"apply pending PostgreSQL migrations on start"`
	Timeout     time.Duration `yaml:"timeout" env:"DS_TIMEOUT" flag:"timeout" help:"how long to wait for an ACS or a 3DS Server"`
	PReqEvery   time.Duration `yaml:"preq_every" env:"DS_PREQ_EVERY" flag:"preq-every" help:"how often one 3DS Server may send a PReq"`
	// RegistryRecheck: AReqs read the registry from memory; see ds/registry_cache.go.
	RegistryRecheck time.Duration `yaml:"registry_recheck" env:"DS_REGISTRY_RECHECK" flag:"registry-recheck" help:"AReqs read the registry (ranges, ACSs, 3DS Servers, scheme) from memory and notice another instance's change within this long; 0 reads the database for every AReq"`
	TLS             struct {
		CA   string `yaml:"ca" env:"CA" flag:"ca" help:"the scheme CA certificate (PEM): clients must chain to it"`
		Cert string `yaml:"cert" env:"CERT" flag:"cert" help:"the DS certificate (PEM)"`
		Key  string `yaml:"key" env:"KEY" flag:"key" help:"the DS private key file (PEM)"`
	} `yaml:"tls" env:"DS_TLS" flag:"tls"`
	// SDKKeys name the DS's sdkEncData key pairs by file prefix, newest first (see dsSDKKeys).
	SDKKeys      []string    `yaml:"sdk_keys" env:"DS_SDK_KEYS" flag:"sdk-key" help:"the DS's sdkEncData key pairs, newest first: [ID=]PREFIX for PREFIX.crt and PREFIX.key (as pki init writes ds-encryption-rsa and ds-encryption-ec); ID defaults to one derived from the public key; repeat or comma-separate"`
	AdminToken   logx.Secret `yaml:"admin_token" env:"DS_ADMIN_TOKEN" help:"bearer token of the admin API"`
	StandInKey   logx.Secret `yaml:"stand_in_key" env:"DS_STAND_IN_KEY" help:"DS key for the authentication value of an attempts stand-in"`
	NotEnrolled  string      `yaml:"stand_in_not_enrolled" env:"DS_STAND_IN_NOT_ENROLLED" flag:"stand-in-not-enrolled" help:"override the scheme's stand-in for PANs in no range: attempts, unavailable or not-enrolled"`
	Unavailable  string      `yaml:"stand_in_unavailable" env:"DS_STAND_IN_UNAVAILABLE" flag:"stand-in-unavailable" help:"override the scheme's stand-in when the ACS is down or late"`
	FIDOAuthData string      `yaml:"fido_auth_data" env:"DS_FIDO_AUTH_DATA" flag:"fido-auth-data" help:"threeDSReqAuthData of a FIDO login (threeDSReqAuthMethod 06/07): webauthn, a WebAuthn assertion, checked (default), or opaque, any string, for a scheme whose requestors send their own format (the risk engine then gives FIDO logins no credit)"`
	// Retention (docs/operations.md): off while the maximum age is 0.
	RetentionMaxAge     string        `yaml:"retention_max_age" env:"DS_RETENTION_MAX_AGE" flag:"retention-max-age" help:"remove finished transactions and their messages once older than this: whole days (90d) or a duration (2160h), at least 24h; empty or 0 keeps everything"`
	RetentionInterval   time.Duration `yaml:"retention_interval" env:"DS_RETENTION_INTERVAL" flag:"retention-interval" help:"how often the retention job runs, once across all instances sharing the store"`
	RetentionArchiveDir string        `yaml:"retention_archive_dir" env:"DS_RETENTION_ARCHIVE_DIR" flag:"retention-archive-dir" help:"write the rows retention removes to a JSON-lines file per run in this directory first (default: purge without archive)"`

	RoleConsole
	RoleOps
	RoleLog
}

// Validate lists every problem of the configuration at once.
func (c *dsConfig) Validate() error {
	var p config.Problems
	if c.DSN == "" {
		p.Add("dsn", "is required")
	}
	if c.TLS.CA == "" || c.TLS.Cert == "" || c.TLS.Key == "" {
		p.Add("tls", "ca, cert and key are all required")
	}
	if c.AdminToken == "" {
		p.Add("admin_token", "is required (OPEN3DS_DS_ADMIN_TOKEN or OPEN3DS_DS_ADMIN_TOKEN_FILE)")
	}
	if len(c.StandInKey.Reveal()) < 16 {
		p.Add("stand_in_key", "is required, at least 16 bytes (OPEN3DS_DS_STAND_IN_KEY or _FILE)")
	}
	checkFIDOAuthData(&p, c.FIDOAuthData)
	for name, v := range map[string]string{"stand_in_not_enrolled": c.NotEnrolled, "stand_in_unavailable": c.Unavailable} {
		if v != "" && !ds.Policy(v).Valid() {
			p.Add(name, "must be attempts, unavailable or not-enrolled")
		}
	}
	ids := map[string]bool{}
	for _, item := range c.SDKKeys {
		id, prefix := dsSDKKeyItem(item)
		if prefix == "" {
			p.Add("sdk_keys", "%q names no file prefix ([ID=]PREFIX)", item)
		}
		if id != "" && ids[id] {
			p.Add("sdk_keys", "the key id %q is given twice", id)
		}
		ids[id] = true
	}
	if c.Timeout <= 0 || c.PReqEvery <= 0 {
		p.Add("timeout", "timeout and preq_every must be positive")
	}
	if c.RegistryRecheck < 0 || c.RegistryRecheck > time.Minute {
		p.Add("registry_recheck", "must be between 0 and 1m")
	}
	c.RoleConsole.check(&p)
	c.RoleOps.check(&p)
	checkRetention(&p, c.RetentionMaxAge, c.RetentionInterval, c.RetentionArchiveDir)
	c.RoleLog.check(&p)
	return p.Err()
}

// base is what the shared start-up needs of this configuration.
func (c *dsConfig) base() roleBase {
	return roleBase{DSN: c.DSN, Migrate: c.Migrate, CA: c.TLS.CA, Cert: c.TLS.Cert, Key: c.TLS.Key, Pprof: c.Pprof,
		MetricsToken: c.MetricsToken.Reveal(), Role: "ds",
		App: "ds", Ops: c.RoleOps}
}

// defaultRegistryRecheck bounds how long a registry change made on one DS instance takes to reach
// the AReqs of another: half a second, against one small read per half second instead of four
// reads per AReq.
const defaultRegistryRecheck = 500 * time.Millisecond

// dsListening, when set (by tests), hears the listeners' addresses once both are open.
var dsListening func(protocol, admin string)

func runServeDS(ctx context.Context, e env, args []string) error {
	cfg := &dsConfig{Listen: ":8443", AdminListen: "127.0.0.1:8444",
		Timeout: 10 * time.Second, PReqEvery: time.Hour, RegistryRecheck: defaultRegistryRecheck, RetentionInterval: defaultRetentionInterval, RoleOps: defaultRoleOps, RoleLog: defaultRoleLog}
	if ok, err := loadConfig(e, "serve ds", cfg, args); !ok {
		return err
	}
	log := cfg.logger(e.stderr)
	emv.SetOpaqueFIDOAuthData(cfg.FIDOAuthData == "opaque")
	rt, err := openRole(ctx, log, cfg.base().withEnv(e.getenv))
	if err != nil {
		return err
	}
	defer rt.Close()

	// The listeners open first, so that a DS given only --listen knows the URL it is reached at.
	lns, err := listenAll(cfg.Listen, cfg.AdminListen)
	if err != nil {
		return err
	}
	defer closeAll(lns)
	if cfg.URL == "" {
		cfg.URL = dsSelfURL(lns[0].Addr())
	}
	proto, admin, err := buildDS(cfg, rt)
	if err != nil {
		return err
	}
	stopRetention, err := rt.startRetention(ctx, ds.RetentionSpec(), cfg.RetentionMaxAge, cfg.RetentionInterval, cfg.RetentionArchiveDir)
	if err != nil {
		return err
	}
	defer stopRetention()

	log.Info("DS listening", "protocol", lns[0].Addr().String(), "admin", lns[1].Addr().String(), "url", cfg.URL, "store", store.RedactDSN(cfg.DSN))
	if dsListening != nil {
		dsListening(lns[0].Addr().String(), lns[1].Addr().String())
	}
	// Either listener failing stops both; so does ctx ending.
	return serveListeners(ctx, "serve ds", rt.drain, listener{proto, lns[0]}, listener{admin, lns[1]})
}

// buildDS makes the DS's protocol server (mutual TLS) and admin server from its configuration, whose
// URL must be set, and its runtime.
func buildDS(cfg *dsConfig, rt *roleRuntime) (proto, admin *http.Server, err error) {
	dsMetrics, err := ds.NewMetrics(rt.reg)
	if err != nil {
		return nil, nil, err
	}
	keys, err := dsSDKKeys(cfg.SDKKeys)
	if err != nil {
		return nil, nil, err
	}
	if len(keys) == 0 {
		rt.log.Warn("the DS holds no sdkEncData key (sdk_keys): every app AReq will be refused with Erro 302")
	}
	for _, k := range keys {
		// The ids only: which keys are live is what an operator rotating them needs to see.
		rt.log.Info("sdkEncData key loaded", "id", k.ID)
	}
	st := ds.NewSQLStore(rt.db)
	st.RegistryRecheck = cfg.RegistryRecheck
	server := ds.NewServer(ds.Config{Store: st, Recorder: rt.db, Client: rt.peerClient(0, 64, 90*time.Second), URL: cfg.URL,
		Timeout: cfg.Timeout, PReqEvery: cfg.PReqEvery, StandInKey: []byte(cfg.StandInKey.Reveal()), SDKKeys: keys,
		NotEnrolled: ds.Policy(cfg.NotEnrolled), Unavailable: ds.Policy(cfg.Unavailable), Metrics: dsMetrics, Log: rt.log,
		Drain: rt.drain})
	proto = rt.server(server.Handler(), rt.protocolTLS())
	// The DS has no vault keys: its console accounts' TOTP secrets are kept as they are (docs/console.md).
	rt.openConsole("ds", "Directory Server", nil, cfg.RoleConsole)
	ds.AddConsole(rt.console, ds.ConsoleOptions{Store: st, DB: rt.db, NotEnrolled: ds.Policy(cfg.NotEnrolled),
		Unavailable: ds.Policy(cfg.Unavailable), TLS: &rt.cert, CertFiles: dsCertFiles(cfg)})
	admin = rt.server(rt.adminMux(ds.NewAdmin(st, cfg.AdminToken.Reveal()).Handler()), nil)
	return proto, admin, nil
}

// dsSelfURL is the dsURL of a DS configured without one: its protocol listener's address, an
// unspecified host (":8443") read as localhost. ACSs send their RReqs to the dsURL of the AReq, so a
// fixed default would send them to the wrong port whenever --listen alone moved the DS.
func dsSelfURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "https://" + addr.String() + "/"
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return "https://" + net.JoinHostPort(host, port) + "/"
}

// dsCertFiles names the certificate files the DS relies on besides its own, for the console's
// expiry warnings: the scheme CA and the sdkEncData keys' certificates.
func dsCertFiles(cfg *dsConfig) []ds.CertFile {
	files := []ds.CertFile{{Use: "scheme CA", Path: cfg.TLS.CA}}
	for _, item := range cfg.SDKKeys {
		id, prefix := dsSDKKeyItem(item)
		use := "sdkEncData key " + filepath.Base(prefix)
		if id != "" {
			use += " (" + id + ")"
		}
		files = append(files, ds.CertFile{Use: use, Path: pki.PrefixPaths(prefix).Cert})
	}
	return files
}
