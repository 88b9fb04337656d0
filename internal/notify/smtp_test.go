package notify_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/open3ds/open3ds/internal/notify"
)

// mailServer is an in-process go-smtp server on loopback that offers STARTTLS (unless plain) and
// AUTH PLAIN and LOGIN only over TLS, and keeps what it receives.
type mailServer struct {
	addr string
	mu   sync.Mutex
	got  []received
}

type received struct {
	from, to string
	tls      bool
	user     string
	data     []byte
}

func startMailServer(t *testing.T, withTLS bool) *mailServer {
	t.Helper()
	ms := &mailServer{}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &mailSession{srv: ms, conn: c}, nil
	}))
	srv.Domain = "mail.test"
	srv.ReadTimeout = 5 * time.Second
	srv.WriteTimeout = 5 * time.Second
	if withTLS {
		cert, _ := serverCert(t)
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	} else {
		srv.AllowInsecureAuth = true
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	ms.addr = ln.Addr().String()
	return ms
}

func (ms *mailServer) mails() []received {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return append([]received(nil), ms.got...)
}

type mailSession struct {
	srv  *mailServer
	conn *smtp.Conn
	cur  received
}

func (s *mailSession) AuthMechanisms() []string { return []string{sasl.Plain, sasl.Login} }

func (s *mailSession) Auth(mech string) (sasl.Server, error) {
	check := func(user, pass string) error {
		if user != "otp-sender" || pass != "s3cret" {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "invalid credentials"}
		}
		s.cur.user = user
		return nil
	}
	if mech == sasl.Login {
		return &loginServer{check: check}, nil
	}
	return sasl.NewPlainServer(func(_, user, pass string) error { return check(user, pass) }), nil
}

func (s *mailSession) Mail(from string, _ *smtp.MailOptions) error {
	s.cur.from = from
	_, s.cur.tls = s.conn.TLSConnectionState()
	return nil
}
func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if strings.HasPrefix(to, "reject-me@") {
		// Real servers echo the address in refusals; the queue must not pass it on unmasked.
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "<" + to + ">: no such user"}
	}
	s.cur.to = to
	return nil
}
func (s *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.data = b
	s.srv.mu.Lock()
	s.srv.got = append(s.srv.got, s.cur)
	s.srv.mu.Unlock()
	return nil
}
func (s *mailSession) Reset()        {}
func (s *mailSession) Logout() error { return nil }

// loginServer is the server side of AUTH LOGIN, which go-sasl only provides as a client: it asks
// for the user name, then the password.
type loginServer struct {
	check func(user, pass string) error
	user  string
	step  int
}

func (l *loginServer) Next(resp []byte) ([]byte, bool, error) {
	l.step++
	switch l.step {
	case 1:
		if len(resp) > 0 {
			l.user, l.step = string(resp), 2
			return []byte("Password:"), false, nil
		}
		return []byte("Username:"), false, nil
	case 2:
		l.user = string(resp)
		return []byte("Password:"), false, nil
	default:
		return nil, true, l.check(l.user, string(resp))
	}
}

// parts reads a received multipart message into its header and its decoded parts by content type.
func parts(t *testing.T, data []byte) (*mail.Message, map[string]string) {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("content type %q: %v", msg.Header.Get("Content-Type"), err)
	}
	out := map[string]string{}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if p.Header.Get("Content-Transfer-Encoding") != "quoted-printable" {
			t.Fatalf("part %s is not quoted-printable", p.Header.Get("Content-Type"))
		}
		b, err := io.ReadAll(quotedprintable.NewReader(p))
		if err != nil {
			t.Fatal(err)
		}
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		out[ct] = string(b)
	}
	return msg, out
}

func smtpSender(t *testing.T, cfg notify.SMTPConfig) *notify.SMTPSender {
	t.Helper()
	_, pool := serverCert(t)
	if cfg.From == "" {
		cfg.From = "Demo Bank <otp@bank.example>"
	}
	if cfg.TLS == nil {
		cfg.TLS = &tls.Config{RootCAs: pool}
	}
	s, err := notify.NewSMTPSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSMTPDeliversAMultipartMailOverStartTLSWithAuth(t *testing.T) {
	for _, mech := range []string{"PLAIN", "LOGIN"} {
		t.Run("AUTH "+mech, func(t *testing.T) {
			ms := startMailServer(t, true)
			s := smtpSender(t, notify.SMTPConfig{Addr: ms.addr, Username: "otp-sender", Password: "s3cret", AuthMechanism: mech})
			m := message(notify.Email, "taro@example.com")
			m.Issuer.Support = ".A line that starts with a dot survives."
			rc, err := s.Send(context.Background(), m)
			if err != nil {
				t.Fatal(err)
			}
			if rc.To != "t•••@example.com" || rc.Provider != "smtp" || rc.ProviderID == "" {
				t.Fatalf("receipt = %+v", rc)
			}
			got := ms.mails()
			if len(got) != 1 {
				t.Fatalf("%d mails received", len(got))
			}
			r := got[0]
			if !r.tls || r.user != "otp-sender" || r.from != "otp@bank.example" || r.to != "taro@example.com" {
				t.Fatalf("envelope: tls=%v user=%q from=%q to=%q", r.tls, r.user, r.from, r.to)
			}
			msg, ps := parts(t, r.data)
			for _, h := range []string{"Date", "Message-ID", "From", "To", "Subject", "MIME-Version"} {
				if msg.Header.Get(h) == "" {
					t.Errorf("header %s missing", h)
				}
			}
			if msg.Header.Get("Message-ID") != rc.ProviderID {
				t.Errorf("Message-ID %s, receipt %s", msg.Header.Get("Message-ID"), rc.ProviderID)
			}
			subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
			if subject != "Your Demo Bank verification code" {
				t.Errorf("subject %q", subject)
			}
			for _, ct := range []string{"text/plain", "text/html"} {
				body := ps[ct]
				for _, want := range []string{"482913", "Demo Bank", "Example Shop", "EUR 12.34"} {
					if !strings.Contains(body, want) {
						t.Errorf("%s part lacks %q:\n%s", ct, want, body)
					}
				}
			}
			if !strings.Contains(ps["text/plain"], "\r\n.A line that starts with a dot survives.") {
				t.Errorf("dot-stuffing lost the leading dot:\n%s", ps["text/plain"])
			}
		})
	}
}

func TestSMTPSendsJapaneseMail(t *testing.T) {
	ms := startMailServer(t, true)
	s := smtpSender(t, notify.SMTPConfig{Addr: ms.addr, Username: "otp-sender", Password: "s3cret"})
	m := message(notify.Email, "taro@example.jp")
	m.Locale, m.Issuer.Name = "ja-JP", "デモ銀行"
	if _, err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	msg, ps := parts(t, ms.mails()[0].data)
	subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if subject != "デモ銀行 認証コードのお知らせ" {
		t.Errorf("subject %q", subject)
	}
	if !strings.Contains(ps["text/plain"], "認証コード") || !strings.Contains(ps["text/html"], "482913") {
		t.Errorf("parts: %q", ps)
	}
}

func TestSMTPFailures(t *testing.T) {
	cases := []struct {
		name      string
		serverTLS bool
		cfg       notify.SMTPConfig
		to        string
		permanent bool
	}{
		{"a wrong password is a permanent failure", true, notify.SMTPConfig{Username: "otp-sender", Password: "wrong"}, "a@example.com", true},
		{"a server without STARTTLS is refused when TLS is required", false, notify.SMTPConfig{Username: "otp-sender", Password: "s3cret"}, "a@example.com", false},
		{"a destination that is not an address is a permanent failure", true, notify.SMTPConfig{}, "not an address", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ms := startMailServer(t, tc.serverTLS)
			tc.cfg.Addr = ms.addr
			_, err := smtpSender(t, tc.cfg).Send(context.Background(), message(notify.Email, tc.to))
			if err == nil {
				t.Fatal("sent")
			}
			var pe *notify.PermanentError
			if errors.As(err, &pe) != tc.permanent {
				t.Fatalf("err %v: permanent = %v, want %v", err, !tc.permanent, tc.permanent)
			}
			if strings.Contains(err.Error(), "482913") {
				t.Fatalf("error reveals the code: %v", err)
			}
			if n := len(ms.mails()); n != 0 {
				t.Fatalf("%d mails delivered", n)
			}
		})
	}
}

func TestSMTPWithoutTLSReachesALocalRelay(t *testing.T) {
	ms := startMailServer(t, false)
	s := smtpSender(t, notify.SMTPConfig{Addr: ms.addr, Security: notify.NoTLS})
	if _, err := s.Send(context.Background(), message(notify.Email, "a@example.com")); err != nil {
		t.Fatal(err)
	}
	if got := ms.mails(); len(got) != 1 || got[0].tls {
		t.Fatalf("mails = %d", len(got))
	}
}

func TestARefusedAddressIsMaskedInTheQueueStatus(t *testing.T) {
	ms := startMailServer(t, true)
	var logs strings.Builder
	q := notify.NewQueue(smtpSender(t, notify.SMTPConfig{Addr: ms.addr, Username: "otp-sender", Password: "s3cret"}),
		notify.QueueConfig{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	defer q.Close(context.Background())
	id, _ := q.Enqueue(message(notify.Email, "reject-me@example.com"))
	st := waitFor(t, q, id)
	if st.State != notify.Failed || !strings.Contains(st.Reason, "550") || !strings.Contains(st.Reason, "r•••@example.com") {
		t.Fatalf("status = %+v", st)
	}
	if strings.Contains(st.Reason, "reject-me") || strings.Contains(logs.String(), "reject-me") {
		t.Fatalf("the address leaked: %q / %s", st.Reason, logs.String())
	}
}
