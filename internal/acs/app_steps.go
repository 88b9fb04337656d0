package acs

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/web"
)

// appStep moves an app challenge on by one CReq and returns the CRes: the next screen, or the final
// answer once the authentication has ended. A timeout is an appFailure (Erro 402), after which the
// transaction has ended with challengeCancel 05 (no first CReq in time) or 04 (idle).
func (b *Browser) appStep(ctx context.Context, in *appCReq) (*emv.CRes, error) {
	row, c := in.row, in.creq
	if end, ok := pendingEnd(row); ok {
		return b.appEnd(ctx, in, row, end)
	}
	if row.Step == StepDone {
		if in.t.Reason == "14" {
			return nil, in.fail(emv.CodeTimeout, "challenge timed out", nil, nil)
		}
		return appFinal(doneStatus(row, in.t)), nil
	}
	now := b.Service.now()
	switch {
	case row.Step == StepWaiting && now.Sub(row.AResAt) > FirstCReqWithin:
		return nil, in.fail(emv.CodeTimeout, "first CReq after the ARes", nil,
			&End{ACSTransID: row.ACSTransID, TransStatus: "N", Reason: "14", ChallengeCancel: "05"})
	case row.Step != StepWaiting && now.Sub(row.LastActivity) > IdleLimit:
		return nil, in.fail(emv.CodeTimeout, "challenge idle", nil,
			&End{ACSTransID: row.ACSTransID, TransStatus: "N", Reason: "14", ChallengeCancel: "04"})
	case c.ChallengeCancel != "":
		// The cardholder cancelled (01) or the SDK gave up (08, …): the RReq carries the SDK's code.
		return b.appEnd(ctx, in, row, End{ACSTransID: row.ACSTransID, TransStatus: "N", Reason: "01", ChallengeCancel: c.ChallengeCancel})
	}
	row.LastActivity = now
	switch row.Step {
	case StepWaiting:
		return b.appStart(ctx, in, row)
	case StepChoose:
		return b.appChoose(ctx, in, row)
	}
	return b.appCode(ctx, in, row)
}

// appStart answers the first CReq: the code goes out at once on the cardholder's preferred
// destination (01), the destinations are offered (02, 05), or the bank app is asked (04). A locked
// card ends the challenge before any of them.
func (b *Browser) appStart(ctx context.Context, in *appCReq, row ChallengeRow) (*emv.CRes, error) {
	if in.app.UIType == UICode {
		ch, err := b.Service.Store.Cardholder(ctx, in.t.CardholderID)
		if err != nil {
			return nil, err
		}
		if dests := destinations(ch, web.Text("en")); len(dests) > 0 {
			// issueCode asks about the card lock before the code goes out: asking here too would
			// count the card's failures twice in one CReq.
			kind, i := splitDest(dests[0].Key)
			return b.appSend(ctx, in, row, ch, kind, i, false)
		}
	}
	if end, err := b.lockedEnd(ctx, row, in.t, b.policy(ctx, in.t).Policy()); err != nil {
		return nil, err
	} else if end != nil {
		return b.appEnd(ctx, in, row, *end)
	}
	switch in.app.UIType {
	case UICode:
		// The cardholder has no destination left (the record changed since the ARes): no code can go out.
		return b.appEnd(ctx, in, row, End{ACSTransID: row.ACSTransID, TransStatus: "N", Reason: "01"})
	case UIOOB:
		row.Step = StepCode
		if err := b.Apps.StartOOB(ctx, row.ACSTransID); err != nil && !errors.Is(err, store.ErrConflict) {
			return nil, err
		}
		in.app.OOBState = OOBPending
	default:
		row.Step = StepChoose
	}
	if err := b.Challenges.UpdateChallenge(ctx, row); err != nil {
		return nil, err
	}
	row.Version++
	return b.appScreen(ctx, in, row, nil, "")
}

// appChoose sends the code to the destination the cardholder picked.
func (b *Browser) appChoose(ctx context.Context, in *appCReq, row ChallengeRow) (*emv.CRes, error) {
	ch, err := b.Service.Store.Cardholder(ctx, in.t.CardholderID)
	if err != nil {
		return nil, err
	}
	dest := in.creq.ChallengeDataEntry
	if in.app.UIType == UIHTML {
		dest = htmlEntry(in.creq, "dest")
	}
	// The multi-select screen sends one code to every destination ticked ("sms:0,email:0"): a
	// cardholder unsure which of their phone and mailbox they can reach now asks for both.
	keys := strings.Split(dest, ",")
	if in.app.UIType != UIMulti {
		keys = keys[:1]
	}
	for _, k := range keys {
		if strings.TrimSpace(k) == keyBankApp {
			// "Approve in my bank's app instead" (ticked among others on 03, it wins: the
			// cardholder asked to leave the code behind).
			return b.appFallBack(ctx, in, row)
		}
	}
	kind, i := splitDest(keys[0])
	return b.appSend(ctx, in, row, ch, kind, i, false, keys[1:]...)
}

// appSend issues or reissues a code and shows the code screen, or says why no code went out.
func (b *Browser) appSend(ctx context.Context, in *appCReq, row ChallengeRow, ch Cardholder, kind string, i int, resend bool, also ...string) (*emv.CRes, error) {
	next, res, err := b.issueCode(ctx, row, in.t, ch, kind, i, resend, also...)
	if err != nil {
		return nil, err
	}
	msgs := web.Text(web.Lang(row.BrowserLanguage))
	switch {
	case res.end != nil:
		return b.appEnd(ctx, in, row, *res.end)
	case res.badDest:
		return b.appScreen(ctx, in, b.touch(ctx, row), &ch, msgs["choose"])
	case res.coolDown > 0:
		return b.appScreen(ctx, in, b.touch(ctx, row), &ch, waitText(msgs, res.coolDown))
	case res.noneLeft:
		return b.appScreen(ctx, in, b.touch(ctx, row), &ch, msgs["resend_none"])
	}
	return b.appScreen(ctx, in, next, &ch, "")
}

// touch stores the challenge's latest activity, so that a cardholder who is answering is not timed
// out as idle; a conflict means another request moved it on, which the next CReq will show.
func (b *Browser) touch(ctx context.Context, row ChallengeRow) ChallengeRow {
	if err := b.Challenges.UpdateChallenge(ctx, row); err == nil {
		row.Version++
	}
	return row
}

// appCode handles the code step: the out-of-band continue, a resend, or an entry judged under the
// same lock and policy as the browser's (Browser.judge).
func (b *Browser) appCode(ctx context.Context, in *appCReq, row ChallengeRow) (*emv.CRes, error) {
	c := in.creq
	if in.app.UIType == UIOOB {
		switch in.app.OOBState {
		case OOBApproved:
			return b.appEnd(ctx, in, row, End{ACSTransID: row.ACSTransID, TransStatus: "Y"})
		case OOBDeclined:
			return b.appEnd(ctx, in, row, End{ACSTransID: row.ACSTransID, TransStatus: "N", Reason: "01", ChallengeFailed: true})
		}
		msg := ""
		if c.OOBContinue != nil && *c.OOBContinue {
			msg = web.Text(web.Lang(row.BrowserLanguage))["app_oob_pending"]
		}
		return b.appScreen(ctx, in, b.touch(ctx, row), nil, msg)
	}
	entry := c.ChallengeDataEntry
	resend := c.ResendChallenge == "Y"
	if in.app.UIType == UIHTML {
		entry, resend = htmlEntry(c, "code"), htmlEntry(c, "action") == "resend"
		if htmlEntry(c, "action") == keyBankApp {
			return b.appFallBack(ctx, in, row)
		}
	}
	if resend {
		ch, err := b.Service.Store.Cardholder(ctx, in.t.CardholderID)
		if err != nil {
			return nil, err
		}
		return b.appSend(ctx, in, row, ch, row.Channel, row.DestIndex, true)
	}
	// challengeNoEntry (the cardholder submitted nothing) is judged as an empty entry: a wrong one.
	next, out, err := b.judge(ctx, row, in.t, entry)
	if errors.Is(err, errMovedOn) {
		if row, in.t, err = b.Challenges.ChallengeWithTransaction(ctx, row.ACSTransID); err != nil {
			return nil, err
		}
		if end, ok := pendingEnd(row); ok {
			return b.appEnd(ctx, in, row, end)
		}
		if row.Step == StepDone {
			return appFinal(doneStatus(row, in.t)), nil
		}
		return b.appScreen(ctx, in, row, nil, "")
	}
	if err != nil {
		return nil, err
	}
	if end, ok := pendingEnd(next); ok {
		return b.appEnd(ctx, in, next, end)
	}
	msgs := web.Text(web.Lang(next.BrowserLanguage))
	return b.appScreen(ctx, in, next, nil, msgs["failed"]+" "+fmt.Sprintf(msgs["remaining"], out.Remaining))
}

// appEnd ends the authentication (RReq queued first) and gives the final CRes.
func (b *Browser) appEnd(ctx context.Context, in *appCReq, row ChallengeRow, end End) (*emv.CRes, error) {
	_, cur, err := b.end(ctx, row, &in.t, in.ending(end))
	if err != nil {
		return nil, err
	}
	return appFinal(cur.TransStatus), nil
}

// appFinal is the last CRes: the app's CRes carries Y or N only (D after a 2.3.1 decoupled
// fallback), the RReq the detail.
func appFinal(status string) *emv.CRes {
	if status != "Y" && status != "D" {
		status = "N"
	}
	return &emv.CRes{ChallengeCompletionInd: "Y", TransStatus: status}
}

// doneStatus is the final CRes's status for a closed challenge: D when it moved to the bank's app
// (the transaction itself turns Y or N later, by the approval, but this challenge ended with D),
// otherwise the transaction's.
func doneStatus(row ChallengeRow, t Transaction) string {
	if row.Result == "D" {
		return "D"
	}
	return t.TransStatus
}

// keyBankApp is the choice (02, 03, the HTML screens' field) that moves the challenge to the
// bank's app.
const keyBankApp = "bankapp"

// appFallBack moves the app challenge to the bank's app (decoupled_fallback.go) and answers the
// final CRes D. A challenge that cannot switch shows its screen again; one that another CReq ended
// meanwhile gives its final CRes.
func (b *Browser) appFallBack(ctx context.Context, in *appCReq, row ChallengeRow) (*emv.CRes, error) {
	row, t, switched, err := b.fallBack(ctx, row, in.t)
	if err != nil {
		return nil, err
	}
	in.t = t
	if switched {
		return appFinal("D"), nil
	}
	if end, ok := pendingEnd(row); ok {
		return b.appEnd(ctx, in, row, end)
	}
	if row.Step == StepDone {
		return appFinal(doneStatus(row, t)), nil
	}
	return b.appScreen(ctx, in, b.touch(ctx, row), nil, "")
}

// splitDest reads a destination key ("sms:0"); a key that is not one gives an index of -1.
func splitDest(key string) (string, int) {
	kind, idx, _ := strings.Cut(strings.TrimSpace(key), ":")
	i, err := strconv.Atoi(idx)
	if err != nil {
		i = -1
	}
	return kind, i
}

// htmlEntry reads one field of the form an HTML (05) screen posted through the SDK, which sends
// it URL-encoded in challengeHTMLDataEntry.
func htmlEntry(c *emv.CReq, field string) string {
	v, err := url.ParseQuery(c.ChallengeHTMLDataEntry)
	if err != nil {
		return ""
	}
	return v.Get(field)
}
