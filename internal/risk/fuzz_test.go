package risk_test

import (
	"errors"
	"os"
	"testing"

	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/risk"
)

// FuzzParseSet feeds arbitrary bytes to the policy parser: it must answer with a set or an
// error, never panic, and any set it accepts must evaluate to a score and outcome in range.
func FuzzParseSet(f *testing.F) {
	if data, err := os.ReadFile("testdata/policy.yaml"); err == nil {
		f.Add(data)
	}
	f.Add([]byte("default:\n  live:\n    rules:\n      velocity_hour: {over: 3, points: 350}\n"))
	f.Add([]byte("issuers:\n  b:\n    shadow: {extends: default, deny_above: 900}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := risk.ParseSet(data)
		if err != nil {
			var pe *risk.PolicyError
			if errors.As(err, &pe) && pe.Line < 0 {
				t.Fatalf("negative line in %v", err)
			}
			return
		}
		in := ordinary()
		in.Facts.DeviceKnown = false
		in.Facts.TxLastHour = 9
		for _, issuer := range []string{"", "b", "demo-bank"} {
			live, shadow := s.Evaluate(issuer, in)
			checkResult(t, live)
			if shadow != nil {
				checkResult(t, *shadow)
			}
		}
	})
}

// FuzzEvaluate varies the AReq strings the rules parse themselves (amounts, counts, dates,
// indicators): no panic, and the result always in range.
func FuzzEvaluate(f *testing.F) {
	f.Add("5000", "2", int64(20000), "1", "0", "01", "02", "202611201000", "03", "1")
	f.Add("99999999999999999999999999999999", "9", int64(1), "999", "999", "05", "99", "2026", "04", "12")
	f.Add("", "", int64(0), "", "", "", "", "", "", "")
	f.Fuzz(func(t *testing.T, amount, exp string, usual int64, txnDay, provision, chalInd, giftCount, priorTS, channel, giftAmount string) {
		in := ordinary()
		a := in.AReq
		a.PurchaseAmount, a.PurchaseExponent, in.Facts.UsualAmountMax = amount, exp, usual
		a.AcctInfo.TxnActivityDay, a.AcctInfo.ProvisionAttemptsDay = txnDay, provision
		a.ThreeDSRequestorChallengeInd = emv.Many(chalInd)
		a.MerchantRiskIndicator.GiftCardCount, a.MerchantRiskIndicator.GiftCardAmount = giftCount, giftAmount
		a.ThreeDSRequestorPriorAuthenticationInfo = emv.One(emv.ThreeDSRequestorPriorAuthenticationInfo{
			ThreeDSReqPriorAuthMethod: "02", ThreeDSReqPriorAuthTimestamp: priorTS})
		a.DeviceChannel = channel
		live, _ := risk.DefaultSet().Evaluate("x", in)
		checkResult(t, live)
		if channel == emv.Channel3RI && live.Outcome == risk.Challenge {
			t.Fatalf("a 3RI transaction was challenged: %+v", live)
		}
	})
}

func checkResult(t *testing.T, r risk.Result) {
	t.Helper()
	if r.Score < 0 || r.Score > 1000 {
		t.Fatalf("score %d out of 0–1000", r.Score)
	}
	switch r.Outcome {
	case risk.Frictionless, risk.Challenge, risk.Deny:
	default:
		t.Fatalf("outcome %q", r.Outcome)
	}
	if len(r.TransStatusReason) != 2 {
		t.Fatalf("transStatusReason %q is not two digits", r.TransStatusReason)
	}
}

// FuzzEvaluate231 varies the 2.3.1 strings the new rules read (the FIDO login's data and time, the
// requestor's and payee's URLs, the AV's uses and validity, the binding and trust-list codes): no
// panic, and the result always in range.
func FuzzEvaluate231(f *testing.F) {
	f.Add("06", assertion(0x05, "https://www.shop.example.com"), "202611250957", "https://www.shop.example.com", "", "3", "30", "11", "01", "Y")
	f.Add("07", "not json", "2026", "https://[::1", "https://pay.other.example", "999", "x", "04", "99", "N")
	f.Add("", "", "", "", "", "", "", "", "", "")
	f.Fuzz(func(t *testing.T, method, data, ts, reqURL, payee, uses, days, binding, source, trust string) {
		in := ordinary()
		a := in.AReq
		a.ThreeDSRequestorAuthenticationInfo = emv.Many(emv.ThreeDSRequestorAuthenticationInfo{
			ThreeDSReqAuthMethod: method, ThreeDSReqAuthTimestamp: ts, ThreeDSReqAuthData: data})
		a.ThreeDSRequestorURL, a.PayeeOrigin = reqURL, payee
		a.MultiTransaction = &emv.MultiTransaction{AVNumberUse: uses, AVValidityTime: days}
		a.DeviceBindingStatus, a.DeviceBindingStatusSource = binding, source
		a.TrustListStatus, a.TrustListStatusSource = trust, source
		live, _ := risk.DefaultSet().Evaluate("x", in)
		checkResult(t, live)
	})
}
