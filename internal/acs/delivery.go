package acs

import (
	"context"
	"fmt"

	"github.com/open3ds/open3ds/internal/notify"
)

// IssuerSenders delivers each code through the senders its issuer chose: one bank may send e-mail
// over its own SMTP relay and SMS through an SMPP link while another uses the development outbox. It
// is a notify.Sender, so it sits behind the one queue every challenge shares; the queue's message ids
// and statuses, its time-outs and its SMS-to-e-mail fallback stay the same whichever issuer sent.
//
// A message carries only its transaction id, so Send finds the issuer through the transaction. The
// look-up happens on the queue's worker, never while the shopper's page waits.
type IssuerSenders struct {
	// Transactions finds the transaction a message belongs to.
	Transactions interface {
		Transaction(ctx context.Context, acsTransID string) (Transaction, error)
	}
	// Default carries the codes of issuers without their own senders.
	Default notify.Sender
	// ByIssuer maps an issuer id to its own sender, usually a notify.Router of its channels.
	ByIssuer map[string]notify.Sender
}

// Send delivers m with the sender of the issuer of m's transaction, or with Default.
func (s *IssuerSenders) Send(ctx context.Context, m notify.Message) (notify.Receipt, error) {
	sender, err := s.senderFor(ctx, m.TransactionID)
	if err != nil {
		return notify.Receipt{}, err
	}
	return sender.Send(ctx, m)
}

// senderFor picks the sender for a transaction. When issuers have their own senders and the
// transaction cannot be read, the message is not sent: handing a bank's code to the wrong channel
// (another bank's gateway, or the development outbox) is worse than a failure the page reports.
func (s *IssuerSenders) senderFor(ctx context.Context, acsTransID string) (notify.Sender, error) {
	if len(s.ByIssuer) == 0 {
		return s.orDefault()
	}
	t, err := s.Transactions.Transaction(ctx, acsTransID)
	if err != nil {
		return nil, &classedError{class: "issuer_lookup", err: fmt.Errorf("acs: finding the issuer of a code: %w", err)}
	}
	if own, ok := s.ByIssuer[t.IssuerID]; ok && own != nil {
		return own, nil
	}
	return s.orDefault()
}

func (s *IssuerSenders) orDefault() (notify.Sender, error) {
	if s.Default == nil {
		return nil, &notify.PermanentError{Err: &classedError{class: "no_sender", err: fmt.Errorf("acs: no sender configured")}}
	}
	return s.Default, nil
}

// classedError names, for the delivery records, why a code failed before reaching any provider
// (notify.ErrorClass reads DeliveryClass).
type classedError struct {
	class string
	err   error
}

func (e *classedError) Error() string         { return e.err.Error() }
func (e *classedError) Unwrap() error         { return e.err }
func (e *classedError) DeliveryClass() string { return e.class }
