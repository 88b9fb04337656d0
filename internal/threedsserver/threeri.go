package threedsserver

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/httpx"
	"github.com/open3ds/open3ds/internal/store"
)

// The 3RI channel of the merchant API (issue 16): the merchant authenticates a card on file with no
// cardholder present, for a recurring payment, an instalment, a card added or kept up to date, a
// split shipment, a top-up, a mail or telephone order and so on (threeRIInd), on the strength of an
// earlier authentication of the same merchant (priorAuthentication). The 3DS Server fills the AReq's
// threeDSRequestorPriorAuthenticationInfo from that earlier transaction: how it ended (01
// frictionless, 02 challenge), when, and its acsTransID as threeDSReqPriorRef, by which the ACS finds
// it. The AReq goes at once, as an app's does, and the ARes is the result: the ACS never challenges
// a 3RI. Whether the prior still backs this one (same card, same requestor, the recurring limits)
// is the ACS's to judge: it alone saw the card, so the 3DS Server sends what the merchant asked.

// The message categories of StartRequest.MessageCategory and Result.MessageCategory.
const (
	CategoryPayment    = "payment"
	CategoryNonPayment = "non-payment"
)

// PriorAuth names an earlier authentication of the same merchant.
type PriorAuth struct {
	ID string `json:"id"`
}

// Recurring is the AReq's recurring data. Expiry is YYYYMMDD and Frequency the least number of days
// between payments; the rest exist from 2.3.1 on: the amount of each payment (minor units) with its
// currency and exponent, the date of the first, and whether amount and frequency are "fixed" or
// "variable" (recurringInd).
type Recurring struct {
	Expiry       string `json:"expiry,omitempty"`
	Frequency    *int   `json:"frequency,omitempty"`
	Amount       string `json:"amount,omitempty"`
	Currency     string `json:"currency,omitempty"`
	Exponent     *int   `json:"exponent,omitempty"`
	Date         string `json:"date,omitempty"`
	AmountInd    string `json:"amountInd,omitempty"`
	FrequencyInd string `json:"frequencyInd,omitempty"`
}

// threeRINames are the readable names of threeRIInd, each with the first version that has it.
// 12–19 (2.3.1; 12 also in some 2.2.0 readings) have no name our sources settle, so they are taken
// as codes only.
var threeRINames = []struct{ name, code, since string }{
	{"recurring", "01", emv.Version210}, {"instalment", "02", emv.Version210}, {"add-card", "03", emv.Version210},
	{"maintain-card", "04", emv.Version210}, {"account-verification", "05", emv.Version210},
	{"split-shipment", "06", emv.Version220}, {"top-up", "07", emv.Version220}, {"mail-order", "08", emv.Version220},
	{"telephone-order", "09", emv.Version220}, {"whitelist-check", "10", emv.Version220},
	{"other-payment", "11", emv.Version220},
}

// threeRICode is the code of a threeRIInd given by name or code, "" for neither.
func threeRICode(v string) string {
	for _, n := range threeRINames {
		if v == n.name || v == n.code {
			return n.code
		}
	}
	if n, err := strconv.Atoi(v); err == nil && len(v) == 2 && n >= 12 && n <= 19 {
		return v
	}
	return ""
}

// threeRISince is the first version that has the code.
func threeRISince(code string) string {
	for _, n := range threeRINames {
		if n.code == code {
			return n.since
		}
	}
	if code == "12" {
		return emv.Version220 // as dict_areq.go admits it
	}
	return emv.Version231
}

// category is the request's messageCategory as its code.
func (req *StartRequest) category() string {
	if req.MessageCategory == CategoryNonPayment || req.MessageCategory == emv.CategoryNonPayment {
		return emv.CategoryNonPayment
	}
	return emv.CategoryPayment
}

// categoryName is Result.MessageCategory for a stored category.
func categoryName(c string) string {
	if c == emv.CategoryNonPayment {
		return CategoryNonPayment
	}
	return CategoryPayment
}

// check3RI checks what a 3RI start request needs that does not depend on the version.
func (req *StartRequest) check3RI(bad func(field, detail string)) {
	if req.ThreeRIInd == "" {
		bad("threeRIInd", "is required for channel 3ri: recurring, instalment, add-card, maintain-card, account-verification, "+
			"split-shipment, top-up, mail-order, telephone-order, whitelist-check, other-payment, or a code 01-19")
	} else if threeRICode(req.ThreeRIInd) == "" {
		bad("threeRIInd", "is not a 3RI indicator: use a name such as recurring or a code 01-19")
	}
	if req.PriorAuthentication == nil || req.PriorAuthentication.ID == "" {
		bad("priorAuthentication.id", "is required for channel 3ri: the id of an earlier authentication of this card")
	}
	if r := req.Recurring; r != nil {
		if r.Expiry != "" && !validDate(r.Expiry) {
			bad("recurring.expiry", "must be a date YYYYMMDD")
		}
		if r.Frequency != nil && (*r.Frequency < 1 || *r.Frequency > 9999) {
			bad("recurring.frequency", "must be 1-9999 (days)")
		}
		if r.Amount != "" && !digits(r.Amount, 1, 48) {
			bad("recurring.amount", "must be minor units, digits only")
		}
		if r.Currency != "" && !digits(r.Currency, 3, 3) {
			bad("recurring.currency", "must be a 3-digit ISO 4217 numeric code")
		}
		if r.Exponent != nil && (*r.Exponent < 0 || *r.Exponent > 9) {
			bad("recurring.exponent", "must be 0-9")
		}
		if r.Date != "" && !validDate(r.Date) {
			bad("recurring.date", "must be a date YYYYMMDD")
		}
		for f, v := range map[string]string{"recurring.amountInd": r.AmountInd, "recurring.frequencyInd": r.FrequencyInd} {
			if v != "" && v != "fixed" && v != "variable" {
				bad(f, `must be "fixed" or "variable"`)
			}
		}
	}
	if req.Instalments != nil && (*req.Instalments < 2 || *req.Instalments > 999) {
		bad("instalments", "must be 2-999")
	}
}

func validDate(s string) bool {
	_, err := time.Parse("20060102", s)
	return len(s) == 8 && err == nil
}

// versionProblems checks a 3RI request against the version picked for the card's range: a field
// the version lacks is named, as is a payment 3RI in 2.1.0, which knows 3RI only for non-payment.
func (req *StartRequest) versionProblems(version string) error {
	var fe []httpx.FieldError
	bad := func(f, d string) { fe = append(fe, httpx.FieldError{Field: f, Detail: d}) }
	code := threeRICode(req.ThreeRIInd)
	if since := threeRISince(code); emv.CompareVersions(version, since) < 0 {
		bad("threeRIInd", code+" exists from "+since+" on; this card's range speaks "+version)
	}
	if version == emv.Version210 && req.category() == emv.CategoryPayment {
		bad("messageCategory", "2.1.0, the version this card's range speaks, knows 3RI only as non-payment")
	}
	if r := req.Recurring; r != nil && version != emv.Version231 {
		for f, set := range map[string]bool{"recurring.amount": r.Amount != "", "recurring.currency": r.Currency != "",
			"recurring.exponent": r.Exponent != nil, "recurring.date": r.Date != "", "recurring.amountInd": r.AmountInd != "",
			"recurring.frequencyInd": r.FrequencyInd != ""} {
			if set {
				bad(f, "exists from 2.3.1 on; this card's range speaks "+version)
			}
		}
	}
	if fe != nil {
		return httpx.Invalid(fe...)
	}
	return nil
}

// priorInfo finds the merchant's earlier authentication and turns it into the AReq's
// threeDSRequestorPriorAuthenticationInfo. Another merchant's is as unknown as a missing one.
func (s *Server) priorInfo(r *http.Request, m Merchant, id, version string) (emv.OneOrMany[emv.ThreeDSRequestorPriorAuthenticationInfo], error) {
	var none emv.OneOrMany[emv.ThreeDSRequestorPriorAuthenticationInfo]
	p, err := s.cfg.Store.Transaction(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && p.MerchantID != m.ID) {
		return none, httpx.Invalid(httpx.FieldError{Field: "priorAuthentication.id", Detail: "is not an authentication of this merchant"})
	} else if err != nil {
		return none, err
	}
	var method string
	switch p.State {
	case StateFrictionless:
		method = "01"
	case StateFinal:
		method = "02"
	default:
		return none, httpx.Invalid(httpx.FieldError{Field: "priorAuthentication.id",
			Detail: "has no outcome from the ACS (state " + p.State + "): a 3RI stands on an authentication that ended"})
	}
	if p.ACSTransID == "" {
		return none, httpx.Invalid(httpx.FieldError{Field: "priorAuthentication.id", Detail: "was answered by no ACS"})
	}
	at := p.ResultAt
	if at.IsZero() {
		at = p.AResAt
	}
	info := emv.ThreeDSRequestorPriorAuthenticationInfo{ThreeDSReqPriorAuthMethod: method,
		ThreeDSReqPriorAuthTimestamp: at.UTC().Format("200601021504"), ThreeDSReqPriorRef: p.ACSTransID}
	if version == emv.Version231 {
		return emv.Many(info), nil
	}
	return emv.One(info), nil
}

// start3RI sends the 3RI AReq of the new transaction t and answers with its outcome.
func (s *Server) start3RI(w http.ResponseWriter, r *http.Request, m Merchant, t Transaction, req *StartRequest, pan string) error {
	ctx := r.Context()
	if err := req.versionProblems(t.MessageVersion); err != nil {
		return err
	}
	if err := req.RequestorData.problem(t.MessageVersion, emv.Channel3RI); err != nil {
		return err
	}
	prior, err := s.priorInfo(r, m, req.PriorAuthentication.ID, t.MessageVersion)
	if err != nil {
		return err
	}
	t.DeviceChannel, t.MethodURL, t.ThreeRIInd = emv.Channel3RI, "", threeRICode(req.ThreeRIInd)
	a := s.purchaseAReq(m, t, purchase{amount: req.Amount, currency: req.Currency, exponent: req.Exponent,
		expiry: req.CardExpiryDate, name: req.CardholderName, email: req.Email}, pan)
	a.DeviceChannel, a.ThreeRIInd, a.ThreeDSRequestorPriorAuthenticationInfo = emv.Channel3RI, t.ThreeRIInd, prior
	// threeDSRequestorAuthenticationInd says how the cardholder was met; a 3RI meets none.
	a.ThreeDSRequestorAuthenticationInd = ""
	if req.Instalments != nil {
		a.PurchaseInstalData = strconv.Itoa(*req.Instalments)
	}
	if rc := req.Recurring; rc != nil {
		a.RecurringExpiry, a.RecurringAmount, a.RecurringCurrency, a.RecurringDate = rc.Expiry, rc.Amount, rc.Currency, rc.Date
		if rc.Frequency != nil {
			a.RecurringFrequency = strconv.Itoa(*rc.Frequency)
		}
		if rc.Amount != "" {
			exp := 2
			if rc.Exponent != nil {
				exp = *rc.Exponent
			}
			a.RecurringExponent = strconv.Itoa(exp)
		}
		if rc.AmountInd != "" || rc.FrequencyInd != "" {
			a.RecurringInd = &emv.RecurringInd{AmountInd: fixedInd(rc.AmountInd), FrequencyInd: fixedInd(rc.FrequencyInd)}
		}
	}
	req.RequestorData.fill(a)
	if err := emv.Validate(a, nil); err != nil {
		return threeRIFieldProblem(err)
	}
	if err := s.cfg.Store.CreateTransaction(ctx, t); err != nil {
		return err
	}
	if err := s.cfg.Store.ClaimAReq(ctx, t.ID, s.cfg.Now()); err != nil {
		return err
	}
	t, _, err = s.exchange(ctx, t, a)
	if err != nil {
		return err
	}
	return httpx.WriteJSON(w, http.StatusCreated, resultOf(t))
}

// fixedInd is recurringInd's code for "fixed" (01) or "variable" (02), "" for neither.
func fixedInd(v string) string {
	switch v {
	case "fixed":
		return "01"
	case "variable":
		return "02"
	}
	return ""
}

// threeRIFieldProblem is appFieldProblem for a 3RI AReq, with the recurring elements named as the
// request's recurring object and purchaseInstalData as instalments.
func threeRIFieldProblem(err error) error {
	e := emv.AsError(err)
	if e == nil {
		return err
	}
	var fe []httpx.FieldError
	for _, el := range strings.Split(e.Detail, ",") {
		el = strings.TrimSpace(el)
		f := requestField(el)
		switch el {
		case "recurringExpiry":
			f = "recurring.expiry"
		case "recurringFrequency":
			f = "recurring.frequency"
		case "purchaseInstalData":
			f = "instalments"
		}
		fe = append(fe, httpx.FieldError{Field: f, Detail: e.Code.Description()})
	}
	return httpx.Invalid(fe...)
}
