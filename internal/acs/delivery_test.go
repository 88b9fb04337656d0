package acs_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/open3ds/open3ds/internal/acs"
	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/notify"
	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/store/storetest"
)

// relay is an in-process SMTP server (go-smtp) that keeps every mail it accepts.
type relay struct {
	addr string
	mu   sync.Mutex
	got  []relayed
}

type relayed struct {
	to   string
	data string
}

func startRelay(tb testing.TB) *relay {
	tb.Helper()
	r := &relay{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &relaySession{r: r}, nil }))
	srv.Domain = "relay.test"
	srv.ReadTimeout, srv.WriteTimeout = 5*time.Second, 5*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	go srv.Serve(ln)
	tb.Cleanup(func() { srv.Close() })
	r.addr = ln.Addr().String()
	return r
}

func (r *relay) mails() []relayed {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]relayed(nil), r.got...)
}

type relaySession struct {
	r   *relay
	cur relayed
}

func (s *relaySession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *relaySession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.cur.to = to
	return nil
}
func (s *relaySession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.data = string(b)
	s.r.mu.Lock()
	s.r.got = append(s.r.got, s.cur)
	s.r.mu.Unlock()
	return nil
}
func (s *relaySession) Reset()        { s.cur = relayed{} }
func (s *relaySession) Logout() error { return nil }

// codeLine finds the code in a mail: the text part puts it on a line of its own.
var codeLine = regexp.MustCompile(`(?m)^\s*(\d{6,8})\r?$`)

// mailedCode waits for a mail to to and returns the code in it.
func (r *relay) mailedCode(tb testing.TB, to string) string {
	tb.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		for _, m := range r.mails() {
			if m.to == to {
				if c := codeLine.FindStringSubmatch(m.data); c != nil {
					return c[1]
				}
				tb.Fatalf("no code in the mail:\n%s", m.data)
			}
		}
	}
	tb.Fatalf("no mail to %s reached the relay", to)
	return ""
}

// useSenders puts a fresh queue over sender behind the shop's challenge pages.
func (s *shop) useSenders(tb testing.TB, sender notify.Sender) {
	tb.Helper()
	q := notify.NewQueue(sender, notify.QueueConfig{Timeout: 5 * time.Second})
	tb.Cleanup(func() { q.Close(context.Background()) })
	s.b.Notify = q
}

func TestEachIssuerSendsCodesThroughItsOwnChannels(t *testing.T) {
	s := newShop(t)
	mail := startRelay(t)
	smtpSender, err := notify.NewSMTPSender(notify.SMTPConfig{Addr: mail.addr, From: "Bank A <otp@bank-a.example>", Security: notify.NoTLS})
	if err != nil {
		t.Fatal(err)
	}
	senders := &acs.IssuerSenders{Transactions: s.e.store, Default: s.outbox,
		ByIssuer: map[string]notify.Sender{"bank-a": notify.Router{notify.Email: smtpSender, notify.SMS: s.outbox}}}
	s.useSenders(t, senders)

	// bank-a's cardholder asks for an e-mail: it travels over SMTP, and its code completes the challenge.
	id, server := s.challenge(t, "en-GB")
	p := s.act(t, s.start(t, id, server), "send", "dest", "email:0")
	p = s.act(t, p, "submit", "code", mail.mailedCode(t, email))
	if cres, _ := s.final(t, p, id); cres.TransStatus != "Y" {
		t.Errorf("the code that came by SMTP gave transStatus %s, want Y", cres.TransStatus)
	}
	if got := s.outbox.Messages(email); len(got) != 0 {
		t.Errorf("bank-a's e-mail also reached the development outbox: %d messages", len(got))
	}

	// bank-m has no senders of its own: its codes land in the development outbox.
	res := post(t, s.e.ds, s.e.url, areq(t, "2.2.0", "areq-browser-pa", map[string]any{"acctNumber": panMastercard})).(*emv.ARes)
	const other = "hanako@example.com"
	if _, err := senders.Send(context.Background(), notify.Message{Channel: notify.Email, To: other, Code: "135790",
		TransactionID: res.ACSTransID, Locale: "en"}); err != nil {
		t.Fatal(err)
	}
	if got := s.outbox.Messages(other); len(got) != 1 || got[0].Code != "135790" {
		t.Errorf("bank-m's code is not in the outbox: %+v", got)
	}
	if n := len(mail.mails()); n != 1 {
		t.Errorf("the relay received %d mails, want only bank-a's", n)
	}
}

func TestAnIssuerWithOwnSendersDoesNotSendWhenTheTransactionIsUnknown(t *testing.T) {
	s := newShop(t)
	senders := &acs.IssuerSenders{Transactions: s.e.store, Default: s.outbox,
		ByIssuer: map[string]notify.Sender{"bank-a": s.outbox}}
	_, err := senders.Send(context.Background(), notify.Message{Channel: notify.Email, To: email, Code: "1", TransactionID: "no-such-transaction"})
	if err == nil || len(s.outbox.Messages(email)) != 0 {
		t.Errorf("a code of an unknown transaction was sent (err %v)", err)
	}
}

// failingSMS refuses every SMS, as a gateway that is down does, and hands e-mail to the outbox.
func failingSMS(outbox *notify.Outbox) notify.Sender {
	return notify.SenderFunc(func(ctx context.Context, m notify.Message) (notify.Receipt, error) {
		if m.Channel == notify.SMS {
			return notify.Receipt{}, &notify.PermanentError{Err: errors.New("gateway refused the message")}
		}
		return outbox.Send(ctx, m)
	})
}

// refresh shows the code page again, as the shopper's reload does.
func (s *shop) refresh(tb testing.TB, p page, want string) page {
	tb.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if p = s.act(tb, p, "send"); strings.Contains(p.body, want) {
			return p
		}
	}
	tb.Fatalf("the page never said %q:\n%s", want, p.body)
	return p
}

func TestDeliveryStatusOnTheCodePage(t *testing.T) {
	t.Run("a failed SMS falls back to the cardholder's e-mail and the page says sent", func(t *testing.T) {
		s := newShop(t)
		s.useSenders(t, failingSMS(s.outbox))
		id, server := s.challenge(t, "en-GB")
		p := s.act(t, s.start(t, id, server), "send", "dest", "sms:0")
		p = s.refresh(t, p, "Sent.")
		p = s.act(t, p, "submit", "code", s.code(t, email, 1))
		if cres, _ := s.final(t, p, id); cres.TransStatus != "Y" {
			t.Errorf("the fallback e-mail's code gave transStatus %s, want Y", cres.TransStatus)
		}
	})
	for _, tc := range []struct{ lang, want string }{
		{"en-GB", "Sending failed — try the other channel."},
		{"ja-JP", "送信できませんでした。別の送信先をお試しください。"},
	} {
		t.Run("a failed SMS without an e-mail address says failed in "+tc.lang, func(t *testing.T) {
			s := newShop(t)
			ctx := context.Background()
			ch, err := s.e.store.CardholderByPAN(ctx, panEnrolled)
			if err != nil {
				t.Fatal(err)
			}
			ch.Emails = nil
			if err := s.e.store.UpdateCardholder(ctx, ch); err != nil {
				t.Fatal(err)
			}
			s.useSenders(t, failingSMS(s.outbox))
			id, server := s.challenge(t, tc.lang)
			p := s.act(t, s.start(t, id, server), "send", "dest", "sms:0")
			s.refresh(t, p, tc.want)
		})
	}
}

// BenchmarkIssuerSendersRouting measures what choosing an issuer's sender adds to each delivery:
// one transaction read from the store, on the queue's worker.
func BenchmarkIssuerSendersRouting(b *testing.B) {
	s := newShop(b)
	id, _ := s.challenge(b, "en-GB")
	discard := notify.SenderFunc(func(context.Context, notify.Message) (notify.Receipt, error) { return notify.Receipt{}, nil })
	senders := &acs.IssuerSenders{Transactions: s.e.store, Default: s.outbox, ByIssuer: map[string]notify.Sender{"bank-a": discard}}
	m := notify.Message{Channel: notify.SMS, To: mobile, Code: "123456", TransactionID: id}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := senders.Send(ctx, m); err != nil {
			b.Fatal(err)
		}
	}
}

// useRecordedSenders is useSenders with the store recording each delivery, as the ACS runs.
func (s *shop) useRecordedSenders(tb testing.TB, sender notify.Sender) {
	tb.Helper()
	q := notify.NewQueue(sender, notify.QueueConfig{Timeout: 5 * time.Second, Observe: s.e.store.DeliveryRecorder(nil)})
	tb.Cleanup(func() { q.Close(context.Background()) })
	s.b.Notify = q
}

// deliveryRecords waits until the store holds n tries of transaction id and returns them, in order,
// as "channel provider outcome class issuer".
func deliveryRecords(tb testing.TB, s *shop, id string, n int) []string {
	tb.Helper()
	db := s.e.db
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		rows, err := db.Reader().QueryContext(context.Background(), db.Rebind(`SELECT channel, provider, outcome, error_class,
			issuer_id, latency_ms FROM acs_deliveries WHERE acs_trans_id = ? ORDER BY queued_at, attempt`), id)
		if err != nil {
			tb.Fatal(err)
		}
		var out []string
		for rows.Next() {
			var ch, prov, outcome, class, issuer string
			var ms int64
			if err := rows.Scan(&ch, &prov, &outcome, &class, &issuer, &ms); err != nil {
				tb.Fatal(err)
			}
			if ms < 0 || ms > 5000 {
				tb.Errorf("a try of %s took %d ms", id, ms)
			}
			out = append(out, strings.Join([]string{ch, prov, outcome, class, issuer}, " "))
		}
		rows.Close()
		if len(out) >= n || time.Now().After(deadline) {
			return out
		}
	}
}

// A code's delivery is recorded as it really went: over a real SMTP relay, through a real SMS
// gateway that refuses it (the code then goes by e-mail), and to a relay that is down; the records
// name the issuer and the provider and hold no destination.
func TestEachCodeDeliveryIsRecordedWithItsProvider(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			s := newShopOn(t, be.open)
			mail := startRelay(t)
			smtpSender, err := notify.NewSMTPSender(notify.SMTPConfig{Addr: mail.addr, From: "Bank A <otp@bank-a.example>", Security: notify.NoTLS})
			if err != nil {
				t.Fatal(err)
			}
			// The bank's SMS gateway refuses every message, echoing the number as gateways do.
			gateway := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				http.Error(w, "invalid destination in "+string(body), http.StatusBadRequest)
			}))
			defer gateway.Close()
			sms, err := notify.NewWebhookSender(notify.WebhookConfig{URL: gateway.URL, Secret: []byte("0123456789abcdef")})
			if err != nil {
				t.Fatal(err)
			}
			s.useRecordedSenders(t, &acs.IssuerSenders{Transactions: s.e.store, Default: s.outbox,
				ByIssuer: map[string]notify.Sender{"bank-a": notify.Router{notify.Email: smtpSender, notify.SMS: sms}}})

			id, server := s.challenge(t, "en-GB")
			p := s.act(t, s.start(t, id, server), "send", "dest", "email:0")
			p = s.act(t, p, "submit", "code", mail.mailedCode(t, email))
			if cres, _ := s.final(t, p, id); cres.TransStatus != "Y" {
				t.Errorf("the mailed code gave transStatus %s", cres.TransStatus)
			}
			if got := deliveryRecords(t, s, id, 1); len(got) != 1 || got[0] != "email smtp sent  bank-a" {
				t.Errorf("the mailed code is recorded as %q", got)
			}

			id, server = s.challenge(t, "en-GB")
			s.refresh(t, s.act(t, s.start(t, id, server), "send", "dest", "sms:0"), "Sent.")
			if got := deliveryRecords(t, s, id, 2); len(got) != 2 || got[0] != "sms webhook fell_back rejected bank-a" ||
				got[1] != "email smtp sent  bank-a" {
				t.Errorf("the refused SMS that went by e-mail is recorded as %q", got)
			}

			// The relay goes down: the code cannot be sent and the page says so.
			down, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			down.Close()
			deadSMTP, err := notify.NewSMTPSender(notify.SMTPConfig{Addr: down.Addr().String(), From: "Bank A <otp@bank-a.example>", Security: notify.NoTLS})
			if err != nil {
				t.Fatal(err)
			}
			s.useRecordedSenders(t, &acs.IssuerSenders{Transactions: s.e.store, Default: s.outbox,
				ByIssuer: map[string]notify.Sender{"bank-a": notify.Router{notify.Email: deadSMTP, notify.SMS: sms}}})
			id, server = s.challenge(t, "en-GB")
			s.refresh(t, s.act(t, s.start(t, id, server), "send", "dest", "email:0"), "Sending failed")
			if got := deliveryRecords(t, s, id, 1); len(got) != 1 || got[0] != "email smtp failed unreachable bank-a" {
				t.Errorf("the code the dead relay could not take is recorded as %q", got)
			}

			// No record holds the cardholder's number or address, whole or masked.
			var all strings.Builder
			rows, err := s.e.db.Reader().QueryContext(context.Background(), `SELECT message_id || ' ' || issuer_id || ' ' ||
				acs_trans_id || ' ' || channel || ' ' || provider || ' ' || outcome || ' ' || error_class FROM acs_deliveries`)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var line string
				if err := rows.Scan(&line); err != nil {
					t.Fatal(err)
				}
				all.WriteString(line + "\n")
			}
			rows.Close()
			if text := all.String(); strings.ContainsAny(text, "@•+") || strings.Contains(text, "7700900123") {
				t.Errorf("a delivery record holds a destination:\n%s", text)
			}

			stats, err := s.e.store.DeliveryStats(context.Background(), acs.DeliveryFind{From: time.Now().Add(-time.Hour),
				To: time.Now().Add(time.Hour), Issuer: "bank-a"})
			if err != nil {
				t.Fatal(err)
			}
			if len(stats) != 2 || stats[0].Provider != "smtp" || stats[0].Sent != 2 || stats[0].Failed != 1 ||
				stats[1].Provider != "webhook" || stats[1].FellBack != 1 || stats[1].LastClass != "rejected" {
				t.Errorf("bank-a's providers = %+v", stats)
			}
		})
	}
}

// A store that cannot take the record costs the record, logged without the destination or the
// code, and nothing of the delivery.
func TestADeliveryRecordThatCannotBeWrittenLeavesTheCodeSent(t *testing.T) {
	db, err := store.Open(context.Background(), storetest.SQLiteDSN(t), store.Options{Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	st := acs.NewSQLStore(db, newKeyring(t).ring(t))
	db.Close() // the store has gone away
	var logs syncBuffer
	outbox := notify.NewOutbox(10)
	q := notify.NewQueue(outbox, notify.QueueConfig{Observe: st.DeliveryRecorder(slog.New(slog.NewTextHandler(&logs, nil)))})
	defer q.Close(context.Background())
	id, err := q.Enqueue(notify.Message{Channel: notify.Email, To: email, Code: "864209", TransactionID: "tx-1", Locale: "en"})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(logs.String(), "recording a code delivery failed"); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no log line says the record failed:\n%s", logs.String())
		}
	}
	if st, _ := q.Status(id); st.State != notify.Sent || len(outbox.Messages(email)) != 1 {
		t.Errorf("the code's delivery changed: %+v", st)
	}
	if l := logs.String(); !strings.Contains(l, id) || strings.Contains(l, "taro") || strings.Contains(l, "864209") {
		t.Errorf("the log line should name the message and nothing of the cardholder:\n%s", l)
	}
}
