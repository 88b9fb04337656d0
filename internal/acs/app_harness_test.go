package acs_test

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/acs"
	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/pki"
	"github.com/open3ds/open3ds/internal/sdkcrypto"
	"github.com/open3ds/open3ds/internal/sdkcrypto/josepeer"
	"github.com/open3ds/open3ds/internal/store"
)

const sdkRef = "3DS_LOA_SDK_OPNS_020200_00003"

// newAppShop is a shop whose ACS also challenges apps: the content-signing key of the test PKI and
// the app endpoint on the shop's listener.
func newAppShop(tb testing.TB, open func(testing.TB) *store.DB) *shop {
	tb.Helper()
	s := newShopOn(tb, open)
	l := testPKI(tb)
	signing, err := acs.LoadAppSigning(l.ACSSigning.Cert, l.ACSSigning.Key)
	if err != nil {
		tb.Fatal(err)
	}
	s.e.svc.AppURL, s.e.svc.AppSigning = s.url+"/app", signing
	return s
}

// setAppUI configures the enrolled card's app screen.
func (s *shop) setAppUI(tb testing.TB, ui string) {
	tb.Helper()
	s.setAppUIOf(tb, panEnrolled, ui)
}

// setAppUIOf configures the app screen of the card pan.
func (s *shop) setAppUIOf(tb testing.TB, pan, ui string) {
	tb.Helper()
	ctx := context.Background()
	ch, err := s.e.store.CardholderByPAN(ctx, pan)
	if err != nil {
		tb.Fatal(err)
	}
	ch.AppUI = ui
	if err := s.e.store.UpdateCardholder(ctx, ch); err != nil {
		tb.Fatal(err)
	}
}

// appSDK plays the 3DS SDK of one app transaction: either with sdkcrypto, or with the independent
// npm jose peer (jose true), which shares no code with the ACS.
type appSDK struct {
	s    *shop
	jose bool
	enc  string
	// The SDK's ephemeral key: Go's, or the peer's as a private JWK.
	priv     *ecdh.PrivateKey
	josePriv map[string]string
	pub      json.RawMessage
	acsPub   sdkcrypto.JWK
	sess     *sdkcrypto.Session
	acsURL   string
	res      *emv.ARes
	counter  int
	// decReqInd is the AReq's threeDSRequestorDecReqInd, which a final CRes D is checked against.
	decReqInd string
}

// startApp sends an app AReq that ends in C and checks the ARes's signed content like an SDK.
func (s *shop) startApp(tb testing.TB, jose bool, set map[string]any) *appSDK {
	tb.Helper()
	return s.startAppVersion(tb, jose, "2.2.0", set)
}

// startAppVersion is startApp with an AReq of another protocol version.
func (s *shop) startAppVersion(tb testing.TB, jose bool, version string, set map[string]any) *appSDK {
	tb.Helper()
	sdk := &appSDK{s: s, jose: jose, enc: sdkcrypto.EncA128CBCHS256}
	if jose {
		josepeer.Run(tb, "keygen", nil, &struct{ Priv *map[string]string }{&sdk.josePriv})
		sdk.pub, _ = json.Marshal(map[string]string{"kty": "EC", "crv": "P-256", "x": sdk.josePriv["x"], "y": sdk.josePriv["y"]})
	} else {
		sdk.priv, _ = ecdh.P256().GenerateKey(rand.Reader)
		sdk.pub, _ = json.Marshal(sdkcrypto.PublicJWK(sdk.priv.PublicKey()))
	}
	fields := map[string]any{"acctNumber": panEnrolled, "purchaseAmount": "250000", "sdkEphemPubKey": json.RawMessage(sdk.pub),
		"sdkReferenceNumber": sdkRef}
	if s.dsURL != "" {
		fields["dsURL"] = s.dsURL
	}
	for k, v := range set {
		fields[k] = v
	}
	sdk.decReqInd, _ = fields["threeDSRequestorDecReqInd"].(string)
	m := post(tb, s.e.ds, s.e.url, areq(tb, version, "areq-app-pa", fields))
	res, ok := m.(*emv.ARes)
	if !ok || res.TransStatus != "C" {
		tb.Fatalf("the app AReq was answered %+v, want transStatus C", m)
	}
	sdk.res = res
	if res.ACSURL != "" || res.ACSRenderingType == nil || res.ACSSignedContent == "" {
		tb.Fatalf("app ARes: acsURL %q, rendering %+v, signed content %d chars", res.ACSURL, res.ACSRenderingType, len(res.ACSSignedContent))
	}
	var payload []byte
	if jose {
		ca, _ := os.ReadFile(testPKI(tb).CA.Cert)
		var v struct{ Payload string }
		josepeer.Run(tb, "verify-jws", map[string]string{"jws": res.ACSSignedContent, "ca": string(ca)}, &v)
		payload = []byte(v.Payload)
	} else {
		roots, err := pki.LoadPool(testPKI(tb).CA.Cert)
		if err != nil {
			tb.Fatal(err)
		}
		if payload, _, err = sdkcrypto.VerifyJWS(res.ACSSignedContent, roots, time.Now()); err != nil {
			tb.Fatalf("acsSignedContent does not verify against the scheme CA: %v", err)
		}
	}
	var content struct {
		ACSURL         string          `json:"acsURL"`
		ACSEphemPubKey sdkcrypto.JWK   `json:"acsEphemPubKey"`
		SDKEphemPubKey json.RawMessage `json:"sdkEphemPubKey"`
	}
	if err := json.Unmarshal(payload, &content); err != nil {
		tb.Fatal(err)
	}
	if content.ACSURL != s.url+"/app" || !bytes.Equal(compact(tb, content.SDKEphemPubKey), compact(tb, sdk.pub)) {
		tb.Fatalf("signed content: acsURL %q, sdkEphemPubKey %s (sent %s)", content.ACSURL, content.SDKEphemPubKey, sdk.pub)
	}
	sdk.acsPub, sdk.acsURL = content.ACSEphemPubKey, content.ACSURL
	if !jose {
		acsPub, err := content.ACSEphemPubKey.Public()
		if err != nil {
			tb.Fatal(err)
		}
		if sdk.sess, err = sdkcrypto.DeriveSession(sdk.priv, acsPub, sdkRef); err != nil {
			tb.Fatal(err)
		}
	}
	return sdk
}

func compact(tb testing.TB, raw []byte) []byte {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// creq is the plaintext of the next CReq with fields added (nil deletes one).
func (sdk *appSDK) creq(fields map[string]any) []byte {
	m := map[string]any{"messageType": "CReq", "messageVersion": sdk.res.MessageVersion, "threeDSServerTransID": sdk.res.ThreeDSServerTransID,
		"acsTransID": sdk.res.ACSTransID, "sdkTransID": sdk.res.SDKTransID, "sdkCounterStoA": counterOf(sdk.counter)}
	for k, v := range fields {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	b, _ := json.Marshal(m)
	return b
}

func counterOf(n int) string {
	return string([]byte{byte('0' + n/100%10), byte('0' + n/10%10), byte('0' + n%10)})
}

// seal encrypts a CReq plaintext as the SDK does.
func (sdk *appSDK) seal(tb testing.TB, pt []byte) string {
	tb.Helper()
	if sdk.jose {
		var out struct{ JWE string }
		josepeer.Run(tb, "seal", map[string]any{"priv": sdk.josePriv, "peer": sdk.acsPub, "sdkRef": sdkRef, "dir": "StoA",
			"enc": sdk.enc, "kid": sdk.res.ACSTransID, "plaintext": string(pt)}, &out)
		return out.JWE
	}
	jwe, err := sdk.sess.Seal(sdkcrypto.SDKToACS, sdk.enc, sdk.res.ACSTransID, byte(sdk.counter), pt)
	if err != nil {
		tb.Fatal(err)
	}
	return jwe
}

// send posts one CReq with fields and returns the CRes, or the Erro the ACS answered with.
func (sdk *appSDK) send(tb testing.TB, fields map[string]any) answer {
	tb.Helper()
	a := sdk.post(tb, sdk.seal(tb, sdk.creq(fields)))
	sdk.counter++
	return a
}

// answer is what the ACS answered a CReq with: a CRes or an Erro.
type answer struct {
	c *emv.CRes
	e *emv.Erro
}

// post sends a body to the acsURL as the SDK does and reads the answer: a JWE (5 parts) is a CRes,
// which must be valid and carry the counter of the CReq it answers; anything else an Erro.
func (sdk *appSDK) post(tb testing.TB, body string) answer {
	tb.Helper()
	resp, err := http.Post(sdk.acsURL, "application/jose; charset=UTF-8", strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("status %d: %s", resp.StatusCode, raw)
	}
	if strings.Count(string(raw), ".") != 4 {
		var e emv.Erro
		if err := json.Unmarshal(raw, &e); err != nil || e.MessageType != emv.TypeErro {
			tb.Fatalf("neither a JWE nor an Erro: %s", raw)
		}
		if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			tb.Errorf("Erro sent as %q", resp.Header.Get("Content-Type"))
		}
		return answer{e: &e}
	}
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/jose") {
		tb.Errorf("CRes sent as %q", resp.Header.Get("Content-Type"))
	}
	var pt []byte
	if sdk.jose {
		var out struct {
			Plaintext string
			Header    map[string]string
		}
		josepeer.Run(tb, "open", map[string]any{"priv": sdk.josePriv, "peer": sdk.acsPub, "sdkRef": sdkRef, "dir": "AtoS", "jwe": string(raw)}, &out)
		if out.Header["kid"] != sdk.res.ACSTransID || out.Header["enc"] != sdk.enc {
			tb.Errorf("CRes header %v", out.Header)
		}
		pt = []byte(out.Plaintext)
	} else {
		var h sdkcrypto.Header
		if pt, h, err = sdk.sess.Open(sdkcrypto.ACSToSDK, string(raw)); err != nil {
			tb.Fatalf("the CRes does not open: %v", err)
		}
		if h.Kid != sdk.res.ACSTransID || h.Enc != sdk.enc {
			tb.Errorf("CRes header %+v", h)
		}
	}
	m, err := emv.ParseAs(pt, emv.TypeCRes, &emv.Context{AReq: &emv.AReq{DeviceChannel: emv.ChannelApp, MessageCategory: "01",
		MessageVersion: sdk.res.MessageVersion, ThreeDSRequestorDecReqInd: sdk.decReqInd}})
	if err != nil {
		tb.Fatalf("not a valid CRes: %v\n%s", err, pt)
	}
	c := m.(*emv.CRes)
	if c.ACSCounterAtoS != counterOf(sdk.counter) || c.SDKTransID != sdk.res.SDKTransID {
		tb.Errorf("CRes acsCounterAtoS %s sdkTransID %s, want %s %s", c.ACSCounterAtoS, c.SDKTransID, counterOf(sdk.counter), sdk.res.SDKTransID)
	}
	return answer{c: c}
}

// rreq reads the RReq queued for the transaction.
func (sdk *appSDK) rreq(tb testing.TB) *emv.RReq {
	tb.Helper()
	row, err := sdk.s.e.store.Outbox(context.Background(), sdk.res.ACSTransID)
	if err != nil {
		tb.Fatalf("no RReq queued: %v", err)
	}
	r, err := emv.ParseAs(row.Body, emv.TypeRReq, nil)
	if err != nil {
		tb.Fatalf("outbox RReq invalid: %v", err)
	}
	return r.(*emv.RReq)
}

// noRReq checks that the transaction has not ended.
func (sdk *appSDK) noRReq(tb testing.TB) {
	tb.Helper()
	if _, err := sdk.s.e.store.Outbox(context.Background(), sdk.res.ACSTransID); err == nil {
		tb.Errorf("an RReq was queued for a transaction that should go on")
	}
}
