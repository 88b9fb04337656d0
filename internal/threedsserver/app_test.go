package threedsserver_test

import (
	"context"
	"crypto"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/pki"
	"github.com/open3ds/open3ds/internal/sdkcrypto"
	"github.com/open3ds/open3ds/internal/store/storetest"
	"github.com/open3ds/open3ds/internal/threedsserver"
)

// testDSID is the DS id pki.Init gives the test scheme, which the EC sdkEncData's key derivation uses.
const testDSID = pki.DefaultDSID

// appSDK is what a 3DS SDK makes at createTransaction: an ephemeral key and the parameters it
// hands to the app, with sdkEncData really encrypted to the test scheme's DS key (RSA or EC), so
// that a DS that decrypts it finds the device data.
type appSDK struct {
	key    *ecdh.PrivateKey
	params map[string]any
	device []byte
}

func newAppSDK(tb testing.TB, ecKey bool) appSDK {
	tb.Helper()
	caPool(tb)
	files := pki.Paths(pkiDir).DSEncryptionRSA
	if ecKey {
		files = pki.Paths(pkiDir).DSEncryptionEC
	}
	pair, err := pki.LoadKeyPair(files.Cert, files.Key)
	must(tb, err)
	device := []byte(`{"DV":"1.7","DD":{"C001":"Android","C002":"Pixel 8","C005":"fr-FR"},"DPNA":{},"SW":[]}`)
	enc, err := sdkcrypto.EncryptSDKEncData(device, pair.Leaf.PublicKey, "", testDSID, sdkcrypto.EncA128CBCHS256, "")
	must(tb, err)
	key, err := ecdh.P256().GenerateKey(rand.Reader)
	must(tb, err)
	return appSDK{key: key, device: device, params: map[string]any{
		"sdkAppID": "4a2f1c5e-7b1d-4c39-9e0f-2d6a8b3c1e57", "sdkTransID": "b7c6d5e4-f3a2-4b1c-8d9e-0f1a2b3c4d5e",
		"sdkEncData": enc, "sdkEphemPubKey": sdkcrypto.PublicJWK(key.PublicKey()), "sdkMaxTimeout": "05",
		"sdkReferenceNumber":  "3DS_LOA_SDK_OPEN_020100_00001",
		"deviceRenderOptions": map[string]any{"sdkInterface": "03", "sdkUiType": []string{"01", "02", "03", "04", "05"}}}}
}

func appBody(pan string, sdk appSDK) map[string]any {
	return map[string]any{"channel": "app", "cardNumber": pan, "amount": "4999", "currency": "978", "sdk": sdk.params}
}

// signedContent is the test ACS's acsSignedContent: its URL and a fresh ephemeral key, with the SDK's
// key echoed, signed with the scheme's ACS content-signing certificate.
func signedContent(tb testing.TB, sdkKey json.RawMessage) string {
	files := pki.Paths(pkiDir).ACSSigning
	pair, err := pki.LoadKeyPair(files.Cert, files.Key)
	if err != nil {
		tb.Error(err) // the test ACS runs in a server goroutine: no Fatal here
		return ""
	}
	eph, _ := ecdh.P256().GenerateKey(rand.Reader)
	payload, _ := json.Marshal(map[string]any{"acsURL": "https://acs.example/app", "acsEphemPubKey": sdkcrypto.PublicJWK(eph.PublicKey()),
		"sdkEphemPubKey": sdkKey})
	jws, err := sdkcrypto.SignJWS(payload, pair.PrivateKey.(crypto.Signer), []*x509.Certificate{pair.Leaf})
	if err != nil {
		tb.Error(err)
	}
	return jws
}

func TestAnAppPurchaseIsSentAtOnceAndAFrictionlessYIsFinal(t *testing.T) {
	n := newNetwork(t)
	sdk := newAppSDK(t, false)
	var res threedsserver.Result
	if code := n.call(t, "POST", "/v1/authentications", appBody(panFrictionless, sdk), &res); code != http.StatusCreated {
		t.Fatalf("app start: HTTP %d %+v", code, res)
	}
	if res.Channel != "app" || res.TransStatus != "Y" || !res.Final || res.ECI != "05" || res.AuthenticationValue == "" ||
		res.SDKTransID != sdk.params["sdkTransID"] || res.DSTransID == "" || res.ACSTransID == "" || res.AppChallenge != nil {
		t.Fatalf("app start answered %+v; want a final app Y with the ids and no challenge", res)
	}
	n.mu.Lock()
	areq := n.lastReq
	n.mu.Unlock()
	if areq.DeviceChannel != emv.ChannelApp || areq.ThreeDSCompInd != "" || areq.NotificationURL != "" || areq.BrowserUserAgent != "" ||
		areq.SDKAppID != sdk.params["sdkAppID"] || areq.SDKMaxTimeout != "05" || areq.SDKReferenceNumber != "3DS_LOA_SDK_OPEN_020100_00001" ||
		areq.DeviceRenderOptions == nil || areq.DeviceRenderOptions.SDKInterface != "03" || areq.PurchaseAmount != "4999" {
		t.Fatalf("the ACS got %+v; want an app AReq with the SDK's parameters and no browser data", areq)
	}
	// What reached the ACS is the SDK's own: the key as it sent it, and the device data the DS opened
	// from sdkEncData with its key and passed on as deviceInfo (base64url, the default format); the
	// JWE itself is for the DS alone.
	if pub, err := sdkcrypto.ParseJWK(areq.SDKEphemPubKey); err != nil || !pub.Equal(sdk.key.PublicKey()) {
		t.Fatalf("sdkEphemPubKey reached the ACS as %s", areq.SDKEphemPubKey)
	}
	var info string
	if err := json.Unmarshal(areq.DeviceInfo, &info); err != nil || areq.SDKEncData != "" {
		t.Fatalf("the ACS got deviceInfo %s (%v) and sdkEncData %q; want the device data from the DS alone", areq.DeviceInfo, err, areq.SDKEncData)
	}
	if plain, err := base64.RawURLEncoding.DecodeString(info); err != nil || string(plain) != string(sdk.device) {
		t.Fatalf("deviceInfo reads %q (%v); want the SDK's device data %s", plain, err, sdk.device)
	}
	var got threedsserver.Result
	n.call(t, "GET", "/v1/authentications/"+res.ID, nil, &got)
	if got.Channel != "app" || got.SDKTransID != res.SDKTransID || got.TransStatus != "Y" || got.State != threedsserver.StateFrictionless {
		t.Fatalf("GET answered %+v", got)
	}
	// An app authentication is sent already; authenticate has nothing to send.
	if code := n.call(t, "POST", "/v1/authentications/"+res.ID+"/authenticate", authenticateBody(), nil); code != http.StatusConflict {
		t.Fatalf("authenticate on an app authentication answered %d; want 409", code)
	}
}

// appChallenge runs an app purchase that the test ACS challenges, checks what the SDK is given to
// start the challenge, and completes it by RReq through the DS.
func appChallenge(t *testing.T, n *network, ecKey bool) {
	sdk := newAppSDK(t, ecKey)
	var res threedsserver.Result
	if code := n.call(t, "POST", "/v1/authentications", appBody(panChallenge, sdk), &res); code != http.StatusCreated {
		t.Fatalf("app start: HTTP %d %+v", code, res)
	}
	c := res.AppChallenge
	if res.TransStatus != "C" || res.Final || res.Challenge != nil || c == nil || c.ThreeDSServerTransID != res.ID ||
		c.ACSTransID != res.ACSTransID || c.DSTransID != res.DSTransID || c.SDKTransID != sdk.params["sdkTransID"] ||
		c.ACSReferenceNumber != "ACS-REF" || c.ACSRenderingType.ACSInterface != "01" || c.ACSRenderingType.ACSUiTemplate != "01" {
		t.Fatalf("app start answered %+v (appChallenge %+v); want C with everything the SDK starts the challenge with", res, c)
	}
	payload, _, err := sdkcrypto.VerifyJWS(c.ACSSignedContent, caPool(t), time.Now())
	must(t, err)
	var content struct {
		ACSURL         string          `json:"acsURL"`
		SDKEphemPubKey json.RawMessage `json:"sdkEphemPubKey"`
	}
	must(t, json.Unmarshal(payload, &content))
	if pub, err := sdkcrypto.ParseJWK(content.SDKEphemPubKey); err != nil || !pub.Equal(sdk.key.PublicKey()) || content.ACSURL == "" {
		t.Fatalf("acsSignedContent holds %s; want the acsURL and the SDK's own key echoed", payload)
	}
	rreq := &emv.RReq{MessageType: emv.TypeRReq, MessageVersion: res.MessageVersion, ThreeDSServerTransID: res.ID,
		ACSTransID: res.ACSTransID, DSTransID: res.DSTransID, SDKTransID: res.SDKTransID, MessageCategory: "01", TransStatus: "Y",
		AuthenticationType: "02", AuthenticationValue: "rmnQPKCl8XaSeYOGgHda6HFbyYg=", ECI: "05", InteractionCounter: "01",
		ACSRenderingType: &emv.ACSRenderingType{ACSInterface: "01", ACSUiTemplate: "01"}}
	if r, ok := n.postDS(t, rreq).(*emv.RRes); !ok || r.ResultsStatus != "01" || r.SDKTransID != res.SDKTransID {
		t.Fatalf("RReq got %#v; want RRes 01 with the sdkTransID", r)
	}
	var got threedsserver.Result
	n.call(t, "GET", "/v1/authentications/"+res.ID, nil, &got)
	if got.State != threedsserver.StateFinal || got.TransStatus != "Y" || got.ECI != "05" || got.Channel != "app" || !got.Final {
		t.Fatalf("GET after the RReq answered %+v; want the RReq's result", got)
	}
	tx, err := n.st.Transaction(context.Background(), res.ID)
	must(t, err)
	if tx.DeviceChannel != emv.ChannelApp || tx.SDKTransID != res.SDKTransID || tx.PANSealed != "" {
		t.Fatalf("stored %+v; want an app transaction with its sdkTransID and no PAN", tx)
	}
}

func TestAnAppChallengeGivesTheSDKTheACSsSignedContentAndTheRReqSetsTheResult(t *testing.T) {
	appChallenge(t, newNetwork(t), false)
}

func TestAnAppChallengeAndItsRReqRunOnPostgreSQLToo(t *testing.T) {
	appChallenge(t, newNetwork(t, storetest.OpenPostgres), true)
}

func TestAnAppRReqForAnotherSDKTransactionGetsErro301(t *testing.T) {
	n := newNetwork(t)
	var res threedsserver.Result
	n.call(t, "POST", "/v1/authentications", appBody(panChallenge, newAppSDK(t, true)), &res)
	if res.TransStatus != "C" {
		t.Fatalf("app start answered %+v", res)
	}
	rreq := &emv.RReq{MessageType: emv.TypeRReq, MessageVersion: res.MessageVersion, ThreeDSServerTransID: res.ID,
		ACSTransID: res.ACSTransID, DSTransID: res.DSTransID, SDKTransID: "0e1d2c3b-4a59-4687-9a0b-1c2d3e4f5a6b",
		MessageCategory: "01", TransStatus: "N", TransStatusReason: "01", InteractionCounter: "01",
		ACSRenderingType: &emv.ACSRenderingType{ACSInterface: "01", ACSUiTemplate: "01"}}
	if e, ok := n.postDS(t, rreq).(*emv.Erro); !ok || e.ErrorCode != "301" || e.ErrorDetail != "sdkTransID" {
		t.Fatalf("RReq got %#v; want Erro 301 naming sdkTransID", e)
	}
}

func TestABadAppAuthenticationIsRefusedNamingEachField(t *testing.T) {
	n := newNetwork(t)
	sdk := newAppSDK(t, false)
	for _, tc := range []struct {
		name  string
		edit  func(body, params map[string]any)
		field string
	}{
		{"an app request without the SDK's parameters", func(b, p map[string]any) { delete(b, "sdk") }, "sdk"},
		{"sdkEncData that is no JWE", func(b, p map[string]any) { p["sdkEncData"] = "not-a-jwe" }, "sdk.sdkEncData"},
		{"an sdkEphemPubKey off the curve", func(b, p map[string]any) {
			p["sdkEphemPubKey"] = map[string]string{"kty": "EC", "crv": "P-256", "x": "AQ", "y": "Ag"}
		}, "sdk.sdkEphemPubKey"},
		{"an sdkTransID that is no UUID", func(b, p map[string]any) { p["sdkTransID"] = "12345" }, "sdk.sdkTransID"},
		{"an sdkMaxTimeout under five minutes", func(b, p map[string]any) { p["sdkMaxTimeout"] = "04" }, "sdk.sdkMaxTimeout"},
		{"no UI types", func(b, p map[string]any) {
			p["deviceRenderOptions"] = map[string]any{"sdkInterface": "01", "sdkUiType": []string{}}
		}, "sdk.deviceRenderOptions.sdkUiType"},
		{"a missing amount", func(b, p map[string]any) { delete(b, "amount") }, "amount"},
		{"an unknown channel", func(b, p map[string]any) { b["channel"] = "tv" }, "channel"},
		{"a browser start carrying SDK parameters", func(b, p map[string]any) { b["channel"] = "browser" }, "sdk"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			params := map[string]any{}
			for k, v := range sdk.params {
				params[k] = v
			}
			body := appBody(panFrictionless, appSDK{params: params})
			tc.edit(body, params)
			var p struct {
				Errors []struct{ Field string } `json:"errors"`
			}
			code := n.call(t, "POST", "/v1/authentications", body, &p)
			var fields []string
			for _, e := range p.Errors {
				fields = append(fields, e.Field)
			}
			if code != http.StatusUnprocessableEntity || !strings.Contains(","+strings.Join(fields, ",")+",", ","+tc.field+",") {
				t.Fatalf("answered %d naming %v; want 422 naming %s", code, fields, tc.field)
			}
		})
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.lastReq != nil {
		t.Fatal("a refused app authentication still sent an AReq")
	}
}
