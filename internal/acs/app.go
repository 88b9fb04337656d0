package acs

import (
	"crypto"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/sdkcrypto"
)

// The challenge screens of the app channel (acsUiType, acsUiTemplate; PROTOCOL.md §2.1).
const (
	UICode   = "01" // text: the one-time code sent to the cardholder's preferred destination
	UISelect = "02" // single select: the cardholder chooses where the code goes, then enters it
	UIMulti  = "03" // multi select: the cardholder ticks every destination the code should go to
	UIOOB    = "04" // out of band: the cardholder approves in the issuer's app
	UIHTML   = "05" // HTML: the browser's steps as HTML the SDK shows
)

// AppSigning is the ACS's content-signing key and its chain (the signing certificate first), with
// which acsSignedContent is signed; the scheme's DS CA issued it (pki init's ACSSigning).
type AppSigning struct {
	Key   crypto.Signer
	Chain []*x509.Certificate
}

// appUI chooses the screen of an app challenge: the cardholder's configured one (Cardholder.AppUI)
// when the SDK can show it, else the first the SDK can show of choose-a-destination (02, when the
// cardholder has more than one), code (01), bank app (04) and HTML (05). The code screens need
// somewhere to send a code; the bank app needs nothing on file. An SDK that shows only HTML
// (sdkInterface 02) gets 05; one that shows only native screens never does. "" means the SDK can
// show none of ours, and there is no app challenge.
//
// Multi select (03) is only given to a cardholder configured for it: it lets them tick several
// destinations, and one code goes to each, then they enter it. We chose this over a knowledge
// question (which recent shops did you pay?) because the answer to such a question must be
// something the issuer knows and a fraudster does not, and this ACS holds no purchase history
// with shop names; a ticked destination still proves possession through the code.
func appUI(ch Cardholder, opts *emv.DeviceRenderOptions) (ui, iface string) {
	if opts == nil {
		return "", ""
	}
	native := opts.SDKInterface == "01" || opts.SDKInterface == "03"
	html := opts.SDKInterface == "02" || opts.SDKInterface == "03"
	dests := len(ch.Mobiles) + len(ch.Emails)
	can := func(ui string) bool {
		if !slices.Contains(opts.SDKUiType, ui) {
			return false
		}
		switch ui {
		case UICode, UISelect:
			return native && dests > 0
		case UIMulti:
			return native && dests > 1
		case UIOOB:
			return native
		case UIHTML:
			return html && dests > 0
		}
		return false
	}
	order := []string{ch.AppUI, UICode, UISelect, UIOOB, UIHTML}
	if ch.AppUI == "" && dests > 1 {
		// More than one destination: let the cardholder choose, as the browser pages do.
		order = []string{UISelect, UICode, UIOOB, UIHTML}
	}
	for _, ui := range order {
		if ui != "" && can(ui) {
			if ui == UIHTML {
				return ui, "02"
			}
			return ui, "01"
		}
	}
	return "", ""
}

// signedContent makes the ACS's ephemeral key for one app challenge, derives the session key with
// the SDK's key and sdkReferenceNumber (PROTOCOL.md §5.5), and signs acsSignedContent (§5.4). The
// ephemeral private key is dropped here: only the session key is kept, sealed.
func (s *Service) signedContent(a *emv.AReq) (jws string, session []byte, err error) {
	if s.AppSigning == nil {
		return "", nil, fmt.Errorf("acs: no content-signing key")
	}
	sdkPub, err := sdkcrypto.ParseJWK(a.SDKEphemPubKey)
	if err != nil {
		return "", nil, fmt.Errorf("acs: sdkEphemPubKey: %w", err)
	}
	eph, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return "", nil, err
	}
	sess, err := sdkcrypto.DeriveSession(eph, sdkPub, a.SDKReferenceNumber)
	if err != nil {
		return "", nil, err
	}
	payload, err := json.Marshal(struct {
		ACSURL         string          `json:"acsURL"`
		ACSEphemPubKey sdkcrypto.JWK   `json:"acsEphemPubKey"`
		SDKEphemPubKey json.RawMessage `json:"sdkEphemPubKey"`
	}{s.AppURL, sdkcrypto.PublicJWK(eph.PublicKey()), a.SDKEphemPubKey})
	if err != nil {
		return "", nil, err
	}
	jws, err = sdkcrypto.SignJWS(payload, s.AppSigning.Key, s.AppSigning.Chain)
	return jws, sess.Key(), err
}
