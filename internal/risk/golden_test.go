package risk_test

import (
	"os"
	"path/filepath"
	"testing"

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
