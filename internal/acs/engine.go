package acs

import (
	"time"

	"github.com/open3ds/open3ds/internal/emv"
)

// Risk outcomes, as the risk engine names them.
const (
	Frictionless = "frictionless"
	Challenge    = "challenge"
	Deny         = "deny"
)

// RiskInput is what the ACS tells the risk engine about one AReq.
type RiskInput struct {
	AReq          *emv.AReq
	History       History
	HasDeviceData bool
	// DeviceIP is the address the 3DS Method saw, when it ran.
	DeviceIP string
	// DeviceWarnings are the security warnings (SW01…) of an app's 3DS SDK, from its device
	// information.
	DeviceWarnings []string
	// LocaleCountry and IPCountry are the countries of the device's locale and of its IP address
	// (ISO 3166-1 alpha-2), "" when unknown.
	LocaleCountry, IPCountry string
	Now                      time.Time
}

// RiskResult is the engine's answer: a score, an outcome and the reasons behind it, each in words.
type RiskResult struct {
	Score             int
	Outcome           string // Frictionless, Challenge or Deny
	Reasons           []string
	TransStatusReason string // for a denial, the reason code to send
	Policy            string
}

// RiskEngine decides one AReq for one issuer's policy. The shadow result, when the issuer has a
// shadow policy, is recorded beside the live one and never acted on.
type RiskEngine interface {
	Evaluate(policy string, in RiskInput) (live RiskResult, shadow *RiskResult)
}

// RiskFunc lets a plain function serve as the RiskEngine.
type RiskFunc func(policy string, in RiskInput) (RiskResult, *RiskResult)

func (f RiskFunc) Evaluate(policy string, in RiskInput) (RiskResult, *RiskResult) {
	return f(policy, in)
}

// AuthFacts are what an authentication value binds.
type AuthFacts struct {
	ACSTransID, PAN, Amount, Currency, Merchant string
	Outcome                                     byte // 'Y' or 'A'
	Time                                        time.Time
}

// AuthValueKeys makes and checks one issuer's authentication values (internal/authvalue's Keys).
type AuthValueKeys interface {
	Create(f AuthFacts) (string, error)
	// Verify says whether value was made for f's card, amount and currency by this issuer's keys,
	// and gives back the outcome and time it binds.
	Verify(value string, f AuthFacts) (ok bool, err error)
}
