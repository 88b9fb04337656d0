package notify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/open3ds/open3ds/internal/config"
	"github.com/open3ds/open3ds/internal/logx"
	"github.com/open3ds/open3ds/internal/notify/smpp"
)

// Config chooses the provider behind each channel and configures it, in the shape internal/config
// loads (a role embeds it, e.g. as `notify:`). The defaults deliver everything to the development
// outbox, so a demo runs with no configuration and a production deployment must say where codes go.
type Config struct {
	SMS        string `yaml:"sms" help:"SMS provider: outbox, webhook, messages-api or smpp"`
	Email      string `yaml:"email" help:"e-mail provider: outbox or smtp"`
	OutboxSize int    `yaml:"outbox_size" help:"messages the development outbox keeps"`

	SMTP struct {
		Addr     string      `yaml:"addr" help:"SMTP submission server host:port"`
		From     string      `yaml:"from" help:"From address, e.g. Demo Bank <otp@bank.example>"`
		Security string      `yaml:"security" help:"starttls (default), tls, or none for a local relay"`
		CAFile   string      `yaml:"ca_file" help:"PEM roots for the server certificate instead of the system's"`
		Username string      `yaml:"username" help:"AUTH user name; empty for no AUTH"`
		Password logx.Secret `yaml:"password" help:"AUTH password"`
		Auth     string      `yaml:"auth" help:"PLAIN (default) or LOGIN"`
	} `yaml:"smtp"`

	Webhook struct {
		URL    string      `yaml:"url" help:"gateway URL receiving {to, text, reference}"`
		Secret logx.Secret `yaml:"secret" help:"HMAC key for the Open3DS-Signature header, 16 bytes or more"`
	} `yaml:"webhook"`

	MessagesAPI struct {
		BaseURL   string      `yaml:"base_url" help:"API root; …/Accounts/{id}/Messages.json is appended"`
		AccountID string      `yaml:"account_id" help:"account id, the basic-auth user"`
		AuthToken logx.Secret `yaml:"auth_token" help:"auth token, the basic-auth password"`
		From      string      `yaml:"from" help:"sender number or name"`
	} `yaml:"messages_api"`

	SMPP struct {
		Addr               string      `yaml:"addr" help:"SMSC host:port"`
		TLS                bool        `yaml:"tls" help:"speak TLS to the SMSC"`
		SystemID           string      `yaml:"system_id" help:"bind_transmitter system_id"`
		Password           logx.Secret `yaml:"password" help:"bind_transmitter password (8 characters at most)"`
		SystemType         string      `yaml:"system_type" help:"bind_transmitter system_type"`
		Source             string      `yaml:"source" help:"sender address"`
		SourceTON          int         `yaml:"source_ton" help:"type of number of the sender: 1 international, 5 alphanumeric"`
		RegisteredDelivery bool        `yaml:"registered_delivery" help:"ask the SMSC for delivery receipts"`
	} `yaml:"smpp"`
}

// Validate lists every problem at once, for internal/config.
func (c *Config) Validate() error {
	var p config.Problems
	switch c.SMS {
	case "", "outbox":
	case "webhook":
		if c.Webhook.URL == "" || len(c.Webhook.Secret.Reveal()) < 16 {
			p.Add("webhook", "url and a secret of 16 bytes or more are required for sms: webhook")
		}
	case "messages-api":
		if c.MessagesAPI.BaseURL == "" || c.MessagesAPI.AccountID == "" || c.MessagesAPI.AuthToken.IsZero() || c.MessagesAPI.From == "" {
			p.Add("messages_api", "base_url, account_id, auth_token and from are required for sms: messages-api")
		}
	case "smpp":
		if c.SMPP.Addr == "" || c.SMPP.SystemID == "" {
			p.Add("smpp", "addr and system_id are required for sms: smpp")
		}
	default:
		p.Add("sms", "must be outbox, webhook, messages-api or smpp")
	}
	switch c.Email {
	case "", "outbox":
	case "smtp":
		if c.SMTP.Addr == "" || c.SMTP.From == "" {
			p.Add("smtp", "addr and from are required for email: smtp")
		}
	default:
		p.Add("email", "must be outbox or smtp")
	}
	return p.Err()
}

// Senders is what Open builds: a Router over the configured providers, and the outbox when one of
// them is the outbox (nil otherwise), for the role to mount its page.
type Senders struct {
	Router Router
	Outbox *Outbox
	closer func() error
}

// Close releases what the senders hold open (the SMPP link).
func (s *Senders) Close() error {
	if s.closer != nil {
		return s.closer()
	}
	return nil
}

// Open builds the configured senders. An SMPP provider binds here, so wrong credentials stop the
// role at start-up rather than at the first code.
func Open(ctx context.Context, c Config, log *slog.Logger) (*Senders, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	s := &Senders{Router: Router{}}
	outbox := func() *Outbox {
		if s.Outbox == nil {
			s.Outbox = NewOutbox(c.OutboxSize)
		}
		return s.Outbox
	}
	var err error
	switch c.Email {
	case "smtp":
		cfg := SMTPConfig{Addr: c.SMTP.Addr, From: c.SMTP.From, Security: SMTPSecurity(c.SMTP.Security),
			Username: c.SMTP.Username, Password: c.SMTP.Password.Reveal(), AuthMechanism: c.SMTP.Auth}
		if c.SMTP.CAFile != "" {
			pem, rerr := os.ReadFile(c.SMTP.CAFile)
			pool := x509.NewCertPool()
			if rerr != nil || !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("notify: smtp.ca_file %s: no PEM certificates (%v)", c.SMTP.CAFile, rerr)
			}
			cfg.TLS = &tls.Config{RootCAs: pool}
		}
		s.Router[Email], err = NewSMTPSender(cfg)
	default:
		s.Router[Email] = outbox()
	}
	if err != nil {
		return nil, err
	}
	switch c.SMS {
	case "webhook":
		s.Router[SMS], err = NewWebhookSender(WebhookConfig{URL: c.Webhook.URL, Secret: []byte(c.Webhook.Secret.Reveal())})
	case "messages-api":
		s.Router[SMS], err = NewMessagesAPISender(MessagesAPIConfig{BaseURL: c.MessagesAPI.BaseURL,
			AccountID: c.MessagesAPI.AccountID, AuthToken: c.MessagesAPI.AuthToken.Reveal(), From: c.MessagesAPI.From})
	case "smpp":
		cfg := smpp.Config{Addr: c.SMPP.Addr, SystemID: c.SMPP.SystemID, Password: c.SMPP.Password.Reveal(),
			SystemType: c.SMPP.SystemType, Source: c.SMPP.Source, SourceTON: byte(c.SMPP.SourceTON),
			RegisteredDelivery: c.SMPP.RegisteredDelivery, Logger: log}
		if c.SMPP.TLS {
			cfg.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		client, derr := smpp.Dial(dctx, cfg)
		cancel()
		if derr != nil {
			return nil, fmt.Errorf("notify: smpp: %w", derr)
		}
		s.Router[SMS], s.closer = NewSMPPSender(client), client.Close
	default:
		s.Router[SMS] = outbox()
	}
	if err != nil {
		return nil, errors.Join(err, s.Close())
	}
	return s, nil
}
