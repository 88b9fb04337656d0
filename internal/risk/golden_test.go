package risk_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/risk"
)

// TestGoldenAReqs scores the protocol package's valid sample AReqs of every version, as parsed
// off the wire, for a card the ACS knows well: all of them are ordinary and must pass
// frictionless, whatever their channel and version.
func TestGoldenAReqs(t *testing.T) {
	files, err := filepath.Glob("../emv/testdata/valid/*/areq-*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no sample AReqs found: %v", err)
	}
	for _, name := range files {
		t.Run(filepath.Base(filepath.Dir(name))+"/"+filepath.Base(name), func(t *testing.T) {
			data, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			m, err := emv.ParseAs(data, emv.TypeAReq, nil)
			if err != nil {
				t.Fatal(err)
			}
			in := risk.Input{AReq: m.(*emv.AReq), Now: now, Facts: risk.Facts{
				DeviceKnown: true, HasDeviceData: true, TxLastHour: 1, TxLastDay: 1,
				UsualAmountMax: 50000, BillingCountry: "250",
			}}
			live := evalDefault(t, in)
			checkResult(t, live)
			if live.Outcome != risk.Frictionless {
				t.Fatalf("got %s at %d: %+v", live.Outcome, live.Score, live.Reasons)
			}
		})
	}
}

// TestGoldenFIDOLogin scores the 2.3.1 marketplace AReq whose cardholder logged in with FIDO three
// minutes before the purchase, on a device the ACS has never seen: the login, the trust list, the
// bound device and the tax id outweigh the new device, each with its reason.
func TestGoldenFIDOLogin(t *testing.T) {
	data, err := os.ReadFile("../emv/testdata/valid/2.3.1/areq-browser-fido-pa.json")
	if err != nil {
		t.Fatal(err)
	}
	m, err := emv.ParseAs(data, emv.TypeAReq, nil)
	if err != nil {
		t.Fatal(err)
	}
	in := risk.Input{AReq: m.(*emv.AReq), Now: time.Date(2025, 3, 14, 10, 15, 30, 0, time.UTC), Facts: risk.Facts{
		HasDeviceData: true, TxLastHour: 1, TxLastDay: 1, UsualAmountMax: 50000, BillingCountry: "250",
	}}
	res := evalDefault(t, in)
	want := map[string]string{
		"new_device":          "new device",
		"established_account": "requestor account more than 60 days old",
		"fido_login":          "FIDO login with user verification 3 minutes before",
		"trust_list":          "merchant on the cardholder's trust list (reported by the 3DS Server)",
		"device_bound":        "device bound to the cardholder (status 11, reported by the 3DS Server)",
		"business_purchase":   "business purchase: the requestor gave the buyer's tax id",
	}
	for rule, text := range want {
		if r, ok := reason(res, rule); !ok || r.Text != text {
			t.Errorf("%s: got %+v (fired %v), want %q", rule, r, ok, text)
		}
	}
	if len(res.Reasons) != len(want) || res.Outcome != risk.Frictionless || res.Score != 0 {
		t.Fatalf("got %s at %d with %+v, want frictionless at 0 with exactly %d reasons", res.Outcome, res.Score, res.Reasons, len(want))
	}
}

func TestIssuerInheritsTheDefaultShadow(t *testing.T) {
	s := mustParse(t, `
default:
  shadow: {name: trial, extends: builtin, frictionless_below: 100}
issuers:
  bank-a:
    live: {name: a-live, extends: builtin}
  bank-b:
    shadow: {name: b-trial, extends: default}
`)
	in := ordinary()
	in.Facts.DeviceKnown = false
	for _, tc := range []struct{ issuer, live, shadow string }{
		{"other", "default", "trial"},
		{"bank-a", "a-live", "trial"},
		{"bank-b", "default", "b-trial"},
	} {
		live, shadow := s.Evaluate(tc.issuer, in)
		if shadow == nil || live.Policy != tc.live || shadow.Policy != tc.shadow {
			t.Errorf("%s: got live %q shadow %v, want %q and %q", tc.issuer, live.Policy, shadow, tc.live, tc.shadow)
		}
	}
	_, shadow := s.Evaluate("other", in)
	if shadow.Outcome != risk.Challenge || shadow.Score != 150 {
		t.Errorf("the trial shadow (T1 100) should challenge a new device at 150, got %s %d", shadow.Outcome, shadow.Score)
	}
}
