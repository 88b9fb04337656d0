package risk_test

import (
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/risk"
)

// now is the fixed decision time of every test.
var now = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// ordinary returns a browser purchase on which no rule of the default policy fires: a known
// device, a usual amount, home country everywhere, an account of middle age.
func ordinary() risk.Input {
	a := &emv.AReq{
		MessageType:                       "AReq",
		MessageVersion:                    emv.Version220,
		MessageCategory:                   emv.CategoryPayment,
		DeviceChannel:                     emv.ChannelBrowser,
		ThreeDSRequestorAuthenticationInd: "01",
		ThreeDSRequestorChallengeInd:      emv.One("01"),
		ThreeDSCompInd:                    "Y",
		MCC:                               "5732",
		MerchantCountryCode:               "250",
		MerchantName:                      "Shop Demo",
		PurchaseAmount:                    "5000",
		PurchaseCurrency:                  "978",
		PurchaseExponent:                  "2",
		AddrMatch:                         "Y",
		BillAddrCountry:                   "250",
		ShipAddrCountry:                   "250",
		BrowserIP:                         "203.0.113.42",
		BrowserLanguage:                   "fr-FR",
		BrowserTZ:                         "-60",
		AcctInfo: &emv.AcctInfo{
			ChAccAgeInd:           "04",
			ChAccPwChangeInd:      "01",
			ShipAddressUsageInd:   "04",
			SuspiciousAccActivity: "01",
			TxnActivityDay:        "1",
			TxnActivityYear:       "7",
			ProvisionAttemptsDay:  "0",
		},
		MerchantRiskIndicator: &emv.MerchantRisk{
			ShipIndicator:       "01",
			DeliveryTimeframe:   "03",
			ReorderItemsInd:     "01",
			PreOrderPurchaseInd: "01",
		},
	}
	return risk.Input{
		AReq: a,
		Facts: risk.Facts{
			DeviceKnown:    true,
			HasDeviceData:  true,
			TxLastHour:     1,
			TxLastDay:      2,
			UsualAmountMax: 20000,
			BillingCountry: "250",
			DeviceIP:       "203.0.113.42",
		},
		Now: now,
	}
}

// reason returns the reason rule produced, if any.
func reason(res risk.Result, rule string) (risk.Reason, bool) {
	for _, r := range res.Reasons {
		if r.Rule == rule {
			return r, true
		}
	}
	return risk.Reason{}, false
}

func evalDefault(tb testing.TB, in risk.Input) risk.Result {
	tb.Helper()
	live, shadow := risk.DefaultSet().Evaluate("any-issuer", in)
	if shadow != nil {
		tb.Fatalf("the default set has no shadow policy, got a shadow result %+v", *shadow)
	}
	return live
}

func mustParse(tb testing.TB, yml string) *risk.Set {
	tb.Helper()
	s, err := risk.ParseSet([]byte(yml))
	if err != nil {
		tb.Fatalf("ParseSet: %v", err)
	}
	return s
}

// fido sets the requestor's login to method, minutesAgo before now, with a WebAuthn assertion made
// at origin with the authenticator flags given (0x01 user present, 0x04 user verified), on a
// requestor whose site is www.shop.example.com.
func fido(method string, flags byte, origin string, minutesAgo int) func(in *risk.Input) {
	return func(in *risk.Input) {
		in.AReq.ThreeDSRequestorURL = "https://www.shop.example.com"
		in.AReq.ThreeDSRequestorAuthenticationInfo = emv.Many(emv.ThreeDSRequestorAuthenticationInfo{
			ThreeDSReqAuthMethod:    method,
			ThreeDSReqAuthTimestamp: now.Add(-time.Duration(minutesAgo) * time.Minute).Format("200601021504"),
			ThreeDSReqAuthData:      assertion(flags, origin),
		})
	}
}

// assertion is a FIDO login as PublicKeyCredential.toJSON() writes it.
func assertion(flags byte, origin string) string {
	enc := base64.RawURLEncoding.EncodeToString
	auth := make([]byte, 37)
	auth[32] = flags
	cd, _ := json.Marshal(map[string]string{"type": "webauthn.get", "challenge": enc([]byte("nonce-42")), "origin": origin})
	cred, _ := json.Marshal(map[string]any{"id": "cred-1", "type": "public-key", "response": map[string]string{
		"clientDataJSON": enc(cd), "authenticatorData": enc(auth), "signature": enc([]byte("sig")),
	}})
	return string(cred)
}
