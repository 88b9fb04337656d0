package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/open3ds/open3ds/internal/acs"
	"github.com/open3ds/open3ds/internal/config"
	"github.com/open3ds/open3ds/internal/notify"
	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/store/storetest"
	"github.com/open3ds/open3ds/internal/vault"
)

// mailSink is an in-process SMTP server (go-smtp) recording the recipients of what it accepts.
type mailSink struct {
	addr string
	mu   sync.Mutex
	to   []string
}

func startMailSink(t *testing.T) *mailSink {
	t.Helper()
	m := &mailSink{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &sinkSession{m: m}, nil }))
	srv.Domain = "sink.test"
	srv.ReadTimeout, srv.WriteTimeout = 5*time.Second, 5*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	m.addr = ln.Addr().String()
	return m
}

func (m *mailSink) recipients() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.to...)
}

type sinkSession struct {
	m  *mailSink
	to string
}

func (s *sinkSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = to
	return nil
}
func (s *sinkSession) Data(r io.Reader) error {
	if _, err := io.ReadAll(r); err != nil {
		return err
	}
	s.m.mu.Lock()
	s.m.to = append(s.m.to, s.to)
	s.m.mu.Unlock()
	return nil
}
func (s *sinkSession) Reset()        {}
func (s *sinkSession) Logout() error { return nil }

// notifyStore is a real SQLite ACS store holding one transaction of each of bank-a and bank-b.
func notifyStore(t *testing.T) *acs.SQLStore {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, storetest.SQLiteDSN(t), store.Options{Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	spec, err := vault.NewRandomSpec()
	if err != nil {
		t.Fatal(err)
	}
	ring, err := vault.ParseKeyring(spec)
	if err != nil {
		t.Fatal(err)
	}
	st := acs.NewSQLStore(db, acs.Vault(ring))
	for _, issuer := range []string{"bank-a", "bank-b"} {
		if err := st.RecordTransaction(ctx, acs.Transaction{ACSTransID: "tx-" + issuer, ThreeDSServerTransID: "s-" + issuer,
			IssuerID: issuer, PAN: "4000001234567891", MaskedPAN: "400000******7891", MessageVersion: "2.2.0",
			MessageCategory: "01", DeviceChannel: "02", TransStatus: "C", CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

func TestServeACSSendsEachIssuersCodesThroughItsChosenProviders(t *testing.T) {
	sink := startMailSink(t)
	cfg := &acsConfig{NotifyIssuers: []string{"bank-a=/smtp"}}
	cfg.Notify.SMTP.Addr, cfg.Notify.SMTP.From, cfg.Notify.SMTP.Security = sink.addr, "otp@bank-a.example", "none"
	st := notifyStore(t)
	d, err := openDelivery(context.Background(), cfg, slog.New(slog.DiscardHandler), st)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ids := map[string]string{}
	for issuer, to := range map[string]string{"bank-a": "a@example.com", "bank-b": "b@example.com"} {
		id, err := d.queue.Enqueue(notify.Message{Channel: notify.Email, To: to, Code: "246801", TransactionID: "tx-" + issuer, Locale: "en"})
		if err != nil {
			t.Fatal(err)
		}
		ids[issuer] = id
	}
	for issuer, id := range ids {
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			if st, _ := d.queue.Status(id); st.State == notify.Sent {
				break
			} else if st.State == notify.Failed || time.Now().After(deadline) {
				t.Fatalf("%s's code: %+v", issuer, st)
			}
		}
	}
	if got := sink.recipients(); len(got) != 1 || got[0] != "a@example.com" {
		t.Errorf("the SMTP server received mail for %v, want only bank-a's", got)
	}
	if len(d.outbox.Messages("b@example.com")) != 1 || len(d.outbox.Messages("a@example.com")) != 0 {
		t.Errorf("the outbox should hold bank-b's code alone")
	}
	// The queue records each code's provider for the console's Delivery page, once it is done.
	for issuer, want := range map[string]string{"bank-a": "smtp", "bank-b": "outbox"} {
		var stats []acs.ProviderStats
		for deadline := time.Now().Add(5 * time.Second); len(stats) == 0 && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if stats, err = st.DeliveryStats(context.Background(), acs.DeliveryFind{From: time.Now().Add(-time.Hour),
				To: time.Now().Add(time.Hour), Issuer: issuer}); err != nil {
				t.Fatal(err)
			}
		}
		if len(stats) != 1 || stats[0].Provider != want || stats[0].Channel != "email" || stats[0].Sent != 1 {
			t.Errorf("%s's deliveries are recorded as %+v, want one sent by %s", issuer, stats, want)
		}
	}
}

func TestServeACSRefusesBadPerIssuerProviders(t *testing.T) {
	for _, tc := range []struct{ name, entry, want string }{
		{"an entry without its slash is refused", "bank-a=smtp", "ISSUER_ID=SMS_PROVIDER/EMAIL_PROVIDER"},
		{"an unknown provider is refused", "bank-a=pigeon/", "must be outbox, webhook, messages-api or smpp"},
		{"a provider without its settings is refused", "bank-a=/smtp", "addr and from are required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			env := map[string]string{"OPEN3DS_ACS_NOTIFY_ISSUERS": tc.entry}
			err := run(context.Background(), []string{"serve", "acs"}, func(k string) string { return env[k] },
				strings.NewReader(""), io.Discard, &stderr)
			if exitCode(err) != 2 || !strings.Contains(err.Error(), "notify_issuers") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("exit %d: %v; want 2 naming notify_issuers and %q", exitCode(err), err, tc.want)
			}
		})
	}
}

func TestServeACSReadsProviderSecretsFromTheEnvironmentAndFiles(t *testing.T) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "smtp-password")
	if err := os.WriteFile(secretFile, []byte("from-a-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	spec, err := vault.NewRandomSpec()
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"OPEN3DS_DSN": "sqlite:" + filepath.Join(dir, "acs.db"), "OPEN3DS_ACS_TLS_CA": "ca.pem",
		"OPEN3DS_ACS_TLS_CERT": "acs.pem", "OPEN3DS_ACS_TLS_KEY": "acs.key", "OPEN3DS_ACS_ADMIN_TOKEN": "tok", "OPEN3DS_VAULT_KEYS": spec,
		"OPEN3DS_ACS_NOTIFY_EMAIL": "smtp", "OPEN3DS_ACS_NOTIFY_SMTP_ADDR": "127.0.0.1:25", "OPEN3DS_ACS_NOTIFY_SMTP_FROM": "otp@bank.example",
		"OPEN3DS_ACS_NOTIFY_SMTP_PASSWORD_FILE": secretFile, "OPEN3DS_ACS_NOTIFY_WEBHOOK_SECRET": "sixteen-bytes-or-more",
		"OPEN3DS_ACS_NOTIFY_ISSUERS": "bank-a=webhook/, bank-b=/outbox"}
	cfg := &acsConfig{ChallengeURL: "https://acs.example/challenge", RoleOps: defaultRoleOps, RoleLog: defaultRoleLog}
	err = config.Load(cfg, flag.NewFlagSet("t", flag.ContinueOnError), nil, func(k string) string { return env[k] })
	// bank-a's webhook has a secret but no URL: the one problem expected.
	if err == nil || !strings.Contains(err.Error(), "issuer bank-a: notify.webhook") || strings.Count(err.Error(), "notify_issuers") != 1 {
		t.Errorf("problems = %v, want exactly bank-a's webhook named", err)
	}
	if got := cfg.Notify.SMTP.Password.Reveal(); got != "from-a-file" {
		t.Errorf("the SMTP password from its _FILE is %q", got)
	}
	if got := cfg.Notify.Webhook.Secret.Reveal(); got != "sixteen-bytes-or-more" {
		t.Errorf("the webhook secret from the environment is %q", got)
	}
}

func FuzzParseNotifyIssuers(f *testing.F) {
	for _, seed := range []string{"bank-a=smpp/smtp", "bank-b=/smtp", "=/", "bank-a", "a=b/c=d/e", "bank-a=smtp"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, entry string) {
		got, err := parseNotifyIssuers(strings.Split(entry, ","))
		if err != nil {
			return
		}
		for id := range got {
			if id == "" || strings.TrimSpace(id) != id {
				t.Errorf("accepted an issuer id %q", id)
			}
		}
	})
}
