package acs

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/httpx"
	"github.com/open3ds/open3ds/internal/notify"
	"github.com/open3ds/open3ds/internal/otp"
	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/web"
)

// challengeFor is the challenge row for a browser or app transaction the ARes sends to a
// challenge, with what the pages and the final CRes need of the AReq; nil for any other answer.
func challengeFor(a *emv.AReq, t Transaction) *ChallengeRow {
	if t.TransStatus != "C" || (a.DeviceChannel != emv.ChannelBrowser && a.DeviceChannel != emv.ChannelApp) {
		return nil
	}
	exp, _ := strconv.Atoi(a.PurchaseExponent)
	merchant := a.MerchantName
	if merchant == "" {
		merchant = a.AcquirerMerchantID
	}
	return &ChallengeRow{ACSTransID: t.ACSTransID, NotificationURL: a.NotificationURL,
		BrowserLanguage: a.BrowserLanguage, MerchantName: merchant, Exponent: exp, Step: StepWaiting, Token: newID(""),
		OTP: otp.State{TransactionID: t.ACSTransID}, AResAt: t.CreatedAt, LastActivity: t.CreatedAt}
}

// policy is the issuer's code policy on top of the configured key.
func (b *Browser) policy(ctx context.Context, t Transaction) *otp.Codes {
	is, err := b.Service.Store.Issuer(ctx, t.IssuerID)
	if err != nil {
		return b.Codes
	}
	return b.policyOf(is)
}

// policyOf is policy for an issuer the caller has already read.
func (b *Browser) policyOf(is Issuer) *otp.Codes {
	return b.Codes.WithPolicy(issuerCodePolicy(b.Codes.Policy(), is))
}

// issuerCodePolicy is the code policy p as the issuer's own limits change it; the console shows it.
func issuerCodePolicy(p otp.Policy, is Issuer) otp.Policy {
	if is.OTP.Length >= otp.MinDigits && is.OTP.Length <= otp.MaxDigits {
		p.Digits = is.OTP.Length
	}
	if is.OTP.TTLSeconds > 0 {
		p.Lifetime = time.Duration(is.OTP.TTLSeconds) * time.Second
	}
	if is.OTP.MaxAttempts > 0 {
		p.MaxWrong = is.OTP.MaxAttempts
	}
	if is.OTP.MaxResends > 0 {
		p.MaxResends = is.OTP.MaxResends
	}
	return p
}

// serveStep handles every form of the challenge pages: send, submit, resend and cancel.
func (b *Browser) serveStep(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		return &httpx.Problem{Status: http.StatusBadRequest, Title: "The request could not be read."}
	}
	f := r.PostForm
	row, t, err := b.Challenges.ChallengeWithTransaction(ctx, f.Get("id"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && (t.DeviceChannel == emv.ChannelApp ||
		subtle.ConstantTimeCompare([]byte(row.Token), []byte(f.Get("token"))) != 1)) {
		return &httpx.Problem{Status: http.StatusForbidden, Title: "This page is not valid for this purchase."}
	}
	if err != nil {
		return err
	}
	if row.Step == StepDone {
		return b.renderDone(ctx, w, row, t)
	}
	if end, ok := pendingEnd(row); ok {
		return b.finish(ctx, w, row, &t, end)
	}
	if row.Step == StepWaiting {
		return &httpx.Problem{Status: http.StatusConflict, Title: "This purchase has not started its check."}
	}
	now := b.Service.now()
	if now.Sub(row.LastActivity) > IdleLimit {
		return b.finish(ctx, w, row, &t, End{ACSTransID: row.ACSTransID, TransStatus: "N", Reason: "14", ChallengeCancel: "04"})
	}
	row.LastActivity = now
	msgs := web.Text(web.Lang(row.BrowserLanguage))
	switch f.Get("action") {
	case "cancel":
		return b.finish(ctx, w, row, &t, End{ACSTransID: row.ACSTransID, TransStatus: "N", Reason: "01", ChallengeCancel: "01"})
	case "send":
		if row.Step != StepChoose {
			return b.renderStep(ctx, w, row, t, "")
		}
		kind, idx, _ := strings.Cut(f.Get("dest"), ":")
		i, err := strconv.Atoi(idx)
		if err != nil {
			i = -1
		}
		return b.send(ctx, w, row, t, kind, i, false, msgs)
	case "resend":
		if row.Step != StepCode {
			return b.renderStep(ctx, w, row, t, "")
		}
		return b.send(ctx, w, row, t, row.Channel, row.DestIndex, true, msgs)
	case "back":
		// Another channel: the next send counts as a resend, with its cool-down and limit.
		if row.Step != StepCode {
			return b.renderStep(ctx, w, row, t, "")
		}
		row.Step = StepChoose
		if err := b.Challenges.UpdateChallenge(ctx, row); err != nil {
			return b.conflict(err)
		}
		row.Version++
		return b.renderStep(ctx, w, row, t, "")
	case "bankapp":
		return b.switchToDecoupled(ctx, w, row, t)
	case "submit":
		if row.Step != StepCode {
			return b.renderStep(ctx, w, row, t, "")
		}
		return b.check(ctx, w, row, t, f.Get("code"))
	}
	return &httpx.Problem{Status: http.StatusBadRequest, Title: "Unknown action."}
}

// send issues (or reissues) a code and queues it for the chosen destination. The page never waits
// for the provider: the queue delivers, and the code page shows how far it got.
func (b *Browser) send(ctx context.Context, w http.ResponseWriter, row ChallengeRow, t Transaction, kind string, i int, resend bool, msgs web.Messages) error {
	ch, err := b.Service.Store.Cardholder(ctx, t.CardholderID)
	if err != nil {
		return err
	}
	next, res, err := b.issueCode(ctx, row, t, ch, kind, i, resend)
	switch {
	case err != nil:
		return err
	case res.end != nil:
		return b.finish(ctx, w, row, &t, *res.end)
	case res.badDest:
		return b.renderStepFor(ctx, w, row, t, &ch, msgs["choose"])
	case res.coolDown > 0:
		return b.renderStepFor(ctx, w, row, t, &ch, waitText(msgs, res.coolDown))
	case res.noneLeft:
		return b.renderStepFor(ctx, w, row, t, &ch, msgs["resend_none"])
	}
	return b.renderStepFor(ctx, w, next, t, &ch, "")
}

// waitText tells the cardholder how many seconds remain before a new code can be sent.
func waitText(msgs web.Messages, wait time.Duration) string {
	return fmt.Sprintf(msgs["resend_wait"], int((wait+time.Second-1)/time.Second))
}

// issued is what became of a request for a code, when it was not sent: the destination is not the
// cardholder's, the cool-down has wait left, no resend is left, or the challenge must end.
type issued struct {
	badDest  bool
	coolDown time.Duration
	noneLeft bool
	end      *End
}

// issueCode draws a code (or a new one, with the policy's cool-down and resend limit) and queues
// it for the cardholder's destination kind:i, then stores the challenge at its code step. The
// browser pages and the app challenge both send codes through it; each words the outcome its way.
//
// also lists more destinations ("sms:0") the same code goes to besides kind:i, for the app's
// multi-select screen; one that is not the cardholder's is skipped.
func (b *Browser) issueCode(ctx context.Context, row ChallengeRow, t Transaction, ch Cardholder, kind string, i int, resend bool, also ...string) (ChallengeRow, issued, error) {
	to, ok := pick(ch, kind, i)
	if !ok {
		return row, issued{badDest: true}, nil
	}
	// One read of the issuer gives both its code policy and the name the message goes out under.
	is, _ := b.Service.Store.Issuer(ctx, t.IssuerID)
	codes, now := b.policyOf(is), b.Service.now()
	// Another purchase may have locked the card since this page was shown.
	if end, err := b.lockedEnd(ctx, row, t, codes.Policy()); end != nil || err != nil {
		return row, issued{end: end}, err
	}
	var code string
	var st otp.State
	var err error
	if row.OTP.Sequence == 0 {
		code, st, err = codes.Issue(row.OTP, now)
	} else {
		code, st, err = codes.Resend(row.OTP, now)
	}
	var cool *otp.CoolDownError
	switch {
	case errors.As(err, &cool):
		return row, issued{coolDown: cool.Wait}, nil
	case errors.Is(err, otp.ErrNoResendsLeft):
		return row, issued{noneLeft: true}, nil
	case errors.Is(err, otp.ErrFinished):
		return row, issued{end: &End{ACSTransID: row.ACSTransID, TransStatus: "N", Reason: "19", ChallengeFailed: true}}, nil
	case err != nil:
		return row, issued{}, err
	}
	row.MessageID = ""
	queue := func(kind, to string) string {
		m := notify.Message{Channel: notify.Channel(kind), To: to, Locale: row.BrowserLanguage, Code: code,
			Issuer:  notify.Branding{Name: firstNonEmpty(is.Brand.Name, is.Name), Support: is.Brand.SupportText},
			Purpose: notify.Purpose{Merchant: row.MerchantName, Amount: FormatAmount(t.Amount, t.Currency, row.Exponent)}, TransactionID: t.ACSTransID}
		if m.Locale == "" {
			m.Locale = ch.Locale
		}
		if kind == "sms" && len(ch.Emails) > 0 {
			m.FallbackEmail = ch.Emails[0]
		}
		id := ""
		if b.Notify != nil {
			var err error
			if id, err = b.Notify.Enqueue(m); err != nil {
				b.Service.log().WarnContext(ctx, "queueing a code", "acsTransID", t.ACSTransID, "channel", kind, "err", err)
			}
		}
		b.Service.log().InfoContext(ctx, "code sent", "acsTransID", t.ACSTransID, "channel", kind, "to", notify.Mask(m.Channel, to),
			"sequence", st.Sequence, "resend", resend, "message", id)
		return id
	}
	row.MessageID = queue(kind, to)
	for _, key := range also {
		k, j := splitDest(key)
		if d, ok := pick(ch, k, j); ok && (k != kind || j != i) {
			queue(k, d)
		}
	}
	row.OTP, row.Step, row.Channel, row.DestIndex = st, StepCode, kind, i
	if err := b.Challenges.UpdateChallenge(ctx, row); err != nil {
		return row, issued{}, b.conflict(err)
	}
	row.Version++
	return row, issued{}, nil
}

// check judges one entry and shows the page that follows it. What the shopper sees of a failure is
// always the same message (in their language); the log and the transaction keep the real reason.
func (b *Browser) check(ctx context.Context, w http.ResponseWriter, row ChallengeRow, t Transaction, entered string) error {
	next, out, err := b.judge(ctx, row, t, entered)
	if errors.Is(err, errMovedOn) {
		// Another entry or window moved the challenge on while this one waited: show where it is now.
		if row, t, err = b.Challenges.ChallengeWithTransaction(ctx, row.ACSTransID); err != nil {
			return err
		}
		if end, ok := pendingEnd(row); ok {
			return b.finish(ctx, w, row, &t, end)
		}
		if row.Step == StepDone {
			return b.renderDone(ctx, w, row, t)
		}
		return b.renderStep(ctx, w, row, t, "")
	}
	if err != nil {
		return err
	}
	if end, ok := pendingEnd(next); ok {
		return b.finish(ctx, w, next, &t, end)
	}
	msgs := web.Text(web.Lang(next.BrowserLanguage))
	return b.renderStep(ctx, w, next, t, wrongCodeText(msgs, out.Remaining))
}

// wrongCodeText is what the code page says after a wrong entry that leaves remaining attempts.
func wrongCodeText(msgs web.Messages, remaining int) string {
	return msgs["failed"] + " " + fmt.Sprintf(msgs["remaining"], remaining)
}

// judge counts and compares one entry inside one store transaction that holds the challenge and
// the card's failure count (ChallengeStore.JudgeEntry), so entries posted at once, from one page or
// many, from a browser or an app, are judged one after another: at most the policy's number of
// wrong entries is ever compared, and the card lock cannot overshoot. It returns errMovedOn when
// the challenge no longer waits for a code.
func (b *Browser) judge(ctx context.Context, row ChallengeRow, t Transaction, entered string) (ChallengeRow, otp.Outcome, error) {
	codes, now := b.policy(ctx, t), b.Service.now()
	pol := codes.Policy()
	entered = strings.TrimSpace(entered)
	var out otp.Outcome
	next, err := b.Challenges.JudgeEntry(ctx, row.ACSTransID, t.PANHash, now.Add(-pol.CardLockWindow),
		func(c ChallengeRow, failures int) (ChallengeRow, bool, error) {
			if c.Step != StepCode || c.Result != "" {
				return c, false, errMovedOn
			}
			var st otp.State
			out, st = codes.Check(c.OTP, entered, now, failures)
			c.OTP, c.LastActivity = st, now
			if out.Result.Final() {
				c.Result = pendingStatus(out.Result)
			}
			return c, out.CardFailure, nil
		})
	if err != nil {
		return next, out, err
	}
	b.Service.log().InfoContext(ctx, "code entered", "acsTransID", t.ACSTransID, "result", out.Result.String(), "remaining", out.Remaining)
	return next, out, nil
}

// errMovedOn stops a judgement when the challenge is no longer waiting for a code.
var errMovedOn = errors.New("acs: the challenge is no longer waiting for a code")

// pendingStatus is the transStatus an entry's final result ends the challenge with, recorded with
// the judgement so that the end is known even if this instance stops before it finishes it: "Y"
// for an accepted code, "L" (our own marker, never sent) for a locked card, "N" when the attempts
// ran out.
func pendingStatus(r otp.Result) string {
	switch r {
	case otp.Accepted:
		return "Y"
	case otp.Locked:
		return "L"
	}
	return "N"
}

// pendingEnd is the end a judged but unfinished challenge is owed: its entry's judgement committed,
// and the authentication it decides has not ended yet (an instance stopped in between, or a
// concurrent entry finds it so).
func pendingEnd(row ChallengeRow) (End, bool) {
	if row.Step == StepDone || row.Result == "" {
		return End{}, false
	}
	switch row.Result {
	case "Y":
		return End{ACSTransID: row.ACSTransID, TransStatus: "Y"}, true
	case "L":
		return End{ACSTransID: row.ACSTransID, TransStatus: "N", Reason: "19", ChallengeFailed: true}, true
	}
	return End{ACSTransID: row.ACSTransID, TransStatus: "N", Reason: "01", ChallengeFailed: true}, true
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// ExpireStale ends the challenges whose first CReq never came within FirstCReqWithin of the ARes
// (challengeCancel 05) and those left idle for IdleLimit (challengeCancel 04), each with its RReq. A
// shopper who comes back later sees the result and the CRes.
func (b *Browser) ExpireStale(ctx context.Context) (int, error) {
	now := b.Service.now()
	rows, err := b.Challenges.StaleChallenges(ctx, now.Add(-FirstCReqWithin), now.Add(-IdleLimit), 50)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, row := range rows {
		end, ok := pendingEnd(row)
		if !ok {
			end = End{ACSTransID: row.ACSTransID, TransStatus: "N", Reason: "14", ChallengeCancel: "04"}
			if row.Step == StepWaiting {
				end.ChallengeCancel = "05"
			}
		}
		if err := b.finish(ctx, nil, row, nil, end); err != nil {
			b.Service.log().WarnContext(ctx, "ending a stale challenge", "acsTransID", row.ACSTransID, "err", err)
			continue
		}
		n++
	}
	return n, nil
}

// RunExpiry calls ExpireStale and ExpireDecoupled every interval until ctx ends.
func (b *Browser) RunExpiry(ctx context.Context, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			b.ExpireStale(ctx)
			if _, err := b.ExpireDecoupled(ctx); err != nil {
				b.Service.log().WarnContext(ctx, "sweeping decoupled requests", "err", err)
			}
		}
	}
}
