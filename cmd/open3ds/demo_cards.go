package main

// The demo network's cards. Each stands for one ending a shopper can meet, and the README's table
// is this list. All are Luhn-valid test numbers in the 400000–400003 BINs, which the demo's DS routes
// and no real issuer uses here.

import (
	"fmt"
	"strconv"
)

// demoCard is one test card and what is enrolled for it.
type demoCard struct {
	PAN     string
	Issuer  string // the ACS issuer holding the account; empty when no account exists
	Status  string // the account's status at the ACS: enrolled or blocked
	Mobile  string // where SMS codes go, if anywhere
	Email   string // where e-mail codes go, if anywhere
	Locked  bool   // the demo keeps ten failed code entries on it, so it stays locked
	Kind    string // frictionless, challenge or other: which bench modes may use it
	Want    string // the transStatus the purchase ends with
	Ending  string // what happens, for the README and the shop's help box
	Product string // the product to buy for this ending, when it matters
	AppUI   string // the app challenge screen the ACS gives this card (an acsUiType), when set
	// Flow, when set, is a shop flow beyond a purchase that the row shows: demoFlowSubscribe (after
	// the purchase, a 3RI recurring payment on the card on file) or demoFlowSaveCard (a non-payment
	// authentication in the browser) or demoFlowPasskey (the shopper signs in to the shop with a
	// passkey before buying; the FIDO login goes in the AReq). Want is then the flow's first outcome.
	Flow string
	// Decoupled marks a card whose bank approves in its app (transStatus D) when the merchant
	// allows it, as the demo shop does; the merchant API without that consent challenges it.
	Decoupled bool
}

// The shop flows of demoCard.Flow.
const (
	demoFlowSubscribe = "subscribe"
	demoFlowSaveCard  = "save-card"
	demoFlowPasskey   = "passkey"
)

// The demo's issuers at the ACS, and the BINs the DS routes.
const (
	demoIssuer       = "demo-bank"         // risk-based: most purchases frictionless
	demoIssuerStepUp = "demo-bank-step-up" // its policy challenges every purchase of the demo shop
	// demoIssuerDecoupled authenticates out of band (transStatus D) where the merchant allows it,
	// and its policy, like the step-up BIN's, wants every purchase of the demo shop authenticated.
	demoIssuerDecoupled = "demo-bank-decoupled"
	demoMobile          = "+447700900123"
	demoEmail           = "shopper@example.com"
	demoExpiry          = "12/30"
	demoHighValue       = "bike" // the shop's product above the demo policy's large-amount line
	// demoChallengeFirst is the shop's product for which it allows the bank's app only as a
	// challenge's fallback (2.3.1 threeDSRequestorDecReqInd F).
	demoChallengeFirst = "headphones"
)

var demoCards = []demoCard{
	{PAN: "4000000000001000", Issuer: demoIssuer, Status: "enrolled", Mobile: demoMobile, Email: demoEmail, Kind: "frictionless",
		Want: "Y", Ending: "Frictionless: authenticated at once (Y, ECI 05)"},
	{PAN: "4000000000001000", Issuer: demoIssuer, Kind: "other", Product: demoHighValue,
		Want: "Y", Ending: "Risk-driven challenge: the same card buying the high-value road bike (€1,450) is challenged; the code goes by SMS or e-mail"},
	{PAN: "4000000000001000", Issuer: demoIssuer, Kind: "other", Product: demoHighValue, Flow: demoFlowPasskey,
		Want: "Y", Ending: "FIDO login: after Sign in with a passkey, the same road bike is frictionless (Y, ECI 05); the shop checked the passkey and sent the login in the AReq, and the bank's stored reason names it"},
	{PAN: "4000000000001000", Issuer: demoIssuer, Kind: "other", Flow: demoFlowSubscribe,
		Want: "Y", Ending: "Subscription (3RI): after the purchase, Subscribe monthly charges the card on file with no one present; the bank checks it against the purchase (Y, ECI 05). Renew now at once is too soon for a monthly agreement (N, reason 04)"},
	{PAN: "4000000000001000", Issuer: demoIssuer, Kind: "other", Flow: demoFlowSaveCard,
		Want: "Y", Ending: "Save card without paying: a non-payment authentication (messageCategory 02), no amount; the bank verifies the card (Y)"},
	{PAN: "4000010000001009", Issuer: demoIssuerStepUp, Status: "enrolled", Mobile: demoMobile, Kind: "challenge",
		Want: "Y", Ending: "Challenge with a code by SMS (Y after the code, ECI 05)"},
	{PAN: "4000010000002007", Issuer: demoIssuerStepUp, Status: "enrolled", Email: demoEmail, Kind: "challenge",
		Want: "Y", Ending: "Challenge with a code by e-mail"},
	{PAN: "4000010000003005", Issuer: demoIssuerStepUp, Status: "enrolled", Mobile: demoMobile, Email: demoEmail, Kind: "challenge",
		Want: "Y", Ending: "Challenge: the shopper chooses SMS or e-mail"},
	{PAN: "4000010000005000", Issuer: demoIssuerStepUp, Status: "enrolled", Mobile: demoMobile, Email: demoEmail, Kind: "challenge",
		AppUI: "03", Want: "Y", Ending: "In an app: tick SMS and e-mail (a multi-select screen) and one code goes to each; in a browser, choose one"},
	{PAN: "4000010000006008", Issuer: demoIssuerStepUp, Status: "enrolled", Mobile: demoMobile, Kind: "challenge",
		AppUI: "04", Want: "Y", Ending: "In an app: approve the purchase in the bank's app (out of band), opened from the link the app shows; in a browser, a code by SMS"},
	{PAN: "4000010000007006", Issuer: demoIssuerStepUp, Status: "enrolled", Mobile: demoMobile, Kind: "challenge",
		AppUI: "05", Want: "Y", Ending: "In an app: the bank's own HTML pages inside the app; in a browser, a code by SMS"},
	{PAN: "4000030000001007", Issuer: demoIssuerDecoupled, Status: "enrolled", Mobile: demoMobile, Kind: "other", Decoupled: true,
		Want: "Y", Ending: "Decoupled: the shop says \"Approve this payment in your bank's app\"; open the approval link the bank sent (it is in the development outbox) and approve (Y, ECI 05)"},
	{PAN: "4000030000002005", Issuer: demoIssuerDecoupled, Status: "enrolled", Mobile: demoMobile, Kind: "other", Decoupled: true,
		AppUI: "02", Want: "Y", Ending: "Decoupled as a fallback (2.3.1, app): `open3ds sdk buy --message-version 2.3.1 --decoupled only` shows the choice screen with \"Approve in my bank's app instead\"; choose it, the app says to approve in the bank's app; open the link from the development outbox and approve (Y). In the browser shop, the book goes to the bank's app at once as with the card above; the next row shows the fallback in the browser"},
	{PAN: "4000030000002005", Issuer: demoIssuerDecoupled, Mobile: demoMobile, Kind: "other", Decoupled: true, Product: demoChallengeFirst,
		Want: "Y", Ending: "Decoupled as a fallback (2.3.1, browser): for the headphones the shop wants a challenge first, with the bank's app only as a fallback; the bank's page offers \"Approve in my bank's app instead\" beside SMS: take it, then approve through the outbox link (Y)"},
	{PAN: "4000000000009003", Kind: "other",
		Want: "A", Ending: "Not enrolled: the issuer answers attempts (A, ECI 06); the payment goes through"},
	{PAN: "4000000000002008", Issuer: demoIssuer, Status: "blocked", Kind: "other",
		Want: "R", Ending: "Rejected: the issuer refuses the card (R, reason 12); no payment"},
	{PAN: "4000020000001008", Kind: "other",
		Want: "A", Ending: "Issuer's ACS down: the DS stands in with attempts (A, ECI 06)"},
	{PAN: "4000010000004003", Issuer: demoIssuerStepUp, Status: "enrolled", Mobile: demoMobile, Locked: true, Kind: "other",
		Want: "N", Ending: "Locked card: ten wrong codes in 24 h; the bank's page says the card is locked, sends no code, and ends Not authenticated (N, reason 19)"},
}

// demoBenchCardCount is how many frictionless accounts the demo enrols for `open3ds bench`. A real
// issuer's AReqs spread over many cards, each seen a few times a day; a benchmark that sent all its
// load through a handful of cards would measure an account under a card-testing attack instead.
const demoBenchCardCount = 2000

// demoBenchCards are the bench's frictionless accounts: Demo Bank cards 4000 0000 1000 000x upward.
func demoBenchCards() []string {
	pans := make([]string, demoBenchCardCount)
	for i := range pans {
		pans[i] = luhnComplete(fmt.Sprintf("400000001%06d", i))
	}
	return pans
}

// luhnComplete appends the Luhn check digit to a card number's first digits.
func luhnComplete(body string) string {
	sum := 0
	for i := len(body) - 1; i >= 0; i-- {
		d := int(body[i] - '0')
		if (len(body)-i)%2 == 1 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return body + strconv.Itoa((10-sum%10)%10)
}

// demoRisk is the ACS's risk policy file in the demo: the built-in rules, with velocity off so that
// trying a card many times (or benchmarking it) keeps its ending, a large-amount line the road bike
// crosses, a FIDO login that outweighs that line and the bike's distance from the card's usual
// amount (a user-verified passkey sign-in minutes before is what a challenge would ask for: the
// passkey row), and a step-up issuer that challenges everything the demo shop (MCC 5732) sells. A
// shadow policy with a lower large-amount line runs beside the live one, for the console to compare.
const demoRisk = `# Written by open3ds demo; see internal/risk/README.md for the format.
default:
  live:
    name: demo
    extends: builtin
    rules:
      large_amount: {over: 1000, points: 300}
      fido_login: {within_minutes: 15, points: -500}
      velocity_hour: {enabled: false}
      velocity_day: {enabled: false}
      failed_challenges: {enabled: false}
  # A stricter large-amount line the issuer's risk team is trying out: scored beside the live policy
  # on every AReq and never acted on. The ACS console's Risk rules page compares the two.
  # ("extends: default" cannot name the entry it is in, so the shadow repeats the live changes.)
  shadow:
    name: demo-stricter
    extends: builtin
    rules:
      large_amount: {over: 500, points: 300}
      fido_login: {within_minutes: 15, points: -500}
      velocity_hour: {enabled: false}
      velocity_day: {enabled: false}
      failed_challenges: {enabled: false}
issuers:
  demo-bank-step-up:
    live:
      name: demo-step-up
      extends: default
      deny_above: 1000
      rules:
        risky_mcc: {mccs: ["5732"], points: 500}
        # A passkey sign-in does not buy its way past the step-up (500 - 200 stays at the line).
        fido_login: {within_minutes: 15, points: -200}
  demo-bank-decoupled:
    live:
      name: demo-decoupled
      extends: default
      rules:
        risky_mcc: {mccs: ["5732"], points: 500}
        fido_login: {within_minutes: 15, points: -200}
`
