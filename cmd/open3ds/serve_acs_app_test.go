package main

import (
	"crypto/ecdh"
	"crypto/rand"
	"encoding/json"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/authvalue"
	"github.com/open3ds/open3ds/internal/pki"
	"github.com/open3ds/open3ds/internal/sdkcrypto"
)

// TestServeACSSignsTheAppChallengeWithItsConfiguredKey: `serve acs` given acs_signing and app_url
// answers an app AReq that needs a challenge with C and acsSignedContent that verifies against the
// scheme CA and names the app URL.
func TestServeACSSignsTheAppChallengeWithItsConfiguredKey(t *testing.T) {
	av, _ := authvalue.NewRandomSpec()
	c, l := newServeACSCLI(t, map[string]string{"OPEN3DS_ACS_APP_URL": "https://acs.example/app", "OPEN3DS_ACS_AUTHVALUE_KEYS_BANK_A": av})
	c.environ["OPEN3DS_ACS_SIGNING_CERT"], c.environ["OPEN3DS_ACS_SIGNING_KEY"] = l.ACSSigning.Cert, l.ACSSigning.Key
	c.must("enrol", "issuer", "add", "--id", "bank-a", "--name", "Bank A", "--ranges", "400000-400000")
	if _, _, err := c.run("4000001234567899\n", "enrol", "cardholder", "add", "--issuer", "bank-a", "--pan", "-",
		"--mobiles", "+447700900123", "--app-ui", "01"); err != nil {
		t.Fatal(err)
	}
	srv := startServeACS(t, c)

	sdkKey, _ := ecdh.P256().GenerateKey(rand.Reader)
	res := postAReq(t, l, srv.protocol, "2.2.0/areq-app-pa.json", map[string]any{"acctNumber": "4000001234567899", "purchaseAmount": "250000",
		"sdkEphemPubKey": sdkcrypto.PublicJWK(sdkKey.PublicKey()), "dsTransID": "d2b3d9c9-22e8-49c1-965f-257e4c61034a"})
	if res.TransStatus != "C" || res.ACSRenderingType == nil || res.ACSRenderingType.ACSUiTemplate != "01" {
		t.Fatalf("ARes %s %s %+v, want C with the cardholder's code screen", res.TransStatus, res.TransStatusReason, res.ACSRenderingType)
	}
	pool, err := pki.LoadPool(l.CA.Cert)
	if err != nil {
		t.Fatal(err)
	}
	payload, _, err := sdkcrypto.VerifyJWS(res.ACSSignedContent, pool, time.Now())
	if err != nil {
		t.Fatalf("acsSignedContent: %v", err)
	}
	var content struct{ ACSURL string }
	json.Unmarshal(payload, &content)
	if content.ACSURL != "https://acs.example/app" {
		t.Errorf("acsURL %q", content.ACSURL)
	}
}
