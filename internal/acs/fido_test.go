package acs_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/acs"
	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/risk"
)

// fidoAssertion is the WebAuthn assertion a browser hands the merchant's page after a FIDO login
// with user verification on www.shop.example.com (the requestor of the sample AReqs).
func fidoAssertion() string {
	enc := base64.RawURLEncoding.EncodeToString
	auth := make([]byte, 37)
	auth[32] = 0x05 // user present, user verified
	cd, _ := json.Marshal(map[string]string{"type": "webauthn.get", "challenge": enc([]byte("login-nonce-5521")),
		"origin": "https://www.shop.example.com"})
	cred, _ := json.Marshal(map[string]any{"id": "cred-9", "type": "public-key", "response": map[string]string{
		"clientDataJSON": enc(cd), "authenticatorData": enc(auth), "signature": enc([]byte("3045-signature")),
	}})
	return string(cred)
}

// TestAFIDOLoginMakesAPurchaseFrictionless: with the default risk policy, a 2.3.1 purchase of
// 2500.00 on a device the ACS has never seen is challenged; the same purchase whose requestor
// logged the cardholder in with FIDO and user verification three minutes before is frictionless,
// and the transaction keeps the reason.
func TestAFIDOLoginMakesAPurchaseFrictionless(t *testing.T) {
	e := newACS(t)
	e.svc.Risk = acs.Risk(risk.DefaultSet())
	now := time.Now().UTC().Truncate(time.Minute).Add(20 * time.Second)
	e.svc.Now = func() time.Time { return now }

	decide := func(transID string, set map[string]any) (*emv.ARes, []string) {
		t.Helper()
		set["acctNumber"], set["threeDSServerTransID"], set["purchaseAmount"] = panEnrolled, transID, "250000"
		ares, ok := post(t, e.ds, e.url, areq(t, "2.3.1", "areq-browser-pa", set)).(*emv.ARes)
		if !ok {
			t.Fatal("no ARes")
		}
		tx, err := e.store.Transaction(t.Context(), ares.ACSTransID)
		if err != nil {
			t.Fatal(err)
		}
		return ares, tx.Reasons
	}

	plain, reasons := decide("5d0c3b8e-4f1a-4c2d-9e7b-1a2b3c4d5e6f", map[string]any{})
	if plain.TransStatus != "C" {
		t.Fatalf("without a FIDO login: transStatus %s, reasons %q; want a challenge", plain.TransStatus, reasons)
	}
	login := []any{map[string]any{"threeDSReqAuthMethod": "06",
		"threeDSReqAuthTimestamp": now.Add(-3 * time.Minute).Format("200601021504"), "threeDSReqAuthData": fidoAssertion()}}
	fido, reasons := decide("6e1d4c9f-5a2b-4d3e-8f8c-2b3c4d5e6f70", map[string]any{"threeDSRequestorAuthenticationInfo": login})
	if fido.TransStatus != "Y" {
		t.Fatalf("with a FIDO login: transStatus %s, reasons %q; want frictionless Y", fido.TransStatus, reasons)
	}
	const want = "fido_login: FIDO login with user verification 3 minutes before"
	if !strings.Contains(strings.Join(reasons, "; "), want) {
		t.Errorf("stored reasons %q lack %q", reasons, want)
	}

	// The admin API shows the decision and its reasons, and nothing of the card but its mask.
	var view acs.TransactionView
	if st := call(t, "GET", e.admin+"/v1/transactions/"+fido.ACSTransID, adminToken, nil, &view); st != 200 {
		t.Fatalf("GET transaction: status %d", st)
	}
	if view.LiveDecision != "frictionless" || view.TransStatus != "Y" || !strings.Contains(strings.Join(view.Reasons, "; "), want) ||
		strings.Contains(view.MaskedPAN, panEnrolled) || view.MaskedPAN == "" {
		t.Errorf("admin view %+v: want frictionless Y with the FIDO reason and a masked PAN", view)
	}
	if st := call(t, "GET", e.admin+"/v1/transactions/"+plain.ACSTransID, "", nil, nil); st != 401 {
		t.Errorf("GET transaction without the token: status %d, want 401", st)
	}
	if st := call(t, "GET", e.admin+"/v1/transactions/0d6f0a3e-0000-4000-8000-000000000000", adminToken, nil, nil); st != 404 {
		t.Errorf("GET an unknown transaction: status %d, want 404", st)
	}

	// The same login whose data is not a WebAuthn assertion is refused, naming the element.
	bad := []any{map[string]any{"threeDSReqAuthMethod": "06",
		"threeDSReqAuthTimestamp": now.Add(-3 * time.Minute).Format("200601021504"), "threeDSReqAuthData": "fido-ok"}}
	body := areq(t, "2.3.1", "areq-browser-pa", map[string]any{"acctNumber": panEnrolled,
		"threeDSServerTransID": "7f2e5d0a-6b3c-4e4f-9a9d-3c4d5e6f7081", "threeDSRequestorAuthenticationInfo": bad})
	erro, ok := post(t, e.ds, e.url, body).(*emv.Erro)
	if !ok || erro.ErrorCode != "203" || erro.ErrorDetail != "threeDSRequestorAuthenticationInfo.threeDSReqAuthData" {
		t.Errorf("a FIDO login with opaque data: got %+v, want Erro 203 naming threeDSReqAuthData", erro)
	}
}
