package main

import (
	"crypto/tls"
	"encoding/base64"
	"flag"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/open3ds/open3ds/internal/config"
	"github.com/open3ds/open3ds/internal/pki"
	"github.com/open3ds/open3ds/internal/vault"
)

// TestServeACSPublicListenerServesTheThreeDSMethod runs `open3ds serve acs --public-listen` and posts
// a 3DS Method form to it over HTTPS, as a shopper's browser would. The development outbox it runs
// with shows codes only to the admin token's holder, and /metrics asks for its own token.
func TestServeACSPublicListenerServesTheThreeDSMethod(t *testing.T) {
	c, l := newServeACSCLI(t, map[string]string{"OPEN3DS_ACS_PUBLIC_LISTEN": "127.0.0.1:0", "OPEN3DS_ACS_OTP_KEY": strings.Repeat("o", 32)})

	// Without a provider and without --dev-outbox the codes would go to the outbox: refused at start.
	_, errOut, err := c.run("", "serve", "acs")
	if err == nil || !strings.Contains(err.Error()+errOut, "notify.sms") || !strings.Contains(err.Error()+errOut, "dev-outbox") {
		t.Fatalf("serve acs with the outbox and no --dev-outbox: %v\n%s", err, errOut)
	}

	c.environ["OPEN3DS_ACS_DEV_OUTBOX"] = "true"
	c.environ["OPEN3DS_METRICS_TOKEN"] = "scrape"
	srv := startServeACS(t, c)
	pool, _ := pki.LoadPool(l.CA.Cert)
	browser := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}}}
	data := base64.RawURLEncoding.EncodeToString([]byte(`{"threeDSServerTransID":"3dfc51f7-a5f7-440a-b848-ab95222dd6c8","threeDSMethodNotificationURL":"https://m.example/n"}`))
	resp, err := browser.PostForm("https://"+srv.public+"/method", url.Values{"threeDSMethodData": {data}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `action="https://m.example/n"`) {
		t.Errorf("3DS Method: %d %s", resp.StatusCode, body)
	}

	for _, tc := range []struct {
		name, path, bearer string
		want               int
	}{
		{"the outbox without a token", "/outbox/", "", http.StatusUnauthorized},
		{"the outbox's JSON without a token", "/outbox/outbox.json", "", http.StatusUnauthorized},
		{"the outbox with a wrong token", "/outbox/?token=nope", "", http.StatusUnauthorized},
		{"the outbox with the admin token in its link", "/outbox/?token=tok", "", http.StatusOK},
		{"the outbox's JSON with the admin token as bearer", "/outbox/outbox.json", "tok", http.StatusOK},
		{"/metrics without its token", "/metrics", "", http.StatusUnauthorized},
		{"/metrics with the admin token", "/metrics", "tok", http.StatusUnauthorized},
		{"/metrics with its token in the link", "/metrics?token=scrape", "", http.StatusUnauthorized},
		{"/metrics with its token as bearer", "/metrics", "scrape", http.StatusOK},
	} {
		req, _ := http.NewRequest("GET", "http://"+srv.admin+tc.path, nil)
		if tc.bearer != "" {
			req.Header.Set("Authorization", "Bearer "+tc.bearer)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, res.StatusCode, tc.want)
		}
	}
}

// TestServeACSRefusesAnIPCountryTableItCannotRead: a table with a bad line stops the start with the
// setting and the line named, rather than an ACS whose locale rule silently knows nothing.
func TestServeACSRefusesAnIPCountryTableItCannotRead(t *testing.T) {
	table := filepath.Join(t.TempDir(), "countries.csv")
	if err := os.WriteFile(table, []byte("203.0.113.0/24,JP\n198.51.100.0/24,Japan\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, _ := newServeACSCLI(t, map[string]string{"OPEN3DS_ACS_IP_COUNTRIES": table})
	_, errOut, err := c.run("", "serve", "acs")
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "ip_countries") || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("serve acs with a bad IP table: exit %d, %v\n%s", exitCode(err), err, errOut)
	}
}

// TestServeACSRefusesTheOutboxOnEveryChannelUnlessDevOutbox: with the public listener on, each way a
// code could reach the development outbox (the default of a channel, or one issuer's choice) is
// named at start, and dev_outbox lets them all through.
func TestServeACSRefusesTheOutboxOnEveryChannelUnlessDevOutbox(t *testing.T) {
	providers := map[string]string{"OPEN3DS_ACS_NOTIFY_SMS": "webhook", "OPEN3DS_ACS_NOTIFY_WEBHOOK_URL": "https://sms.example/send",
		"OPEN3DS_ACS_NOTIFY_WEBHOOK_SECRET": "sixteen-bytes-or-more", "OPEN3DS_ACS_NOTIFY_EMAIL": "smtp",
		"OPEN3DS_ACS_NOTIFY_SMTP_ADDR": "127.0.0.1:25", "OPEN3DS_ACS_NOTIFY_SMTP_FROM": "otp@bank.example"}
	keys, err := vault.NewRandomSpec()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		env    map[string]string
		want   string // the problem named; empty for none
		devBox bool
	}{
		{"real providers for both channels start", providers, "", false},
		{"e-mail left to its default is refused", map[string]string{"OPEN3DS_ACS_NOTIFY_EMAIL": ""}, "notify.email", false},
		{"one issuer's outbox is refused", map[string]string{"OPEN3DS_ACS_NOTIFY_ISSUERS": "bank-b=/outbox"}, "issuer bank-b", false},
		{"dev_outbox lets an issuer's outbox through", map[string]string{"OPEN3DS_ACS_NOTIFY_ISSUERS": "bank-b=/outbox"}, "", true},
		{"dev_outbox lets the defaults through", map[string]string{"OPEN3DS_ACS_NOTIFY_SMS": "", "OPEN3DS_ACS_NOTIFY_EMAIL": ""}, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"OPEN3DS_DSN": "sqlite:acs.db", "OPEN3DS_VAULT_KEYS": keys,
				"OPEN3DS_ACS_TLS_CA": "ca.pem", "OPEN3DS_ACS_TLS_CERT": "acs.pem", "OPEN3DS_ACS_TLS_KEY": "acs.key",
				"OPEN3DS_ACS_ADMIN_TOKEN": "tok", "OPEN3DS_ACS_PUBLIC_LISTEN": "127.0.0.1:0", "OPEN3DS_ACS_OTP_KEY": strings.Repeat("o", 32)}
			maps.Copy(env, providers)
			maps.Copy(env, tc.env)
			if tc.devBox {
				env["OPEN3DS_ACS_DEV_OUTBOX"] = "true"
			}
			cfg := &acsConfig{ChallengeURL: "https://acs.example/challenge", MethodMode: "page", RoleOps: defaultRoleOps, RoleLog: defaultRoleLog}
			err := config.Load(cfg, flag.NewFlagSet("t", flag.ContinueOnError), nil, func(k string) string { return env[k] })
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "development outbox")):
				t.Errorf("problems = %v, want %s named as the development outbox", err, tc.want)
			}
		})
	}
}
