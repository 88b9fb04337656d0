package risk_test

import (
	"strings"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/risk"
)

func TestOrdinaryPurchaseFiresNoRule(t *testing.T) {
	res := evalDefault(t, ordinary())
	if len(res.Reasons) != 0 || res.Score != 0 || res.Outcome != risk.Frictionless {
		t.Fatalf("ordinary purchase: got score %d, %s, reasons %+v; want 0, frictionless, none", res.Score, res.Outcome, res.Reasons)
	}
	if res.TransStatusReason != "18" || res.Policy != "default" {
		t.Fatalf("got transStatusReason %q policy %q, want 18 (very high confidence) and default", res.TransStatusReason, res.Policy)
	}
}

// TestEachRule checks every rule of the default policy twice: it fires at its threshold with its
// default points, text and code, and it stays silent just below.
func TestEachRule(t *testing.T) {
	type edit func(in *risk.Input)
	cases := []struct {
		name   string
		rule   string
		edit   edit
		fires  bool
		text   string // a part of the reason's text
		points int
		code   string
	}{
		{"an amount five times the usual is high", "high_amount", func(in *risk.Input) { in.AReq.PurchaseAmount = "100000" }, true, "amount 5x above the card's usual", 350, ""},
		{"an amount just under five times the usual is not", "high_amount", func(in *risk.Input) { in.AReq.PurchaseAmount = "99999" }, false, "", 0, ""},
		{"an unknown usual amount never counts as high", "high_amount", func(in *risk.Input) { in.AReq.PurchaseAmount = "900000"; in.Facts.UsualAmountMax = 0 }, false, "", 0, ""},
		{"an amount above 2000 in major units is large", "large_amount", func(in *risk.Input) { in.AReq.PurchaseAmount = "200001"; in.Facts.UsualAmountMax = 1 << 40 }, true, "above the limit of 2000", 150, ""},
		{"an amount of exactly 2000 is not large", "large_amount", func(in *risk.Input) { in.AReq.PurchaseAmount = "200000"; in.Facts.UsualAmountMax = 1 << 40 }, false, "", 0, ""},
		{"the exponent scales the large amount limit", "large_amount", func(in *risk.Input) { in.AReq.PurchaseAmount = "2001"; in.AReq.PurchaseExponent = "0" }, true, "above the limit", 150, ""},
		{"an unknown device is new", "new_device", func(in *risk.Input) { in.Facts.DeviceKnown = false }, true, "new device", 150, "02"},
		{"a known device is not new", "new_device", func(in *risk.Input) {}, false, "", 0, ""},
		{"a rooted emulator is named", "device_integrity", func(in *risk.Input) {
			in.Facts.DeviceWarnings = risk.SDKWarnings([]string{"SW03", "SW01", "SW05"})
		}, true, "app device: jailbroken or rooted, emulator", 300, "11"},
		{"an unsupported OS version alone says nothing", "device_integrity", func(in *risk.Input) {
			in.Facts.DeviceWarnings = risk.SDKWarnings([]string{"SW05"})
		}, false, "", 0, ""},
		{"a French device on a Japanese IP address is named", "locale_ip_country", func(in *risk.Input) {
			in.Facts.LocaleCountry, in.Facts.IPCountry = "FR", "JP"
		}, true, "device locale country FR differs from its IP address's country JP", 100, ""},
		{"a locale and an IP of one country say nothing", "locale_ip_country", func(in *risk.Input) {
			in.Facts.LocaleCountry, in.Facts.IPCountry = "FR", "FR"
		}, false, "", 0, ""},
		{"an IP of unknown country says nothing", "locale_ip_country", func(in *risk.Input) { in.Facts.LocaleCountry = "FR" }, false, "", 0, ""},
		{"missing device data counts", "no_device_data", func(in *risk.Input) { in.Facts.HasDeviceData = false }, true, "no device data", 50, ""},
		{"a browser IP other than the 3DS Method's counts", "ip_mismatch", func(in *risk.Input) { in.AReq.BrowserIP = "198.51.100.7" }, true, "browser IP differs", 100, ""},
		{"an unknown 3DS Method IP does not count", "ip_mismatch", func(in *risk.Input) { in.Facts.DeviceIP = "" }, false, "", 0, ""},
		{"a browser clock at UTC+9 is far from France", "browser_time_zone", func(in *risk.Input) { in.AReq.BrowserTZ = "-540" }, true, "browser clock at UTC+9 is far from the card's country 250", 50, ""},
		{"a browser clock just past an hour beyond France's summer time is far", "browser_time_zone", func(in *risk.Input) { in.AReq.BrowserTZ = "-181" }, true, "UTC+3:01", 50, ""},
		{"a browser clock an hour beyond France's summer time is not", "browser_time_zone", func(in *risk.Input) { in.AReq.BrowserTZ = "-180" }, false, "", 0, ""},
		{"a browser clock in New York is far from France", "browser_time_zone", func(in *risk.Input) { in.AReq.BrowserTZ = "300" }, true, "UTC-5", 50, ""},
		{"a country without a known zone never counts", "browser_time_zone", func(in *risk.Input) { in.AReq.BrowserTZ = "300"; in.Facts.BillingCountry = "999" }, false, "", 0, ""},
		{"four authentications in an hour are too many", "velocity_hour", func(in *risk.Input) { in.Facts.TxLastHour = 4 }, true, "4 authentications in the last hour", 350, "04"},
		{"three authentications in an hour are fine", "velocity_hour", func(in *risk.Input) { in.Facts.TxLastHour = 3 }, false, "", 0, ""},
		{"eleven authentications in a day are too many", "velocity_day", func(in *risk.Input) { in.Facts.TxLastDay = 11 }, true, "11 authentications in the last day", 200, "04"},
		{"ten authentications in a day are fine", "velocity_day", func(in *risk.Input) { in.Facts.TxLastDay = 10 }, false, "", 0, ""},
		{"three failed challenges in a day are suspicious", "failed_challenges", func(in *risk.Input) { in.Facts.FailedChallenges24h = 3 }, true, "3 failed challenges", 350, "11"},
		{"two failed challenges are not", "failed_challenges", func(in *risk.Input) { in.Facts.FailedChallenges24h = 2 }, false, "", 0, ""},
		{"six purchases a day on the requestor account are many", "account_velocity", func(in *risk.Input) { in.AReq.AcctInfo.TxnActivityDay = "6" }, true, "6 purchases on the requestor account", 150, "04"},
		{"five purchases a day are not", "account_velocity", func(in *risk.Input) { in.AReq.AcctInfo.TxnActivityDay = "5" }, false, "", 0, ""},
		{"151 purchases a year on the requestor account are many", "account_velocity_year", func(in *risk.Input) { in.AReq.AcctInfo.TxnActivityYear = "151" }, true, "151 purchases on the requestor account in the last year", 100, "04"},
		{"150 purchases a year are not", "account_velocity_year", func(in *risk.Input) { in.AReq.AcctInfo.TxnActivityYear = "150" }, false, "", 0, ""},
		{"three card provisioning attempts are card testing", "provisioning_attempts", func(in *risk.Input) { in.AReq.AcctInfo.ProvisionAttemptsDay = "3" }, true, "3 attempts to add a card", 200, "11"},
		{"two provisioning attempts are not", "provisioning_attempts", func(in *risk.Input) { in.AReq.AcctInfo.ProvisionAttemptsDay = "2" }, false, "", 0, ""},
		{"suspicious account activity counts", "suspicious_account", func(in *risk.Input) { in.AReq.AcctInfo.SuspiciousAccActivity = "02" }, true, "suspicious activity", 350, "11"},
		{"an account created now is new", "new_account", func(in *risk.Input) { in.AReq.AcctInfo.ChAccAgeInd = "02" }, true, "created during this transaction", 100, ""},
		{"an account under 30 days is new", "new_account", func(in *risk.Input) { in.AReq.AcctInfo.ChAccAgeInd = "03" }, true, "less than 30 days", 100, ""},
		{"an account of 30 to 60 days is not new", "new_account", func(in *risk.Input) { in.AReq.AcctInfo.ChAccAgeInd = "04" }, false, "", 0, ""},
		{"a password changed now counts", "password_changed", func(in *risk.Input) { in.AReq.AcctInfo.ChAccPwChangeInd = "02" }, true, "password changed during this transaction", 100, ""},
		{"a password changed over 30 days ago does not", "password_changed", func(in *risk.Input) { in.AReq.AcctInfo.ChAccPwChangeInd = "04" }, false, "", 0, ""},
		{"a first-time shipping address counts", "new_ship_address", func(in *risk.Input) { in.AReq.AcctInfo.ShipAddressUsageInd = "01" }, true, "first time", 100, ""},
		{"a shipping address used for weeks does not", "new_ship_address", func(in *risk.Input) { in.AReq.AcctInfo.ShipAddressUsageInd = "02" }, false, "", 0, ""},
		{"addrMatch N counts", "address_mismatch", func(in *risk.Input) { in.AReq.AddrMatch = "N" }, true, "differs from the billing address", 50, ""},
		{"shipping abroad counts", "ship_country_mismatch", func(in *risk.Input) { in.AReq.ShipAddrCountry = "643" }, true, "shipping country 643 differs from billing country 250", 200, ""},
		{"no shipping country does not", "ship_country_mismatch", func(in *risk.Input) { in.AReq.ShipAddrCountry = "" }, false, "", 0, ""},
		{"a billing country unlike the card's counts", "billing_country_mismatch", func(in *risk.Input) { in.AReq.BillAddrCountry = "566"; in.AReq.ShipAddrCountry = "566" }, true, "billing country 566 differs from the card's 250", 150, ""},
		{"an unknown card country does not", "billing_country_mismatch", func(in *risk.Input) { in.Facts.BillingCountry = "" }, false, "", 0, ""},
		{"a foreign merchant counts", "cross_border", func(in *risk.Input) { in.AReq.MerchantCountryCode = "840" }, true, "merchant country 840", 50, ""},
		{"a gambling merchant is high-risk", "risky_mcc", func(in *risk.Input) { in.AReq.MCC = "7995" }, true, "merchant category 7995", 150, ""},
		{"an electronics merchant is not", "risky_mcc", func(in *risk.Input) { in.AReq.MCC = "5732" }, false, "", 0, ""},
		{"one gift card counts", "gift_cards", func(in *risk.Input) { in.AReq.MerchantRiskIndicator.GiftCardCount = "01" }, true, "1 gift card", 200, ""},
		{"a gift card amount without a count counts", "gift_cards", func(in *risk.Input) { in.AReq.MerchantRiskIndicator.GiftCardAmount = "50" }, true, "gift card", 200, ""},
		{"a gift card count of zero does not", "gift_cards", func(in *risk.Input) { in.AReq.MerchantRiskIndicator.GiftCardCount = "00" }, false, "", 0, ""},
		{"delivery to an e-mail address counts", "digital_delivery", func(in *risk.Input) { in.AReq.MerchantRiskIndicator.DeliveryEmailAddress = "x@example.com" }, true, "e-mail", 50, ""},
		{"electronic delivery counts", "digital_delivery", func(in *risk.Input) { in.AReq.MerchantRiskIndicator.DeliveryTimeframe = "01" }, true, "e-mail", 50, ""},
		{"a pre-order counts", "pre_order", func(in *risk.Input) { in.AReq.MerchantRiskIndicator.PreOrderPurchaseInd = "02" }, true, "pre-order", 30, ""},
		{"a reorder lowers the score", "reorder", func(in *risk.Input) { in.AReq.MerchantRiskIndicator.ReorderItemsInd = "02" }, true, "reorder", -50, ""},
		{"an account over 60 days lowers the score", "established_account", func(in *risk.Input) { in.AReq.AcctInfo.ChAccAgeInd = "05" }, true, "more than 60 days", -50, ""},
		{"a recent prior ACS challenge lowers the score", "prior_authentication", func(in *risk.Input) {
			in.AReq.ThreeDSRequestorPriorAuthenticationInfo = emv.One(emv.ThreeDSRequestorPriorAuthenticationInfo{ThreeDSReqPriorAuthMethod: "02", ThreeDSReqPriorAuthTimestamp: now.Add(-89 * 24 * time.Hour).Format("200601021504")})
		}, true, "within the last 90 days", -100, ""},
		{"a prior authentication 91 days old does not", "prior_authentication", func(in *risk.Input) {
			in.AReq.ThreeDSRequestorPriorAuthenticationInfo = emv.One(emv.ThreeDSRequestorPriorAuthenticationInfo{ThreeDSReqPriorAuthMethod: "02", ThreeDSReqPriorAuthTimestamp: now.Add(-91 * 24 * time.Hour).Format("200601021504")})
		}, false, "", 0, ""},
		{"a prior AVS check is not an ACS authentication", "prior_authentication", func(in *risk.Input) {
			in.AReq.ThreeDSRequestorPriorAuthenticationInfo = emv.Many(emv.ThreeDSRequestorPriorAuthenticationInfo{ThreeDSReqPriorAuthMethod: "03", ThreeDSReqPriorAuthTimestamp: now.Format("200601021504")})
		}, false, "", 0, ""},
		{"a recurring payment lowers the score", "recurring", func(in *risk.Input) { in.AReq.ThreeDSRequestorAuthenticationInd = "02" }, true, "recurring", -100, ""},
		{"exemption 05 lowers the score", "exemption", func(in *risk.Input) { in.AReq.ThreeDSRequestorChallengeInd = emv.One("05") }, true, "exemption 05", -150, ""},
		{"exemption 08 in a 2.3.1 array lowers the score", "exemption", func(in *risk.Input) { in.AReq.ThreeDSRequestorChallengeInd = emv.Many("01", "08") }, true, "exemption 08", -150, ""},
		{"no preference is no exemption", "exemption", func(in *risk.Input) { in.AReq.ThreeDSRequestorChallengeInd = emv.Many("01") }, false, "", 0, ""},
		{"a FIDO login with user verification 3 minutes ago lowers the score", "fido_login", fido("06", 0x05, "https://www.shop.example.com", 3), true, "FIDO login with user verification 3 minutes before", -200, ""},
		{"a FIDO login with signed assurance data on the payee's site counts", "fido_login", func(in *risk.Input) {
			fido("07", 0x05, "https://pay.other.example", 15)(in)
			in.AReq.PayeeOrigin = "https://pay.other.example"
		}, true, "15 minutes before", -200, ""},
		{"a FIDO login 16 minutes ago is too old", "fido_login", fido("06", 0x05, "https://www.shop.example.com", 16), false, "", 0, ""},
		{"a FIDO login without user verification does not count", "fido_login", fido("06", 0x01, "https://www.shop.example.com", 3), false, "", 0, ""},
		{"a FIDO login on another site does not count", "fido_login", fido("06", 0x05, "https://shop.example.com.evil.example", 3), false, "", 0, ""},
		{"a FIDO login stamped an hour in the future does not count", "fido_login", fido("06", 0x05, "https://www.shop.example.com", -60), false, "", 0, ""},
		{"a password login does not count", "fido_login", fido("02", 0x05, "https://www.shop.example.com", 3), false, "", 0, ""},
		{"a trust list Y from the 3DS Server lowers the score", "trust_list", func(in *risk.Input) {
			in.AReq.TrustListStatus, in.AReq.TrustListStatusSource = "Y", "01"
		}, true, "merchant on the cardholder's trust list (reported by the 3DS Server)", -100, ""},
		{"a 2.2.0 whitelist Y from the ACS lowers the score", "trust_list", func(in *risk.Input) {
			in.AReq.WhiteListStatus, in.AReq.WhiteListStatusSource = "Y", "03"
		}, true, "reported by the ACS", -100, ""},
		{"a trust list N does not", "trust_list", func(in *risk.Input) { in.AReq.TrustListStatus, in.AReq.TrustListStatusSource = "N", "01" }, false, "", 0, ""},
		{"a device bound by the cardholder lowers the score", "device_bound", func(in *risk.Input) {
			in.AReq.DeviceBindingStatus, in.AReq.DeviceBindingStatusSource = "12", "02"
		}, true, "device bound to the cardholder (status 12, reported by the DS)", -100, ""},
		{"a device binding pending says nothing", "device_bound", func(in *risk.Input) {
			in.AReq.DeviceBindingStatus, in.AReq.DeviceBindingStatusSource = "03", "01"
		}, false, "", 0, ""},
		{"a binding the cardholder rejected raises the score", "device_binding_rejected", func(in *risk.Input) {
			in.AReq.DeviceBindingStatus, in.AReq.DeviceBindingStatusSource = "04", "01"
		}, true, "the cardholder rejected binding this device", 100, ""},
		{"a device not bound says nothing", "device_binding_rejected", func(in *risk.Input) {
			in.AReq.DeviceBindingStatus, in.AReq.DeviceBindingStatusSource = "01", "01"
		}, false, "", 0, ""},
		{"six sellers in one basket are many", "many_sellers", func(in *risk.Input) { in.AReq.SellerInfo = make([]emv.SellerInfo, 6) }, true, "6 sellers in one purchase", 100, ""},
		{"six merchants of a multi-transaction are many", "many_sellers", func(in *risk.Input) {
			in.AReq.MultiTransaction = &emv.MultiTransaction{MerchantList: make([]emv.ListedMerchant, 6)}
		}, true, "6 sellers in one purchase", 100, ""},
		{"five sellers are not", "many_sellers", func(in *risk.Input) { in.AReq.SellerInfo = make([]emv.SellerInfo, 5) }, false, "", 0, ""},
		{"an AV usable three times raises the score", "reusable_av", func(in *risk.Input) {
			in.AReq.MultiTransaction = &emv.MultiTransaction{AVNumberUse: "3", AVValidityTime: "30"}
		}, true, "authentication value usable 3 times over 30 days", 100, ""},
		{"an AV usable twice does not", "reusable_av", func(in *risk.Input) { in.AReq.MultiTransaction = &emv.MultiTransaction{AVNumberUse: "2"} }, false, "", 0, ""},
		{"a payee on another site is named", "payee_origin", func(in *risk.Input) {
			in.AReq.ThreeDSRequestorURL, in.AReq.PayeeOrigin = "https://www.shop.example.com", "https://pay.other.example"
		}, true, "payee origin pay.other.example differs from the requestor's site www.shop.example.com", 50, ""},
		{"a payee on the requestor's own domain is not", "payee_origin", func(in *risk.Input) {
			in.AReq.ThreeDSRequestorURL, in.AReq.PayeeOrigin = "https://www.shop.example.com", "https://shop.example.com"
		}, false, "", 0, ""},
		{"a buyer's tax id marks a business purchase", "business_purchase", func(in *risk.Input) { in.AReq.TaxID = "FR40303265045" }, true, "business purchase", -50, ""},
	}
	seen := map[string]bool{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := ordinary()
			tc.edit(&in)
			res := evalDefault(t, in)
			r, ok := reason(res, tc.rule)
			if ok != tc.fires {
				t.Fatalf("rule %s fired=%v, want %v; reasons %+v", tc.rule, ok, tc.fires, res.Reasons)
			}
			if !tc.fires {
				return
			}
			if !strings.Contains(r.Text, tc.text) || r.Points != tc.points || r.TransStatusReason != tc.code {
				t.Fatalf("got %+v, want text containing %q, %d points, code %q", r, tc.text, tc.points, tc.code)
			}
		})
		if tc.fires {
			seen[tc.rule] = true
		}
	}
	for _, name := range risk.RuleNames() {
		if !seen[name] {
			t.Errorf("rule %s has no case that makes it fire", name)
		}
	}
}
