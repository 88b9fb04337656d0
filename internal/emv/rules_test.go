package emv_test

import (
	"testing"

	"github.com/open3ds/open3ds/internal/emv"
)

// Each case breaks one cross-field rule of a valid message; Validate must answer 203 naming the elements.
// Cases with code 0 show the rule letting a valid variant through.
type ruleCase struct {
	name   string
	m      emv.Message
	ctx    *emv.Context
	code   emv.Code
	detail string
}

func runRuleCases(t *testing.T, cases []ruleCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := emv.Validate(tc.m, tc.ctx)
			if tc.code == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			wantProtocolError(t, err, tc.code, tc.detail)
			// Parse applies the same rules to the same message on the wire.
			_, err = emv.Parse(encode(t, tc.m), tc.ctx)
			wantProtocolError(t, err, tc.code, tc.detail)
		})
	}
}

// changedAReq returns a browser AReq of the version after change.
func changedAReq(version, channel string, change func(*emv.AReq)) *emv.AReq {
	m := sampleAReq(version, channel)
	change(m)
	return m
}

func changedARes(m *emv.ARes, change func(*emv.ARes)) *emv.ARes { change(m); return m }

func TestAReqRules(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{name: "a 2.1.0 3RI payment is 203 on messageCategory",
			m: changedAReq(ver210, ch3RI, func(m *emv.AReq) { m.MessageCategory = emv.CategoryPayment }), code: 203, detail: "messageCategory"},
		{name: "a 2.2.0 3RI payment is accepted",
			m: changedAReq(ver220, ch3RI, func(m *emv.AReq) { m.MessageCategory = emv.CategoryPayment })},
		{name: "a decoupled max time over seven days is 203",
			m: changedAReq(ver220, chBrw, func(m *emv.AReq) {
				m.ThreeDSRequestorDecReqInd, m.ThreeDSRequestorDecMaxTime = "Y", "10081"
			}), code: 203, detail: "threeDSRequestorDecMaxTime"},
		{name: "a decoupled max time of zero is 203",
			m: changedAReq(ver220, chBrw, func(m *emv.AReq) { m.ThreeDSRequestorDecMaxTime = "00000" }), code: 203, detail: "threeDSRequestorDecMaxTime"},
		{name: "a decoupled request without a max time is 203",
			m: changedAReq(ver220, chBrw, func(m *emv.AReq) { m.ThreeDSRequestorDecReqInd = "Y" }), code: 203, detail: "threeDSRequestorDecMaxTime"},
		{name: "a decoupled request of seven days is accepted",
			m: changedAReq(ver220, chBrw, func(m *emv.AReq) {
				m.ThreeDSRequestorDecReqInd, m.ThreeDSRequestorDecMaxTime = "Y", "10080"
			})},
		{name: "JavaScript without the screen data is 203 on each missing element",
			m:    changedAReq(ver220, chBrw, func(m *emv.AReq) { m.BrowserJavaEnabled, m.BrowserTZ = nil, "" }),
			code: 203, detail: "browserJavaEnabled,browserTZ"},
		{name: "JavaScript without the language is 203 in 2.3.1",
			m: changedAReq(ver231, chBrw, func(m *emv.AReq) { m.BrowserLanguage = "" }), code: 203, detail: "browserLanguage"},
		{name: "a recurring payment without its expiry and frequency is 203",
			m:    changedAReq(ver220, chBrw, func(m *emv.AReq) { m.ThreeDSRequestorAuthenticationInd = "02" }),
			code: 203, detail: "recurringExpiry,recurringFrequency"},
		{name: "an instalment payment without its count is 203",
			m: changedAReq(ver220, chBrw, func(m *emv.AReq) {
				m.ThreeDSRequestorAuthenticationInd, m.RecurringExpiry, m.RecurringFrequency = "03", "20261231", "30"
			}), code: 203, detail: "purchaseInstalData"},
		{name: "an instalment count of one is 203",
			m: changedAReq(ver220, chBrw, func(m *emv.AReq) { m.PurchaseInstalData = "1" }), code: 203, detail: "purchaseInstalData"},
		{name: "a payment token without its source is 203 from 2.2.0",
			m: changedAReq(ver220, chBrw, func(m *emv.AReq) { m.PayTokenInd = ptrTrue() }), code: 203, detail: "payTokenSource"},
		{name: "a payment token without a source is accepted in 2.1.0",
			m: changedAReq(ver210, chBrw, func(m *emv.AReq) { m.PayTokenInd = ptrTrue() })},
		{name: "a white-list status without its source is 203",
			m: changedAReq(ver220, chBrw, func(m *emv.AReq) { m.WhiteListStatus = "Y" }), code: 203, detail: "whiteListStatusSource"},
		{name: "a trust-list status without its source is 203",
			m: changedAReq(ver231, chBrw, func(m *emv.AReq) { m.TrustListStatus = "N" }), code: 203, detail: "trustListStatusSource"},
		{name: "a split SDK without its description is 203",
			m: changedAReq(ver231, chApp, func(m *emv.AReq) { m.SDKType, m.DefaultSDKType = "02", nil }), code: 203, detail: "splitSdkType"},
		{name: "a split SDK that also describes a default one is 203",
			m:    changedAReq(ver231, chApp, func(m *emv.AReq) { m.SDKType, m.SplitSDKType = "02", &emv.SplitSDKType{SDKVariant: "01"} }),
			code: 203, detail: "defaultSdkType"},
		{name: "a default SDK that also describes a split one is 203",
			m:    changedAReq(ver231, chApp, func(m *emv.AReq) { m.SplitSDKType = &emv.SplitSDKType{SDKVariant: "01"} }),
			code: 203, detail: "splitSdkType"},
		{name: "an SDK description without an sdkType is 203",
			m:    changedAReq(ver231, chBrw, func(m *emv.AReq) { m.DefaultSDKType = &emv.DefaultSDKType{SDKVariant: "01"} }),
			code: 203, detail: "defaultSdkType"},
		{name: "a DS-reserved sdkType is the scheme's to describe",
			m: changedAReq(ver231, chApp, func(m *emv.AReq) { m.SDKType, m.DefaultSDKType = "85", nil })},
		{name: "a FIDO login with its WebAuthn assertion is accepted",
			m: changedAReq(ver231, chBrw, fidoLogin("06", assertionJSON(0x05, loginAt("https://www.shop.example.com"))))},
		{name: "a FIDO login with signed assurance data (07) is accepted in 2.2.0",
			m: changedAReq(ver220, chBrw, fidoLogin("07", assertionJSON(0x05, loginAt("https://www.shop.example.com"))))},
		{name: "a FIDO login without its data is 203 on threeDSReqAuthData",
			m: changedAReq(ver231, chBrw, fidoLogin("06", "")), code: 203, detail: "threeDSRequestorAuthenticationInfo.threeDSReqAuthData"},
		{name: "a FIDO login whose data is not an assertion is 203 on threeDSReqAuthData",
			m: changedAReq(ver231, chBrw, fidoLogin("07", "opaque-token-1234")), code: 203, detail: "threeDSRequestorAuthenticationInfo.threeDSReqAuthData"},
		{name: "a FIDO registration offered as a login is 203",
			m: changedAReq(ver231, chBrw, fidoLogin("06", assertionJSON(0x05, map[string]string{
				"type": "webauthn.create", "challenge": "YWJj", "origin": "https://www.shop.example.com"}))),
			code: 203, detail: "threeDSRequestorAuthenticationInfo.threeDSReqAuthData"},
		{name: "a login with the requestor's own credentials keeps free-form data",
			m: changedAReq(ver231, chBrw, fidoLogin("02", "opaque-token-1234"))},
		{name: "a device binding status without its source is 203",
			m: changedAReq(ver231, chBrw, func(m *emv.AReq) { m.DeviceBindingStatus = "11" }), code: 203, detail: "deviceBindingStatusSource"},
		{name: "SPC support on an app AReq is 203",
			m: changedAReq(ver231, chApp, func(m *emv.AReq) { m.ThreeDSRequestorSpcSupport = "Y" }), code: 203, detail: "threeDSRequestorSpcSupport"},
		{name: "an SPC incompletion on a 3RI AReq is 203",
			m: changedAReq(ver231, ch3RI, func(m *emv.AReq) { m.SpcIncompInd = "01" }), code: 203, detail: "spcIncompInd"},
		{name: "SPC support and an SPC incompletion on the browser are accepted",
			m: changedAReq(ver231, chBrw, func(m *emv.AReq) { m.ThreeDSRequestorSpcSupport, m.SpcIncompInd = "Y", "02" })},
		{name: "a payee origin with a path is 203",
			m: changedAReq(ver231, chBrw, func(m *emv.AReq) { m.PayeeOrigin = "https://shop.example.com/checkout" }), code: 203, detail: "payeeOrigin"},
		{name: "a payee origin is accepted",
			m: changedAReq(ver231, chBrw, func(m *emv.AReq) { m.PayeeOrigin = "https://shop.example.com:8443" })},
		{name: "a seller with neither name nor id is 203",
			m: changedAReq(ver231, chBrw, func(m *emv.AReq) {
				m.SellerInfo = []emv.SellerInfo{{SellerName: "A"}, {SellerAddrCity: "Lyon"}}
			}), code: 203, detail: "sellerInfo.sellerName"},
	})
}

func TestAResRules(t *testing.T) {
	pa := ctxOf(sampleAReq(ver220, chBrw))
	npa := ctxOf(changedAReq(ver220, chBrw, func(m *emv.AReq) { m.MessageCategory = emv.CategoryNonPayment }))
	runRuleCases(t, []ruleCase{
		{name: "an ARes in another version than its AReq is 203", m: sampleARes(ver231), ctx: pa,
			code: 203, detail: "messageVersion"},
		{name: "Y on a payment without its value and ECI is 203",
			m: changedARes(sampleARes(ver220), func(m *emv.ARes) { m.AuthenticationValue, m.ECI = "", "" }), ctx: pa,
			code: 203, detail: "authenticationValue,eci"},
		{name: "A on a payment without its ECI is 203",
			m: changedARes(sampleARes(ver220), func(m *emv.ARes) { m.TransStatus, m.ECI = "A", "" }), ctx: pa, code: 203, detail: "eci"},
		{name: "Y on a non-payment needs no value",
			m: changedARes(sampleARes(ver220), func(m *emv.ARes) { m.AuthenticationValue, m.ECI = "", "" }), ctx: npa},
		{name: "N on a payment without a reason is 203",
			m: changedARes(sampleARes(ver220), func(m *emv.ARes) { m.TransStatus, m.AuthenticationValue, m.ECI = "N", "", "" }), ctx: pa,
			code: 203, detail: "transStatusReason"},
		{name: "a reason without a status is 203",
			m:    changedARes(sampleARes(ver220), func(m *emv.ARes) { m.TransStatus, m.TransStatusReason = "", "01" }),
			code: 203, detail: "transStatus"},
		{name: "a browser challenge without acsURL is 203",
			m: changedARes(sampleChallengeARes(ver220, chBrw), func(m *emv.ARes) { m.ACSURL = "" }), ctx: pa, code: 203, detail: "acsURL"},
		{name: "a challenge without mandate and type is 203",
			m:   changedARes(sampleChallengeARes(ver220, chBrw), func(m *emv.ARes) { m.ACSChallengeMandated, m.AuthenticationType = "", "" }),
			ctx: pa, code: 203, detail: "acsChallengeMandated,authenticationType"},
		{name: "a 2.3.1 challenge without authenticationMethod is 203",
			m:    changedARes(sampleChallengeARes(ver231, chBrw), func(m *emv.ARes) { m.AuthenticationMethod = nil }),
			code: 203, detail: "authenticationMethod"},
		{name: "an app challenge without rendering type and signed content is 203",
			m:   changedARes(sampleChallengeARes(ver220, chApp), func(m *emv.ARes) { m.ACSRenderingType, m.ACSSignedContent = nil, "" }),
			ctx: ctxOf(sampleAReq(ver220, chApp)), code: 203, detail: "acsRenderingType,acsSignedContent"},
		{name: "an app challenge is recognised by its sdkTransID without the AReq",
			m: changedARes(sampleChallengeARes(ver220, chApp), func(m *emv.ARes) { m.ACSSignedContent = "" }), code: 203, detail: "acsSignedContent"},
		{name: "a challenge on 3RI is 203",
			m: changedARes(sampleChallengeARes(ver220, chBrw), func(m *emv.ARes) { m.ACSURL = "" }), ctx: ctxOf(sampleAReq(ver220, ch3RI)),
			code: 203, detail: "transStatus"},
		{name: "a challenge against indicator 06 is 203", m: sampleChallengeARes(ver231, chBrw),
			ctx:  ctxOf(changedAReq(ver231, chBrw, func(m *emv.AReq) { m.ThreeDSRequestorChallengeInd = emv.Many("01", "06") })),
			code: 203, detail: "transStatus"},
		{name: "a decoupled answer nobody asked for is 203", m: sampleDecoupledARes(ver220), ctx: pa, code: 203, detail: "transStatus"},
		{name: "a decoupled answer that was asked for is accepted", m: sampleDecoupledARes(ver220),
			ctx: ctxOf(changedAReq(ver220, chBrw, func(m *emv.AReq) {
				m.ThreeDSRequestorDecReqInd, m.ThreeDSRequestorDecMaxTime = "Y", "00060"
			}))},
		{name: "a decoupled answer without its confirmation and type 04 is 203",
			m:    changedARes(sampleDecoupledARes(ver220), func(m *emv.ARes) { m.ACSDecConInd, m.AuthenticationType = "N", "02" }),
			code: 203, detail: "acsDecConInd,authenticationType"},
		{name: "I against a challenge preference is 203",
			m:    changedARes(sampleARes(ver220), func(m *emv.ARes) { m.TransStatus, m.AuthenticationValue, m.ECI = "I", "", "" }),
			ctx:  ctxOf(changedAReq(ver220, chBrw, func(m *emv.AReq) { m.ThreeDSRequestorChallengeInd = emv.One("03") })),
			code: 203, detail: "transStatus"},
		{name: "I after a transaction-risk-analysis exemption is accepted",
			m:   changedARes(sampleARes(ver220), func(m *emv.ARes) { m.TransStatus, m.AuthenticationValue, m.ECI = "I", "", "" }),
			ctx: ctxOf(changedAReq(ver220, chBrw, func(m *emv.AReq) { m.ThreeDSRequestorChallengeInd = emv.One("05") }))},
	})
}

func sampleDecoupledARes(version string) *emv.ARes {
	return changedARes(sampleARes(version), func(m *emv.ARes) {
		m.TransStatus, m.AuthenticationValue, m.ECI = "D", "", ""
		m.ACSDecConInd, m.ACSChallengeMandated, m.AuthenticationType = "Y", "N", "04"
	})
}

func changedRReq(m *emv.RReq, change func(*emv.RReq)) *emv.RReq { change(m); return m }

func TestRReqRules(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{name: "a successful payment RReq without its value is 203",
			m: changedRReq(sampleRReq(ver220), func(m *emv.RReq) { m.AuthenticationValue = "" }), code: 203, detail: "authenticationValue"},
		{name: "a failed payment RReq without its reason is 203",
			m:    changedRReq(sampleRReq(ver220), func(m *emv.RReq) { m.TransStatus, m.AuthenticationValue, m.ECI = "N", "", "" }),
			code: 203, detail: "transStatusReason"},
		{name: "a reason without a status is 203",
			m: changedRReq(sampleRReq(ver220), func(m *emv.RReq) {
				m.MessageCategory, m.TransStatus, m.TransStatusReason = emv.CategoryNonPayment, "", "01"
			}), code: 203, detail: "transStatus"},
		{name: "a timeout reason without the timeout's kind is 203",
			m: changedRReq(sampleRReq(ver220), func(m *emv.RReq) {
				m.TransStatus, m.TransStatusReason, m.AuthenticationValue, m.ECI, m.ChallengeCancel = "N", "14", "", "", "01"
			}), code: 203, detail: "challengeCancel"},
		{name: "a timeout with challengeCancel 05 is accepted",
			m: changedRReq(sampleRReq(ver220), func(m *emv.RReq) {
				m.TransStatus, m.TransStatusReason, m.AuthenticationValue, m.ECI, m.ChallengeCancel = "N", "14", "", "", "05"
			})},
		{name: "an RReq in another version than its AReq is 203", m: sampleRReq(ver210),
			ctx: ctxOf(sampleAReq(ver220, chBrw)), code: 203, detail: "messageVersion"},
		{name: "an RRes in another version than its AReq is 203", m: sampleRRes(ver231),
			ctx: ctxOf(sampleAReq(ver220, chBrw)), code: 203, detail: "messageVersion"},
	})
}

func TestChallengeAndPreparationRules(t *testing.T) {
	creq := sampleCReq(ver220, chApp)
	creq.ChallengeNoEntry, creq.ChallengeDataEntry = "Y", "123456"
	notFinal := sampleCRes(ver220, chBrw)
	notFinal.ChallengeCompletionInd = "N"
	noStatus := sampleCRes(ver220, chApp)
	noStatus.TransStatus = ""
	textScreen := sampleScreenCRes(ver220)
	textScreen.ACSUiType, textScreen.ACSHTML, textScreen.ChallengeInfoHeader = "01", "", "Enter your code"
	selectScreen := sampleScreenCRes(ver220)
	selectScreen.ACSUiType, selectScreen.ACSHTML = "02", ""
	selectScreen.ChallengeInfoHeader, selectScreen.ChallengeInfoLabel, selectScreen.ChallengeInfoText = "h", "l", "t"
	selectScreen.SubmitAuthenticationLabel = "Next"
	oobScreen := sampleScreenCRes(ver220)
	oobScreen.ACSUiType, oobScreen.ACSHTML, oobScreen.ChallengeInfoHeader, oobScreen.ChallengeInfoText = "04", "", "h", "t"
	noUiType := sampleScreenCRes(ver220)
	noUiType.ACSUiType = ""
	cresD := func(version string) *emv.CRes { m := sampleCRes(version, chBrw); m.TransStatus = "D"; return m }
	areqDec := func(version, ind string) *emv.AReq {
		a := sampleAReq(version, chBrw)
		a.ThreeDSRequestorDecReqInd = ind
		return a
	}
	badRange := samplePRes(ver220)
	badRange.CardRangeData[0].EndRange = "3999999999999999"
	shortEnd := samplePRes(ver220)
	shortEnd.CardRangeData[0].EndRange = "400000000009999"
	versions := samplePRes(ver220)
	versions.DSStartProtocolVersion, versions.DSEndProtocolVersion = "2.10.0", "2.9.0"
	runRuleCases(t, []ruleCase{
		{name: "a CReq with no entry and an entry is 203", m: creq, code: 203, detail: "challengeDataEntry"},
		{name: "a CReq in another version than its AReq is 203", m: sampleCReq(ver231, chApp),
			ctx: ctxOf(sampleAReq(ver220, chApp)), code: 203, detail: "messageVersion"},
		{name: "a CRes in another version than its AReq is 203", m: sampleCRes(ver210, chBrw),
			ctx: ctxOf(sampleAReq(ver220, chBrw)), code: 203, detail: "messageVersion"},
		{name: "a browser CRes that is not final is 203", m: notFinal, code: 203, detail: "challengeCompletionInd"},
		{name: "a final CRes without a status is 203", m: noStatus, code: 203, detail: "transStatus"},
		{name: "a 2.3.1 final CRes D after an AReq that allowed the decoupled fallback (F) is accepted",
			m: cresD(ver231), ctx: ctxOf(areqDec(ver231, "F"))},
		{name: "a 2.3.1 final CRes D after an AReq with B is accepted", m: cresD(ver231), ctx: ctxOf(areqDec(ver231, "B"))},
		{name: "a 2.3.1 final CRes D after an AReq that allowed only an ARes D (Y) is 203",
			m: cresD(ver231), ctx: ctxOf(areqDec(ver231, "Y")), code: 203, detail: "transStatus"},
		{name: "a 2.2.0 final CRes D is 203: only 2.3.1 has it", m: cresD(ver220), code: 203, detail: "transStatus"},
		{name: "an app screen without acsUiType is 203", m: noUiType, code: 203, detail: "acsUiType"},
		{name: "a text screen without its labels is 203", m: textScreen, code: 203,
			detail: "challengeInfoLabel,challengeInfoText,submitAuthenticationLabel"},
		{name: "a select screen without its options is 203", m: selectScreen, code: 203, detail: "challengeSelectInfo"},
		{name: "an out-of-band screen without its continue label is 203", m: oobScreen, code: 203, detail: "oobContinueLabel"},
		{name: "an HTML screen with its HTML is accepted", m: sampleScreenCRes(ver220)},
		{name: "a card range that ends before it starts is 203", m: badRange, code: 203,
			detail: "cardRangeData.startRange,cardRangeData.endRange"},
		{name: "a card range with ends of different lengths is 203", m: shortEnd, code: 203,
			detail: "cardRangeData.startRange,cardRangeData.endRange"},
		{name: "protocol versions compare as numbers", m: versions, code: 203,
			detail: "dsStartProtocolVersion,dsEndProtocolVersion"},
	})
}

func TestCompareVersions(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"2.1.0", "2.2.0", -1}, {"2.3.1", "2.3.1", 0}, {"2.10.0", "2.9.9", 1}, {"2.2", "2.2.0", 0},
	} {
		if got := emv.CompareVersions(tc.a, tc.b); got != tc.want {
			t.Errorf("CompareVersions(%s, %s) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

// fidoLogin sets the requestor's login to method with data, at a fixed time.
func fidoLogin(method, data string) func(*emv.AReq) {
	return func(m *emv.AReq) {
		info := emv.ThreeDSRequestorAuthenticationInfo{
			ThreeDSReqAuthMethod: method, ThreeDSReqAuthTimestamp: "202503141012", ThreeDSReqAuthData: data}
		m.ThreeDSRequestorAuthenticationInfo = emv.One(info)
		if m.MessageVersion == emv.Version231 {
			m.ThreeDSRequestorAuthenticationInfo = emv.Many(info)
		}
	}
}

// TestOpaqueFIDOAuthData: a DS or ACS run with --fido-auth-data opaque takes a FIDO login's data as
// any string, and goes back to checking it when the switch is off.
func TestOpaqueFIDOAuthData(t *testing.T) {
	m := changedAReq(ver231, chBrw, fidoLogin("07", "scheme-signed-token"))
	emv.SetOpaqueFIDOAuthData(true)
	t.Cleanup(func() { emv.SetOpaqueFIDOAuthData(false) })
	if err := emv.Validate(m, nil); err != nil {
		t.Fatalf("opaque: %v", err)
	}
	emv.SetOpaqueFIDOAuthData(false)
	wantProtocolError(t, emv.Validate(m, nil), 203, "threeDSRequestorAuthenticationInfo.threeDSReqAuthData")
}
