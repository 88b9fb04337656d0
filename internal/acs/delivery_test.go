package acs_test

import (
	"context"
	"errors"
	"io"
	"net"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/open3ds/open3ds/internal/acs"
	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/notify"
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
