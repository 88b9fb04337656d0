package acs

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"html/template"
	"net/url"
	"path"
	"strings"

	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/notify"
	"github.com/open3ds/open3ds/internal/web"
)

// appScreen describes the next screen of an app challenge for the SDK to draw, in the cardholder's
// language from the browser pages' catalogue: the destinations to choose from (02), the code entry
// (01), the bank app's approval (04), or either of the first two as HTML (05). msg, when set, is
// shown above the text with the warning indicator (challengeInfoTextIndicator Y): a failed entry,
// a resend refused. ch is the cardholder when the caller has read it (nil: read it here).
func (b *Browser) appScreen(ctx context.Context, in *appCReq, row ChallengeRow, ch *Cardholder, msg string) (*emv.CRes, error) {
	if ch == nil {
		c, err := b.Service.Store.Cardholder(ctx, in.t.CardholderID)
		if err != nil {
			return nil, err
		}
		ch = &c
	}
	lang := web.Lang(row.BrowserLanguage)
	T := web.Text(lang)
	is, _ := b.Service.Store.Issuer(ctx, in.t.IssuerID)
	brand := firstNonEmpty(is.Brand.Name, is.Name)
	purchase := fmt.Sprintf(T["app_purchase"], FormatAmount(in.t.Amount, in.t.Currency, row.Exponent), row.MerchantName, cardEnding(in.t.MaskedPAN))
	c := &emv.CRes{ChallengeCompletionInd: "N", ChallengeInfoHeader: clip(T["heading"], 45),
		WhyInfoLabel: clip(T["why"], 45), WhyInfoText: clip(T["why_text"], 256),
		ExpandInfoLabel: clip(T["help"], 45), ExpandInfoText: clip(T["help_text"], 256), ChallengeInfoTextIndicator: "N"}
	if strings.HasPrefix(is.Brand.LogoURL, "https://") {
		c.IssuerImage = &emv.Image{Medium: is.Brand.LogoURL, High: is.Brand.LogoURL, ExtraHigh: is.Brand.LogoURL}
	}
	text := purchase
	if msg != "" {
		text, c.ChallengeInfoTextIndicator = msg+" "+purchase, "Y"
	}
	dests := destinations(*ch, T)
	// The decoupled fallback (decoupled_fallback.go): offered where the cardholder picks what
	// happens next, and only while it may still switch.
	bankApp := row.DecoupledWithin > 0 && b.Decoupled != nil && reachable(*ch)
	hint := ""
	if row.Step == StepCode {
		to := ""
		if d, ok := pick(*ch, row.Channel, row.DestIndex); ok {
			to = notify.Mask(notify.Channel(row.Channel), d)
		}
		// The code's length is the policy of the issuer read above; b.policy would read it again.
		hint = fmt.Sprintf(T["code_hint"], b.policyOf(is).Policy().Digits, to)
	}
	switch {
	case in.app.UIType == UIHTML:
		page := appHTML{Lang: lang, T: T, Brand: brand, Text: text, Warn: msg != "", Hint: hint, Choose: row.Step == StepChoose,
			Dests: dests, BankApp: bankApp}
		var buf bytes.Buffer
		if err := appHTMLPage.Execute(&buf, page); err != nil {
			return nil, err
		}
		c.ACSUiType, c.ACSHTML = UIHTML, base64.RawURLEncoding.EncodeToString(buf.Bytes())
		c.ChallengeInfoTextIndicator = ""
	case in.app.UIType == UIOOB:
		link := b.bankAppURL(in.app.OOBToken)
		c.ACSUiType, c.OOBContinueLabel = UIOOB, clip(T["continue"], 45)
		c.ChallengeInfoText = clip(fmt.Sprintf(T["app_oob_text"], brand, link)+" "+text, 350)
		if emv.CompareVersions(in.t.MessageVersion, emv.Version220) >= 0 {
			c.OOBAppURL, c.OOBAppLabel = link, clip(T["app_oob_open"], 45)
		}
	case row.Step == StepChoose:
		c.ACSUiType, c.ChallengeInfoLabel = UISelect, clip(T["choose"], 45)
		if in.app.UIType == UIMulti {
			c.ACSUiType, c.ChallengeInfoLabel = UIMulti, clip(T["choose_many"], 45)
		}
		c.ChallengeInfoText = clip(text, 350)
		c.SubmitAuthenticationLabel = clip(T["send"], 45)
		for _, d := range dests {
			c.ChallengeSelectInfo = append(c.ChallengeSelectInfo, map[string]string{d.Key: d.Label})
		}
		if bankApp {
			c.ChallengeSelectInfo = append(c.ChallengeSelectInfo, map[string]string{keyBankApp: clip(T["use_bank_app"], 45)})
		}
	default:
		c.ACSUiType, c.ChallengeInfoLabel = UICode, clip(T["code_label"], 45)
		c.ChallengeInfoText = clip(hint+" "+text, 350)
		c.SubmitAuthenticationLabel, c.ResendInformationLabel = clip(T["submit"], 45), clip(T["resend"], 45)
	}
	return c, nil
}

// bankAppURL is the address of the demo bank app's approval page on the ACS's public listener:
// the app challenge's URL with its last path element replaced.
func (b *Browser) bankAppURL(token string) string {
	u, err := url.Parse(b.Service.AppURL)
	if err != nil {
		return ""
	}
	u.Path = path.Join(path.Dir(u.Path), "bankapp", token)
	return u.String()
}

// clip cuts s to at most n characters (the protocol counts characters, not bytes), so that a long
// translation cannot make the CRes invalid.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// appHTML is what the HTML (05) screen shows.
type appHTML struct {
	Lang, Brand, Text, Hint string
	T                       web.Messages
	Warn, Choose, BankApp   bool
	Dests                   []destination
}

// appHTMLPage is the HTML screen. Its form posts to the address the SDKs intercept
// (HTTPS://EMV3DS/challenge), which sends the form's fields URL-encoded as challengeHTMLDataEntry;
// the page is self-contained, since the SDK's web view loads nothing else.
var appHTMLPage = template.Must(template.New("app").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{.T.title}}</title><style>body{font-family:sans-serif;margin:1em}button{margin:.5em 0}.warn{color:#a00}</style></head>
<body><h1>{{.Brand}}</h1><h2>{{.T.heading}}</h2>
<p{{if .Warn}} class="warn"{{end}}>{{.Text}}</p>
<form action="HTTPS://EMV3DS/challenge" method="post">
{{if .Choose}}<p>{{.T.choose}}</p>{{range $i, $d := .Dests}}<label><input type="radio" name="dest" value="{{$d.Key}}"{{if eq $i 0}} checked{{end}}> {{$d.Label}}</label><br>{{end}}
{{if .BankApp}}<label><input type="radio" name="dest" value="bankapp"> {{.T.use_bank_app}}</label><br>{{end}}
<button type="submit">{{.T.send}}</button>
{{else}}<p>{{.Hint}}</p><label>{{.T.code_label}} <input name="code" inputmode="numeric" autocomplete="one-time-code"></label><br>
<button type="submit" name="action" value="submit">{{.T.submit}}</button> <button type="submit" name="action" value="resend">{{.T.resend}}</button>
{{if .BankApp}}<br><button type="submit" name="action" value="bankapp">{{.T.use_bank_app}}</button>{{end}}{{end}}
</form><details><summary>{{.T.why}}</summary><p>{{.T.why_text}}</p></details></body></html>`))
