// Package acs is the Access Control Server: the issuer's side of EMV 3-D Secure. One ACS serves several
// issuers; each owns card ranges and cardholder accounts. The ACS answers the AReq a Directory Server
// relays with a decision from the risk engine (frictionless Y or A, a challenge C, or N, R, U), keeps
// every transaction before answering, lets the issuer verify the authentication values it issued and
// reports the end of each authentication by RReq through a durable outbox.
//
// The package owns the Store interface it needs; SQLStore implements it on internal/store for SQLite
// and PostgreSQL. PANs reach the store only sealed by a PANVault and are found by its keyed hash.
package acs

import (
	"errors"
	"strings"
	"time"
)

// Cardholder statuses. A blocked card is rejected (R); a card that is not enrolled gets N reason 13
// or attempts (A), as its issuer chooses.
const (
	StatusEnrolled    = "enrolled"
	StatusBlocked     = "blocked"
	StatusNotEnrolled = "not_enrolled"
)

// Issuer is one bank the ACS authenticates for.
type Issuer struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Ranges are the card ranges (BIN ranges) whose cards belong to the issuer.
	Ranges []CardRange `json:"ranges"`
	// ECIStyle picks the ECI values: "visa" (05/06/07) or "mastercard" (02/01/00).
	ECIStyle string `json:"eciStyle"`
	// AuthValueKeyRef names the authentication-value key spec in the configuration; the keys
	// themselves never enter the database.
	AuthValueKeyRef string `json:"authValueKeyRef"`
	// RiskPolicy is the name the risk policy file knows the issuer by; the issuer id by default.
	RiskPolicy string `json:"riskPolicy"`
	// NotEnrolledPolicy is the answer for a card that is not enrolled: "N" (reason 13) or "A".
	NotEnrolledPolicy string `json:"notEnrolledPolicy"`
	// NoChallengePolicy is the answer when risk asks for a challenge that cannot happen (3RI):
	// "N" or "A".
	NoChallengePolicy string `json:"noChallengePolicy"`
	// Refuse3RI answers every 3RI AReq N with reason 21 (3RI not supported), RefuseNonPayment every
	// non-payment one N with reason 20, in whichever channel; both are off by default.
	Refuse3RI        bool `json:"refuse3RI,omitempty"`
	RefuseNonPayment bool `json:"refuseNonPayment,omitempty"`
	// Decoupled says whether the issuer can authenticate out of band (transStatus D).
	Decoupled bool      `json:"decoupled"`
	OTP       OTPPolicy `json:"otp"`
	Brand     Branding  `json:"brand"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// OTPPolicy holds the one-time-code limits the challenge uses.
type OTPPolicy struct {
	Length      int `json:"length"`
	TTLSeconds  int `json:"ttlSeconds"`
	MaxAttempts int `json:"maxAttempts"`
	MaxResends  int `json:"maxResends"`
}

// Branding is what the challenge pages show of the issuer.
type Branding struct {
	Name        string `json:"name"`
	LogoURL     string `json:"logoURL"`
	SupportText string `json:"supportText"`
}

// CardRange is an inclusive range of card numbers, written as digit strings of up to 19 digits; a
// short bound stands for every PAN that starts with it.
type CardRange struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// Cardholder is one card account. PAN is in clear only in memory: the store keeps it sealed.
type Cardholder struct {
	ID       string `json:"id"`
	IssuerID string `json:"issuer"`
	PAN      string `json:"pan,omitempty"`
	// Expiry is YYMM, as cardExpiryDate in the AReq.
	Expiry           string   `json:"expiry"`
	Status           string   `json:"status"`
	Mobiles          []string `json:"mobiles"`
	Emails           []string `json:"emails"`
	PreferredChannel string   `json:"preferredChannel"` // "sms" or "email"
	Locale           string   `json:"locale"`
	// AppUI is the app challenge screen (an acsUiType: 01 code, 02 choose where the code goes, 03
	// tick several places for it, 04 approve in the bank's app, 05 HTML) the cardholder gets when
	// the SDK can show it; "" lets the ACS choose (app.go says how).
	AppUI string `json:"appUI"`
	// MaskedPAN and KeyID are filled in by the store on reading.
	MaskedPAN string    `json:"maskedPAN"`
	KeyID     int       `json:"keyID"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// ErrInvalid is wrapped by every *FieldError.
var ErrInvalid = errors.New("acs: invalid value")

// FieldError names a field of an issuer or cardholder that cannot be kept and says why; it never
// repeats the value, which may be card data.
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return "acs: " + e.Field + ": " + e.Reason }
func (e *FieldError) Unwrap() error { return ErrInvalid }

// MaskPAN shows the first six and last four digits of a PAN and stars in between.
func MaskPAN(pan string) string {
	if len(pan) < 11 {
		return strings.Repeat("*", len(pan))
	}
	return pan[:6] + strings.Repeat("*", len(pan)-10) + pan[len(pan)-4:]
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
