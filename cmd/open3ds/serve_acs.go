package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/open3ds/open3ds/internal/acs"
	"github.com/open3ds/open3ds/internal/authvalue"
	"github.com/open3ds/open3ds/internal/config"
	"github.com/open3ds/open3ds/internal/httpx"
	"github.com/open3ds/open3ds/internal/logx"
	"github.com/open3ds/open3ds/internal/otp"
	"github.com/open3ds/open3ds/internal/pki"
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
	RiskPolicies string `yaml:"risk_policies" env:"ACS_RISK_POLICIES" flag:"risk-policies" help:"risk policy file (YAML), reloaded when it changes; empty for the built-in default"`
	Reference    string `yaml:"reference_number" env:"ACS_REFERENCE_NUMBER" flag:"reference-number" help:"acsReferenceNumber (EMVCo approval number)"`
	DSURL        string `yaml:"ds_url" env:"ACS_DS_URL" flag:"ds-url" help:"the DS's RReq URL, for AReqs that carried no dsURL"`
	OperatorID   string `yaml:"operator_id" env:"ACS_OPERATOR_ID" flag:"operator-id" help:"acsOperatorID"`
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
	OTPKey    logx.Secret `yaml:"otp_key" env:"ACS_OTP_KEY" help:"key (32+ bytes) hashing one-time codes; required with public_listen"`
	LogLevel  string      `yaml:"log_level" env:"LOG_LEVEL" flag:"log-level" help:"debug, info, warn or error"`
	LogFormat string      `yaml:"log_format" env:"LOG_FORMAT" flag:"log-format" help:"json or text"`
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
	if !strings.HasPrefix(c.ChallengeURL, "https://") {
		p.Add("challenge_url", "must be an https URL")
	}
	if c.PublicListen != "" && len(c.OTPKey.Reveal()) < otp.MinKeyLen {
		p.Add("otp_key", "must be at least 32 bytes when public_listen is set (OPEN3DS_ACS_OTP_KEY or _FILE)")
	}
	var lvl slog.Level
	if lvl.UnmarshalText([]byte(c.LogLevel)) != nil {
		p.Add("log_level", "must be debug, info, warn or error")
	}
	return p.Err()
}

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
	name := "OPEN3DS_ACS_AUTHVALUE_KEYS_" + strings.ToUpper(strings.ReplaceAll(ref, "-", "_"))
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

// acsListening, when set (by tests), hears the listeners' addresses once both are open.
var acsListening func(protocol, admin string)

func runServeACS(ctx context.Context, e env, args []string) error {
	cfg := &acsConfig{Listen: ":9443", AdminListen: "127.0.0.1:9444", ChallengeURL: "https://localhost:9445/challenge",
		Reference: "OPEN3DS-ACS", LogLevel: "info", LogFormat: "json"}
	fs := flag.NewFlagSet("serve acs", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	if err := config.Load(cfg, fs, args, e.getenv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return exitError{code: 2, msg: err.Error()}
	}
	var lvl slog.Level
	lvl.UnmarshalText([]byte(cfg.LogLevel))
	log := logx.New(e.stderr, lvl, cfg.LogFormat)

	ring, _ := vault.ParseKeyring(cfg.VaultKeys.Reveal())
	riskSet := risk.DefaultSet()
	if cfg.RiskPolicies != "" {
		var err error
		if riskSet, err = risk.LoadSet(cfg.RiskPolicies); err != nil {
			return exitError{code: 2, msg: fmt.Sprintf("risk_policies: %v", err)}
		}
		go riskSet.Watch(ctx, log)
	}
	db, err := store.Open(ctx, cfg.DSN, store.Options{Migrate: cfg.Migrate})
	if err != nil {
		return err
	}
	defer db.Close()
	cert, err := pki.LoadKeyPair(cfg.TLS.Cert, cfg.TLS.Key)
	if err != nil {
		return err
	}
	pool, err := pki.LoadPool(cfg.TLS.CA)
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	metrics, err := httpx.NewMetrics(reg)
	if err != nil {
		return err
	}
	st := acs.NewSQLStore(db, acs.Vault(ring))
	keys := &authValueKeys{getenv: e.getenv, fallback: cfg.AuthValueKeys.Reveal(), log: log, cache: map[string]acs.AuthValueKeys{}}
	svc := &acs.Service{Store: st, Risk: acs.Risk(riskSet), Keys: keys.lookup, ChallengeURL: cfg.ChallengeURL,
		ReferenceNumber: cfg.Reference, OperatorID: cfg.OperatorID, Log: log, Exchanges: db}
	// The RReq sender runs in every instance; leases keep them from sending the same row.
	sender := &acs.Sender{Store: st, DSURL: cfg.DSURL, Log: log, Client: &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: pki.ClientConfig(&cert, pool, ""), MaxIdleConnsPerHost: 16}}}
	go sender.Run(ctx)
	proto := httpx.NewServer(httpx.Standard(log, metrics)(svc.Handler()), log)
	proto.TLSConfig = pki.ServerConfig(cert, pool, true)
	adminMux := http.NewServeMux()
	adminMux.Handle("/v1/", (&acs.Admin{Store: st, Keys: keys.lookup, Token: cfg.AdminToken.Reveal()}).Handler())
	adminMux.Handle("GET /metrics", httpx.MetricsHandler(reg))
	if cfg.PublicListen != "" {
		stop, err := acsServePublic(ctx, cfg, log, metrics, svc, st, adminMux, cert)
		if err != nil {
			return err
		}
		defer stop()
	}
	admin := httpx.NewServer(httpx.Standard(log, metrics)(adminMux), log)
	return acsServeBoth(ctx, log, "ACS", proto, cfg.Listen, admin, cfg.AdminListen, cfg.DSN)
}

// acsServeBoth runs the protocol and admin servers until ctx ends or either fails.
func acsServeBoth(ctx context.Context, log *slog.Logger, role string, proto *http.Server, protoAddr string, admin *http.Server, adminAddr, dsn string) error {
	protoLn, err := net.Listen("tcp", protoAddr)
	if err != nil {
		return err
	}
	adminLn, err := net.Listen("tcp", adminAddr)
	if err != nil {
		protoLn.Close()
		return err
	}
	log.Info(role+" listening", "protocol", protoLn.Addr().String(), "admin", adminLn.Addr().String(), "store", store.RedactDSN(dsn))
	if acsListening != nil {
		acsListening(protoLn.Addr().String(), adminLn.Addr().String())
	}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	errs := make(chan error, 2)
	go func() { errs <- httpx.Serve(sctx, proto, protoLn) }()
	go func() { errs <- httpx.Serve(sctx, admin, adminLn) }()
	var first error
	for range 2 {
		if err := <-errs; err != nil && first == nil && !errors.Is(err, context.Canceled) {
			first = err
		}
		stop()
	}
	if first != nil {
		return fmt.Errorf("serve %s: %w", strings.ToLower(role), first)
	}
	return nil
}
