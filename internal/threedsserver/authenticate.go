package threedsserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/httpx"
	"github.com/open3ds/open3ds/internal/store"
)

// AuthenticateRequest is the purchase, the browser data the checkout script collected and the 3DS
// Method's outcome.
type AuthenticateRequest struct {
	Amount         string `json:"amount"`   // minor units
	Currency       string `json:"currency"` // ISO 4217 numeric
	Exponent       *int   `json:"exponent"` // default 2
	ThreeDSCompInd string `json:"threeDSCompInd"`
	// MessageCategory, when set, replaces the one the start gave: a browser authentication starts
	// as soon as the card number is typed, before the shopper has said whether to pay or only to
	// save the card.
	MessageCategory     string  `json:"messageCategory,omitempty"`
	ChallengeWindowSize string  `json:"challengeWindowSize"` // 01-05, default 05
	CardExpiryDate      string  `json:"cardExpiryDate,omitempty"`
	CardholderName      string  `json:"cardholderName,omitempty"`
	Email               string  `json:"email,omitempty"`
	Browser             Browser `json:"browser"`
	// ReturnURL is where the shopper's browser goes after a challenge run at top level (the
	// checkout script's redirect fallback), with ?id=<transaction> added. Its origin must be the
	// merchant's page origin, so that the 3DS Server never sends a shopper anywhere else.
	ReturnURL string `json:"returnUrl,omitempty"`
	// Decoupled lets the issuer authenticate the cardholder outside the purchase (transStatus D),
	// from protocol version 2.2.0 on; a 2.1.0 AReq never carries it.
	Decoupled *DecoupledRequest `json:"decoupled,omitempty"`
	// The requestor's login and the 2.3.1 data (requestor.go), in the versions that have them.
	RequestorData
}

// DecoupledRequest is the merchant's consent to decoupled authentication: threeDSRequestorDecReqInd
// Y, and threeDSRequestorDecMaxTime when MaxMinutes is set (1-10080; the ACS's own limit when 0).
//
// Fallback says when 2.3.1's fallback values apply: "only" allows decoupled only as a fallback
// during a challenge (F: the cardholder moves the challenge to the bank's app), "also" allows it
// up front or as a fallback (B). Up to 2.2.0 there is no fallback: "also" sends Y and "only" sends
// no indicator at all (the merchant did not want decoupled up front). Empty sends Y.
type DecoupledRequest struct {
	Allowed    bool   `json:"allowed"`
	MaxMinutes int    `json:"maxMinutes,omitempty"`
	Fallback   string `json:"fallback,omitempty"`
}

// check names every bad field of d (nil is fine: no decoupled authentication).
func (d *DecoupledRequest) check(bad func(field, detail string)) {
	if d == nil {
		return
	}
	if d.MaxMinutes < 0 || d.MaxMinutes > 10080 {
		bad("decoupled.maxMinutes", "must be 1-10080 minutes (7 days), or absent for the ACS's own limit")
	}
	if d.MaxMinutes != 0 && !d.Allowed {
		bad("decoupled.allowed", "must be true when decoupled.maxMinutes is set")
	}
	switch {
	case d.Fallback != "" && d.Fallback != DecoupledFallbackOnly && d.Fallback != DecoupledFallbackAlso:
		bad("decoupled.fallback", `must be "only" (decoupled only as a challenge's fallback) or "also" (up front or as a fallback)`)
	case d.Fallback != "" && !d.Allowed:
		bad("decoupled.allowed", "must be true when decoupled.fallback is set")
	}
}

// The values of DecoupledRequest.Fallback.
const (
	DecoupledFallbackOnly = "only"
	DecoupledFallbackAlso = "also"
)

// Browser is the browser data of the AReq.
type Browser struct {
	AcceptHeader      string `json:"acceptHeader"`
	IP                string `json:"ip"`
	JavaEnabled       bool   `json:"javaEnabled"`
	JavascriptEnabled *bool  `json:"javascriptEnabled"`
	Language          string `json:"language"`
	ColorDepth        string `json:"colorDepth"`
	ScreenHeight      string `json:"screenHeight"`
	ScreenWidth       string `json:"screenWidth"`
	TZ                string `json:"tz"`
	UserAgent         string `json:"userAgent"`
}

// Challenge is the form the checkout script posts into the challenge iframe.
type Challenge struct {
	ACSURL             string `json:"acsURL"`
	CReq               string `json:"creq"`
	WindowSize         string `json:"windowSize"`
	ThreeDSSessionData string `json:"threeDSSessionData"`
}

// validate checks the request; a non-payment (payment false) may leave the amount out.
func (req *AuthenticateRequest) validate(payment bool) error {
	var fe []httpx.FieldError
	bad := func(f, d string) { fe = append(fe, httpx.FieldError{Field: f, Detail: d}) }
	checkAmount(payment, req.Amount, req.Currency, req.Exponent, req.CardExpiryDate, bad)
	switch req.ThreeDSCompInd {
	case "Y", "N", "U":
	default:
		bad("threeDSCompInd", "must be Y, N or U")
	}
	switch req.ChallengeWindowSize {
	case "", "01", "02", "03", "04", "05":
	default:
		bad("challengeWindowSize", "must be 01-05")
	}
	b := req.Browser
	if b.AcceptHeader == "" {
		bad("browser.acceptHeader", "is required")
	}
	if b.UserAgent == "" {
		bad("browser.userAgent", "is required")
	}
	if b.Language == "" || len(b.Language) > 8 {
		bad("browser.language", "is required, 1-8 characters")
	}
	if b.JavascriptEnabled == nil {
		bad("browser.javascriptEnabled", "is required")
	}
	req.Decoupled.check(bad)
	if fe != nil {
		return httpx.Invalid(fe...)
	}
	return nil
}

// checkAmount is checkPurchase for a payment; a non-payment may leave the amount out, but one
// given is checked the same.
func checkAmount(payment bool, amount, currency string, exponent *int, expiry string, bad func(field, detail string)) {
	if !payment && amount == "" && currency == "" && exponent == nil {
		if expiry != "" && !digits(expiry, 4, 4) {
			bad("cardExpiryDate", "must be YYMM")
		}
		return
	}
	checkPurchase(amount, currency, exponent, expiry, bad)
}

// checkPurchase checks the purchase fields that the browser and the app requests share.
func checkPurchase(amount, currency string, exponent *int, expiry string, bad func(field, detail string)) {
	if !digits(amount, 1, 48) {
		bad("amount", "is required: minor units, digits only")
	}
	if !digits(currency, 3, 3) {
		bad("currency", "is required: 3-digit ISO 4217 numeric code")
	}
	if exponent != nil && (*exponent < 0 || *exponent > 9) {
		bad("exponent", "must be 0-9")
	}
	if expiry != "" && !digits(expiry, 4, 4) {
		bad("cardExpiryDate", "must be YYMM")
	}
}

func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, m Merchant) error {
	ctx := r.Context()
	t, err := s.merchantTransaction(ctx, m, r.PathValue("id"))
	if err != nil {
		return err
	}
	var req AuthenticateRequest
	if err := httpx.DecodeJSON(r, 64<<10, &req); err != nil {
		return err
	}
	switch req.MessageCategory {
	case "":
	case CategoryPayment, emv.CategoryPayment:
		t.MessageCategory = emv.CategoryPayment
	case CategoryNonPayment, emv.CategoryNonPayment:
		t.MessageCategory = emv.CategoryNonPayment
	default:
		return httpx.Invalid(httpx.FieldError{Field: "messageCategory", Detail: `must be "payment" (01) or "non-payment" (02)`})
	}
	if err := req.validate(t.MessageCategory != emv.CategoryNonPayment); err != nil {
		return err
	}
	if err := s.checkReturnURL(m, req.ReturnURL); err != nil {
		return err
	}
	if err := req.RequestorData.problem(t.MessageVersion, emv.ChannelBrowser); err != nil {
		return err
	}
	if t.State != StateStarted || t.PANSealed == "" {
		return httpx.NewProblem(http.StatusConflict, "this authentication was already sent; start a new one")
	}
	req.ThreeDSCompInd = compInd(t, req.ThreeDSCompInd)
	pan, err := s.cfg.Vault.Open(t.PANSealed, panAD(t.ID))
	if err != nil {
		return err
	}
	areq := s.buildAReq(m, t, &req, string(pan))
	if err := emv.Validate(areq, nil); err != nil {
		return fieldProblem(err)
	}
	if err := s.cfg.Store.ClaimAReq(ctx, t.ID, s.cfg.Now()); errors.Is(err, store.ErrNotFound) {
		return httpx.NewProblem(http.StatusConflict, "this authentication is already being sent; read its outcome with GET")
	} else if err != nil {
		return err
	}
	t.CompInd, t.PANSealed, t.ReturnURL = req.ThreeDSCompInd, "", req.ReturnURL
	t, ares, err := s.exchange(ctx, t, areq)
	if err != nil {
		return err
	}
	res := resultOf(t)
	if ares != nil && t.State == StateChallenge && t.ACSURL != "" {
		size := req.ChallengeWindowSize
		if size == "" {
			size = "05"
		}
		creq, _ := json.Marshal(emv.CReq{MessageType: emv.TypeCReq, MessageVersion: t.MessageVersion,
			ThreeDSServerTransID: t.ID, ACSTransID: t.ACSTransID, ChallengeWindowSize: size})
		res.Challenge = &Challenge{ACSURL: t.ACSURL, CReq: emv.EncodeBase64URL(creq), WindowSize: size,
			ThreeDSSessionData: emv.EncodeBase64URL([]byte(t.ID))}
	}
	return httpx.WriteJSON(w, http.StatusOK, res)
}

// exchange sends the AReq of t, which the caller has claimed, and stores the outcome. It returns t
// as stored, and the ARes when the exchange's own outcome is what was stored: nil when the AReq
// failed, or when the sweeper had ended the transaction first (then t is what the sweeper wrote).
// Its errors are the store's.
func (s *Server) exchange(ctx context.Context, t Transaction, areq *emv.AReq) (Transaction, *emv.ARes, error) {
	// From the claim on, the exchange is the 3DS Server's, not the merchant's request's: a merchant
	// that hangs up must not cancel the AReq half way (the DS would count a healthy ACS as down) nor
	// the write of its outcome (the row would stay in "sending"). It runs to its own deadline, which
	// the sweeper waits out before it ends a row that no exchange will finish.
	dctx, done := s.cfg.Drain.Detach(ctx, "AReq")
	defer done()
	ctx, cancel := context.WithTimeout(dctx, s.exchangeBudget())
	defer cancel()
	ares, err := s.sendAReq(ctx, areq)
	t.AResAt = s.cfg.Now()
	if err != nil {
		t.State = StateError
		var remote *RemoteError
		if errors.As(err, &remote) {
			t.ErrorCode, t.ErrorDetail, t.DSTransID = remote.Erro.ErrorCode, remote.Erro.ErrorDetail, remote.Erro.DSTransID
		} else if e := emv.AsError(err); e != nil {
			t.ErrorCode, t.ErrorDetail = codeOf(e), e.Detail
		} else {
			// Still stored as an error, so that the sealed PAN goes and the row does not hang in "sending".
			s.cfg.Log.ErrorContext(ctx, "AReq failed", "id", t.ID, "err", err)
			t.ErrorDetail = "internal error"
		}
		s.cfg.Metrics.auth("error")
	} else {
		t.DSTransID, t.ACSTransID, t.TransStatus, t.TransStatusReason = ares.DSTransID, ares.ACSTransID, ares.TransStatus, ares.TransStatusReason
		t.AuthenticationValue, t.ECI, t.ACSURL = ares.AuthenticationValue, ares.ECI, ares.ACSURL
		t.CardholderInfo = ares.CardholderInfo.Text
		t.State = StateFrictionless
		if ares.TransStatus == "C" || ares.TransStatus == "D" {
			t.State = StateChallenge
		} else {
			t.ResultAt = t.AResAt
		}
		s.cfg.Metrics.auth(ares.TransStatus)
	}
	if err := s.cfg.Store.FinishAReq(ctx, t); errors.Is(err, store.ErrNotFound) {
		// The sweeper ended the row first, which only an exchange past its deadline allows: the
		// merchant gets what is stored, the same answer every later GET gives.
		s.cfg.Log.WarnContext(ctx, "the AReq's outcome came after the sweeper had ended the transaction", "id", t.ID)
		t, err = s.cfg.Store.Transaction(ctx, t.ID)
		return t, nil, err
	} else if err != nil {
		return t, nil, err
	}
	// A decoupled authentication (D) tells the merchant's webhook now that it waits for the
	// cardholder, and again when the RReq brings the final result.
	if t.State != StateChallenge || t.TransStatus == "D" {
		s.notify(ctx, t)
	}
	return t, ares, nil
}

// checkReturnURL accepts an absent returnUrl or an absolute http(s) URL on the merchant's page
// origin; anything else would turn the notification page into an open redirect.
func (s *Server) checkReturnURL(m Merchant, v string) error {
	if v == "" {
		return nil
	}
	want := s.parentOrigin(m)
	if o, ok := originOf(v); !ok || o != want || len(v) > 2048 {
		return httpx.BadRequest("returnUrl is not on the merchant's page origin",
			httpx.FieldError{Field: "returnUrl", Detail: "must be an absolute http(s) URL of at most 2048 characters on " + want})
	}
	return nil
}

// purchase is what the merchant says of the purchase, in a browser or an app request alike.
type purchase struct {
	amount, currency string
	exponent         *int
	expiry           string
	name, email      string
}

// purchaseAReq makes the part of an AReq that is the same for every channel: the 3DS Server, the
// merchant, the card and the purchase.
func (s *Server) purchaseAReq(m Merchant, t Transaction, p purchase, pan string) *emv.AReq {
	exp := 2
	if p.exponent != nil {
		exp = *p.exponent
	}
	a := &emv.AReq{MessageType: emv.TypeAReq, MessageVersion: t.MessageVersion, MessageCategory: categoryOrPayment(t.MessageCategory),
		ThreeDSServerTransID: t.ID, ThreeDSServerRefNumber: s.cfg.RefNumber,
		ThreeDSServerOperatorID: s.cfg.OperatorID, ThreeDSServerURL: s.cfg.ProtocolURL + RReqPath,
		ThreeDSRequestorID: m.RequestorID, ThreeDSRequestorName: m.RequestorName, ThreeDSRequestorURL: m.RequestorURL,
		ThreeDSRequestorAuthenticationInd: "01",
		AcquirerBIN:                       m.AcquirerBIN, AcquirerMerchantID: m.AcquirerMerchantID, MCC: m.MCC,
		MerchantCountryCode: m.Country, MerchantName: m.Name, AcctNumber: pan, CardExpiryDate: p.expiry,
		CardholderName: p.name, Email: p.email,
		PurchaseAmount: p.amount, PurchaseCurrency: p.currency, PurchaseExponent: strconv.Itoa(exp),
		PurchaseDate: s.cfg.Now().UTC().Format("20060102150405"), TransType: "01"}
	if a.MessageCategory == emv.CategoryNonPayment {
		// A non-payment has no goods or services to describe (transType); its purchase data is
		// optional, and goes only when the merchant gave an amount (an account check with a value).
		a.TransType = ""
		if p.amount == "" {
			a.PurchaseAmount, a.PurchaseCurrency, a.PurchaseExponent, a.PurchaseDate = "", "", "", ""
		}
	}
	return a
}

// buildAReq makes the browser AReq from the merchant, the transaction and the request.
func (s *Server) buildAReq(m Merchant, t Transaction, req *AuthenticateRequest, pan string) *emv.AReq {
	a := s.purchaseAReq(m, t, purchase{amount: req.Amount, currency: req.Currency, exponent: req.Exponent,
		expiry: req.CardExpiryDate, name: req.CardholderName, email: req.Email}, pan)
	b := req.Browser
	a.DeviceChannel, a.ThreeDSCompInd = emv.ChannelBrowser, req.ThreeDSCompInd
	decoupledAReq(a, req.Decoupled)
	a.NotificationURL, a.BrowserAcceptHeader = s.cfg.PublicURL+"/3ds/notification", b.AcceptHeader
	a.BrowserIP, a.BrowserLanguage, a.BrowserColorDepth = b.IP, b.Language, b.ColorDepth
	a.BrowserScreenHeight, a.BrowserScreenWidth, a.BrowserTZ = b.ScreenHeight, b.ScreenWidth, b.TZ
	a.BrowserUserAgent = truncate(b.UserAgent, 2048)
	java := b.JavaEnabled
	a.BrowserJavaEnabled = &java
	if t.MessageVersion != emv.Version210 {
		a.BrowserJavascriptEnabled = b.JavascriptEnabled
	}
	if t.MessageVersion == emv.Version231 {
		a.AcceptLanguage = []string{b.Language}
	}
	req.RequestorData.fill(a)
	return a
}

// fieldProblem turns an AReq validation error into a problem naming the merchant's field at fault:
// the requestor data's own names (requestor.go), the AReq element's name for the rest, onto which
// the browser request's fields map one to one.
func fieldProblem(err error) error {
	e := emv.AsError(err)
	if e == nil {
		return err
	}
	var fe []httpx.FieldError
	for _, el := range strings.Split(e.Detail, ",") {
		el = strings.TrimSpace(el)
		if f, ok := requestorDataField(el); ok {
			el = f
		}
		fe = append(fe, httpx.FieldError{Field: el, Detail: e.Code.Description()})
	}
	return httpx.Invalid(fe...)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// compInd settles threeDSCompInd from what the 3DS Server knows rather than the script's word alone:
// U when the range has no 3DS Method, Y when the notification arrived (even if too late for the
// script's 10-second timer), N when it did not. The script's U (it could not run the Method) stands.
func compInd(t Transaction, said string) string {
	switch {
	case t.MethodURL == "":
		return "U"
	case t.MethodDone:
		return "Y"
	case said == "U":
		return "U"
	}
	return "N"
}

// decoupledAReq puts the merchant's consent to decoupled authentication into a, from 2.2.0 on:
// 2.1.0 has neither field, so its AReq never carries them whatever the merchant asked.
func decoupledAReq(a *emv.AReq, d *DecoupledRequest) {
	if d == nil || !d.Allowed || emv.CompareVersions(a.MessageVersion, emv.Version220) < 0 {
		return
	}
	v231 := emv.CompareVersions(a.MessageVersion, emv.Version231) >= 0
	switch {
	case d.Fallback == DecoupledFallbackOnly && v231:
		a.ThreeDSRequestorDecReqInd = "F"
	case d.Fallback == DecoupledFallbackOnly:
		return // no fallback before 2.3.1, and the merchant did not want decoupled up front
	case d.Fallback == DecoupledFallbackAlso && v231:
		a.ThreeDSRequestorDecReqInd = "B"
	default:
		a.ThreeDSRequestorDecReqInd = "Y"
	}
	if d.MaxMinutes > 0 {
		a.ThreeDSRequestorDecMaxTime = fmt.Sprintf("%05d", d.MaxMinutes)
	}
}
