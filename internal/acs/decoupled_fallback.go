package acs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/store"
)

// Decoupled fallback (2.3.1, threeDSRequestorDecReqInd F or B; docs/protocol.md §1.7). A browser
// challenge whose AReq allowed decoupled authentication as a fallback, at an issuer that offers
// it, shows "Approve in my bank's app instead" on its channel-choice and code pages. That is the
// trigger this ACS implements: the cardholder says the code cannot reach them (or they would
// rather use the app). The ACS then, in one commit, turns the transaction to D, opens the
// decoupled request (deadline from threeDSRequestorDecMaxTime, capped by the ACS's maximum,
// counted from the switch), queues an interim RReq with transStatus D and closes the challenge
// with a final CRes carrying transStatus D. The approval link goes out after the commit, as for an
// ARes D, and the transaction ends as an ARes D's does: approval, decline or the sweeper at the
// deadline, each with the final RReq, which replaces the interim one in the outbox (seq 2).
//
// The app channel offers the same switch on the screens where the cardholder picks what happens
// next (app_screens.go): the single- and multi-select (02, 03) destination screens carry one more
// choice, "Approve in my bank's app instead" (key "bankapp"), and the HTML (05) screens a radio
// choice on the destination page and a button beside Resend on the code page. The native text
// screen (01) does not: its only controls are Submit and Resend, and the protocol has no field for
// a third, so a 01 challenge that asks the code at once cannot switch (a cardholder with several
// destinations gets the 02 screen first). The switch is the same store transition; the final CRes
// (JWE) carries transStatus D, and the SDK's app waits for the merchant's result.
//
// A provider that fails for every channel is not a trigger here: delivery is asynchronous (the
// page never waits for it), so the ACS learns of it too late to move the open page on.

// endBankApp is the final page's ending for a challenge moved to the bank's app.
const endBankApp = "bankapp"

// fallbackAllowed says whether a's requestor allows decoupled authentication as a fallback
// during a challenge: 2.3.1 and threeDSRequestorDecReqInd F or B. (Up to 2.2.0 the indicator is
// only Y or N, and Y allows D only in the ARes.)
func fallbackAllowed(a *emv.AReq) bool {
	ind := a.ThreeDSRequestorDecReqInd
	return emv.CompareVersions(a.MessageVersion, emv.Version231) >= 0 && (ind == "F" || ind == "B")
}

// decoupledWithin is how long a challenge for a (browser or app) may wait in the bank's app after
// a switch, or zero when it may not switch.
func (s *Service) decoupledWithin(a *emv.AReq, is Issuer) time.Duration {
	app := a.DeviceChannel == emv.ChannelApp
	if (a.DeviceChannel != emv.ChannelBrowser && !app) || !fallbackAllowed(a) || !is.Decoupled || s.DecoupledStarted == nil {
		return 0
	}
	if w := s.decoupledTime(a); w >= s.decoupledMin() {
		return w
	}
	return 0
}

// DecoupledFallback is what a switch to decoupled writes in one commit.
type DecoupledFallback struct {
	// Challenge is the challenge as read, already closed (step done, result D): it is written only
	// if nobody changed it since (its Version).
	Challenge ChallengeRow
	Decoupled DecoupledRow
	// RReq is the interim RReq D.
	RReq OutboxRow
	At   time.Time
}

// FallBackToDecoupled writes f: the transaction (still open, status C) becomes D, its decoupled
// request and interim RReq are stored and the challenge is closed. store.ErrConflict when the
// transaction has ended or the challenge moved on meanwhile.
func (s *SQLStore) FallBackToDecoupled(ctx context.Context, f DecoupledFallback) error {
	otpState, err := json.Marshal(f.Challenge.OTP)
	if err != nil {
		return err
	}
	d := f.Decoupled
	return s.db.WithTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE acs_transactions SET trans_status = 'D'
			WHERE acs_trans_id = ? AND ended_at IS NULL AND trans_status = 'C'`), d.ACSTransID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: the authentication has ended or is no longer a challenge", store.ErrConflict)
		}
		if _, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO acs_decoupled (acs_trans_id, token_hash, deadline,
			merchant_name, exponent, locale, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`), d.ACSTransID, d.TokenHash,
			store.Time(d.Deadline), d.MerchantName, d.Exponent, d.Locale, store.Time(d.CreatedAt)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO acs_rreq_outbox (acs_trans_id, url, body, attempts,
			next_attempt_at, lease_owner, lease_until, last_error, results_status, sent_at, created_at, seq, interim)
			VALUES (?, ?, ?, 0, ?, '', ?, '', '', NULL, ?, 1, 1)`), d.ACSTransID, f.RReq.URL, string(f.RReq.Body),
			store.Time(f.At), store.Time(f.At), store.Time(f.At)); err != nil {
			return err
		}
		return s.updateChallengeTx(ctx, tx, f.Challenge, otpState)
	})
}

// interimRReq is the RReq D a switch to decoupled sends: the authentication goes on in the bank's
// app, so it carries no authentication value; the ECI is the one for a result still open.
func interimRReq(t Transaction) ([]byte, error) {
	r := &emv.RReq{MessageType: emv.TypeRReq, MessageVersion: t.MessageVersion, ThreeDSServerTransID: t.ThreeDSServerTransID,
		ACSTransID: t.ACSTransID, DSTransID: t.DSTransID, SDKTransID: t.SDKTransID, MessageCategory: t.MessageCategory,
		TransStatus: "D", AuthenticationMethod: []string{"11"}}
	if err := emv.Validate(r, nil); err != nil {
		return nil, fmt.Errorf("acs: our own interim RReq is invalid: %w", err)
	}
	return emv.Marshal(r)
}

// fallBack runs the switch for an open challenge of either channel (the browser's pages and the
// app's screens share it): the store transition above, then the approval link. switched is false
// when the challenge may not switch (the cardholder cannot be reached, the requestor or issuer did
// not allow it) or when another request ended or moved it meanwhile; row and t are then the
// challenge and transaction as they stand now. On a switch, row is the closed challenge and t has
// transStatus D.
func (b *Browser) fallBack(ctx context.Context, row ChallengeRow, t Transaction) (ChallengeRow, Transaction, bool, error) {
	ch, err := b.Service.Store.Cardholder(ctx, t.CardholderID)
	if err != nil {
		return row, t, false, err
	}
	if row.DecoupledWithin <= 0 || b.Decoupled == nil || !reachable(ch) {
		return row, t, false, nil
	}
	body, err := interimRReq(t)
	if err != nil {
		return row, t, false, err
	}
	now := b.Service.now()
	dec, token := newDecoupledRow(t.ACSTransID, row.MerchantName, row.Exponent, firstNonEmpty(row.BrowserLanguage, ch.Locale), now, row.DecoupledWithin)
	closed := row
	closed.Step, closed.Result, closed.LastActivity = StepDone, "D", now
	err = b.Decoupled.FallBackToDecoupled(ctx, DecoupledFallback{Challenge: closed, Decoupled: dec,
		RReq: OutboxRow{URL: t.DSURL, Body: body}, At: now})
	if errors.Is(err, store.ErrConflict) {
		// Another window or CReq ended or moved the challenge: the caller shows where it is now.
		row, t, err = b.Challenges.ChallengeWithTransaction(ctx, row.ACSTransID)
		return row, t, false, err
	}
	if err != nil {
		return row, t, false, err
	}
	if b.Service.Ended != nil {
		b.Service.Ended() // wakes the RReq sender for the interim RReq
	}
	t.TransStatus = "D"
	b.Service.log().InfoContext(ctx, "challenge moved to the bank's app", "acsTransID", t.ACSTransID,
		"channel", t.DeviceChannel, "deadline", dec.Deadline)
	if b.Service.DecoupledStarted != nil {
		b.Service.DecoupledStarted(ctx, DecoupledStart{Transaction: t, Row: dec, Token: token})
	}
	closed.Version++
	return closed, t, true, nil
}

// switchToDecoupled moves an open browser challenge to the bank's app (see above) and shows the
// final page with its CRes D. A challenge that cannot switch shows its page again.
func (b *Browser) switchToDecoupled(ctx context.Context, w http.ResponseWriter, row ChallengeRow, t Transaction) error {
	row, t, _, err := b.fallBack(ctx, row, t)
	if err != nil {
		return err
	}
	if row.Step == StepDone {
		return b.renderDone(ctx, w, row, t)
	}
	return b.renderStep(ctx, w, row, t, "")
}
