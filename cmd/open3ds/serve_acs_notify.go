package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/open3ds/open3ds/internal/acs"
	"github.com/open3ds/open3ds/internal/config"
	"github.com/open3ds/open3ds/internal/notify"
)

// The ACS delivers codes through the providers of its notify configuration: one SMTP relay, one
// webhook gateway, one Messages-API account and one SMPP link, each configured once with its secrets
// from the environment (OPEN3DS_ACS_NOTIFY_SMTP_PASSWORD or its _FILE twin, and so on). notify.sms and
// notify.email name the providers every issuer uses; notify_issuers lets an issuer pick others by
// name, "bank-a=smpp/smtp". The choice lives in the configuration rather than in the issuer's row
// because the providers and their credentials do: an issuer row naming a provider this instance has
// not configured could only fail at the first code. The development outbox is the default of both.

// issuerChannels is one issuer's choice: the provider names of its SMS and its e-mail.
type issuerChannels struct{ sms, email string }

// parseNotifyIssuers reads the notify_issuers entries, ISSUER_ID=SMS_PROVIDER/EMAIL_PROVIDER, where
// an empty provider keeps the default of its channel ("bank-b=/smtp").
func parseNotifyIssuers(entries []string) (map[string]issuerChannels, error) {
	out := make(map[string]issuerChannels, len(entries))
	for _, e := range entries {
		id, pair, ok := strings.Cut(e, "=")
		sms, email, ok2 := strings.Cut(pair, "/")
		id = strings.TrimSpace(id)
		if !ok || !ok2 || id == "" {
			return nil, fmt.Errorf("%q is not ISSUER_ID=SMS_PROVIDER/EMAIL_PROVIDER", e)
		}
		if _, dup := out[id]; dup {
			return nil, fmt.Errorf("issuer %q is given twice", id)
		}
		out[id] = issuerChannels{sms: strings.TrimSpace(sms), email: strings.TrimSpace(email)}
	}
	return out, nil
}

// checkNotifyIssuers adds to p what is wrong with the per-issuer channels: an unknown provider, or one
// whose settings are missing.
func (c *acsConfig) checkNotifyIssuers(p *config.Problems) {
	byIssuer, err := parseNotifyIssuers(c.NotifyIssuers)
	if err != nil {
		p.Add("notify_issuers", "%v", err)
		return
	}
	for id, ch := range byIssuer {
		n := c.Notify
		n.SMS, n.Email = firstSet(ch.sms, n.SMS), firstSet(ch.email, n.Email)
		if err := n.Validate(); err != nil {
			var probs config.Problems
			if errors.As(err, &probs) {
				for _, q := range probs {
					p.Add("notify_issuers", "issuer %s: notify.%s %s", id, q.Name, q.Msg)
				}
				continue
			}
			p.Add("notify_issuers", "issuer %s: %v", id, err)
		}
	}
}

// checkNoOutbox adds a problem for every channel that would go to the development outbox: the
// default of notify.sms and notify.email, and any issuer's choice. It runs unless dev_outbox is set.
func (c *acsConfig) checkNoOutbox(p *config.Problems) {
	isOutbox := func(name string) bool { return name == "" || name == "outbox" }
	const fix = "is the development outbox, which shows every code on the admin listener: name a real provider, or set dev_outbox (--dev-outbox) for development"
	if isOutbox(c.Notify.SMS) {
		p.Add("notify.sms", "%s", fix)
	}
	if isOutbox(c.Notify.Email) {
		p.Add("notify.email", "%s", fix)
	}
	byIssuer, err := parseNotifyIssuers(c.NotifyIssuers)
	if err != nil {
		return // checkNotifyIssuers has said so
	}
	for id, ch := range byIssuer {
		if ch.sms == "outbox" || ch.email == "outbox" {
			p.Add("notify_issuers", "issuer %s %s", id, fix)
		}
	}
}

func firstSet(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// acsDelivery is the ACS's code delivery: the queue the challenge pages use, the development outbox
// all issuers share, and the opened providers to close.
type acsDelivery struct {
	queue  *notify.Queue
	outbox *notify.Outbox
	opened []*notify.Senders
}

// openDelivery opens every provider the default and the issuers' choices name, each once (an SMPP
// link binds here), and puts them behind one queue that routes each code by its issuer.
func openDelivery(ctx context.Context, cfg *acsConfig, log *slog.Logger, txs *acs.SQLStore) (*acsDelivery, error) {
	byIssuer, err := parseNotifyIssuers(cfg.NotifyIssuers)
	if err != nil {
		return nil, err
	}
	d := &acsDelivery{outbox: notify.NewOutbox(cfg.Notify.OutboxSize)}
	providers := map[string]notify.Sender{}
	provider := func(ch notify.Channel, name string) (notify.Sender, error) {
		if name == "" || name == "outbox" {
			return d.outbox, nil
		}
		key := string(ch) + ":" + name
		if s, ok := providers[key]; ok {
			return s, nil
		}
		// Open builds the named provider of this channel; the other channel is the outbox, unused.
		n := cfg.Notify
		n.SMS, n.Email = "outbox", "outbox"
		if ch == notify.SMS {
			n.SMS = name
		} else {
			n.Email = name
		}
		s, err := notify.Open(ctx, n, log)
		if err != nil {
			return nil, err
		}
		d.opened = append(d.opened, s)
		providers[key] = s.Router[ch]
		return providers[key], nil
	}
	router := func(sms, email string) (notify.Router, error) {
		s, err := provider(notify.SMS, sms)
		if err != nil {
			return nil, err
		}
		e, err := provider(notify.Email, email)
		if err != nil {
			return nil, err
		}
		return notify.Router{notify.SMS: s, notify.Email: e}, nil
	}
	senders := &acs.IssuerSenders{Transactions: txs, ByIssuer: map[string]notify.Sender{}}
	if senders.Default, err = router(cfg.Notify.SMS, cfg.Notify.Email); err != nil {
		return nil, errors.Join(err, d.closeProviders())
	}
	for id, ch := range byIssuer {
		r, err := router(firstSet(ch.sms, cfg.Notify.SMS), firstSet(ch.email, cfg.Notify.Email))
		if err != nil {
			return nil, errors.Join(fmt.Errorf("issuer %s: %w", id, err), d.closeProviders())
		}
		senders.ByIssuer[id] = r
	}
	// Each code's outcome goes to the store on the queue's worker, for the console's Delivery page.
	d.queue = notify.NewQueue(senders, notify.QueueConfig{Logger: log, Observe: txs.DeliveryRecorder(log)})
	return d, nil
}

// Close drains the queue for a few seconds, then closes the providers.
func (d *acsDelivery) Close() error {
	qctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return errors.Join(d.queue.Close(qctx), d.closeProviders())
}

func (d *acsDelivery) closeProviders() error {
	var errs []error
	for _, s := range d.opened {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}
