package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
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
// would. The demo's DS, ACS and 3DS Server take it from there, and the purchase ends Y by RReq, with
// each of the README's app cards: the code (01), the channel choice (02), both channels ticked (03),
// the bank's app (04, approved from its link) and the bank's HTML pages (05).
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
		{"EC key (dir), A128CBC-HS256, tick both channels", l.DSEncryptionEC.Cert, "A128CBC-HS256", "dir", "4000010000005000"},
		{"RSA key, A128GCM, approve in the bank's app", l.DSEncryptionRSA.Cert, "A128GCM", "", "4000010000006008"},
		{"RSA key, A128CBC-HS256, the bank's HTML pages", l.DSEncryptionRSA.Cert, "A128CBC-HS256", "", "4000010000007006"},
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
					"deviceRenderOptions": map[string]any{"sdkInterface": "03", "sdkUiType": []string{"01", "02", "03", "04", "05"}}}}, &res)
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

			before := d.outboxCount(t)
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
			// The cardholder answers each screen as the card's README row says, until the final CRes.
			for step := 0; cres["challengeCompletionInd"] != "Y" && step < 6; step++ {
				options := optionKeys(t, cres)
				switch cres["acsUiType"] {
				case "01":
					cres = exchange(map[string]any{"challengeDataEntry": d.waitCode(t, before)})
				case "02":
					cres = exchange(map[string]any{"challengeDataEntry": options[0]})
				case "03":
					cres = exchange(map[string]any{"challengeDataEntry": strings.Join(options, ",")})
				case "04":
					link, _ := cres["oobAppURL"].(string)
					text, _ := cres["challengeInfoText"].(string)
					approveInBankApp(t, link, text)
					cres = exchange(map[string]any{"oobContinue": true})
				case "05":
					raw, _ := cres["acsHTML"].(string)
					html, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(raw, "="))
					if err != nil {
						t.Fatalf("acsHTML is not base64url: %v", err)
					}
					entry := bankPageAnswer(t, string(html), func() string { return d.waitCode(t, before) })
					cres = exchange(map[string]any{"challengeHTMLDataEntry": entry})
				default:
					t.Fatalf("an unexpected screen %v", cres)
				}
			}
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

// optionKeys are the keys of a select screen's challengeSelectInfo, in order.
func optionKeys(t *testing.T, cres map[string]any) []string {
	t.Helper()
	list, _ := cres["challengeSelectInfo"].([]any)
	var keys []string
	for _, o := range list {
		for k := range o.(map[string]any) {
			keys = append(keys, k)
		}
	}
	return keys
}

// outboxCount is how many codes the demo's development outbox holds now.
func (d *testDemo) outboxCount(tb testing.TB) int { return len(d.outbox(tb, "")) }

// waitCode waits for a code newer than the first n the outbox held and returns it.
func (d *testDemo) waitCode(tb testing.TB, n int) string {
	tb.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if msgs := d.outbox(tb, ""); len(msgs) > n {
			return msgs[0].Code
		}
	}
	tb.Fatal("no new code reached the outbox")
	return ""
}

// outbox reads the development outbox, newest first: every message, or dest's alone.
func (d *testDemo) outbox(tb testing.TB, dest string) []outboxMessage {
	tb.Helper()
	msgs, err := d.readOutbox(dest)
	if err != nil {
		tb.Fatal(err)
	}
	return msgs
}

// readOutbox is outbox for a goroutine of its own, which must not end the test.
func (d *testDemo) readOutbox(dest string) ([]outboxMessage, error) {
	u := d.net.urls.ACSAdmin + "/outbox/outbox.json"
	if dest != "" {
		u += "?" + url.Values{"to": {dest}}.Encode()
	}
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+d.net.secrets.ACSAdmin)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var box struct {
		Messages []outboxMessage `json:"messages"`
	}
	if err := json.NewDecoder(res.Body).Decode(&box); err != nil {
		return nil, fmt.Errorf("reading the outbox: %w", err)
	}
	return box.Messages, nil
}

// The bank's pages as the demo ACS draws them: the link into the bank's app in an OOB screen's text,
// and the destinations of the HTML page that sends the code.
var (
	bankAppLink = regexp.MustCompile(`https?://\S+/bankapp/\S+`)
	bankDest    = regexp.MustCompile(`name="dest" value="([^"]+)"`)
)

// approveInBankApp approves in the bank's app, at oobAppURL or the link in the screen's text.
func approveInBankApp(tb testing.TB, oobAppURL, text string) {
	tb.Helper()
	link := oobAppURL
	if link == "" {
		link = bankAppLink.FindString(text)
	}
	if link == "" {
		tb.Fatalf("the bank-app screen gives no link: %q", text)
	}
	res, err := http.PostForm(link, url.Values{"answer": {"approve"}})
	if err != nil {
		tb.Fatalf("approving in the bank's app at %q: %v", link, err)
	}
	res.Body.Close()
}

// bankPageAnswer is what the bank's HTML page submits: its first destination on the first page, then
// the code, which code gives.
func bankPageAnswer(tb testing.TB, html string, code func() string) string {
	tb.Helper()
	if strings.Contains(html, `name="code"`) {
		return url.Values{"code": {code()}, "action": {"submit"}}.Encode()
	}
	dest := bankDest.FindStringSubmatch(html)
	if dest == nil {
		tb.Fatalf("the bank's HTML page offers no destination:\n%s", html)
	}
	return url.Values{"dest": {dest[1]}, "action": {"send"}}.Encode()
}
