package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/ids"
	"github.com/open3ds/open3ds/internal/pki"
	"github.com/open3ds/open3ds/internal/sdkcrypto/josepeer"
)

// TestAnIndependentSDKBuysInTheAppThroughTheDemoNetwork is an app purchase whose SDK shares no code
// with open3ds: every cryptographic step on the SDK's side (sdkEncData to the DS's RSA or EC key, the
// check of acsSignedContent against the scheme CA, the session key and each CReq and CRes) is done
// by the npm jose package under Node; the test only carries the messages, as an app's networking
// would. The demo's DS, ACS and 3DS Server take it from there, and the purchase ends Y by RReq.
func TestAnIndependentSDKBuysInTheAppThroughTheDemoNetwork(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "open3ds-data")
	d := startTestDemo(t, dir, 0)
	l := d.net.paths.pki
	caPEM, err := os.ReadFile(l.CA.Cert)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, cert, enc, ecAlg, card string
	}{
		{"RSA key, A128CBC-HS256, a code by SMS", l.DSEncryptionRSA.Cert, "A128CBC-HS256", "", "4000010000001009"},
		{"EC key (ECDH-ES), A128GCM, choose then the code", l.DSEncryptionEC.Cert, "A128GCM", "ECDH-ES", "4000010000003005"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dsCert, err := os.ReadFile(tc.cert)
			if err != nil {
				t.Fatal(err)
			}
			sdkTransID := ids.New()
			device := fmt.Sprintf(`{"DV":"1.7","DD":{"C001":"Android","C002":"Pixel 8","C004":"14","C018":%q},"DPNA":{},"SW":[]}`, sdkTransID)
			var enc struct{ JWE string }
			josepeer.Run(t, "sdkenc", map[string]string{"dsCert": string(dsCert), "dsID": pki.DefaultDSID, "enc": tc.enc,
				"plaintext": device, "ecAlg": tc.ecAlg}, &enc)
			var key struct{ Priv map[string]string }
			josepeer.Run(t, "keygen", nil, &key)
			pub := map[string]string{"kty": "EC", "crv": "P-256", "x": key.Priv["x"], "y": key.Priv["y"]}
			const sdkRef = "3DS_LOA_SDK_JOSE_NODE_000001"
			var res struct {
				ID           string
				TransStatus  string
				AppChallenge *struct {
					ThreeDSServerTransID, ACSTransID, ACSSignedContent string
				}
			}
			code := d.api("POST", "/v1/authentications", map[string]any{"channel": "app", "cardNumber": tc.card, "amount": "8900",
				"currency": "978", "sdk": map[string]any{"sdkAppID": ids.New(), "sdkTransID": sdkTransID, "sdkEncData": enc.JWE,
					"sdkEphemPubKey": pub, "sdkMaxTimeout": "05", "sdkReferenceNumber": sdkRef, "messageVersion": "2.2.0",
					"deviceRenderOptions": map[string]any{"sdkInterface": "01", "sdkUiType": []string{"01", "02"}}}}, &res)
			if code != http.StatusCreated || res.TransStatus != "C" || res.AppChallenge == nil {
				t.Fatalf("the app authentication answered %d %+v; want C with the challenge", code, res)
			}
			c := res.AppChallenge

			// The SDK trusts the ACS only through the scheme CA.
			var signed struct{ Payload string }
			josepeer.Run(t, "verify-jws", map[string]string{"jws": c.ACSSignedContent, "ca": string(caPEM)}, &signed)
			var content struct {
				ACSURL         string            `json:"acsURL"`
				ACSEphemPubKey map[string]string `json:"acsEphemPubKey"`
				SDKEphemPubKey map[string]string `json:"sdkEphemPubKey"`
			}
			if err := json.Unmarshal([]byte(signed.Payload), &content); err != nil || content.SDKEphemPubKey["x"] != pub["x"] {
				t.Fatalf("the signed content %s does not echo the SDK's key", signed.Payload)
			}

			before := d.outboxCount()
			counter := 0
			exchange := func(fields map[string]any) map[string]any {
				t.Helper()
				creq := map[string]any{"messageType": "CReq", "messageVersion": "2.2.0", "threeDSServerTransID": c.ThreeDSServerTransID,
					"acsTransID": c.ACSTransID, "sdkTransID": sdkTransID, "sdkCounterStoA": fmt.Sprintf("%03d", counter)}
				for k, v := range fields {
					creq[k] = v
				}
				plain, _ := json.Marshal(creq)
				var sealed struct{ JWE string }
				josepeer.Run(t, "seal", map[string]any{"priv": key.Priv, "peer": content.ACSEphemPubKey, "sdkRef": sdkRef,
					"dir": "StoA", "enc": tc.enc, "kid": c.ACSTransID, "plaintext": string(plain)}, &sealed)
				resp, err := http.Post(content.ACSURL, "application/jose; charset=UTF-8", bytes.NewReader([]byte(sealed.JWE)))
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/jose") {
					t.Fatalf("CReq %03d: HTTP %d %s %s", counter, resp.StatusCode, resp.Header.Get("Content-Type"), body)
				}
				var opened struct{ Plaintext string }
				josepeer.Run(t, "open", map[string]any{"priv": key.Priv, "peer": content.ACSEphemPubKey, "sdkRef": sdkRef,
					"dir": "AtoS", "jwe": string(body)}, &opened)
				var cres map[string]any
				if err := json.Unmarshal([]byte(opened.Plaintext), &cres); err != nil {
					t.Fatalf("CRes %s: %v", opened.Plaintext, err)
				}
				if cres["acsCounterAtoS"] != fmt.Sprintf("%03d", counter) || cres["sdkTransID"] != sdkTransID {
					t.Fatalf("CRes %v does not answer CReq %03d of this SDK transaction", cres, counter)
				}
				counter++
				return cres
			}
			cres := exchange(nil)
			if cres["acsUiType"] == "02" {
				options, _ := cres["challengeSelectInfo"].([]any)
				if len(options) == 0 {
					t.Fatalf("a choice screen without options: %v", cres)
				}
				var first string
				for k := range options[0].(map[string]any) {
					first = k
				}
				cres = exchange(map[string]any{"challengeDataEntry": first})
			}
			if cres["acsUiType"] != "01" {
				t.Fatalf("want the code screen, got %v", cres)
			}
			otp := d.waitCode(t, before)
			cres = exchange(map[string]any{"challengeDataEntry": otp})
			if cres["challengeCompletionInd"] != "Y" || cres["transStatus"] != "Y" {
				t.Fatalf("the final CRes %v; want Y", cres)
			}
			// The merchant acts on the RReq's word, which the 3DS Server holds.
			var got map[string]any
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
				d.api("GET", "/v1/authentications/"+res.ID, nil, &got)
				if got["final"] == true || time.Now().After(deadline) {
					break
				}
			}
			if got["transStatus"] != "Y" || got["eci"] != "05" || got["authenticationValue"] == nil {
				t.Errorf("the 3DS Server's result %v; want Y, ECI 05 and a value", got)
			}
		})
	}
}

// outboxCount is how many codes the demo's development outbox holds now.
func (d *testDemo) outboxCount() int { return len(d.outboxCodes()) }

// waitCode waits for a code newer than the first n the outbox held and returns it.
func (d *testDemo) waitCode(t *testing.T, n int) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if codes := d.outboxCodes(); len(codes) > n {
			return codes[0]
		}
	}
	t.Fatal("no new code reached the outbox")
	return ""
}

// outboxCodes reads the development outbox's codes, newest first.
func (d *testDemo) outboxCodes() []string {
	req, _ := http.NewRequest("GET", d.net.urls.ACSAdmin+"/outbox/outbox.json", nil)
	req.Header.Set("Authorization", "Bearer "+d.net.secrets.ACSAdmin)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		d.t.Fatal(err)
	}
	defer res.Body.Close()
	var box struct{ Messages []outboxMessage }
	json.NewDecoder(res.Body).Decode(&box)
	var out []string
	for _, m := range box.Messages {
		out = append(out, m.Code)
	}
	return out
}
