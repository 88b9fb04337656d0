package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/open3ds/open3ds/internal/acs"
	"github.com/open3ds/open3ds/internal/authvalue"
	"github.com/open3ds/open3ds/internal/backtest"
	"github.com/open3ds/open3ds/internal/config"
	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/logx"
	"github.com/open3ds/open3ds/internal/notify"
	"github.com/open3ds/open3ds/internal/otp"
	"github.com/open3ds/open3ds/internal/risk"
	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/vault"
)

func init() {
	serveGroup.add(command{name: "acs", summary: "the ACS: AReq endpoint (mutual TLS, DS only) and admin API", run: runServeACS})
}

// acsConfig is the configuration of `open3ds serve acs`. Each issuer's authentication-value keys come
// from OPEN3DS_ACS_AUTHVALUE_KEYS_<REF> (or its _FILE twin), REF being the issuer's key reference in
// upper case with dashes as underscores; authvalue_keys serves issuers without their own.
type acsConfig struct {
	Listen       string `yaml:"listen" env:"ACS_LISTEN" flag:"listen" help:"protocol listener address (mutual TLS, DS certificates only)"`
	AdminListen  string `yaml:"admin_listen" env:"ACS_ADMIN_LISTEN" flag:"admin-listen" help:"admin API and /metrics listener (plain HTTP; keep it on loopback)"`
	DSN          string `yaml:"dsn" env:"DSN" flag:"dsn" help:"the store: postgres://… or sqlite:PATH"`
	Migrate      bool   `yaml:"migrate" env:"ACS_MIGRATE" flag:"migrate" help:"apply pending PostgreSQL migrations on start"`
	ChallengeURL string `yaml:"challenge_url" env:"ACS_CHALLENGE_URL" flag:"challenge-url" help:"public URL of the challenge page, sent as acsURL"`
	// The app challenge: its URL on the public listener (POST with a JWE) and the content-signing
	// certificate and key (pki init's acs-signing) that sign acsSignedContent. Without the key,
	// app AReqs that need a challenge get the issuer's no-challenge policy.
	AppURL     string `yaml:"app_url" env:"ACS_APP_URL" flag:"app-url" help:"public URL of the app challenge (the public listener's /app), sent in acsSignedContent"`
	ACSSigning struct {
		Cert string `yaml:"cert" env:"CERT" flag:"cert" help:"the ACS content-signing certificate (PEM), intermediates after it"`
		Key  string `yaml:"key" env:"KEY" flag:"key" help:"its private key file (PEM)"`
	} `yaml:"acs_signing" env:"ACS_SIGNING" flag:"acs-signing"`
	// Decoupled authentication (transStatus D): the approval page's URL on the public listener
	// (the challenge URL's /decoupled/ when empty) and how long the ACS waits for the cardholder.
	DecoupledURL string        `yaml:"decoupled_url" env:"ACS_DECOUPLED_URL" flag:"decoupled-url" help:"public URL prefix of the decoupled approval page, ending in /decoupled/ (derived from challenge_url when empty)"`
	DecoupledMax time.Duration `yaml:"decoupled_max" env:"ACS_DECOUPLED_MAX" flag:"decoupled-max" help:"longest wait for a decoupled approval, whatever the requestor allows (default 30m)"`
	DecoupledMin time.Duration `yaml:"decoupled_min" env:"ACS_DECOUPLED_MIN" flag:"decoupled-min" help:"least time the ACS tries decoupled in; a requestor allowing less gets a challenge or N reason 25 (default 1m)"`
	RiskPolicies string        `yaml:"risk_policies" env:"ACS_RISK_POLICIES" flag:"risk-policies" help:"risk policy file (YAML), reloaded when it changes; empty for the built-in default"`
	Reference    string        `yaml:"reference_number" env:"ACS_REFERENCE_NUMBER" flag:"reference-number" help:"acsReferenceNumber (EMVCo approval number)"`
	DSURL        string        `yaml:"ds_url" env:"ACS_DS_URL" flag:"ds-url" help:"the DS's RReq URL, for AReqs that carried no dsURL"`
	OperatorID   string        `yaml:"operator_id" env:"ACS_OPERATOR_ID" flag:"operator-id" help:"acsOperatorID"`
	TLS          struct {
		CA   string `yaml:"ca" env:"CA" flag:"ca" help:"the scheme CA certificate (PEM): callers must chain to it"`
		Cert string `yaml:"cert" env:"CERT" flag:"cert" help:"the ACS certificate (PEM)"`
		Key  string `yaml:"key" env:"KEY" flag:"key" help:"the ACS private key file (PEM)"`
	} `yaml:"tls" env:"ACS_TLS" flag:"tls"`
	VaultKeys     logx.Secret `yaml:"vault_keys" env:"VAULT_KEYS" help:"PAN encryption keyring spec"`
	AuthValueKeys logx.Secret `yaml:"authvalue_keys" env:"ACS_AUTHVALUE_KEYS" help:"authentication-value key spec for issuers without their own"`
	AdminToken    logx.Secret `yaml:"admin_token" env:"ACS_ADMIN_TOKEN" help:"bearer token of the admin API"`
	// The public listener serves shoppers' browsers: the 3DS Method and the challenge pages.
	PublicListen string `yaml:"public_listen" env:"ACS_PUBLIC_LISTEN" flag:"public-listen" help:"public HTTPS listener for the 3DS Method and challenge pages (e.g. :9445); off when empty"`
	PublicTLS    struct {
		Cert string `yaml:"cert" env:"CERT" flag:"cert" help:"certificate browsers see (PEM); the ACS certificate when empty"`
		Key  string `yaml:"key" env:"KEY" flag:"key" help:"its private key file (PEM)"`
	} `yaml:"public_tls" env:"ACS_PUBLIC_TLS" flag:"public-tls"`
	MethodMode string      `yaml:"method_mode" env:"ACS_METHOD_MODE" flag:"method-mode" help:"3DS Method answer: page (collect the browser's traits; a browser without JavaScript cannot notify by itself) or redirect (a 307 straight to the notification URL: every browser notifies at once, only the server's view is kept)"`
	OTPKey     logx.Secret `yaml:"otp_key" env:"ACS_OTP_KEY" help:"key (32+ bytes) hashing one-time codes; required with public_listen"`
	// Notify configures the providers that carry codes; serve_acs_notify.go explains the choice per issuer.
	Notify        notify.Config `yaml:"notify" env:"ACS_NOTIFY" flag:"notify"`
	NotifyIssuers []string      `yaml:"notify_issuers" env:"ACS_NOTIFY_ISSUERS" flag:"notify-issuers" help:"issuers' own providers, ISSUER_ID=SMS/EMAIL (e.g. bank-a=smpp/smtp); others use notify.sms and notify.email"`
	// DevOutbox allows the development outbox as a provider. It keeps every code it is given and
	// shows it on the admin listener (to the admin token's holder), which no cardholder's code should
	// ever be: a production ACS names real providers and leaves this off.
	DevOutbox bool `yaml:"dev_outbox" env:"ACS_DEV_OUTBOX" flag:"dev-outbox" help:"development only: allow the outbox provider, which shows every code at /outbox/ on the admin listener"`
	// IPCountries names the operator's IP-to-country table (NETWORK,CC a line) that the risk
	// engine's locale rule compares a device's locale with; without it the rule stays silent.
	IPCountries  string `yaml:"ip_countries" env:"ACS_IP_COUNTRIES" flag:"ip-countries" help:"IP-to-country table, NETWORK,CC a line (e.g. a CSV export of an IP-location database), for the locale_ip_country risk rule"`
	FIDOAuthData string `yaml:"fido_auth_data" env:"ACS_FIDO_AUTH_DATA" flag:"fido-auth-data" help:"threeDSReqAuthData of a FIDO login (threeDSReqAuthMethod 06/07): webauthn, a WebAuthn assertion, checked (default), or opaque, any string, for a scheme whose requestors send their own format (the risk engine then gives FIDO logins no credit)"`
	// Retention (docs/operations.md): off while the maximum age is 0.
	RetentionMaxAge     string        `yaml:"retention_max_age" env:"ACS_RETENTION_MAX_AGE" flag:"retention-max-age" help:"remove finished transactions and their messages once older than this: whole days (90d) or a duration (2160h), at least 24h; empty or 0 keeps everything"`
	RetentionInterval   time.Duration `yaml:"retention_interval" env:"ACS_RETENTION_INTERVAL" flag:"retention-interval" help:"how often the retention job runs, once across all instances sharing the store"`
	RetentionArchiveDir string        `yaml:"retention_archive_dir" env:"ACS_RETENTION_ARCHIVE_DIR" flag:"retention-archive-dir" help:"write the rows retention removes to a JSON-lines file per run in this directory first (default: purge without archive)"`

	RoleConsole
	RoleOps
	RoleLog
}

// Validate lists every problem of the configuration at once.
func (c *acsConfig) Validate() error {
	var p config.Problems
	if c.DSN == "" {
		p.Add("dsn", "is required")
	}
	if c.TLS.CA == "" || c.TLS.Cert == "" || c.TLS.Key == "" {
		p.Add("tls", "ca, cert and key are all required")
	}
	if c.AdminToken == "" {
		p.Add("admin_token", "is required (OPEN3DS_ACS_ADMIN_TOKEN or OPEN3DS_ACS_ADMIN_TOKEN_FILE)")
	}
	if _, err := vault.ParseKeyring(c.VaultKeys.Reveal()); err != nil {
		p.Add("vault_keys", "is required and must be a valid keyring spec (OPEN3DS_VAULT_KEYS or _FILE)")
	}
	if c.AuthValueKeys != "" {
		if _, err := authvalue.ParseKeys(c.AuthValueKeys.Reveal()); err != nil {
			p.Add("authvalue_keys", "must be a valid key spec")
		}
	}
	checkFIDOAuthData(&p, c.FIDOAuthData)
	if !strings.HasPrefix(c.ChallengeURL, "https://") {
		p.Add("challenge_url", "must be an https URL")
	}
	if c.DecoupledURL != "" && (!strings.HasPrefix(c.DecoupledURL, "https://") || !strings.HasSuffix(c.DecoupledURL, "/")) {
		p.Add("decoupled_url", "must be an https URL ending in /")
	}
	if c.DecoupledMax < 0 || c.DecoupledMin < 0 || (c.DecoupledMax > 0 && c.DecoupledMin > c.DecoupledMax) {
		p.Add("decoupled_min", "must be at least zero and at most decoupled_max")
	}
	if (c.ACSSigning.Cert == "") != (c.ACSSigning.Key == "") {
		p.Add("acs_signing", "cert and key go together")
	}
	if c.ACSSigning.Cert != "" && !strings.HasPrefix(c.AppURL, "https://") {
		p.Add("app_url", "must be an https URL when acs_signing is set")
	}
	if c.PublicListen != "" && len(c.OTPKey.Reveal()) < otp.MinKeyLen {
		p.Add("otp_key", "must be at least 32 bytes when public_listen is set (OPEN3DS_ACS_OTP_KEY or _FILE)")
	}
	if c.MethodMode != "page" && c.MethodMode != "redirect" {
		p.Add("method_mode", "must be page or redirect")
	}
	c.checkNotifyIssuers(&p)
	if c.PublicListen != "" && !c.DevOutbox {
		c.checkNoOutbox(&p)
	}
	c.RoleConsole.check(&p)
	c.RoleOps.check(&p)
	checkRetention(&p, c.RetentionMaxAge, c.RetentionInterval, c.RetentionArchiveDir)
	c.RoleLog.check(&p)
	return p.Err()
}

// issuerAuthValueKeysEnv starts the variable (and, with _FILE after the reference, its file twin) that
// holds one issuer's authentication-value keys.
const issuerAuthValueKeysEnv = "OPEN3DS_ACS_AUTHVALUE_KEYS_"

// authValueKeys finds an issuer's keys in the environment on first use and keeps them.
type authValueKeys struct {
	getenv   func(string) string
	fallback string
	log      *slog.Logger
	mu       sync.Mutex
	cache    map[string]acs.AuthValueKeys
}

func (k *authValueKeys) lookup(ref string) (acs.AuthValueKeys, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if v, ok := k.cache[ref]; ok {
		return v, v != nil
	}
	name := issuerAuthValueKeysEnv + strings.ToUpper(strings.ReplaceAll(ref, "-", "_"))
	spec := k.getenv(name)
	if p := k.getenv(name + "_FILE"); spec == "" && p != "" {
		if b, err := os.ReadFile(p); err == nil {
			spec = strings.TrimSpace(string(b))
		}
	}
	if spec == "" {
		spec = k.fallback
	}
	var out acs.AuthValueKeys
	if keys, err := authvalue.ParseKeys(spec); err == nil {
		out = acs.AuthValues(keys)
	} else {
		k.log.Error("no usable authentication-value keys for an issuer", "ref", ref, "variable", name)
	}
	k.cache[ref] = out
	return out, out != nil
}

// base is what the shared start-up needs of this configuration.
func (c *acsConfig) base() roleBase {
	return roleBase{DSN: c.DSN, Migrate: c.Migrate, CA: c.TLS.CA, Cert: c.TLS.Cert, Key: c.TLS.Key, Pprof: c.Pprof,
		MetricsToken: c.MetricsToken.Reveal(), Role: "acs",
		App: "acs", Ops: c.RoleOps}
}

// acsListening, when set (by tests), hears the listeners' addresses once both are open.
var acsListening func(protocol, admin string)

func runServeACS(ctx context.Context, e env, args []string) error {
	cfg := &acsConfig{Listen: ":9443", AdminListen: "127.0.0.1:9444", ChallengeURL: "https://localhost:9445/challenge",
		Reference: "OPEN3DS-ACS", MethodMode: "page", RetentionInterval: defaultRetentionInterval, RoleOps: defaultRoleOps, RoleLog: defaultRoleLog}
	if ok, err := loadConfig(e, "serve acs", cfg, args); !ok {
		return err
	}
	log := cfg.logger(e.stderr)
	emv.SetOpaqueFIDOAuthData(cfg.FIDOAuthData == "opaque")

	// A bad policy file is a configuration mistake: it is reported before anything is opened.
	riskSet := risk.DefaultSet()
	if cfg.RiskPolicies != "" {
		var err error
		if riskSet, err = risk.LoadSet(cfg.RiskPolicies); err != nil {
			return exitError{code: 2, msg: fmt.Sprintf("risk_policies: %v", err)}
		}
		go riskSet.Watch(ctx, log)
	}
	rt, err := openRole(ctx, log, cfg.base().withEnv(e.getenv))
	if err != nil {
		return err
	}
	defer rt.Close()
	r, err := buildACS(cfg, rt, riskSet, e.getenv)
	if err != nil {
		return err
	}
	// The RReq sender runs in every instance; leases keep them from sending the same row. It stops
	// taking rows when ctx ends; the batch it is sending then is the drain's to wait for.
	go r.sender.Run(ctx)
	stopRetention, err := rt.startRetention(ctx, acs.RetentionSpec(), cfg.RetentionMaxAge, cfg.RetentionInterval, cfg.RetentionArchiveDir)
	if err != nil {
		return err
	}
	defer stopRetention()
	serving := []listener{}
	if cfg.PublicListen != "" {
		pub, stop, err := acsServePublic(ctx, cfg, rt, r)
		if err != nil {
			return err
		}
		// Deferred before the listeners are served, so it runs after they have drained.
		defer stop()
		serving = append(serving, pub)
	}
	proto := rt.server(r.svc.Handler(), rt.protocolTLS())
	admin := rt.server(r.adminMux, nil)

	lns, err := listenAll(cfg.Listen, cfg.AdminListen)
	if err != nil {
		return err
	}
	log.Info("ACS listening", "protocol", lns[0].Addr().String(), "admin", lns[1].Addr().String(), "store", store.RedactDSN(cfg.DSN))
	if acsListening != nil {
		acsListening(lns[0].Addr().String(), lns[1].Addr().String())
	}
	serving = append(serving, listener{proto, lns[0]}, listener{admin, lns[1]})
	return serveListeners(ctx, "serve acs", rt.drain, serving...)
}

// acsRole is a built ACS: the protocol service, the store its browser side shares, the RReq sender
// the caller runs, and the admin mux to which the public side adds its outbox.
type acsRole struct {
	svc      *acs.Service
	store    *acs.SQLStore
	sender   *acs.Sender
	adminMux *http.ServeMux
}

// buildACS makes the ACS from its configuration, its runtime and its risk policies. getenv finds each
// issuer's authentication-value keys on first use.
func buildACS(cfg *acsConfig, rt *roleRuntime, riskSet *risk.Set, getenv func(string) string) (*acsRole, error) {
	ring, _ := vault.ParseKeyring(cfg.VaultKeys.Reveal())
	st := acs.NewSQLStore(rt.db, acs.Vault(ring))
	keys := &authValueKeys{getenv: getenv, fallback: cfg.AuthValueKeys.Reveal(), log: rt.log, cache: map[string]acs.AuthValueKeys{}}
	svc := &acs.Service{Store: st, Risk: acs.Risk(riskSet), Keys: keys.lookup, ChallengeURL: cfg.ChallengeURL,
		ReferenceNumber: cfg.Reference, OperatorID: cfg.OperatorID, Log: rt.log, Exchanges: rt.db, AppURL: cfg.AppURL,
		DecoupledMax: cfg.DecoupledMax, DecoupledMin: cfg.DecoupledMin, Drain: rt.drain}
	if cfg.ACSSigning.Cert != "" {
		signing, err := acs.LoadAppSigning(cfg.ACSSigning.Cert, cfg.ACSSigning.Key)
		if err != nil {
			return nil, exitError{code: 2, msg: fmt.Sprintf("acs_signing: %v", err)}
		}
		svc.AppSigning = signing
	}
	if cfg.IPCountries != "" {
		f, err := os.Open(cfg.IPCountries)
		if err != nil {
			return nil, exitError{code: 2, msg: fmt.Sprintf("ip_countries: %v", err)}
		}
		defer f.Close()
		if svc.IPCountries, err = acs.ParseIPCountries(f); err != nil {
			return nil, exitError{code: 2, msg: fmt.Sprintf("ip_countries %s: %v", cfg.IPCountries, err)}
		}
		rt.log.Info("IP country table loaded", "networks", svc.IPCountries.Len())
	}
	sender := &acs.Sender{Store: st, DSURL: cfg.DSURL, Log: rt.log, Client: rt.peerClient(30*time.Second, 16, 0), Drain: rt.drain}
	svc.Ended = sender.Wake
	rt.openConsole("acs", "ACS", ring, cfg.RoleConsole)
	acs.AddConsole(rt.console, st, otp.Policy{})
	backtest.AddConsole(rt.console, st, riskSet, nil)
	adminMux := rt.adminMux((&acs.Admin{Store: st, Keys: keys.lookup, Token: cfg.AdminToken.Reveal()}).Handler())
	return &acsRole{svc: svc, store: st, sender: sender, adminMux: adminMux}, nil
}
