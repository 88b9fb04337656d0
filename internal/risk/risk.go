// Package risk is the ACS's risk engine: it scores an AReq together with the facts the ACS holds
// about the card (known devices, recent velocity, usual amounts) and decides between a frictionless
// authentication, a challenge and a denial. Every point of the score is explained by a Reason a
// person can read, and each reason carries the transStatusReason code that fits it, so that the ACS
// can answer the DS with a protocol code and an operator can see why.
//
// The engine is pure: Evaluate does no I/O and allocates little. Policies (rules, points and
// thresholds per issuer, plus an optional shadow policy evaluated beside the live one) come from a
// YAML file described in README.md; LoadSet reads it and Watch reloads it when it changes.
package risk

import (
	"time"

	"github.com/open3ds/open3ds/internal/emv"
)

// Facts are what the ACS knows from its own records; the AReq cannot tell it these.
type Facts struct {
	// DeviceKnown reports that this card has been used before from the same device fingerprint.
	DeviceKnown bool
	// HasDeviceData reports that the 3DS Method (or the SDK) delivered device data.
	HasDeviceData bool
	// TxLastHour and TxLastDay count this card's authentications in the last hour and day,
	// FailedChallenges24h its failed challenges in the last 24 hours.
	TxLastHour, TxLastDay, FailedChallenges24h int
	// UsualAmountMax is the card's usual largest amount in minor units; 0 means unknown.
	UsualAmountMax int64
	// BillingCountry is the cardholder's billing country on file (ISO 3166-1 numeric); "" is unknown.
	BillingCountry string
	// DeviceIP is the IP address the 3DS Method saw; "" is unknown.
	DeviceIP string
	// DeviceWarnings are the security warnings the app's 3DS SDK reported in its device
	// information (SDKWarnings reads them).
	DeviceWarnings Warnings
	// LocaleCountry is the country of the device's locale (an app's, or a browser's language
	// tag) and IPCountry the country of its IP address, ISO 3166-1 alpha-2 upper case; "" is
	// unknown. The ACS finds the IP's country in the table its operator loads.
	LocaleCountry, IPCountry string
}

// Warnings is a set of the 3DS SDK's security warnings, as bits so that Facts stays comparable and
// evaluation allocation-free.
type Warnings uint8

// The SDK security warnings that say the app runs where it cannot be trusted. SW05 (an OS version
// the SDK does not support) is not among them: it says nothing about who holds the device.
const (
	WarnRooted   Warnings = 1 << iota // SW01: jailbroken or rooted
	WarnTampered                      // SW02: the SDK's integrity is broken
	WarnEmulator                      // SW03: an emulator runs the app
	WarnDebugger                      // SW04: a debugger is attached
)

var warningNames = []struct {
	code, text string
	bit        Warnings
}{
	{"SW01", "jailbroken or rooted", WarnRooted},
	{"SW02", "SDK tampered with", WarnTampered},
	{"SW03", "emulator", WarnEmulator},
	{"SW04", "debugger attached", WarnDebugger},
}

// SDKWarnings reads the SW list of an SDK's device information; codes it does not know are left out.
func SDKWarnings(codes []string) Warnings {
	var w Warnings
	for _, c := range codes {
		for _, k := range warningNames {
			if c == k.code {
				w |= k.bit
			}
		}
	}
	return w
}

// Input is one authentication to score.
type Input struct {
	AReq  *emv.AReq
	Facts Facts
	// Now is the time of the decision; rules that look at dates (prior authentication) use it
	// instead of the clock so that evaluation stays pure and repeatable.
	Now time.Time
}

// Outcome is the decision the score leads to.
type Outcome string

// The three decisions. The ACS maps them to transStatus Y (or A), C and N (or R).
const (
	Frictionless Outcome = "frictionless"
	Challenge    Outcome = "challenge"
	Deny         Outcome = "deny"
)

// Reason explains part of a score: the rule that fired, a sentence for people, the points it
// added (negative for rules that lower the risk) and the transStatusReason code that fits it,
// or "" when no code does.
type Reason struct {
	Rule              string
	Text              string
	Points            int
	TransStatusReason string
}

// Result is the engine's answer. Score is 0–1000, higher is riskier. Reasons are sorted by
// points, largest first. TransStatusReason is the code the ACS should send with the outcome:
// the code of the weightiest reason that has one, otherwise 11 (suspected fraud) for a denial
// and a confidence level (15 low … 18 very high) derived from the score for the rest. Policy
// names the policy that produced the result.
type Result struct {
	Score             int
	Outcome           Outcome
	Reasons           []Reason
	TransStatusReason string
	Policy            string
}

// Transaction status reason codes used by the rules (PROTOCOL.md §2.1).
const (
	reasonUnknownDevice  = "02"
	reasonFrequency      = "04"
	reasonSuspectedFraud = "11"
	reasonLowConf        = "15"
	reasonMediumConf     = "16"
	reasonHighConf       = "17"
	reasonVeryHighConf   = "18"
)

// Fixed rule names for the behaviour the protocol imposes rather than the policy: a requestor's
// challenge mandate, and the impossibility of a challenge without a cardholder.
const (
	RuleMandate     = "challenge_mandate"
	RuleNoChallenge = "no_challenge_possible"
)

// maxReasons bounds the reasons one evaluation can produce: every rule plus the two fixed ones.
const maxReasons = numRules + 2

// evaluate scores in against p. It is the heart of the package and allocates only the reasons'
// slice and the texts of reasons that quote numbers.
func (p *Policy) evaluate(in *Input) Result {
	v := newView(in)

	var buf [maxReasons]Reason
	n := 0
	raw, exempt := 0, 0
	exemptAt := -1
	for i := range ruleDefs {
		c := &p.rules[i]
		if !c.On {
			continue
		}
		r := &buf[n]
		if !evalRule(ruleID(i), c, &v, r) {
			continue
		}
		r.Rule = ruleDefs[i].name
		r.Points = c.Points
		if ruleDefs[i].exemption {
			exempt += c.Points
			exemptAt = n
		} else {
			raw += c.Points
		}
		n++
	}

	res := Result{Policy: p.name}
	raw = clamp(raw)
	switch {
	case raw > p.denyAbove:
		// An exemption never rescues a denial: the requestor's risk analysis does not outweigh
		// what the issuer sees, so the exemption is recorded but contributes nothing.
		res.Score, res.Outcome = raw, Deny
		if exemptAt >= 0 {
			buf[exemptAt].Points = 0
			buf[exemptAt].Text += " (not applied: risk above the deny threshold)"
		}
	default:
		res.Score = clamp(raw + exempt)
		res.Outcome = Challenge
		if res.Score < p.frictionlessBelow {
			res.Outcome = Frictionless
		}
	}

	if res.Outcome == Frictionless && v.mandate {
		buf[n] = Reason{Rule: RuleMandate, Text: "the requestor mandated a challenge (04)"}
		n++
		res.Outcome = Challenge
	}
	if res.Outcome == Challenge && v.noChallenge {
		// Nobody could answer a challenge (3RI), or the requestor only shares data (06), where
		// transStatus C is invalid. Below the deny threshold the issuer accepts the risk and says
		// so in the reasons; the score itself is kept, so that reports show it was not low.
		text := "no cardholder present to challenge (3RI): accepted below the deny threshold"
		if !v.threeRI {
			text = "requestor shares data only (06): no challenge possible, accepted below the deny threshold"
		}
		buf[n] = Reason{Rule: RuleNoChallenge, Text: text}
		n++
		res.Outcome = Frictionless
	}

	if n > 0 {
		res.Reasons = make([]Reason, n)
		copy(res.Reasons, buf[:n])
		sortReasons(res.Reasons)
	}
	res.TransStatusReason = p.statusReason(&res)
	return res
}

// statusReason picks the transStatusReason for res, as Result documents.
func (p *Policy) statusReason(res *Result) string {
	for _, r := range res.Reasons {
		if r.TransStatusReason != "" && r.Points > 0 {
			return r.TransStatusReason
		}
	}
	switch {
	case res.Outcome == Deny:
		return reasonSuspectedFraud
	case res.Score >= p.denyAbove:
		return reasonLowConf
	case res.Score >= p.frictionlessBelow:
		return reasonMediumConf
	case res.Score >= p.frictionlessBelow/2:
		return reasonHighConf
	default:
		return reasonVeryHighConf
	}
}

// sortReasons orders by points, largest first, keeping rule order among equals. An insertion
// sort: the slices are tiny and sort.Slice would allocate.
func sortReasons(rs []Reason) {
	for i := 1; i < len(rs); i++ {
		for j := i; j > 0 && rs[j].Points > rs[j-1].Points; j-- {
			rs[j], rs[j-1] = rs[j-1], rs[j]
		}
	}
}

func clamp(s int) int {
	return min(max(s, 0), 1000)
}
