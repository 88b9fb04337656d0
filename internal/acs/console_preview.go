package acs

import (
	_ "embed"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/open3ds/open3ds/internal/console"
	"github.com/open3ds/open3ds/internal/httpx"
	"github.com/open3ds/open3ds/internal/notify"
	"github.com/open3ds/open3ds/internal/otp"
	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/web"
)

// The challenge preview: the shopper's challenge pages as an issuer's cardholders would see them,
// in every challenge window size at once, drawn by the same template and the same code as the live
// pages (pageOf, fillStep) from sample data. It reads the issuers and nothing else: no transaction,
// no challenge row, no code, no message queue.
//
// The frames are served by their own route under /console/ that a page of the console may frame
// (the console answers X-Frame-Options DENY everywhere else), still behind the sign-in, and their
// forms cannot submit: the frame's CSP says form-action 'none' and sandboxes the document without
// allow-forms, and the preview page's iframes carry the same sandbox.

var challengePreviewPage = console.ParsePage(consoleFiles, "console_templates/challenge_preview.html")

//go:embed console_templates/challenge_preview.css
var challengePreviewCSS []byte

const (
	previewPath = "/challenge-preview"
	// previewBase is the prefix the previewed pages load their stylesheet and script under.
	previewBase = "/console" + previewPath

	// previewCSP is the console's policy with same-origin frames allowed, and nothing else.
	previewCSP = httpx.DefaultCSP + "; frame-src 'self'"
	// previewFrameCSP is the challenge page's own policy (pageCSP) with the framing narrowed to the
	// console and every form refused, the document sandboxed even when opened on its own.
	previewFrameCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; " +
		"form-action 'none'; frame-ancestors 'self'; base-uri 'none'; sandbox allow-same-origin allow-scripts"
)

// windowSize is one EMV challengeWindowSize, at the size the preview draws it.
type windowSize struct {
	Code, Label string
	W, H        int
}

// windowSizes are the EMV challengeWindowSize values; 05, full screen, is drawn at a desktop's size.
var windowSizes = []windowSize{
	{"01", "250 × 400", 250, 400},
	{"02", "390 × 400", 390, 400},
	{"03", "500 × 600", 500, 600},
	{"04", "600 × 400", 600, 400},
	{"05", "full screen, shown at 1280 × 800", 1280, 800},
}

// previewStep is one screen a shopper can meet in the challenge window.
type previewStep struct{ Key, Label string }

var previewSteps = []previewStep{
	{"choose", "Choose where to send the code"},
	{"no-channel", "No phone or e-mail registered"},
	{"code", "Enter the code (just sent)"},
	{"send-failed", "Enter the code (sending failed)"},
	{"wrong", "Wrong code, attempts left"},
	{"resend-wait", "Another channel asked for too soon"},
	{"resent", "New code sent"},
	{"no-resends", "No new code left"},
	{"authenticated", "Ended: authenticated"},
	{"not-authenticated", "Ended: not authenticated (wrong codes)"},
	{"cancelled", "Ended: cancelled by the shopper"},
	{"locked", "Ended: card locked"},
	{"expired", "Ended: timed out"},
	{"bank-app", "Ended: moved to the bank's app (decoupled)"},
}

// The sample purchase every preview shows: no real card, merchant or person.
const (
	sampleMerchant  = "Sample Shop Ltd"
	sampleMaskedPAN = "400000******4242"
	sampleAmount    = 124900
	sampleCurrency  = "978"
)

var sampleCardholder = Cardholder{Mobiles: []string{"+15555550123"}, Emails: []string{"cardholder@example.com"}}

// previewQuery is what the operator picked, checked.
type previewQuery struct {
	Issuer Issuer
	Lang   string
	Step   previewStep
}

// languages lists the languages the challenge pages are written in, English first.
func languages() []string {
	ls := web.Languages()
	slices.SortFunc(ls, func(a, b string) int {
		switch {
		case a == b:
			return 0
		case a == "en":
			return -1
		case b == "en":
			return 1
		}
		return strings.Compare(a, b)
	})
	return ls
}

// languageNames are the languages as the operator's select names them; a language without a
// name here shows its code.
var languageNames = map[string]string{"en": "English", "ja": "Japanese (日本語)"}

func languageName(lang string) string {
	if n := languageNames[lang]; n != "" {
		return n
	}
	return lang
}

// readPreview checks the issuer, language and step a request names; empty ones take the first of
// issuers, English and the first step.
func (p *consolePages) readPreview(r *console.Request, issuers []Issuer) (previewQuery, error) {
	q := r.URL.Query()
	var pq previewQuery
	var err error
	switch id := q.Get("issuer"); {
	case id == "" && len(issuers) > 0:
		pq.Issuer = issuers[0]
	case id == "":
		return pq, fieldProblem(http.StatusNotFound, "issuer", "there is no issuer yet: add one through the admin API")
	default:
		if pq.Issuer, err = p.st.Issuer(r.Context(), id); errors.Is(err, store.ErrNotFound) {
			return pq, fieldProblem(http.StatusNotFound, "issuer", "there is no issuer with this id")
		} else if err != nil {
			return pq, err
		}
	}
	pq.Lang = q.Get("lang")
	if pq.Lang == "" {
		pq.Lang = "en"
	}
	if !slices.Contains(web.Languages(), pq.Lang) {
		return pq, fieldProblem(http.StatusBadRequest, "lang", "must be a language the challenge pages are written in: "+strings.Join(languages(), ", "))
	}
	step := q.Get("step")
	if step == "" {
		step = previewSteps[0].Key
	}
	i := slices.IndexFunc(previewSteps, func(s previewStep) bool { return s.Key == step })
	if i < 0 {
		keys := make([]string, len(previewSteps))
		for j, s := range previewSteps {
			keys[j] = s.Key
		}
		return pq, fieldProblem(http.StatusBadRequest, "step", "must be one of "+strings.Join(keys, ", "))
	}
	pq.Step = previewSteps[i]
	return pq, nil
}

// fieldProblem is a problem with one field of the preview's query, its sentence naming the field.
func fieldProblem(status int, field, detail string) *httpx.Problem {
	return &httpx.Problem{Status: status, Title: field + ": " + detail + "."}
}

// values is the query that names pq, for a frame of size (empty: none).
func (pq previewQuery) values(size string) url.Values {
	v := url.Values{"issuer": {pq.Issuer.ID}, "lang": {pq.Lang}, "step": {pq.Step.Key}}
	if size != "" {
		v.Set("size", size)
	}
	return v
}

// samplePage is the challenge page of step for the sample purchase, as the live code would draw
// it for a challenge standing there under the issuer's code policy pol at now.
func samplePage(is Issuer, pol otp.Policy, lang, size, step string, now time.Time) challengePage {
	row := ChallengeRow{ACSTransID: "preview", BrowserLanguage: lang, MerchantName: sampleMerchant, Exponent: 2,
		WindowSize: size, Step: StepChoose, Channel: "sms", OTP: otp.State{TransactionID: "preview"}}
	t := Transaction{ACSTransID: "preview", IssuerID: is.ID, MaskedPAN: sampleMaskedPAN, Amount: sampleAmount, Currency: sampleCurrency}
	ch := sampleCardholder
	var status notify.State
	// A code sent a moment ago: the first one, or one resend later.
	sent := func(resends int) {
		row.Step = StepCode
		row.OTP.Sequence, row.OTP.Resends, row.OTP.IssuedAt, row.OTP.LastSent = resends+1, resends, now.Add(-5*time.Second), now.Add(-5*time.Second)
		status = notify.Sent
	}
	ending := ""
	msgs := web.Text(lang)
	errMsg := ""
	switch step {
	case "no-channel":
		ch = Cardholder{}
	case "code":
		sent(0)
	case "send-failed":
		sent(0)
		status = notify.Failed
	case "wrong":
		sent(0)
		row.OTP.Wrong, row.OTP.Interactions = 1, 1
		errMsg = wrongCodeText(msgs, max(pol.MaxWrong-1, 0))
	case "resend-wait":
		// Back at the choice for another channel, the shopper sent again within the cool-down.
		sent(0)
		row.Step = StepChoose
		errMsg = waitText(msgs, max(pol.ResendCoolDown-5*time.Second, time.Second))
	case "resent":
		sent(1)
		status = notify.Queued
	case "no-resends":
		sent(pol.MaxResends)
	case "authenticated":
		ending = endOK
	case "not-authenticated":
		ending = endFailed
	case "cancelled":
		ending = endCancelled
	case "locked":
		ending = endLocked
	case "expired":
		ending = endExpired
	case "bank-app":
		ending = endBankApp
	}
	p := pageOf(previewBase, row, t, &is, is.Decoupled)
	if ending != "" {
		p.Step, p.Ending = StepDone, ending
		return p
	}
	p.Error = errMsg
	p.fillStep(row, ch, pol, status, now)
	return p
}

type previewFrame struct {
	windowSize
	URL string
}

type previewData struct {
	Issuers   []Issuer
	Languages []struct{ Code, Name string }
	Steps     []previewStep
	Q         previewQuery
	Frames    []previewFrame
	Problem   string
	Merchant  string
	Amount    string
	Card      string
	Decoupled bool
}

// challengePreview is the page the operator picks an issuer, a language and a step on, with the
// challenge page in a frame of every window size.
func (p *consolePages) challengePreview(r *console.Request) (console.View, error) {
	// The console's policy with frames of its own origin allowed: this page frames the previews.
	r.Writer().Header().Set("Content-Security-Policy", previewCSP)
	issuers, err := p.st.Issuers(r.Context())
	if err != nil {
		return console.View{}, err
	}
	pq, err := p.readPreview(r, issuers)
	d := previewData{Issuers: issuers, Steps: previewSteps, Q: pq, Merchant: sampleMerchant,
		Amount: FormatAmount(sampleAmount, sampleCurrency, 2), Card: sampleMaskedPAN}
	for _, l := range languages() {
		d.Languages = append(d.Languages, struct{ Code, Name string }{l, languageName(l)})
	}
	view := console.View{Title: "Challenge preview", Template: challengePreviewPage, Data: &d}
	var prob *httpx.Problem
	if errors.As(err, &prob) {
		d.Problem = prob.Title
		return view, nil
	}
	if err != nil {
		return console.View{}, err
	}
	d.Decoupled = pq.Issuer.Decoupled
	for _, s := range windowSizes {
		d.Frames = append(d.Frames, previewFrame{windowSize: s, URL: previewBase + "/frame?" + pq.values(s.Code).Encode()})
	}
	return view, nil
}

// challengePreviewFrame is one previewed challenge page, for a frame of the preview page.
func (p *consolePages) challengePreviewFrame(r *console.Request) (console.View, error) {
	w := r.Writer()
	// Framed by the preview page only; the problem pages below are framed as well, so the operator
	// reads them in place.
	w.Header().Set("X-Frame-Options", "SAMEORIGIN")
	w.Header().Set("Content-Security-Policy", previewFrameCSP)
	// A frame names its issuer; without one it takes the first, as the page does.
	var issuers []Issuer
	var err error
	if r.URL.Query().Get("issuer") == "" {
		if issuers, err = p.st.Issuers(r.Context()); err != nil {
			return console.View{}, err
		}
	}
	pq, err := p.readPreview(r, issuers)
	if err != nil {
		return console.View{}, err
	}
	size := r.URL.Query().Get("size")
	if !slices.ContainsFunc(windowSizes, func(s windowSize) bool { return s.Code == size }) {
		return console.View{}, fieldProblem(http.StatusBadRequest, "size", "must be a challengeWindowSize, 01 to 05")
	}
	pol := issuerCodePolicy(p.lock, pq.Issuer)
	if err := renderChallenge(w, samplePage(pq.Issuer, pol, pq.Lang, size, pq.Step.Key, p.now())); err != nil {
		return console.View{}, fmt.Errorf("rendering the challenge preview: %w", err)
	}
	return console.View{Written: true}, nil
}

// challengePreviewStatic serves the challenge pages' stylesheet and script to the previews.
func (p *consolePages) challengePreviewStatic(r *console.Request) (console.View, error) {
	http.StripPrefix(previewBase+"/static", web.Static()).ServeHTTP(r.Writer(), r.Request)
	return console.View{Written: true}, nil
}

// challengePreviewStyle is the preview page's own stylesheet: the frames' boxes, 05 scaled down.
func (p *consolePages) challengePreviewStyle(r *console.Request) (console.View, error) {
	w := r.Writer()
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	_, err := w.Write(challengePreviewCSS)
	return console.View{Written: true}, err
}
