// Package otp issues and checks the one-time codes an ACS sends to a cardholder during a challenge.
//
// It is pure: no clock, no storage and no network. The ACS stores a State per challenge, hands it
// to a Codes value together with the current time, and stores the State it gets back. Codes are
// never stored in clear: the State holds an HMAC-SHA-256 of the code, keyed with a secret from
// configuration and bound to the transaction and to the code's sequence number, so a database
// dump alone does not reveal a code and a hash from one transaction or resend cannot be replayed
// against another.
package otp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// DefaultDigits is the length of a code unless the issuer sets another. Six digits give a million
// codes, which together with three attempts per transaction keeps the chance of guessing in at
// three in a million.
const DefaultDigits = 6

// MinDigits and MaxDigits bound Policy.Digits.
const (
	MinDigits = 4
	MaxDigits = 10
)

// Policy holds the limits an issuer sets. The zero value of a field means "use the default", so
// configuration only names what it changes.
type Policy struct {
	// Digits is the length of a code, MinDigits to MaxDigits.
	Digits int `yaml:"digits" json:"digits"`
	// Lifetime is how long a code is accepted after it was sent.
	Lifetime time.Duration `yaml:"lifetime" json:"lifetime"`
	// MaxWrong is the number of wrong entries per transaction, across every code sent for it.
	MaxWrong int `yaml:"max_wrong" json:"maxWrong"`
	// MaxResends is the number of extra codes a cardholder may ask for.
	MaxResends int `yaml:"max_resends" json:"maxResends"`
	// ResendCoolDown is the least time between two sends.
	ResendCoolDown time.Duration `yaml:"resend_cool_down" json:"resendCoolDown"`
	// CardLockFailures is the number of failed entries within CardLockWindow, across
	// transactions, after which the card is locked until the issuer unlocks it.
	CardLockFailures int `yaml:"card_lock_failures" json:"cardLockFailures"`
	// CardLockWindow is the window in which failed entries count towards the lock.
	CardLockWindow time.Duration `yaml:"card_lock_window" json:"cardLockWindow"`
}

// DefaultPolicy returns the limits used when an issuer sets none: a code lives five minutes,
// three wrong entries end the transaction, three resends at least thirty seconds apart, and ten
// failed entries in a day lock the card.
func DefaultPolicy() Policy {
	return Policy{
		Digits:           DefaultDigits,
		Lifetime:         5 * time.Minute,
		MaxWrong:         3,
		MaxResends:       3,
		ResendCoolDown:   30 * time.Second,
		CardLockFailures: 10,
		CardLockWindow:   24 * time.Hour,
	}
}

// WithDefaults fills every zero field from DefaultPolicy.
func (p Policy) WithDefaults() Policy {
	d := DefaultPolicy()
	if p.Digits <= 0 {
		p.Digits = d.Digits
	}
	p.Digits = min(max(p.Digits, MinDigits), MaxDigits)
	if p.Lifetime <= 0 {
		p.Lifetime = d.Lifetime
	}
	if p.MaxWrong <= 0 {
		p.MaxWrong = d.MaxWrong
	}
	if p.MaxResends < 0 {
		p.MaxResends = 0
	} else if p.MaxResends == 0 {
		p.MaxResends = d.MaxResends
	}
	if p.ResendCoolDown <= 0 {
		p.ResendCoolDown = d.ResendCoolDown
	}
	if p.CardLockFailures <= 0 {
		p.CardLockFailures = d.CardLockFailures
	}
	if p.CardLockWindow <= 0 {
		p.CardLockWindow = d.CardLockWindow
	}
	return p
}

// Codes issues and checks codes under one key and one policy. It is safe for concurrent use.
type Codes struct {
	key    []byte
	policy Policy
	rand   io.Reader
}

// MinKeyLen is the shortest HMAC key New accepts.
const MinKeyLen = 32

// ErrShortKey is returned by New for a key shorter than MinKeyLen bytes.
var ErrShortKey = fmt.Errorf("otp: the hash key must be at least %d bytes", MinKeyLen)

// New returns Codes hashing with key (at least MinKeyLen bytes, from configuration) and applying
// policy (zero fields take their defaults). Codes are drawn from crypto/rand.
func New(key []byte, policy Policy) (*Codes, error) {
	if len(key) < MinKeyLen {
		return nil, ErrShortKey
	}
	return &Codes{key: append([]byte(nil), key...), policy: policy.WithDefaults(), rand: rand.Reader}, nil
}

// WithRand returns a copy of c that draws codes from r. Tests use it with a seeded source so a
// simulation gives the same figures on every run; production code never calls it.
func (c *Codes) WithRand(r io.Reader) *Codes {
	cp := *c
	cp.rand = r
	return &cp
}

// WithPolicy returns a copy of c applying another issuer's policy under the same key.
func (c *Codes) WithPolicy(p Policy) *Codes {
	cp := *c
	cp.policy = p.WithDefaults()
	return &cp
}

// Policy returns the limits c applies, defaults filled in.
func (c *Codes) Policy() Policy { return c.policy }

// generate draws a uniformly distributed code of the given length by rejection sampling: a draw
// in the incomplete last block of 10^digits values below 2^64 is thrown away, so every code is
// exactly equally likely (a plain modulo would favour low codes).
func generate(r io.Reader, digits int) (string, error) {
	space := uint64(1)
	for range digits {
		space *= 10
	}
	// rem is 2^64 mod space; draws at or above 2^64-rem fall in the incomplete block.
	rem := (^uint64(0)%space + 1) % space
	var b [8]byte
	for {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return "", fmt.Errorf("otp: random source: %w", err)
		}
		if v := binary.BigEndian.Uint64(b[:]); rem == 0 || v < -rem {
			return fmt.Sprintf("%0*d", digits, v%space), nil
		}
	}
}

// hash binds a code to its transaction and sequence number. Each part is length-prefixed so no
// two different inputs give the same message.
func (c *Codes) hash(txID string, seq int, code string) []byte {
	m := hmac.New(sha256.New, c.key)
	var n [8]byte
	m.Write([]byte("open3ds/otp/v1"))
	binary.BigEndian.PutUint64(n[:], uint64(len(txID)))
	m.Write(n[:])
	m.Write([]byte(txID))
	binary.BigEndian.PutUint64(n[:], uint64(seq))
	m.Write(n[:])
	m.Write([]byte(code))
	return m.Sum(nil)
}

// matches reports whether entered is the code whose hash the state holds. The comparison takes the
// same time wherever the hashes differ, so response timing tells an attacker nothing.
func (c *Codes) matches(s State, entered string) bool {
	return hmac.Equal(c.hash(s.TransactionID, s.Sequence, entered), s.Hash)
}

// Errors from Issue and Resend.
var (
	// ErrAlreadyIssued: Issue was called on a state that already has a code; use Resend.
	ErrAlreadyIssued = errors.New("otp: a code was already issued for this transaction")
	// ErrNotIssued: Resend was called before Issue.
	ErrNotIssued = errors.New("otp: no code was issued for this transaction")
	// ErrNoResendsLeft: the cardholder used every resend the policy allows.
	ErrNoResendsLeft = errors.New("otp: no resends left")
	// ErrFinished: the challenge already ended (accepted, out of attempts or card locked).
	ErrFinished = errors.New("otp: the challenge has ended")
	// ErrCoolDown: a resend came too soon; errors.As gives a *CoolDownError with the wait.
	ErrCoolDown = errors.New("otp: resend requested too soon")
)

// CoolDownError says how long the cardholder must wait before another code can be sent.
type CoolDownError struct{ Wait time.Duration }

func (e *CoolDownError) Error() string {
	return fmt.Sprintf("otp: resend requested too soon, wait %s", e.Wait.Round(time.Second))
}

// Is makes errors.Is(err, ErrCoolDown) true.
func (e *CoolDownError) Is(target error) bool { return target == ErrCoolDown }
