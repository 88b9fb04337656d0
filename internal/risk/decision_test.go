package risk_test

import (
	"testing"

	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/risk"
)

// Risk levels built from the ordinary purchase, in default-policy points.
func medium(in *risk.Input)     { in.Facts.TxLastHour = 6 }                  // 350: challenge
func mediumHigh(in *risk.Input) { medium(in); in.Facts.DeviceKnown = false } // 500: challenge, even after an exemption
func high(in *risk.Input) { // 1000 (capped): deny
	mediumHigh(in)
	in.AReq.AcctInfo.SuspiciousAccActivity = "02"
	in.AReq.PurchaseAmount = "500000"
}

// TestDecisions covers the combinations where indicators and risk meet.
func TestDecisions(t *testing.T) {
	cases := []struct {
		name    string
		edit    func(in *risk.Input)
		outcome risk.Outcome
		score   int
		extra   string // a rule that must be among the reasons
		code    string
	}{
		{"low risk is frictionless", func(in *risk.Input) {}, risk.Frictionless, 0, "", "18"},
		{"medium risk is challenged", medium, risk.Challenge, 350, "velocity_hour", "04"},
		{"high risk is denied", high, risk.Deny, 1000, "suspicious_account", "04"},
		{"an exemption turns a borderline challenge frictionless", func(in *risk.Input) {
			medium(in)
			in.AReq.ThreeDSRequestorChallengeInd = emv.One("05")
		}, risk.Frictionless, 200, "exemption", "04"},
		{"an exemption does not rescue a clearly risky purchase from a challenge", func(in *risk.Input) {
			mediumHigh(in)
			in.AReq.ThreeDSRequestorChallengeInd = emv.One("07")
		}, risk.Challenge, 350, "exemption", "04"},
		{"an exemption never overrides a denial", func(in *risk.Input) {
			high(in)
			in.AReq.ThreeDSRequestorChallengeInd = emv.One("05")
		}, risk.Deny, 1000, "exemption", "04"},
		{"a denial without a coded reason says suspected fraud (11)", func(in *risk.Input) {
			in.AReq.PurchaseAmount = "500000"
			in.AReq.ShipAddrCountry = "643"
			in.AReq.AcctInfo.ShipAddressUsageInd = "01"
		}, risk.Deny, 800, "ship_country_mismatch", "11"},
		{"a mandate challenges a low-risk purchase", func(in *risk.Input) {
			in.AReq.ThreeDSRequestorChallengeInd = emv.One("04")
		}, risk.Challenge, 0, risk.RuleMandate, "18"},
		{"a mandate in a 2.3.1 array challenges too", func(in *risk.Input) {
			in.AReq.ThreeDSRequestorChallengeInd = emv.Many("01", "04")
		}, risk.Challenge, 0, risk.RuleMandate, "18"},
		{"a mandate does not soften a denial", func(in *risk.Input) {
			high(in)
			in.AReq.ThreeDSRequestorChallengeInd = emv.One("04")
		}, risk.Deny, 1000, "", "04"},
		{"3RI with challenge-level risk is frictionless with the reasons kept", func(in *risk.Input) {
			to3RI(in)
			medium(in)
		}, risk.Frictionless, 350, risk.RuleNoChallenge, "04"},
		{"3RI with a mandate is still never a challenge", func(in *risk.Input) {
			to3RI(in)
			in.AReq.ThreeDSRequestorChallengeInd = emv.One("04")
		}, risk.Frictionless, 0, risk.RuleNoChallenge, "18"},
		{"3RI above the deny threshold is denied", func(in *risk.Input) {
			to3RI(in)
			high(in)
		}, risk.Deny, 1000, "", "04"},
		{"data share only (06) is never a challenge", func(in *risk.Input) {
			mediumHigh(in)
			in.AReq.ThreeDSRequestorChallengeInd = emv.One("06")
		}, risk.Frictionless, 350, risk.RuleNoChallenge, "04"},
		{"an empty AReq does not panic and is scored on facts alone", func(in *risk.Input) {
			in.AReq = nil
			in.Facts.DeviceKnown = false
		}, risk.Frictionless, 150, "new_device", "02"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := ordinary()
			tc.edit(&in)
			res := evalDefault(t, in)
			if res.Outcome != tc.outcome || res.Score != tc.score || res.TransStatusReason != tc.code {
				t.Fatalf("got %s score %d code %s, want %s score %d code %s; reasons %+v",
					res.Outcome, res.Score, res.TransStatusReason, tc.outcome, tc.score, tc.code, res.Reasons)
			}
			if _, ok := reason(res, tc.extra); tc.extra != "" && !ok {
				t.Fatalf("reason %s missing from %+v", tc.extra, res.Reasons)
			}
		})
	}
}

// to3RI makes the ordinary purchase a requestor-initiated one: no browser, no device.
func to3RI(in *risk.Input) {
	in.AReq.DeviceChannel = emv.Channel3RI
	in.AReq.ThreeRIInd = "11"
	in.AReq.BrowserIP = ""
	in.Facts.DeviceKnown, in.Facts.HasDeviceData = false, false
}

func TestDeniedExemptionIsRecordedWithoutPoints(t *testing.T) {
	in := ordinary()
	high(&in)
	in.AReq.ThreeDSRequestorChallengeInd = emv.One("05")
	r, ok := reason(evalDefault(t, in), "exemption")
	if !ok || r.Points != 0 {
		t.Fatalf("got %+v, want the exemption recorded with 0 points", r)
	}
}

func TestReasonsAreSortedByPoints(t *testing.T) {
	in := ordinary()
	high(&in)
	in.AReq.MerchantRiskIndicator.ReorderItemsInd = "02"
	res := evalDefault(t, in)
	for i := 1; i < len(res.Reasons); i++ {
		if res.Reasons[i].Points > res.Reasons[i-1].Points {
			t.Fatalf("reasons out of order: %+v", res.Reasons)
		}
	}
	if res.Reasons[0].Points != 350 || res.Reasons[len(res.Reasons)-1].Rule != "reorder" {
		t.Fatalf("want 350 points first and reorder last, got %+v", res.Reasons)
	}
}
