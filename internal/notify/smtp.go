package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// SMTPSecurity is how the link to the mail server is protected.
type SMTPSecurity string

const (
	// StartTLS upgrades a plain connection and refuses to go on when the server cannot. The default.
	StartTLS SMTPSecurity = "starttls"
	// ImplicitTLS speaks TLS from the first byte (port 465).
	ImplicitTLS SMTPSecurity = "tls"
	// NoTLS sends in clear. Only for a relay on the same host or network.
	NoTLS SMTPSecurity = "none"
)

// SMTPConfig configures an SMTPSender.
type SMTPConfig struct {
	Addr     string       // host:port of the submission server
	From     string       // "Demo Bank <otp@bank.example>"
	Security SMTPSecurity // StartTLS when empty
	// TLS holds the roots and server name; nil uses the system roots and the host of Addr.
	TLS      *tls.Config
	Username string
	Password string // from configuration or the environment, never the repository
	// AuthMechanism is "PLAIN" (the default when a username is set) or "LOGIN".
	AuthMechanism string
	// Timeout bounds one whole delivery when the context has no earlier deadline; 30 s when zero.
	Timeout time.Duration
}

// SMTPSender sends codes by e-mail. It opens one connection per message: codes are rare enough
// that a pool would only add failure modes.
type SMTPSender struct {
	cfg  SMTPConfig
	from *mail.Address
	now  func() time.Time
}

// NewSMTPSender checks cfg and returns a sender.
func NewSMTPSender(cfg SMTPConfig) (*SMTPSender, error) {
	if cfg.Security == "" {
		cfg.Security = StartTLS
	}
	switch cfg.Security {
	case StartTLS, ImplicitTLS, NoTLS:
	default:
		return nil, fmt.Errorf("notify: smtp security %q: want starttls, tls or none", cfg.Security)
	}
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("notify: smtp address %q: %w", cfg.Addr, err)
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("notify: smtp from %q: %w", cfg.From, err)
	}
	cfg.AuthMechanism = strings.ToUpper(cfg.AuthMechanism)
	if cfg.AuthMechanism == "" {
		cfg.AuthMechanism = sasl.Plain
	}
	if cfg.AuthMechanism != sasl.Plain && cfg.AuthMechanism != sasl.Login {
		return nil, fmt.Errorf("notify: smtp auth %q: want PLAIN or LOGIN", cfg.AuthMechanism)
	}
	if cfg.TLS == nil {
		cfg.TLS = &tls.Config{}
	} else {
		cfg.TLS = cfg.TLS.Clone()
	}
	if cfg.TLS.ServerName == "" {
		cfg.TLS.ServerName = host
	}
	cfg.TLS.MinVersion = max(cfg.TLS.MinVersion, tls.VersionTLS12)
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	return &SMTPSender{cfg: cfg, from: from, now: time.Now}, nil
}

// Send implements Sender for the e-mail channel.
func (s *SMTPSender) Send(ctx context.Context, m Message) (Receipt, error) {
	rcpt := Receipt{Channel: Email, Provider: "smtp", To: Mask(Email, m.To)}
	if m.Channel != Email {
		return rcpt, fmt.Errorf("%w: %q", ErrUnsupportedChannel, m.Channel)
	}
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return rcpt, &PermanentError{Err: fmt.Errorf("notify: e-mail destination %s is not an address", rcpt.To)}
	}
	r, err := Render(m)
	if err != nil {
		return rcpt, err
	}
	msgID, body, err := s.compose(to, r)
	if err != nil {
		return rcpt, err
	}
	rcpt.ProviderID = msgID
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	if err := s.deliver(ctx, to.Address, body); err != nil {
		var se *smtp.SMTPError
		if errors.As(err, &se) && se.Code >= 500 {
			return rcpt, &PermanentError{Err: fmt.Errorf("notify: smtp: %d %s", se.Code, se.Message)}
		}
		return rcpt, fmt.Errorf("notify: smtp: %w", err)
	}
	return rcpt, nil
}

func (s *SMTPSender) deliver(ctx context.Context, to string, body []byte) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return err
	}
	// The deadline makes every read and write give up with the context.
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	var c *smtp.Client
	switch s.cfg.Security {
	case StartTLS:
		if c, err = smtp.NewClientStartTLS(conn, s.cfg.TLS); err != nil {
			conn.Close()
			return err
		}
	case ImplicitTLS:
		c = smtp.NewClient(tls.Client(conn, s.cfg.TLS))
	default:
		c = smtp.NewClient(conn)
	}
	defer c.Close()
	if s.cfg.Username != "" {
		var a sasl.Client
		if s.cfg.AuthMechanism == sasl.Login {
			a = sasl.NewLoginClient(s.cfg.Username, s.cfg.Password)
		} else {
			a = sasl.NewPlainClient("", s.cfg.Username, s.cfg.Password)
		}
		if err := c.Auth(a); err != nil {
			return err
		}
	}
	if err := c.Mail(s.from.Address, nil); err != nil {
		return err
	}
	if err := c.Rcpt(to, nil); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	// The data writer dot-stuffs lines that begin with a dot.
	if _, err := w.Write(body); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// compose builds a multipart/alternative message: a plain-text part for every mail reader and an
// HTML part, both quoted-printable so long UTF-8 lines survive any relay.
func (s *SMTPSender) compose(to *mail.Address, r Rendered) (string, []byte, error) {
	var rnd [16]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return "", nil, err
	}
	domain := s.from.Address[strings.LastIndexByte(s.from.Address, '@')+1:]
	msgID := fmt.Sprintf("<%s@%s>", hex.EncodeToString(rnd[:8]), domain)
	boundary := "open3ds-" + hex.EncodeToString(rnd[8:])
	var b bytes.Buffer
	header := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	header("Date", s.now().Format(time.RFC1123Z))
	header("Message-ID", msgID)
	header("From", s.from.String())
	header("To", to.String())
	header("Subject", mime.QEncoding.Encode("utf-8", r.Subject))
	header("MIME-Version", "1.0")
	header("Content-Type", fmt.Sprintf("multipart/alternative; boundary=%q", boundary))
	b.WriteString("\r\n")
	for _, part := range []struct{ ctype, body string }{
		{"text/plain; charset=utf-8", r.Text},
		{"text/html; charset=utf-8", r.HTML},
	} {
		fmt.Fprintf(&b, "--%s\r\nContent-Type: %s\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n", boundary, part.ctype)
		qp := quotedprintable.NewWriter(&b)
		if _, err := qp.Write([]byte(strings.ReplaceAll(part.body, "\n", "\r\n"))); err != nil {
			return "", nil, err
		}
		if err := qp.Close(); err != nil {
			return "", nil, err
		}
		b.WriteString("\r\n")
	}
	fmt.Fprintf(&b, "--%s--\r\n", boundary)
	return msgID, b.Bytes(), nil
}
