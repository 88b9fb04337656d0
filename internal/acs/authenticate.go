package acs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/open3ds/open3ds/internal/authvalue"
	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/ids"
	"github.com/open3ds/open3ds/internal/store"
)

// decision is what the ACS answers, before it becomes an ARes.
type decision struct {
	status, reason string
	mandated       bool
	reasons        []string
	// ui and iface are the screen and interface of an app challenge, lang the cardholder's language.
	ui, iface, lang string
	// link is a 3RI's mark on the prior authentication that backs its Y.
	link *PriorLink
}

// Authenticate decides one valid AReq, stores the transaction and returns the ARes to send. An
// error means nothing was stored and the caller answers Erro; trouble the ACS can still put in words
// (missing keys, an engine fault) is answered as transStatus U instead.
//
// When ex is not nil it is the AReq's row in the exchange log: Authenticate fills in the answer and
// stores it in the same commit as the transaction.
func (s *Service) Authenticate(ctx context.Context, a *emv.AReq, ex *store.Exchange) (*emv.ARes, error) {
	now := s.now()
	t := Transaction{
		ACSTransID: ids.New(), ThreeDSServerTransID: a.ThreeDSServerTransID, DSTransID: a.DSTransID,
		SDKTransID: a.SDKTransID, MaskedPAN: MaskPAN(a.AcctNumber), MessageVersion: a.MessageVersion,
		MessageCategory: a.MessageCategory, DeviceChannel: a.DeviceChannel, DSURL: a.DSURL, Currency: a.PurchaseCurrency,
		Merchant: a.AcquirerMerchantID, CreatedAt: now, LiveDecision: "none", ShadowDecision: "none",
	}
	t.Amount, _ = strconv.ParseInt(a.PurchaseAmount, 10, 64)
	recurringOf(a, &t)
	d, issuer, err := s.decide(ctx, a, &t)
	if err != nil {
		return nil, err
	}
	res := s.ares(a, &t, d, issuer)
	var app *AppRow
	if res.TransStatus == "C" && a.DeviceChannel == emv.ChannelApp {
		if app, err = s.appARes(a, &t, d, res); err != nil {
			// The challenge cannot be offered (a key the SDK sent that is not on P-256, a signing
			// failure): the issuer's policy for no challenge answers instead, with the reason logged.
			s.log().WarnContext(ctx, "app challenge not possible", "issuer", issuer.ID, "err", err)
			d = s.noChallenge(a, issuer, d)
			res = s.ares(a, &t, d, issuer)
		}
	}
	if res.TransStatus == "Y" || res.TransStatus == "A" {
		if err := s.authValue(a, &t, res, issuer); err != nil {
			s.log().WarnContext(ctx, "authentication value failed; answering U", "issuer", issuer.ID, "err", err)
			res.TransStatus, res.TransStatusReason, res.AuthenticationValue, res.ECI = "U", "22", "", ""
		}
	}
	t.TransStatus, t.Reason, t.ECI, t.AuthValue = res.TransStatus, res.TransStatusReason, res.ECI, res.AuthenticationValue
	if t.TransStatus == "C" || t.TransStatus == "D" {
		t.PAN = a.AcctNumber // the authentication ends later, and its RReq needs the value
	}
	link := d.link
	if res.TransStatus != "Y" {
		link = nil
	}
	started, err := s.recordAReq(ctx, a, t, res, d, app, ex, link, issuer)
	if errors.Is(err, ErrPriorChanged) {
		// Another 3RI on the same agreement was recorded since this one read its prior: the limit
		// it checked no longer holds, so this one is too frequent.
		res.TransStatus, res.TransStatusReason, res.AuthenticationValue, res.ECI = "N", "04", "", authvalue.ECI(issuer.ECIStyle, 'N')
		t.TransStatus, t.Reason, t.ECI, t.AuthValue = res.TransStatus, res.TransStatusReason, res.ECI, ""
		t.Reasons = append(t.Reasons, "another 3RI on the same prior authentication came first")
		started, err = s.recordAReq(ctx, a, t, res, d, app, ex, nil, issuer)
	}
	if err != nil {
		return nil, err
	}
	if started != nil {
		s.DecoupledStarted(ctx, *started)
	}
	s.log().InfoContext(ctx, "AReq decided", "acsTransID", t.ACSTransID, "pan", t.MaskedPAN, "issuer", t.IssuerID,
		"transStatus", t.TransStatus, "reason", t.Reason, "score", t.RiskScore, "live", t.LiveDecision, "shadow", t.ShadowDecision)
	return res, nil
}

// recordAReq checks the ARes and stores everything the AReq leaves in one commit, before the ARes leaves.
func (s *Service) recordAReq(ctx context.Context, a *emv.AReq, t Transaction, res *emv.ARes, d decision, app *AppRow,
	ex *store.Exchange, link *PriorLink, issuer Issuer) (*DecoupledStart, error) {
	if err := emv.Validate(res, &emv.Context{AReq: a}); err != nil {
		return nil, fmt.Errorf("acs: our own ARes is invalid: %w", err)
	}
	if ex != nil {
		answered(ex, res)
	}
	challenge := challengeFor(a, t)
	if challenge != nil && app != nil {
		challenge.BrowserLanguage = d.lang
	}
	if challenge != nil {
		challenge.DecoupledWithin = s.decoupledWithin(a, issuer)
	}
	var started *DecoupledStart
	var dec *DecoupledRow
	if t.TransStatus == "D" {
		row, token := s.newDecoupled(a, t, d.lang)
		dec, started = &row, &DecoupledStart{Transaction: t, Row: row, Token: token}
	}
	err := s.Store.RecordAReq(ctx, AReqRecord{Transaction: t, Challenge: challenge, App: app, Decoupled: dec, Exchange: ex, Link: link})
	if err != nil && !errors.Is(err, ErrPriorChanged) {
		return nil, fmt.Errorf("acs: recording transaction: %w", err)
	}
	if err != nil {
		return nil, err
	}
	return started, nil
}

// decide finds the issuer and the card, asks the risk engine and turns its outcome into a status,
// honouring the requestor's challenge indicator, the channel and the issuer's policies.
func (s *Service) decide(ctx context.Context, a *emv.AReq, t *Transaction) (decision, Issuer, error) {
	issuer, err := s.Store.IssuerForPAN(ctx, a.AcctNumber)
	if errors.Is(err, store.ErrNotFound) {
		return decision{status: "N", reason: "08", reasons: []string{"no issuer for the card range"}}, issuer, nil
	}
	if err != nil {
		return decision{}, issuer, err
	}
	t.IssuerID = issuer.ID
	// The card, the 3DS Method's findings and the card's history come in one statement.
	t.PANHash = s.Store.LookupHash(a.AcctNumber)
	// An app's device is known from its AReq alone; a browser's from its 3DS Method, if it ran.
	app := a.DeviceChannel == emv.ChannelApp
	methodID, fallback := a.ThreeDSServerTransID, deviceKey(a)
	var dev device
	if app {
		dev = appDevice(a)
		methodID, fallback = "", dev.key
	}
	facts, err := s.Store.CardForAReq(ctx, t.PANHash, methodID, fallback, t.CreatedAt)
	ch, h := facts.Cardholder, facts.History
	switch {
	case errors.Is(err, store.ErrNotFound):
		ch.Status = StatusNotEnrolled
	case err != nil:
		return decision{}, issuer, err
	}
	if !app {
		dev = browserDevice(a, facts)
	}
	t.CardholderID, t.DeviceKey = ch.ID, dev.key
	switch ch.Status {
	case StatusBlocked:
		return decision{status: "R", reason: "12", reasons: []string{"card blocked by the issuer"}}, issuer, nil
	case StatusNotEnrolled:
		if issuer.NotEnrolledPolicy == "A" && a.MessageCategory == emv.CategoryPayment {
			return decision{status: "A", reasons: []string{"card not enrolled: attempts"}}, issuer, nil
		}
		return decision{status: "N", reason: "13", reasons: []string{"card not enrolled"}}, issuer, nil
	}
	if expired(ch.Expiry, t.CreatedAt.Format("0601")) {
		return decision{status: "N", reason: "05", reasons: []string{"card expired"}}, issuer, nil
	}
	if d, ok := channelPolicy(a, issuer); !ok {
		return d, issuer, nil
	}

	t.RiskInput = &RiskInput{AReq: a, History: h, HasDeviceData: dev.hasData, DeviceIP: dev.methodIP,
		DeviceWarnings: dev.warnings, LocaleCountry: LocaleCountry(dev.locale), IPCountry: s.IPCountries.Country(dev.ip), Now: t.CreatedAt}
	live, shadow := s.Risk.Evaluate(issuer.RiskPolicy, *t.RiskInput)
	t.RiskScore, t.LiveDecision, t.Reasons = live.Score, live.Outcome, live.Reasons
	if shadow != nil {
		t.ShadowDecision = shadow.Outcome
	}
	var ui, iface string
	if a.DeviceChannel == emv.ChannelApp && s.AppSigning != nil && s.AppURL != "" {
		ui, iface = appUI(ch, a.DeviceRenderOptions)
	}
	d := s.apply(a, issuer, live, ui, reachable(ch))
	d.ui, d.iface, d.lang = ui, iface, ch.Locale
	if a.DeviceChannel == emv.Channel3RI {
		d, d.link, err = s.threeRI(ctx, a, t, d, live.Outcome == Deny)
	}
	return d, issuer, err
}

// device is what the ACS knows of the device behind an AReq, for the risk engine.
type device struct {
	// key names the device across transactions.
	key string
	// hasData is true when the 3DS Method ran or the app's SDK sent its device information.
	hasData bool
	// methodIP is the address the 3DS Method saw, "" when it did not run.
	methodIP string
	// warnings are the app SDK's security warnings (SW01…).
	warnings []string
	// locale and ip are the device's language tag and IP address, for the locale rule.
	locale, ip string
}

// appDevice is the device behind an app's AReq: the device information its SDK sent, with the locale
// (C005) and IP address (C010) in it (apps run no 3DS Method).
func appDevice(a *emv.AReq) device {
	var d device
	if info, ok := ReadDeviceInfo(a.DeviceInfo); ok {
		d = device{key: info.Key(a.SDKAppID), hasData: true, warnings: info.Warnings, locale: info.Data["C005"], ip: info.Data["C010"]}
	}
	if d.key == "" {
		d.key = deviceKey(a)
	}
	return d
}

// browserDevice is the device behind a browser's (or 3RI) AReq: what its 3DS Method found
// (f.Method), when it ran, with the AReq's language tag and IP (the 3DS Method's when the AReq has
// none); without a key from the Method, the device is named by deviceKey.
func browserDevice(a *emv.AReq, f CardFacts) device {
	m := f.Method
	d := device{key: m.DeviceKey, hasData: f.MethodRan, methodIP: m.IP, locale: a.BrowserLanguage, ip: a.BrowserIP}
	if d.ip == "" {
		d.ip = m.IP
	}
	if d.key == "" {
		d.key = deviceKey(a)
	}
	return d
}

// apply turns the risk outcome into a transStatus (PROTOCOL.md §2.1, §1.6, §1.7).
// ui is the screen of an app challenge, "" when the ACS cannot challenge this app; reach says
// whether the cardholder has a phone number or e-mail address for a decoupled request.
func (s *Service) apply(a *emv.AReq, is Issuer, r RiskResult, ui string, reach bool) decision {
	d := decision{reasons: r.Reasons}
	ind := a.ThreeDSRequestorChallengeInd.Items
	mandate := slices.Contains(ind, "04")
	v22 := emv.CompareVersions(a.MessageVersion, emv.Version220) >= 0
	outcome := r.Outcome
	// A requestor's mandate (04) makes any challenge a mandated one, whether the risk engine asked
	// for it (the default engine turns 04 into a challenge itself) or this rule does.
	d.mandated = mandate
	if mandate && outcome == Frictionless {
		outcome = Challenge
		d.reasons = append(d.reasons, "requestor mandates a challenge (04)")
	}
	switch outcome {
	case Deny:
		d.status, d.reason = "N", r.TransStatusReason
		if d.reason == "" {
			d.reason = "11"
		}
		return d
	case Frictionless:
		d.status = "Y"
		if v22 && slices.Contains(ind, "06") && a.MessageCategory == emv.CategoryPayment {
			d.status = "I" // data share only: the requestor asked for no authentication
		}
		return d
	}
	// A challenge is wanted. Decoupled when asked for and offered; otherwise a browser or app
	// challenge.
	// 2.3.1's B allows D in the ARes as Y does; its F allows D only in an RReq, as a fallback
	// during a challenge (decoupled_fallback.go, docs/protocol.md).
	decInd := a.ThreeDSRequestorDecReqInd
	allowsD := decInd == "Y" || (decInd == "B" && emv.CompareVersions(a.MessageVersion, emv.Version231) >= 0)
	decoupled := v22 && allowsD && is.Decoupled && a.DeviceChannel != emv.Channel3RI && reach && s.DecoupledStarted != nil
	// A requestor that allows less time than the issuer needs gets the ordinary challenge when one
	// can take place, and otherwise N with reason 25 (decoupled authentication given insufficient
	// time) rather than the issuer's no-challenge policy: the ACS could have authenticated.
	short := decoupled && s.decoupledTime(a) < s.decoupledMin()
	none := func() decision {
		if short {
			d.status, d.reason = "N", "25"
			d.reasons = append(d.reasons, "decoupled max time shorter than the issuer's minimum")
			return d
		}
		return s.noChallenge(a, is, d)
	}
	switch {
	case decoupled && !short:
		d.status = "D"
	case slices.Contains(ind, "06"):
		return none()
	case a.DeviceChannel == emv.ChannelBrowser:
		d.status = "C"
	case a.DeviceChannel == emv.ChannelApp && ui != "":
		d.status = "C"
	default:
		return none()
	}
	return d
}

// noChallenge answers a wanted challenge that cannot take place: 3RI has no cardholder,
// data-share-only forbids C, and an app challenge needs the content-signing key and a screen the
// SDK can show. The issuer's policy says N or attempts.
func (s *Service) noChallenge(a *emv.AReq, is Issuer, d decision) decision {
	d.status, d.reason = is.NoChallengePolicy, ""
	if d.status == "N" {
		d.reason = "15"
		if a.DeviceChannel == emv.Channel3RI {
			d.reason = "21"
		}
	}
	d.reasons = append(d.reasons, "challenge not possible in this transaction")
	return d
}

func expired(expiry, nowYYMM string) bool { return expiry != "" && expiry < nowYYMM }

// deviceKey names a browser or app across transactions when no 3DS Method ran: a hash of the traits
// that stay put between purchases.
func deviceKey(a *emv.AReq) string {
	src := a.SDKAppID
	if a.DeviceChannel == emv.ChannelBrowser {
		src = a.BrowserUserAgent + "|" + a.BrowserAcceptHeader + "|" + a.BrowserLanguage
	}
	if src == "" {
		return ""
	}
	h := sha256.Sum256([]byte(src))
	return hex.EncodeToString(h[:16])
}
