package otp

import (
	"fmt"
	"strings"
	"time"
)

// State is what the ACS stores for one challenge. It holds no code in clear, only its keyed hash.
// The zero value with TransactionID set is a challenge for which no code has been sent yet.
type State struct {
	TransactionID string    `json:"transactionId"`
	Hash          []byte    `json:"hash,omitempty"`     // HMAC of the current code
	IssuedAt      time.Time `json:"issuedAt,omitzero"`  // when the current code was sent
	Sequence      int       `json:"sequence"`           // 1 for the first code, +1 per resend
	Wrong         int       `json:"wrong"`              // wrong entries, across every code sent
	Resends       int       `json:"resends"`            // codes sent after the first
	LastSent      time.Time `json:"lastSent,omitzero"`  // when the latest code was sent
	Interactions  int       `json:"interactions"`       // entries so far, capped at 99
	Finished      bool      `json:"finished,omitempty"` // accepted, exhausted or locked
}

// InteractionCounter is the two-digit interactionCounter of the protocol's RReq and CRes.
func (s State) InteractionCounter() string { return fmt.Sprintf("%02d", s.Interactions) }

// Issue draws the first code of a challenge. It returns the code to send (never store it), and
// the state to store. It returns ErrAlreadyIssued when a code was sent already.
func (c *Codes) Issue(s State, now time.Time) (string, State, error) {
	if s.Finished {
		return "", s, ErrFinished
	}
	if s.Sequence > 0 {
		return "", s, ErrAlreadyIssued
	}
	return c.send(s, now)
}

// Resend replaces the current code with a new one. Wrong entries carry over: a resend never gives
// the cardholder more attempts. It returns ErrNotIssued, ErrFinished, ErrNoResendsLeft, or a
// *CoolDownError (errors.Is ErrCoolDown) when the previous send was too recent.
func (c *Codes) Resend(s State, now time.Time) (string, State, error) {
	switch {
	case s.Finished:
		return "", s, ErrFinished
	case s.Sequence == 0:
		return "", s, ErrNotIssued
	case s.Resends >= c.policy.MaxResends:
		return "", s, ErrNoResendsLeft
	}
	if next := s.LastSent.Add(c.policy.ResendCoolDown); now.Before(next) {
		return "", s, &CoolDownError{Wait: next.Sub(now)}
	}
	code, n, err := c.send(s, now)
	if err != nil {
		return "", s, err
	}
	n.Resends++
	return code, n, nil
}

func (c *Codes) send(s State, now time.Time) (string, State, error) {
	code, err := generate(c.rand, c.policy.Digits)
	if err != nil {
		return "", s, err
	}
	s.Sequence++
	s.Hash = c.hash(s.TransactionID, s.Sequence, code)
	s.IssuedAt = now
	s.LastSent = now
	return code, s, nil
}

// Result is what became of one entry.
type Result int

const (
	// Accepted: the code was right and in time. The challenge succeeded.
	Accepted Result = iota + 1
	// Wrong: the code was wrong; the cardholder may try again.
	Wrong
	// Expired: the code was entered after its lifetime; the cardholder may ask for a new one.
	Expired
	// Exhausted: no attempts are left for this transaction. The challenge failed.
	Exhausted
	// Locked: the card has too many failed entries across transactions; the ACS answers
	// transStatus N with reason 19 until the issuer unlocks the card.
	Locked
)

var resultNames = [...]string{Accepted: "accepted", Wrong: "wrong", Expired: "expired", Exhausted: "exhausted", Locked: "locked"}

func (r Result) String() string {
	if r > 0 && int(r) < len(resultNames) {
		return resultNames[r]
	}
	return fmt.Sprintf("Result(%d)", int(r))
}

// Final reports whether the challenge ends with this result.
func (r Result) Final() bool { return r == Accepted || r == Exhausted || r == Locked }

// Outcome describes one entry. Result and CardFailure are for the ACS and its log; what the
// shopper sees for every failure is ShopperMessage, so a wrong, an expired and a locked card look
// the same from outside.
type Outcome struct {
	Result Result
	// Remaining is the number of entries still allowed in this transaction.
	Remaining int
	// CardFailure is true when this entry counts towards the card's lock: the ACS records it
	// with the time so the next Check gets an up-to-date count.
	CardFailure bool
}

// ShopperMessage is the one text shown to the shopper after any failed entry.
const ShopperMessage = "The code you entered could not be verified."

// Check verifies one entry. cardFailures24h is the number of failed entries recorded for the card
// within the policy's CardLockWindow, before this one. Every entry counts in the interaction
// counter; a wrong or expired entry uses up one of the transaction's attempts.
func (c *Codes) Check(s State, entered string, now time.Time, cardFailures24h int) (Outcome, State) {
	if s.Interactions < 99 {
		s.Interactions++
	}
	p := c.policy
	remaining := func() int { return max(p.MaxWrong-s.Wrong, 0) }
	switch {
	case cardFailures24h >= p.CardLockFailures:
		s.Finished = true
		return Outcome{Result: Locked, Remaining: 0}, s
	case s.Finished || s.Wrong >= p.MaxWrong:
		s.Finished = true
		return Outcome{Result: Exhausted, Remaining: 0}, s
	}
	entered = strings.TrimSpace(entered)
	expired := s.Sequence == 0 || !now.Before(s.IssuedAt.Add(p.Lifetime))
	ok := !expired && len(entered) == p.Digits && c.matches(s, entered)
	if ok {
		s.Finished = true
		s.Hash = nil
		return Outcome{Result: Accepted, Remaining: remaining()}, s
	}
	s.Wrong++
	out := Outcome{Result: Wrong, CardFailure: !expired}
	if expired {
		out.Result = Expired
	}
	switch {
	case out.CardFailure && cardFailures24h+1 >= p.CardLockFailures:
		out.Result = Locked
		s.Finished = true
	case s.Wrong >= p.MaxWrong:
		out.Result = Exhausted
		s.Finished = true
	}
	out.Remaining = remaining()
	if s.Finished {
		out.Remaining = 0
	}
	return out, s
}
