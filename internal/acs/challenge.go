package acs

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/httpx"
	"github.com/open3ds/open3ds/internal/notify"
	"github.com/open3ds/open3ds/internal/otp"
	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/tracing"
	"github.com/open3ds/open3ds/internal/web"
)

// Limits of the browser challenge (PROTOCOL.md §4).
const (
	// FirstCReqWithin is how long after the ARes the requestor may post the first CReq.
	FirstCReqWithin = 30 * time.Second
	// IdleLimit is how long a shopper may leave a challenge page before it ends.
	IdleLimit = 10 * time.Minute
)

// Notifier queues a code for delivery and reports its status; *notify.Queue is one.
type Notifier interface {
	Enqueue(m notify.Message) (string, error)
	Status(id string) (notify.Status, bool)
}

// Browser serves what the shopper's browser reaches on the ACS's public HTTPS listener: the 3DS
// Method, the challenge pages at acsURL and their static files. It keeps nothing in memory between
// requests: every step is stored, so any instance can serve the next page.
type Browser struct {
	Service    *Service
	Challenges ChallengeStore
	// Apps keeps the app side of app challenges; without it the app endpoints are not served.
	Apps AppStore
	// Codes hashes codes under the configured key; each issuer's policy is applied on top.
	Codes  *otp.Codes
	Notify Notifier
	// Decoupled keeps decoupled requests; without it their approval page is not served and
	// ExpireDecoupled does nothing.
	Decoupled DecoupledStore
	// DecoupledURL is the public address of the approval page, up to and including the "/" the
	// token follows ("https://acs.example/decoupled/").
	DecoupledURL string
	// Base is the path prefix the handler is mounted at ("" for the root).
	Base string
	// MethodRedirect answers the 3DS Method with a 307 to the notification URL instead of the page
	// that collects the browser's traits; see serveMethod for why an ACS would choose it.
	MethodRedirect bool
}

// pageCSP lets the merchant frame the pages and the final form post to any notification URL, while
// scripts and styles come only from the ACS itself.
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; " +
	"connect-src 'self'; form-action *; frame-ancestors *; base-uri 'none'"

// Handler routes the 3DS Method, the challenge and the static files.
func (b *Browser) Handler() http.Handler {
	mux := http.NewServeMux()
	page := func(h httpx.HandlerFunc) http.Handler { return httpx.WithCSP(pageCSP, httpx.Page(h)) }
	mux.Handle("POST /method", page(b.serveMethod))
	mux.Handle("POST /method/data", httpx.API(b.serveMethodData))
	mux.Handle("POST /challenge", page(b.serveCReq))
	mux.Handle("POST /challenge/step", page(b.serveStep))
	mux.Handle("GET /static/", http.StripPrefix("/static", web.Static()))
	if b.Decoupled != nil {
		mux.Handle("GET /decoupled/{token}", page(b.serveDecoupled))
		mux.Handle("POST /decoupled/{token}", page(b.serveDecoupledAnswer))
	}
	if b.Apps != nil {
		// The SDK reads a plain-JSON Erro as well as a CRes JWE, so every failure is answered in the
		// protocol's words; only an unclassified one falls through to httpx.API's internal error.
		mux.Handle("POST /app", httpx.API(b.serveApp))
		mux.Handle("GET /bankapp/{token}", page(b.serveBankApp))
		mux.Handle("POST /bankapp/{token}", page(b.serveBankAppAnswer))
	}
	return mux
}

// maxSessionData bounds threeDSSessionData (PROTOCOL.md §4).
const maxSessionData = 1024

// DecodeCReq reads the creq form field of a browser challenge. A message that cannot be read at all
// gives a nil CReq; one that reads but breaks a rule gives the CReq's ids with the *emv.Error, so the
// Erro can reach the right transaction.
func DecodeCReq(field string) (*emv.CReq, error) {
	raw, err := emv.DecodeBase64Lenient(field)
	if err != nil || len(raw) == 0 {
		return nil, emv.Errorf(emv.CodeMessageInvalid, "creq")
	}
	m, err := emv.ParseAs(raw, emv.TypeCReq, nil)
	if err != nil {
		var ids emv.CReq
		if json.Unmarshal(raw, &ids) == nil && ids.ACSTransID != "" {
			return &ids, err
		}
		return nil, err
	}
	c := m.(*emv.CReq)
	if c.ChallengeWindowSize == "" {
		return c, emv.Errorf(emv.CodeRequiredMissing, "challengeWindowSize")
	}
	return c, nil
}

// serveCReq answers the acsURL: the first CReq opens the challenge's first page.
func (b *Browser) serveCReq(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		return &httpx.Problem{Status: http.StatusBadRequest, Title: "The request could not be read."}
	}
	session := r.PostForm.Get("threeDSSessionData")
	creq, cerr := DecodeCReq(r.PostForm.Get("creq"))
	if creq == nil {
		return &httpx.Problem{Status: http.StatusBadRequest, Title: "The challenge request could not be read.", Err: cerr}
	}
	tracing.Message(ctx, emv.TypeCReq, creq.MessageVersion)
	row, t, err := b.Challenges.ChallengeWithTransaction(ctx, creq.ACSTransID)
	if err == nil && t.DeviceChannel == emv.ChannelApp {
		// An app challenge is answered only through its encrypted endpoint: a browser form that
		// names it must not open its pages, which would go round the session key and its counter.
		err = fmt.Errorf("%w: an app challenge's CReq came as a browser form", store.ErrNotFound)
	}
	if errors.Is(err, store.ErrNotFound) {
		return &httpx.Problem{Status: http.StatusNotFound, Title: "This purchase is not known.", Err: err}
	}
	if err != nil {
		return err
	}
	if cerr == nil {
		switch {
		case creq.ThreeDSServerTransID != t.ThreeDSServerTransID:
			cerr = emv.Errorf(emv.CodeTransIDNotRecognised, "threeDSServerTransID")
		case creq.MessageVersion != t.MessageVersion:
			cerr = emv.Errorf(emv.CodeFormatInvalid, "messageVersion")
		case len(session) > maxSessionData:
			cerr = emv.Errorf(emv.CodeFormatInvalid, "threeDSSessionData")
		}
	}
	if cerr != nil {
		return b.postErro(ctx, w, row, t, creq, session, cerr)
	}
	now := b.Service.now()
	switch row.Step {
	case StepDone:
		return b.renderDone(ctx, w, row, t)
	case StepChoose, StepCode:
		return b.renderStep(ctx, w, row, t, "")
	}
	row.SessionData, row.WindowSize, row.LastActivity = session, creq.ChallengeWindowSize, now
	if now.Sub(row.AResAt) > FirstCReqWithin {
		b.Service.log().InfoContext(ctx, "first CReq too late", "acsTransID", row.ACSTransID, "after", now.Sub(row.AResAt))
		return b.finish(ctx, w, row, &t, End{ACSTransID: row.ACSTransID, TransStatus: "N", Reason: "14", ChallengeCancel: "05"})
	}
	if end, err := b.lockedEnd(ctx, row, t, b.policy(ctx, t).Policy()); err != nil {
		return err
	} else if end != nil {
		return b.finish(ctx, w, row, &t, *end)
	}
	row.Step = StepChoose
	if err := b.Challenges.UpdateChallenge(ctx, row); err != nil {
		return b.conflict(err)
	}
	row.Version++
	return b.renderStep(ctx, w, row, t, "")
}

// postErro answers a CReq that breaks a rule with an Erro posted to the notificationURL in the cres
// field, as the final CRes would be.
func (b *Browser) postErro(ctx context.Context, w http.ResponseWriter, row ChallengeRow, t Transaction, creq *emv.CReq, session string, cerr error) error {
	e := emv.AsError(cerr)
	if e == nil {
		e = emv.Errorf(emv.CodeMessageInvalid, "creq")
	}
	e.MessageType, e.ThreeDSServerTransID, e.ACSTransID, e.DSTransID = emv.TypeCReq, t.ThreeDSServerTransID, t.ACSTransID, t.DSTransID
	if e.MessageVersion == "" {
		e.MessageVersion = t.MessageVersion
	}
	erro := emv.ErroFor(e, emv.ComponentACS, t.MessageVersion)
	body, err := emv.Marshal(erro)
	if err != nil {
		return err
	}
	b.Service.log().InfoContext(ctx, "bad CReq answered with Erro", "acsTransID", row.ACSTransID, "code", int(e.Code), "detail", e.Detail)
	if len(session) > maxSessionData {
		session = ""
	}
	row.SessionData = session
	return b.renderFinal(ctx, w, row, t, base64.RawURLEncoding.EncodeToString(body), endFailed)
}

// lockedEnd is the end of a challenge whose card already has as many failed entries within the
// lock window as pol allows (transStatusReason 19, before any code goes out), or nil while the card
// may still be sent codes. The browser's first page, the app's first CReq and every code sent ask
// it, and each ends the challenge in its own form.
func (b *Browser) lockedEnd(ctx context.Context, row ChallengeRow, t Transaction, pol otp.Policy) (*End, error) {
	n, err := b.Challenges.OTPFailures(ctx, t.PANHash, b.Service.now().Add(-pol.CardLockWindow))
	if err != nil || n < pol.CardLockFailures {
		return nil, err
	}
	b.Service.log().InfoContext(ctx, "card locked, no code sent", "acsTransID", row.ACSTransID)
	return &End{ACSTransID: row.ACSTransID, TransStatus: "N", Reason: "19"}, nil
}

func (b *Browser) conflict(err error) error {
	if errors.Is(err, store.ErrConflict) {
		return &httpx.Problem{Status: http.StatusConflict, Title: "This page changed in another window. Please go back to the shop.", Err: err}
	}
	return err
}

// finish ends the authentication: the RReq is written to the outbox first (EndAuthentication), and
// only then is the CRes form sent to the browser. An authentication that another instance (or the
// timeout sweeper) already ended shows that outcome. t is the challenge's transaction as the caller
// read it with the row, or nil.
func (b *Browser) finish(ctx context.Context, w http.ResponseWriter, row ChallengeRow, t *Transaction, end End) error {
	row, cur, err := b.end(ctx, row, t, end)
	if err != nil || w == nil {
		return err
	}
	return b.renderDone(ctx, w, row, cur)
}

// end is finish without the page: the browser and the app challenge end an authentication the same
// way, and each answers it in its own form. It returns the closed challenge and the transaction as
// it now stands.
func (b *Browser) end(ctx context.Context, row ChallengeRow, t *Transaction, end End) (ChallengeRow, Transaction, error) {
	tracing.TransStatus(ctx, end.TransStatus)
	end.InteractionCounter = row.OTP.Interactions
	if end.RenderingType == nil && b.Apps != nil && (t == nil || t.DeviceChannel == emv.ChannelApp) {
		// An app challenge's RReq says how it was shown. The app endpoint passes it in (it read the
		// app row with the CReq); the sweeper knows only the challenge row, so it is read here.
		if app, err := b.Apps.AppChallenge(ctx, row.ACSTransID); err == nil {
			end.RenderingType = &emv.ACSRenderingType{ACSInterface: app.Interface, ACSUiTemplate: app.UIType}
		}
	}
	// The usual case ends the transaction, queues the RReq and closes the challenge in one commit.
	final := row
	final.Step, final.Result, final.LastActivity = StepDone, end.TransStatus, b.Service.now()
	cur, err := b.Service.endAuthentication(ctx, end, &final, t)
	switch {
	case err == nil:
		row = final
		row.Version++
	case errors.Is(err, store.ErrConflict):
		// Someone else ended the authentication (an expiry, another tab) or moved the challenge on.
		// The authentication is ended on its own (unless it already was), the stored transaction
		// has the result, and the challenge is closed with it.
		if err := b.Service.EndAuthentication(ctx, end); err != nil && !errors.Is(err, store.ErrConflict) {
			return row, cur, err
		}
		if cur, err = b.Service.Store.Transaction(ctx, row.ACSTransID); err != nil {
			return row, cur, err
		}
		row.Step, row.Result, row.LastActivity = StepDone, cur.TransStatus, b.Service.now()
		if err := b.Challenges.UpdateChallenge(ctx, row); err != nil && !errors.Is(err, store.ErrConflict) {
			return row, cur, err
		}
	default:
		return row, cur, err
	}
	b.Service.log().InfoContext(ctx, "challenge ended", "acsTransID", row.ACSTransID, "pan", cur.MaskedPAN,
		"transStatus", cur.TransStatus, "reason", cur.Reason, "challengeCancel", end.ChallengeCancel, "interactions", end.InteractionCounter)
	return row, cur, nil
}

// finalCRes is the browser's final CRes for a challenge that ended with status.
func finalCRes(t Transaction, status string) (string, error) {
	if status != "Y" && status != "D" {
		status = "N" // the browser CRes carries only Y or N (D for a 2.3.1 decoupled fallback); the RReq has the detail
	}
	body, err := emv.Marshal(&emv.CRes{MessageType: emv.TypeCRes, MessageVersion: t.MessageVersion,
		ThreeDSServerTransID: t.ThreeDSServerTransID, ACSTransID: t.ACSTransID, ChallengeCompletionInd: "Y", TransStatus: status})
	return base64.RawURLEncoding.EncodeToString(body), err
}

func (b *Browser) renderDone(ctx context.Context, w http.ResponseWriter, row ChallengeRow, t Transaction) error {
	cres, err := finalCRes(t, row.Result)
	if err != nil {
		return err
	}
	return b.renderFinal(ctx, w, row, t, cres, endingOf(row, t))
}

// endingOf names how a challenge ended, for the words of the final page: a shopper who cancelled
// is not told that the purchase failed a check, and a locked card is told to call the bank.
func endingOf(row ChallengeRow, t Transaction) string {
	switch {
	case row.Result == "Y":
		return endOK
	case row.Result == "D":
		return endBankApp
	case t.Reason == "19":
		return endLocked
	case t.Reason == "14":
		return endExpired
	case t.Reason == "01" && !t.ChallengeFailed:
		return endCancelled
	}
	return endFailed
}

// The endings the final page tells apart.
const (
	endOK        = "ok"
	endFailed    = "failed"
	endCancelled = "cancelled"
	endLocked    = "locked"
	endExpired   = "expired"
)
