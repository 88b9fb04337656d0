package acs

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/open3ds/open3ds/internal/notify"
	"github.com/open3ds/open3ds/internal/otp"
	"github.com/open3ds/open3ds/internal/web"
)

// destination is one place a code can go, as the choice page offers it: masked, never in full.
type destination struct {
	Key   string // "sms:0", "email:1"
	Label string
}

// challengePage is what challenge.html shows.
type challengePage struct {
	Base, Lang, Window, Step string
	T                        web.Messages
	BrandName, LogoURL       string
	SupportText              string
	Merchant, Amount, Card   string
	ID, Token                string
	Error, Hint, Status      string
	Destinations             []destination
	Digits, Wait             int
	WaitText                 string
	NoResend, OtherChannels  bool
	// BankApp offers "approve in my bank's app instead" (2.3.1 decoupled fallback).
	BankApp bool
	// Ending is how a finished challenge ended (endOK, endCancelled, …): the final page's words.
	Ending                string
	NotificationURL, CRes string
	SessionData           string
}

func (b *Browser) basePage(ctx context.Context, row ChallengeRow, t Transaction) challengePage {
	var is *Issuer
	if v, err := b.Service.Store.Issuer(ctx, t.IssuerID); err == nil {
		is = &v
	}
	return pageOf(b.Base, row, t, is, row.DecoupledWithin > 0 && b.Decoupled != nil)
}

// pageOf is what every challenge page shows of a challenge: the shopper's language, the purchase
// and the issuer's brand (is nil when the issuer could not be read). It reads nothing, so the
// console's preview draws the same pages from sample data.
func pageOf(base string, row ChallengeRow, t Transaction, is *Issuer, bankApp bool) challengePage {
	lang := web.Lang(row.BrowserLanguage)
	p := challengePage{Base: base, Lang: lang, T: web.Text(lang), Window: row.WindowSize, Step: row.Step,
		Merchant: row.MerchantName, Amount: FormatAmount(t.Amount, t.Currency, row.Exponent), Card: cardEnding(t.MaskedPAN),
		ID: row.ACSTransID, Token: row.Token, NotificationURL: row.NotificationURL, SessionData: row.SessionData,
		BankApp: bankApp}
	if is != nil {
		p.BrandName, p.LogoURL, p.SupportText = is.Brand.Name, is.Brand.LogoURL, is.Brand.SupportText
		if p.BrandName == "" {
			p.BrandName = is.Name
		}
	}
	return p
}

// renderStep shows the choice or the code page, with errMsg (already in the shopper's language) in
// the live region.
func (b *Browser) renderStep(ctx context.Context, w http.ResponseWriter, row ChallengeRow, t Transaction, errMsg string) error {
	return b.renderStepFor(ctx, w, row, t, nil, errMsg)
}

// renderStepFor is renderStep with the cardholder when the caller has just read it (nil: read it).
func (b *Browser) renderStepFor(ctx context.Context, w http.ResponseWriter, row ChallengeRow, t Transaction, ch *Cardholder, errMsg string) error {
	p := b.basePage(ctx, row, t)
	p.Error = errMsg
	if ch == nil && (row.Step == StepChoose || row.Step == StepCode) {
		c, err := b.Service.Store.Cardholder(ctx, t.CardholderID)
		if err != nil {
			if row.Step == StepChoose {
				return err
			}
			c = Cardholder{}
		}
		// The code page still works without the cardholder (a record deleted mid-challenge, a read
		// that failed): it then names no destination.
		ch = &c
	}
	var pol otp.Policy
	var status notify.State
	if row.Step == StepCode {
		pol = b.policy(ctx, t).Policy()
		status, _ = b.statusOf(row.MessageID)
	}
	if ch != nil {
		p.fillStep(row, *ch, pol, status, b.Service.now())
	}
	return renderChallenge(w, p)
}

// fillStep adds what the choice page or the code page shows of where the challenge stands: the
// cardholder's destinations, or the code's hint, its delivery status ("" for none) and the resend
// cool-down under pol at now. Other steps take nothing from it.
func (p *challengePage) fillStep(row ChallengeRow, ch Cardholder, pol otp.Policy, status notify.State, now time.Time) {
	switch row.Step {
	case StepChoose:
		p.Destinations = destinations(ch, p.T)
	case StepCode:
		p.Digits = pol.Digits
		to := ""
		if d, ok := pick(ch, row.Channel, row.DestIndex); ok {
			to = notify.Mask(notify.Channel(row.Channel), d)
		}
		p.Hint = fmt.Sprintf(p.T["code_hint"], pol.Digits, to)
		p.OtherChannels = len(ch.Mobiles)+len(ch.Emails) > 1
		if status != "" {
			p.Status = p.T["status_"+string(status)]
		}
		wait := row.OTP.LastSent.Add(pol.ResendCoolDown).Sub(now)
		switch {
		case row.OTP.Resends >= pol.MaxResends:
			p.NoResend, p.WaitText = true, p.T["resend_none"]
		case wait > 0:
			p.Wait = int((wait + time.Second - 1) / time.Second)
			p.WaitText = fmt.Sprintf(p.T["resend_wait"], p.Wait)
		}
	}
}

// statusOf reduces the queue's status to what the page says: queued, sent or failed.
func (b *Browser) statusOf(id string) (notify.State, bool) {
	if b.Notify == nil || id == "" {
		return "", false
	}
	st, ok := b.Notify.Status(id)
	if !ok {
		return "", false
	}
	switch st.State {
	case notify.Queued, notify.Sent, notify.Failed:
		return st.State, true
	}
	return notify.Queued, true
}

// renderFinal shows how the challenge ended, under the bank's name, and the form that carries cres
// (a CRes or an Erro) to the requestor.
func (b *Browser) renderFinal(ctx context.Context, w http.ResponseWriter, row ChallengeRow, t Transaction, cres, ending string) error {
	p := b.basePage(ctx, row, t)
	p.Step, p.Ending, p.CRes = StepDone, ending, cres
	return renderChallenge(w, p)
}

// pageBuffers keeps the buffers pages are rendered into: a page is written whole or not at all.
var pageBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func renderChallenge(w http.ResponseWriter, p challengePage) error {
	buf := pageBuffers.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 64<<10 {
			buf.Reset()
			pageBuffers.Put(buf)
		}
	}()
	if err := web.Render(buf, "challenge.html", p); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, err := w.Write(buf.Bytes())
	return err
}

// destinations lists the cardholder's registered mobiles and e-mail addresses, masked.
func destinations(ch Cardholder, t web.Messages) []destination {
	var out []destination
	add := func(kind string, list []string, label string) {
		for i, to := range list {
			out = append(out, destination{Key: kind + ":" + strconv.Itoa(i), Label: fmt.Sprintf(label, notify.Mask(notify.Channel(kind), to))})
		}
	}
	if ch.PreferredChannel == "email" {
		add("email", ch.Emails, t["email_to"])
		add("sms", ch.Mobiles, t["sms_to"])
	} else {
		add("sms", ch.Mobiles, t["sms_to"])
		add("email", ch.Emails, t["email_to"])
	}
	return out
}

// pick finds the destination a channel and index name.
func pick(ch Cardholder, channel string, i int) (string, bool) {
	list := ch.Mobiles
	if channel == "email" {
		list = ch.Emails
	} else if channel != "sms" {
		return "", false
	}
	if i < 0 || i >= len(list) {
		return "", false
	}
	return list[i], true
}

// cardEnding shows a card as the shopper knows it: its last four digits.
func cardEnding(masked string) string {
	if len(masked) < 4 {
		return "••••"
	}
	return "•••• " + masked[len(masked)-4:]
}

// currencies maps the ISO 4217 numeric codes the AReq carries to the letters shoppers read.
var currencies = map[string]string{"978": "EUR", "840": "USD", "826": "GBP", "392": "JPY", "756": "CHF",
	"124": "CAD", "036": "AUD", "752": "SEK", "578": "NOK", "208": "DKK", "985": "PLN", "156": "CNY", "410": "KRW"}

// FormatAmount writes an amount in minor units with its currency: "EUR 1,234.50", "JPY 12,000".
func FormatAmount(minor int64, currency string, exponent int) string {
	code := currencies[currency]
	if code == "" {
		code = currency
	}
	neg := minor < 0
	if neg {
		minor = -minor
	}
	digits := strconv.FormatInt(minor, 10)
	exponent = max(0, min(exponent, 6))
	for len(digits) <= exponent {
		digits = "0" + digits
	}
	whole, frac := digits[:len(digits)-exponent], digits[len(digits)-exponent:]
	var sb strings.Builder
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			sb.WriteByte(',')
		}
		sb.WriteRune(c)
	}
	s := sb.String()
	if frac != "" {
		s += "." + frac
	}
	if neg {
		s = "-" + s
	}
	return strings.TrimSpace(code + " " + s)
}
