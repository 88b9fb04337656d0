package acs

import (
	"context"
	"errors"
	"html/template"
	"net/http"

	"github.com/open3ds/open3ds/internal/httpx"
	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/web"
)

// The demo bank app. An out-of-band (04) app challenge asks the cardholder to approve the purchase
// in the issuer's own app; a real issuer pushes the request to its app, which calls the ACS. This
// ACS stands in for that app with a page on its public listener, reached through the link the
// challenge screen shows (challengeInfoText, oobAppURL). Its address holds a random token that
// names one challenge: whoever holds the link can answer, as whoever holds the phone can in a real
// bank app, and the token is worth nothing once the challenge has ended.

// bankPage is what the bank app page shows.
type bankPage struct {
	Lang, Brand, Merchant, Amount, Card, Token, Done string
	T                                                web.Messages
	Pending                                          bool
}

var bankAppPage = template.Must(template.New("bank").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{.T.bank_title}}</title><link rel="stylesheet" href="../static/challenge.css"></head>
<body><main><h1>{{.Brand}}</h1><h2>{{.T.bank_title}}</h2>
<dl><dt>{{.T.merchant}}</dt><dd id="merchant">{{.Merchant}}</dd><dt>{{.T.amount}}</dt><dd id="amount">{{.Amount}}</dd>
<dt>{{.T.card}}</dt><dd>{{.Card}}</dd></dl>
{{if .Pending}}<p>{{.T.bank_question}}</p>
<form method="post" action="{{.Token}}"><button id="approve" type="submit" name="answer" value="approve">{{.T.approve}}</button>
<button id="decline" type="submit" name="answer" value="decline">{{.T.decline}}</button></form>
{{else}}<p id="done" role="status">{{.Done}}</p>{{end}}</main></body></html>`))

func (b *Browser) serveBankApp(w http.ResponseWriter, r *http.Request) error {
	return b.renderBankApp(r.Context(), w, r.PathValue("token"), "")
}

// serveBankAppAnswer records Approve or Decline; the SDK's next oobContinue CReq ends the challenge.
func (b *Browser) serveBankAppAnswer(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, 1<<10)
	if err := r.ParseForm(); err != nil {
		return &httpx.Problem{Status: http.StatusBadRequest, Title: "The request could not be read."}
	}
	token := r.PathValue("token")
	state := map[string]string{"approve": OOBApproved, "decline": OOBDeclined}[r.PostForm.Get("answer")]
	if state == "" {
		return &httpx.Problem{Status: http.StatusBadRequest, Title: "Unknown answer."}
	}
	err := b.Apps.DecideOOB(ctx, token, state)
	switch {
	case errors.Is(err, store.ErrConflict):
		return b.renderBankApp(ctx, w, token, "bank_done")
	case err != nil:
		return err
	}
	b.Service.log().InfoContext(ctx, "bank app answered", "answer", state)
	return b.renderBankApp(ctx, w, token, "bank_"+state)
}

// renderBankApp shows the purchase a token names, with the buttons while it waits for an answer,
// or the words of done (a message key) or of its state.
func (b *Browser) renderBankApp(ctx context.Context, w http.ResponseWriter, token, done string) error {
	app, err := b.Apps.AppChallengeByOOBToken(ctx, token)
	var row ChallengeRow
	var t Transaction
	if err == nil {
		row, t, err = b.Challenges.ChallengeWithTransaction(ctx, app.ACSTransID)
	}
	if errors.Is(err, store.ErrNotFound) {
		return &httpx.Problem{Status: http.StatusNotFound, Title: "This request is not known."}
	}
	if err != nil {
		return err
	}
	p := b.bankPageFor(ctx, row.BrowserLanguage, row.MerchantName, row.Exponent, t, token)
	switch {
	case done != "":
		p.Done = p.T[done]
	case app.OOBState == OOBPending && row.Step != StepDone:
		p.Pending = true
	case app.OOBState == OOBApproved || app.OOBState == OOBDeclined:
		p.Done = p.T["bank_"+app.OOBState]
	default:
		p.Done = p.T["bank_done"]
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	return bankAppPage.Execute(w, p)
}

// bankPageFor is the bank's page about t's purchase in the language of locale, before its state
// (pending, or the words of its end) is set: the out-of-band app screen's and the decoupled
// request's pages show the same purchase.
func (b *Browser) bankPageFor(ctx context.Context, locale, merchant string, exponent int, t Transaction, token string) bankPage {
	lang := web.Lang(locale)
	p := bankPage{Lang: lang, T: web.Text(lang), Merchant: merchant, Amount: FormatAmount(t.Amount, t.Currency, exponent),
		Card: cardEnding(t.MaskedPAN), Token: token}
	if is, err := b.Service.Store.Issuer(ctx, t.IssuerID); err == nil {
		p.Brand = firstNonEmpty(is.Brand.Name, is.Name)
	}
	return p
}
