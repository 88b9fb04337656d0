package sdk

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/sdkcrypto"
)

// ChallengeParameters are what the app's back end got from its 3DS Server with an ARes of C (the
// open3ds merchant API's appChallenge).
type ChallengeParameters struct {
	ThreeDSServerTransID string
	ACSTransID           string
	ACSReferenceNumber   string
	// ACSSignedContent is the ACS's JWS holding its URL and ephemeral key.
	ACSSignedContent string
	// ThreeDSRequestorAppURL, when set, is the app's own URL, to which a bank's app may send the
	// cardholder back during an OOB challenge (2.2.0 and later).
	ThreeDSRequestorAppURL string
	// DecoupledFallback says the app's back end allowed decoupled authentication as a fallback
	// (2.3.1, threeDSRequestorDecReqInd F or B: the merchant API's decoupled.fallback). Only then
	// does the SDK accept a final CRes D, which says the cardholder moved the challenge to their
	// bank's app; any other final CRes D is an Erro 203.
	DecoupledFallback bool
}

// Result is how a challenge ended.
type Result struct {
	// TransStatus is the final CRes's: Y or N, or D when the cardholder moved a 2.3.1 challenge to
	// their bank's app (ChallengeParameters.DecoupledFallback): the app then tells them to approve
	// there and waits for its back end, which learns the outcome from the RReq. The authentication
	// value comes to the 3DS Server by RReq, never to the app.
	TransStatus string
	// Cancelled says the cardholder cancelled.
	Cancelled bool
	// Interactions counts the CReqs sent.
	Interactions int
}

// ProtocolError is a challenge that ended with an Erro: sent by the SDK to the ACS (a CRes that
// failed a check, or the SDK's timeout, 402), or sent by the ACS instead of a CRes.
type ProtocolError struct {
	Sent        bool // true: the SDK sent it; false: the ACS did
	Code        string
	Component   string
	Description string
	Detail      string
}

func (e *ProtocolError) Error() string {
	who := "the ACS answered"
	if e.Sent {
		who = "the SDK sent the ACS"
	}
	return fmt.Sprintf("sdk: %s Erro %s (%s): %s", who, e.Code, e.Description, e.Detail)
}

// RuntimeError is a challenge that could not start or go on for a reason outside the protocol's
// error messages: acsSignedContent that does not verify or does not carry this transaction's key, an
// ACS that cannot be reached, a UI that failed. Err is the cause.
type RuntimeError struct {
	Reason string
	Err    error
}

func (e *RuntimeError) Error() string {
	if e.Err != nil {
		return "sdk: " + e.Reason + ": " + e.Err.Error()
	}
	return "sdk: " + e.Reason
}

func (e *RuntimeError) Unwrap() error { return e.Err }

// errSDKTimeout is the cause of a challenge's context when sdkMaxTimeout is up.
var errSDKTimeout = errors.New("sdk: the challenge's maximum time is up")

// maxBody bounds what is read of a CRes: an HTML screen is at most 100,000 characters, and the JWE
// adds a third.
const maxBody = 256 << 10

// DoChallenge runs the challenge of this transaction with the ACS. It verifies acsSignedContent
// against the scheme's CA and that it carries this transaction's key, derives the session key, and
// exchanges CReqs and CRes with the ACS, showing each screen through ui, until a final CRes. It
// returns a *RuntimeError when the challenge cannot start or go on, a *ProtocolError when it ended
// with an Erro, and ctx's error when the caller cancelled ctx. It may be called once.
func (t *Transaction) DoChallenge(ctx context.Context, p ChallengeParameters, ui UI) (*Result, error) {
	t.mu.Lock()
	started := t.started
	t.started = true
	t.mu.Unlock()
	if started {
		return nil, &RuntimeError{Reason: "DoChallenge was already called for this transaction"}
	}
	if !isUUID(p.ThreeDSServerTransID) || !isUUID(p.ACSTransID) {
		return nil, &RuntimeError{Reason: "the challenge parameters need the threeDSServerTransID and acsTransID (UUIDs)"}
	}
	acsURL, acsKey, err := t.checkSignedContent(p.ACSSignedContent)
	if err != nil {
		return nil, err
	}
	sess, err := sdkcrypto.DeriveSession(t.key, acsKey, t.sdk.cfg.ReferenceNumber)
	if err != nil {
		return nil, &RuntimeError{Reason: "deriving the session key", Err: err}
	}
	ctx, cancel := context.WithTimeoutCause(ctx, t.sdk.cfg.MaxTimeout, errSDKTimeout)
	defer cancel()
	c := &challenge{cfg: t.sdk.cfg, p: p, sdkTransID: t.params.SDKTransID, url: acsURL, sess: sess}
	return c.run(ctx, ui)
}

// checkSignedContent verifies the ACS's JWS and reads it. The echo of the SDK's own key is what
// tells the SDK that nobody between it and the ACS put in a key of their own.
func (t *Transaction) checkSignedContent(jws string) (string, *ecdh.PublicKey, error) {
	payload, _, err := sdkcrypto.VerifyJWS(jws, t.sdk.cfg.Roots, t.sdk.cfg.Now())
	if err != nil {
		return "", nil, &RuntimeError{Reason: "acsSignedContent does not verify against the scheme's CA", Err: err}
	}
	var content struct {
		ACSURL         string          `json:"acsURL"`
		ACSEphemPubKey json.RawMessage `json:"acsEphemPubKey"`
		SDKEphemPubKey json.RawMessage `json:"sdkEphemPubKey"`
	}
	if err := json.Unmarshal(payload, &content); err != nil {
		return "", nil, &RuntimeError{Reason: "acsSignedContent is not a JSON object", Err: err}
	}
	if ours, err := sdkcrypto.ParseJWK(content.SDKEphemPubKey); err != nil || !ours.Equal(t.key.PublicKey()) {
		return "", nil, &RuntimeError{Reason: "acsSignedContent does not carry this transaction's ephemeral key"}
	}
	acsKey, err := sdkcrypto.ParseJWK(content.ACSEphemPubKey)
	if err != nil {
		return "", nil, &RuntimeError{Reason: "acsSignedContent's acsEphemPubKey", Err: err}
	}
	if u, err := url.Parse(content.ACSURL); err != nil || u.Host == "" || (u.Scheme != "https" && !(t.sdk.cfg.LoopbackHTTP && loopbackHTTP(u))) {
		return "", nil, &RuntimeError{Reason: "acsSignedContent's acsURL is not an https URL"}
	}
	return content.ACSURL, acsKey, nil
}

// challenge is one running challenge: the session and the counter of the next CReq.
type challenge struct {
	cfg        Config
	p          ChallengeParameters
	sdkTransID string
	url        string
	sess       *sdkcrypto.Session
	counter    int // of the CReq being sent
}

func (c *challenge) run(ctx context.Context, ui UI) (*Result, error) {
	creq := c.creq()
	for {
		cres, err := c.exchange(ctx, creq)
		if err != nil {
			return nil, err
		}
		if cres.ChallengeCompletionInd == "Y" {
			return &Result{TransStatus: cres.TransStatus, Cancelled: creq.ChallengeCancel == "01", Interactions: c.counter + 1}, nil
		}
		if creq.ChallengeCancel != "" {
			// A cancel ends the challenge; an ACS that shows another screen has not understood it.
			return nil, c.sendErro(emv.CodeFormatInvalid, "challengeCompletionInd", emv.TypeCRes)
		}
		s := screenOf(cres, c.counter+1)
		ans, err := show(ctx, ui, s)
		if context.Cause(ctx) == errSDKTimeout {
			return nil, c.sendErro(emv.CodeTimeout, "the cardholder did not finish within sdkMaxTimeout", emv.TypeCReq)
		}
		if err == nil {
			err = checkSelection(s, ans)
		}
		if c.counter == 255 {
			// The counter is one byte of the GCM IV and must not wrap; no ACS asks for this many screens.
			return nil, c.sendErro(emv.CodeTransDataInvalid, "sdkCounterStoA", emv.TypeCRes)
		}
		c.counter++
		creq = c.creq()
		if err != nil {
			// The UI failed: tell the ACS the transaction ended in error, so that it does not wait
			// out its own timeout, and report the UI's error.
			creq.ChallengeCancel = "07"
			if _, cerr := c.exchange(ctx, creq); cerr != nil && !errors.As(cerr, new(*ProtocolError)) {
				err = errors.Join(err, cerr)
			}
			return nil, &RuntimeError{Reason: "the challenge UI failed", Err: err}
		}
		fill(creq, s.UIType, ans)
	}
}

// creq is the CReq of the current counter with its ids; the first one carries nothing else and
// asks the ACS for the first screen.
func (c *challenge) creq() *emv.CReq {
	r := &emv.CReq{MessageType: emv.TypeCReq, MessageVersion: c.cfg.MessageVersion, ThreeDSServerTransID: c.p.ThreeDSServerTransID,
		ACSTransID: c.p.ACSTransID, SDKTransID: c.sdkTransID, SDKCounterStoA: fmt.Sprintf("%03d", c.counter)}
	if c.cfg.MessageVersion != emv.Version210 {
		r.ThreeDSRequestorAppURL = c.p.ThreeDSRequestorAppURL
	}
	return r
}

// fill puts the cardholder's answer into the CReq as its screen's type wants it.
func fill(r *emv.CReq, uiType string, a Answer) {
	switch {
	case a.Cancel:
		r.ChallengeCancel = "01"
		return
	case a.Resend:
		r.ResendChallenge = "Y"
		return
	}
	switch uiType {
	case "01":
		r.ChallengeDataEntry = a.Entry
	case "02", "03":
		// Several keys travel comma-joined, as SDKs send them (PROTOCOL.md §2.4).
		r.ChallengeDataEntry = strings.Join(a.Selected, ",")
	case "04":
		yes := true
		r.OOBContinue = &yes
		return
	case "05":
		r.ChallengeHTMLDataEntry = a.HTMLData
		return
	}
	if r.ChallengeDataEntry == "" {
		r.ChallengeNoEntry = "Y"
	}
}

// exchange sends one CReq and returns its checked CRes. Every failure ends the challenge: an Erro
// from the ACS, or an Erro the SDK sends it about the CRes, as a *ProtocolError.
func (c *challenge) exchange(ctx context.Context, creq *emv.CReq) (*emv.CRes, error) {
	plain, err := emv.Marshal(creq)
	if err != nil {
		return nil, &RuntimeError{Reason: "encoding the CReq", Err: err}
	}
	jwe, err := c.sess.Seal(sdkcrypto.SDKToACS, c.cfg.Enc, c.p.ACSTransID, byte(c.counter), plain)
	if err != nil {
		return nil, &RuntimeError{Reason: "encrypting the CReq", Err: err}
	}
	body, err := c.post(ctx, "application/jose; charset=UTF-8", []byte(jwe))
	if err != nil {
		var ne net.Error
		switch {
		case ctx.Err() != nil && context.Cause(ctx) != errSDKTimeout:
			return nil, ctx.Err() // the caller gave up
		case context.Cause(ctx) == errSDKTimeout || errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
			// The overall time is up, or the ACS did not answer this CReq in time.
			return nil, c.sendErro(emv.CodeTimeout, "no CRes within the SDK's time", emv.TypeCRes)
		}
		return nil, &RuntimeError{Reason: "the ACS could not be reached", Err: err}
	}
	text := strings.TrimSpace(string(body))
	if strings.Count(text, ".") != 4 {
		// Not a JWE: an ACS that cannot read a CReq answers with a plain Erro.
		if m, err := emv.ParseAs([]byte(text), emv.TypeErro, nil); err == nil {
			e := m.(*emv.Erro)
			return nil, &ProtocolError{Code: e.ErrorCode, Component: e.ErrorComponent, Description: e.ErrorDescription, Detail: e.ErrorDetail}
		}
		return nil, c.sendErro(emv.CodeDecryptionFailure, "the CRes is not a JWE", emv.TypeCRes)
	}
	data, _, err := c.sess.Open(sdkcrypto.ACSToSDK, text)
	if err != nil {
		return nil, c.sendErro(emv.CodeDecryptionFailure, "the CRes does not decrypt", emv.TypeCRes)
	}
	areq := &emv.AReq{MessageType: emv.TypeAReq, MessageVersion: c.cfg.MessageVersion, DeviceChannel: emv.ChannelApp,
		MessageCategory: emv.CategoryPayment}
	if c.p.DecoupledFallback {
		// F or B, which the back end knows and the SDK need not: either admits a final CRes D.
		areq.ThreeDSRequestorDecReqInd = "F"
	}
	m, err := emv.ParseAs(data, emv.TypeCRes, &emv.Context{AReq: areq})
	if err != nil {
		e := emv.AsError(err)
		return nil, c.sendErro(e.Code, e.Detail, emv.TypeCRes)
	}
	cres := m.(*emv.CRes)
	switch {
	case cres.ThreeDSServerTransID != c.p.ThreeDSServerTransID:
		return nil, c.sendErro(emv.CodeTransIDNotRecognised, "threeDSServerTransID", emv.TypeCRes)
	case cres.ACSTransID != c.p.ACSTransID:
		return nil, c.sendErro(emv.CodeTransIDNotRecognised, "acsTransID", emv.TypeCRes)
	case cres.SDKTransID != c.sdkTransID:
		return nil, c.sendErro(emv.CodeTransIDNotRecognised, "sdkTransID", emv.TypeCRes)
	case cres.ACSCounterAtoS != creq.SDKCounterStoA:
		// A CRes must answer the CReq just sent; any other is a replay or a lost message.
		return nil, c.sendErro(emv.CodeDecryptionFailure, "acsCounterAtoS", emv.TypeCRes)
	}
	return cres, nil
}

// post sends one body to the ACS and reads the answer, bounded by the per-request timeout.
func (c *challenge) post(ctx context.Context, contentType string, body []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := c.cfg.Client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK && len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("the ACS answered HTTP %d", resp.StatusCode)
	}
	return data, nil
}

// sendErro tells the ACS why the SDK ends the challenge, as a plain-JSON Erro to acsURL, and returns
// the same error for DoChallenge. Its delivery is best effort: the challenge ends either way.
func (c *challenge) sendErro(code emv.Code, detail, about string) error {
	e := &emv.Erro{MessageType: emv.TypeErro, MessageVersion: c.cfg.MessageVersion, ErrorCode: fmt.Sprintf("%03d", int(code)),
		ErrorComponent: string(emv.ComponentSDK), ErrorDescription: code.Description(), ErrorDetail: detail,
		ErrorMessageType: about, ThreeDSServerTransID: c.p.ThreeDSServerTransID, ACSTransID: c.p.ACSTransID, SDKTransID: c.sdkTransID}
	if data, err := emv.Marshal(e); err == nil {
		// The challenge's own context may be over (a timeout); the Erro gets the request timeout of its own.
		c.post(context.Background(), "application/json; charset=utf-8", data)
	}
	return &ProtocolError{Sent: true, Code: e.ErrorCode, Component: e.ErrorComponent, Description: e.ErrorDescription, Detail: detail}
}

// screenOf turns a CRes into the screen the UI shows.
func screenOf(r *emv.CRes, interaction int) Screen {
	s := Screen{UIType: r.ACSUiType, Interaction: interaction, Header: r.ChallengeInfoHeader, Label: r.ChallengeInfoLabel,
		Text: r.ChallengeInfoText, TextIndicator: r.ChallengeInfoTextIndicator == "Y", AddInfo: r.ChallengeAddInfo,
		SubmitLabel: r.SubmitAuthenticationLabel, ResendLabel: r.ResendInformationLabel, WhyLabel: r.WhyInfoLabel,
		WhyText: r.WhyInfoText, ExpandLabel: r.ExpandInfoLabel, ExpandText: r.ExpandInfoText,
		OOBContinueLabel: r.OOBContinueLabel, OOBAppURL: r.OOBAppURL, OOBAppLabel: r.OOBAppLabel}
	for _, m := range r.ChallengeSelectInfo {
		// Each entry is a one-key object; sorting is not needed, as there is one key.
		for k, v := range m {
			s.Options = append(s.Options, Option{Key: k, Label: v})
		}
	}
	if r.ACSHTML != "" {
		if html, err := emv.DecodeBase64Lenient(r.ACSHTML); err == nil {
			s.HTML = string(html)
		}
	}
	if i := r.IssuerImage; i != nil {
		s.IssuerImage = Image{Medium: i.Medium, High: i.High, ExtraHigh: i.ExtraHigh}
	}
	if i := r.PSImage; i != nil {
		s.PSImage = Image{Medium: i.Medium, High: i.High, ExtraHigh: i.ExtraHigh}
	}
	return s
}

// loopbackHTTP reports whether u is plain HTTP to this machine.
func loopbackHTTP(u *url.URL) bool {
	if u.Scheme != "http" {
		return false
	}
	if u.Hostname() == "localhost" {
		return true
	}
	ip := net.ParseIP(u.Hostname())
	return ip != nil && ip.IsLoopback()
}
