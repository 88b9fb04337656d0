package risk_test

import (
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
