// Package notify delivers one-time codes to cardholders: by e-mail over SMTP, by SMS through an
// HTTP gateway or an SMPP 3.4 link, or into an in-memory outbox for development.
//
// Every way of delivering implements Sender. Senders are synchronous; the ACS puts messages on a
// Queue so a slow gateway never holds up a challenge page. The code and the cardholder's full
// destination never reach a log line: logs carry the destination masked (•••• 1234,
// t•••@example.com) and the message id.
//
// A role wires it from its configuration:
//
//	senders, err := notify.Open(ctx, cfg.Notify, log) // binds SMPP, checks SMTP settings
//	defer senders.Close()
//	queue := notify.NewQueue(senders.Router, notify.QueueConfig{Logger: log, Observe: record})
//	id, err := queue.Enqueue(notify.Message{Channel: notify.SMS, To: phone, FallbackEmail: email, …})
//	st, _ := queue.Status(id) // queued, sent or failed (with the reason, destinations masked)
//	if senders.Outbox != nil { mux.Handle("/outbox/", http.StripPrefix("/outbox", senders.Outbox.Handler())) }
//
// Observe, when set, hears on the worker of every message the queue is done with: each provider's
// try with its outcome (sent, failed, timed_out, fell_back), its timing and a fixed class of error
// (ErrorClass), never the provider's words. The ACS stores them for its console's Delivery page.
package notify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Channel is how a message travels.
type Channel string

// The channels an issuer can choose.
const (
	SMS   Channel = "sms"
	Email Channel = "email"
)

// Branding is how the issuer presents itself in a message.
type Branding struct {
	Name    string // "Demo Bank"
	Support string // "Questions? Call 0800 123 456."
}

// Purpose says what the code authorises, so the cardholder can tell a real request from a
// phishing attempt.
type Purpose struct {
	Merchant string // "Example Shop"
	Amount   string // "EUR 12.34", formatted by the caller
}

// Message is one code to deliver.
type Message struct {
	// ID identifies the message in the queue and the logs; the queue sets one when empty.
	ID      string
	Channel Channel
	// To is a phone number in international form (+81…) for SMS, an address for e-mail.
	To string
	// FallbackEmail, when set on an SMS, is where the queue sends the code if the SMS fails.
	FallbackEmail string
	// Locale is a BCP 47 tag ("ja-JP"); unknown languages fall back to English.
	Locale string
	Issuer Branding
	Code   string
	// Link, when set, is where the cardholder approves or declines the purchase (decoupled
	// authentication); the message then asks for approval and carries no code. Whoever holds the
	// link can answer, so it is kept out of logs as the code is.
	Link          string
	Purpose       Purpose
	TransactionID string
}

// Receipt says what a provider did with a message.
type Receipt struct {
	Channel Channel
	// Provider names the sender that took the message ("smtp", "smpp", "outbox", …).
	Provider string
	// ProviderID is the provider's own id for the message (SMTP queue id, SMPP message_id, …),
	// when it gives one.
	ProviderID string
	// To is the destination, masked.
	To string
}

// Sender delivers one message and returns once the provider has taken it. It returns
// ErrUnsupportedChannel for a channel it cannot carry, a *PermanentError when retrying cannot help
// (the destination or the credentials were refused), and any other error for a failure that a
// later attempt may not repeat.
type Sender interface {
	Send(ctx context.Context, m Message) (Receipt, error)
}

// SenderFunc lets a function act as a Sender.
type SenderFunc func(ctx context.Context, m Message) (Receipt, error)

// Send calls f.
func (f SenderFunc) Send(ctx context.Context, m Message) (Receipt, error) { return f(ctx, m) }

// ErrUnsupportedChannel is returned for a message on a channel the sender does not carry.
var ErrUnsupportedChannel = errors.New("notify: channel not supported by this sender")

// PermanentError marks a failure that a retry will not fix.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Router sends each message with the sender configured for its channel. An issuer's
// configuration decides which sender sits behind each channel.
type Router map[Channel]Sender

// Send implements Sender.
func (r Router) Send(ctx context.Context, m Message) (Receipt, error) {
	s, ok := r[m.Channel]
	if !ok || s == nil {
		return Receipt{}, fmt.Errorf("%w: %q", ErrUnsupportedChannel, m.Channel)
	}
	return s.Send(ctx, m)
}

// Mask hides most of a destination for logs and pages that are not the development outbox: a
// phone number keeps its last four digits, an e-mail address its first letter and its domain.
func Mask(ch Channel, to string) string {
	if ch == Email || strings.Contains(to, "@") {
		at := strings.LastIndexByte(to, '@')
		if at <= 0 {
			return "•••"
		}
		r, _ := utf8.DecodeRuneInString(to)
		return string(r) + "•••" + to[at:]
	}
	var digits []byte
	for i := 0; i < len(to); i++ {
		if to[i] >= '0' && to[i] <= '9' {
			digits = append(digits, to[i])
		}
	}
	if len(digits) < 8 {
		return "••••"
	}
	return "•••• " + string(digits[len(digits)-4:])
}
