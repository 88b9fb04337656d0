package acs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/sdkcrypto"
	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/tracing"
)

// maxAppCReq bounds a CReq JWE: the largest CReq is a few hundred characters of JSON, and
// challengeHTMLDataEntry at most 256 of them.
const maxAppCReq = 16 << 10

// appCReq is one CReq of an app challenge as the endpoint reads it, with everything the answer needs.
type appCReq struct {
	row  ChallengeRow
	t    Transaction
	app  AppRow
	sess *sdkcrypto.Session
	enc  string // the CReq's content encryption, which the CRes uses too
	creq *emv.CReq
}

// appFailure is a CReq the ACS answers with an Erro, and whether it ends the transaction (with its
// RReq) and how.
type appFailure struct {
	err *emv.Error
	end *End
}

func (f *appFailure) Error() string { return f.err.Error() }

// serveApp answers one CReq of an app challenge (POST <acsURL>, the body a compact JWE) with a
// CRes JWE, or with a plain-JSON Erro, which SDKs tell from a JWE by its shape. A CReq that fails
// (a JWE that does not open, a counter out of order, fields wrong or missing, a timeout) ends the
// transaction with its RReq before the Erro leaves, as the browser's final answer does.
func (b *Browser) serveApp(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAppCReq))
	if err != nil {
		return b.appErro(ctx, w, nil, &appFailure{err: emv.Errorf(emv.CodeMessageInvalid, "message body")})
	}
	in, fail := b.readAppCReq(ctx, strings.TrimSpace(string(body)))
	if fail != nil {
		return b.appErro(ctx, w, in, fail)
	}
	cres, err := b.appStep(ctx, in)
	var f *appFailure
	if errors.As(err, &f) {
		return b.appErro(ctx, w, in, f)
	}
	if err == nil {
		err = b.writeCRes(w, in, cres)
	}
	if err != nil {
		// Trouble of our own (the store, a CRes we could not build): "transient system failure"
		// to the SDK with the detail in the log, and the challenge left as it stands.
		e := &emv.Error{Code: emv.CodeTransientFailure, Detail: "internal error", Err: err}
		return b.appErro(ctx, w, in, &appFailure{err: e})
	}
	return nil
}

// readAppCReq finds the transaction the JWE's kid names, opens the CReq with its session key,
// validates it and claims its counter. Every failure comes back as an appFailure; in is nil when
// the transaction is not known.
func (b *Browser) readAppCReq(ctx context.Context, compact string) (*appCReq, *appFailure) {
	j, err := sdkcrypto.ParseJWE(compact)
	if err != nil {
		// Without a readable header there is no kid, so no transaction to end.
		e := emv.Errorf(emv.CodeDecryptionFailure, "JWE")
		e.Err, e.MessageType = err, emv.TypeCReq
		return nil, &appFailure{err: e}
	}
	kid := j.Header.Kid
	in := &appCReq{}
	in.row, in.t, err = b.Challenges.ChallengeWithTransaction(ctx, kid)
	if err == nil {
		in.app, err = b.Apps.AppChallenge(ctx, kid)
	}
	if err != nil {
		e := emv.Errorf(emv.CodeTransIDNotRecognised, "acsTransID")
		e.Err, e.MessageType = err, emv.TypeCReq
		if !errors.Is(err, store.ErrNotFound) {
			e = emv.AsError(err) // a store failure, not the SDK's: internal error, no transaction ended
		}
		return nil, &appFailure{err: e}
	}
	tracing.Message(ctx, emv.TypeCReq, in.t.MessageVersion)
	if in.sess, err = sdkcrypto.SessionFromKey(in.app.Session); err != nil {
		return in, in.fail(emv.CodeTransientFailure, "session", err, nil)
	}
	pt, h, err := in.sess.Open(sdkcrypto.SDKToACS, compact)
	if err != nil {
		return in, in.fail(emv.CodeDecryptionFailure, "JWE", err, in.endWith("09"))
	}
	in.enc = h.Enc
	if in.creq, err = ParseAppCReq(pt, in.t.MessageVersion, in.t.MessageCategory); err != nil {
		e := emv.AsError(err)
		return in, in.fail(e.Code, e.Detail, err, in.endWith("07"))
	}
	switch {
	case in.creq.ACSTransID != kid:
		return in, in.fail(emv.CodeTransIDNotRecognised, "acsTransID", nil, in.endWith("07"))
	case in.creq.ThreeDSServerTransID != in.t.ThreeDSServerTransID:
		return in, in.fail(emv.CodeTransIDNotRecognised, "threeDSServerTransID", nil, in.endWith("07"))
	case in.creq.SDKTransID != in.t.SDKTransID:
		return in, in.fail(emv.CodeTransIDNotRecognised, "sdkTransID", nil, in.endWith("07"))
	}
	// The counter picks the GCM IV of both directions from one byte, so it must never pass 255:
	// a wrapped counter would reuse an IV under the same key. The SDKs stop there too.
	n, err := strconv.Atoi(in.creq.SDKCounterStoA)
	if err != nil || n != in.app.NextCounter || n > 255 {
		return in, in.fail(emv.CodeDecryptionFailure, "sdkCounterStoA", fmt.Errorf("counter %q, want %03d", in.creq.SDKCounterStoA, in.app.NextCounter), in.endWith("09"))
	}
	if err := b.Apps.ClaimCounter(ctx, kid, n); err != nil {
		// Another CReq with the same counter got there first: this one is a replay.
		return in, in.fail(emv.CodeDecryptionFailure, "sdkCounterStoA", err, in.endWith("09"))
	}
	in.app.NextCounter++
	return in, nil
}

// ParseAppCReq reads the plaintext of an app CReq for a transaction of the given version and
// category, with the rules of an app challenge: the ids, sdkCounterStoA and the cardholder's input
// checked as the protocol has them. Every failure is an *emv.Error (201, 203, …) for the Erro.
func ParseAppCReq(pt []byte, version, category string) (*emv.CReq, error) {
	ctx := &emv.Context{AReq: &emv.AReq{DeviceChannel: emv.ChannelApp, MessageCategory: category, MessageVersion: version}}
	m, err := emv.ParseAs(pt, emv.TypeCReq, ctx)
	if err != nil {
		return nil, err
	}
	return m.(*emv.CReq), nil
}

// fail is an appFailure for this transaction's CReq.
func (in *appCReq) fail(code emv.Code, detail string, cause error, end *End) *appFailure {
	e := emv.Errorf(code, "%s", detail)
	e.Err = cause
	return &appFailure{err: e, end: end}
}

// endWith is the end of a challenge that broke the protocol: N with reason (09 security failure
// for a JWE or counter that fails, 07 invalid transaction for bad content). The cardholder did not
// fail a check, so it does not count against the card.
func (in *appCReq) endWith(reason string) *End {
	return &End{ACSTransID: in.t.ACSTransID, TransStatus: "N", Reason: reason}
}

// ending is end with the rendering type this challenge's ARes announced, which its RReq repeats:
// the app row read with the CReq has it, so Browser.end need not read it again.
func (in *appCReq) ending(end End) End {
	end.RenderingType = &emv.ACSRenderingType{ACSInterface: in.app.Interface, ACSUiTemplate: in.app.UIType}
	return end
}

// appErro ends the transaction when the failure says so, then answers the plain-JSON Erro with
// every id the ACS knows.
func (b *Browser) appErro(ctx context.Context, w http.ResponseWriter, in *appCReq, f *appFailure) error {
	e := f.err
	e.MessageType = emv.TypeCReq
	version := emv.Version220
	if in != nil {
		e.ThreeDSServerTransID, e.ACSTransID, e.DSTransID, e.SDKTransID = in.t.ThreeDSServerTransID, in.t.ACSTransID, in.t.DSTransID, in.t.SDKTransID
		e.MessageVersion, version = in.t.MessageVersion, in.t.MessageVersion
		if f.end != nil && in.row.Step != StepDone {
			if _, _, err := b.end(ctx, in.row, &in.t, in.ending(*f.end)); err != nil {
				return err
			}
		}
	}
	b.Service.log().InfoContext(ctx, "app CReq answered with Erro", "acsTransID", e.ACSTransID, "code", int(e.Code),
		"detail", e.Detail, "err", e.Err)
	body, err := emv.Marshal(emv.ErroFor(e, emv.ComponentACS, version))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.Header().Set("Cache-Control", "no-store")
	_, err = w.Write(body)
	return err
}

// writeCRes seals the CRes for the SDK under the CReq's enc, kid and counter.
func (b *Browser) writeCRes(w http.ResponseWriter, in *appCReq, cres *emv.CRes) error {
	cres.MessageType, cres.MessageVersion = emv.TypeCRes, in.t.MessageVersion
	cres.ThreeDSServerTransID, cres.ACSTransID, cres.SDKTransID = in.t.ThreeDSServerTransID, in.t.ACSTransID, in.t.SDKTransID
	counter := in.app.NextCounter - 1
	cres.ACSCounterAtoS = fmt.Sprintf("%03d", counter)
	ctxAReq := &emv.Context{AReq: &emv.AReq{DeviceChannel: emv.ChannelApp, MessageCategory: in.t.MessageCategory,
		MessageVersion: in.t.MessageVersion}}
	if in.row.DecoupledWithin > 0 {
		// The challenge may fall back to decoupled only because its AReq said F or B (which one
		// is not stored): either admits a final CRes D.
		ctxAReq.AReq.ThreeDSRequestorDecReqInd = "F"
	}
	if err := emv.Validate(cres, ctxAReq); err != nil {
		return fmt.Errorf("acs: our own CRes is invalid: %w", err)
	}
	pt, err := emv.Marshal(cres)
	if err != nil {
		return err
	}
	jwe, err := in.sess.Seal(sdkcrypto.ACSToSDK, in.enc, in.t.ACSTransID, byte(counter), pt)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/jose; charset=UTF-8")
	w.Header().Set("Cache-Control", "no-store")
	_, err = io.WriteString(w, jwe)
	return err
}
