package acs

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"time"

	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/notify"
	"github.com/open3ds/open3ds/internal/store"
)

// Decoupled authentication (transStatus D, PROTOCOL.md §1.7). The ACS answers D when the requestor
// allowed it (threeDSRequestorDecReqInd Y), the issuer offers it and the cardholder can be reached.
// The cardholder then approves or declines outside the purchase: a real issuer pushes the request
// to its own app; this ACS sends a link by SMS or e-mail, through the issuer's delivery provider,
// to an approval page on its public listener (the demo "bank app"). Whoever holds the link can
// answer, as whoever holds the phone can in a real bank app: the link's token is random, the store
// keeps only its SHA-256, and it is worth nothing once the transaction has ended.
//
// The transaction ends exactly once, whoever ends it: an approval (Y, with authentication value
// and ECI), a decline (N, reason 01) or the sweeper at the deadline all go through
// EndAuthentication, whose conditional update lets only the first through. The deadline is in the
// store, so any instance's sweeper ends the transaction, after a restart too.

// Decoupled time limits, when the Service sets none.
const (
	// DefaultDecoupledMax is the longest the ACS waits for the cardholder, whatever the requestor allows.
	DefaultDecoupledMax = 30 * time.Minute
	// DefaultDecoupledMin is the least time the ACS will try in: a requestor that allows less gets no D.
	DefaultDecoupledMin = time.Minute
)

// Decoupled timeout outcome (our choice, where the specification leaves it to the ACS): the
// transaction ends N with reason 24 ("3DS Requestor decoupled max expiry time exceeded") and
// challengeCancel 03 ("transaction timed out, decoupled authentication"). N rather than U, as a
// browser challenge left to time out ends N: the cardholder was asked and did not confirm. A
// cardholder's decline ends N with reason 01 (card authentication failed).
const (
	DecoupledTimeoutReason = "24"
	DecoupledTimeoutCancel = "03"
	DecoupledDeclineReason = "01"
)

// DecoupledRow is what an ARes D leaves in the store beside its transaction. It never changes:
// whether the authentication has ended is the transaction's own state.
type DecoupledRow struct {
	ACSTransID string
	// TokenHash is the SHA-256 (hex) of the approval link's token.
	TokenHash string
	// Deadline is when the sweeper ends the transaction if the cardholder has not answered.
	Deadline     time.Time
	MerchantName string
	Exponent     int
	// Locale is the language the message and the page use.
	Locale    string
	CreatedAt time.Time
}

// DecoupledStore keeps decoupled requests; *SQLStore is one. Its errors wrap store.ErrNotFound.
type DecoupledStore interface {
	// DecoupledByToken finds the request whose token hashes to tokenHash, with its transaction.
	DecoupledByToken(ctx context.Context, tokenHash string) (DecoupledRow, Transaction, error)
	// DueDecoupled lists up to limit requests past their deadline whose transaction has not ended.
	DueDecoupled(ctx context.Context, now time.Time, limit int) ([]DecoupledRow, error)
	// FallBackToDecoupled moves an open challenge to decoupled (decoupled_fallback.go).
	FallBackToDecoupled(ctx context.Context, f DecoupledFallback) error
}

// DecoupledStart is a decoupled request just committed, for the code that tells the cardholder.
type DecoupledStart struct {
	Transaction Transaction
	Row         DecoupledRow
	// Token is the approval link's token, which only this message carries.
	Token string
}

func (s *Service) decoupledMax() time.Duration {
	if s.DecoupledMax > 0 {
		return s.DecoupledMax
	}
	return DefaultDecoupledMax
}

func (s *Service) decoupledMin() time.Duration {
	if s.DecoupledMin > 0 {
		return s.DecoupledMin
	}
	return DefaultDecoupledMin
}

// decoupledTime is how long the ACS would wait for the cardholder of a: the requestor's
// threeDSRequestorDecMaxTime (minutes) when it sent one, capped by the ACS's maximum.
func (s *Service) decoupledTime(a *emv.AReq) time.Duration {
	limit := s.decoupledMax()
	if m, err := strconv.Atoi(a.ThreeDSRequestorDecMaxTime); err == nil && m > 0 {
		limit = min(limit, time.Duration(m)*time.Minute)
	}
	return limit
}

// reachable says whether a cardholder has somewhere the approval link can go.
func reachable(ch Cardholder) bool { return len(ch.Mobiles) > 0 || len(ch.Emails) > 0 }

// newDecoupled makes the row and the link token of an ARes D.
func (s *Service) newDecoupled(a *emv.AReq, t Transaction, locale string) (DecoupledRow, string) {
	exp, _ := strconv.Atoi(a.PurchaseExponent)
	merchant := a.MerchantName
	if merchant == "" {
		merchant = a.AcquirerMerchantID
	}
	if a.BrowserLanguage != "" {
		locale = a.BrowserLanguage
	}
	return newDecoupledRow(t.ACSTransID, merchant, exp, locale, t.CreatedAt, s.decoupledTime(a))
}

// newDecoupledRow makes a decoupled request opened at start that waits up to within, and its
// link token.
func newDecoupledRow(acsTransID, merchant string, exp int, locale string, start time.Time, within time.Duration) (DecoupledRow, string) {
	var b [32]byte
	rand.Read(b[:])
	token := base64.RawURLEncoding.EncodeToString(b[:])
	return DecoupledRow{ACSTransID: acsTransID, TokenHash: hashToken(token), Deadline: start.Add(within),
		MerchantName: merchant, Exponent: exp, Locale: locale, CreatedAt: start}, token
}

func hashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// SendDecoupled tells the cardholder of a new decoupled request where to answer it: by SMS to the
// first mobile number (e-mail as the queue's fallback) or by e-mail, as the cardholder prefers,
// through the issuer's provider. It runs after the commit; a message that cannot be queued is
// logged, and the sweeper ends the transaction at its deadline.
func (b *Browser) SendDecoupled(ctx context.Context, d DecoupledStart) {
	t := d.Transaction
	log := b.Service.log()
	if b.Notify == nil || b.DecoupledURL == "" {
		log.WarnContext(ctx, "decoupled request not sent: no delivery or no approval page URL", "acsTransID", t.ACSTransID)
		return
	}
	ch, err := b.Service.Store.Cardholder(ctx, t.CardholderID)
	if err != nil {
		log.WarnContext(ctx, "decoupled request not sent: cardholder", "acsTransID", t.ACSTransID, "err", err)
		return
	}
	is, _ := b.Service.Store.Issuer(ctx, t.IssuerID)
	m := notify.Message{Locale: d.Row.Locale, Link: b.DecoupledURL + d.Token, TransactionID: t.ACSTransID,
		Issuer:  notify.Branding{Name: firstNonEmpty(is.Brand.Name, is.Name), Support: is.Brand.SupportText},
		Purpose: notify.Purpose{Merchant: d.Row.MerchantName, Amount: FormatAmount(t.Amount, t.Currency, d.Row.Exponent)}}
	if m.Locale == "" {
		m.Locale = ch.Locale
	}
	switch {
	case len(ch.Mobiles) > 0 && (ch.PreferredChannel != "email" || len(ch.Emails) == 0):
		m.Channel, m.To = notify.SMS, ch.Mobiles[0]
		if len(ch.Emails) > 0 {
			m.FallbackEmail = ch.Emails[0]
		}
	case len(ch.Emails) > 0:
		m.Channel, m.To = notify.Email, ch.Emails[0]
	default:
		log.WarnContext(ctx, "decoupled request not sent: the cardholder has no channel", "acsTransID", t.ACSTransID)
		return
	}
	id, err := b.Notify.Enqueue(m)
	if err != nil {
		log.WarnContext(ctx, "queueing a decoupled request", "acsTransID", t.ACSTransID, "err", err)
		return
	}
	log.InfoContext(ctx, "decoupled request sent", "acsTransID", t.ACSTransID, "channel", m.Channel,
		"to", notify.Mask(m.Channel, m.To), "message", id, "deadline", d.Row.Deadline)
}

// AnswerDecoupled ends the decoupled request the token names with the cardholder's answer: Y with
// an authentication value when approved, N reason 01 when declined. It returns the transaction
// as it now stands; store.ErrConflict when the transaction had already ended (another answer, or
// the deadline) and store.ErrNotFound for an unknown token.
func (b *Browser) AnswerDecoupled(ctx context.Context, token string, approve bool) (Transaction, error) {
	row, t, err := b.Decoupled.DecoupledByToken(ctx, hashToken(token))
	if err != nil {
		return t, err
	}
	if !t.EndedAt.IsZero() {
		return t, store.ErrConflict
	}
	end := End{ACSTransID: row.ACSTransID, TransStatus: "Y"}
	if !approve {
		end.TransStatus, end.Reason = "N", DecoupledDeclineReason
	}
	if b.Service.now().After(row.Deadline) {
		// The sweeper has not come yet, but the time is up: the answer is the timeout's.
		end = decoupledTimeout(row)
	}
	return b.Service.endAuthentication(ctx, end, nil, &t)
}

func decoupledTimeout(row DecoupledRow) End {
	return End{ACSTransID: row.ACSTransID, TransStatus: "N", Reason: DecoupledTimeoutReason, ChallengeCancel: DecoupledTimeoutCancel}
}

// ExpireDecoupled ends the decoupled requests past their deadline, each once, with its RReq. Any
// instance may run it: a request another instance (or an answer) ended first is skipped.
func (b *Browser) ExpireDecoupled(ctx context.Context) (int, error) {
	if b.Decoupled == nil {
		return 0, nil
	}
	rows, err := b.Decoupled.DueDecoupled(ctx, b.Service.now(), 50)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, row := range rows {
		err := b.Service.EndAuthentication(ctx, decoupledTimeout(row))
		switch {
		case errors.Is(err, store.ErrConflict):
		case err != nil:
			b.Service.log().WarnContext(ctx, "ending a decoupled request", "acsTransID", row.ACSTransID, "err", err)
		default:
			n++
		}
	}
	return n, nil
}
