package emv_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/open3ds/open3ds/internal/emv"
)

const (
	ver210 = emv.Version210
	ver220 = emv.Version220
	ver231 = emv.Version231
	chBrw  = emv.ChannelBrowser
	chApp  = emv.ChannelApp
	ch3RI  = emv.Channel3RI
)

// dictCase is one message, changed by edit, and the error Parse must answer with (code 0: none).
type dictCase struct {
	name   string
	msg    emv.Message
	ctx    *emv.Context
	edit   func(map[string]any)
	code   emv.Code
	detail string
}

func runDictCases(t *testing.T, cases []dictCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := encode(t, tc.msg)
			if tc.edit != nil {
				data = editedJSON(t, tc.msg, tc.edit)
			}
			_, err := emv.Parse(data, tc.ctx)
			if tc.code == 0 {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				return
			}
			wantProtocolError(t, err, tc.code, tc.detail)
		})
	}
}

func ctxOf(a *emv.AReq) *emv.Context { return &emv.Context{AReq: a} }

func sampleScreenCRes(version string) *emv.CRes {
	m := sampleCRes(version, chApp)
	m.ChallengeCompletionInd, m.TransStatus = "N", ""
	m.ACSUiType, m.ACSHTML = "05", "PGh0bWw-PC9odG1sPg"
	return m
}

func TestEachFormatRefusesABadValue(t *testing.T) {
	runDictCases(t, []dictCase{
		{name: "a numeric element with a letter is 203", msg: sampleAReq(ver220, chBrw),
			edit: setJSON("acctNumber", "400000000000100A"), code: 203, detail: "acctNumber"},
		{name: "a numeric element that is too short is 203", msg: sampleAReq(ver220, chBrw),
			edit: setJSON("acctNumber", "400000000000"), code: 203, detail: "acctNumber"},
		{name: "a string over its maximum length is 203", msg: sampleAReq(ver220, chBrw),
			edit: setJSON("merchantName", strings.Repeat("x", 41)), code: 203, detail: "merchantName"},
		{name: "a string counts characters, not bytes", msg: sampleAReq(ver220, chBrw),
			edit: setJSON("merchantName", strings.Repeat("é", 40))},
		{name: "a value outside its list is 203", msg: sampleAReq(ver220, chBrw),
			edit: setJSON("messageCategory", "03"), code: 203, detail: "messageCategory"},
		{name: "a DS-reserved code is accepted", msg: sampleAReq(ver220, chBrw), edit: setJSON("acctType", "85")},
		{name: "a malformed UUID is 203", msg: sampleAReq(ver220, chBrw),
			edit: setJSON("threeDSServerTransID", "8a880dc0d2d24067bcb1b08d1690b26e"), code: 203, detail: "threeDSServerTransID"},
		{name: "an upper-case UUID is accepted", msg: sampleAReq(ver220, chBrw),
			edit: setJSON("threeDSServerTransID", strings.ToUpper(sampleServerID))},
		{name: "a URL without a scheme is 203", msg: sampleAReq(ver220, chBrw),
			edit: setJSON("threeDSRequestorURL", "shop.example/"), code: 203, detail: "threeDSRequestorURL"},
		{name: "an ftp URL is 203", msg: sampleAReq(ver220, chBrw),
			edit: setJSON("threeDSServerURL", "ftp://3dss.example/"), code: 203, detail: "threeDSServerURL"},
		{name: "an http acsURL is 203 in 2.3.1", msg: sampleChallengeARes(ver231, chBrw),
			edit: setJSON("acsURL", "http://acs.example/c"), code: 203, detail: "acsURL"},
		{name: "an http acsURL is accepted in 2.2.0", msg: sampleChallengeARes(ver220, chBrw),
			edit: setJSON("acsURL", "http://acs.example/c")},
		{name: "a date that is not in the calendar is 203", msg: sampleAReq(ver220, chBrw),
			edit: setJSON("acctInfo.chAccDate", "20230229"), code: 203, detail: "acctInfo.chAccDate"},
		{name: "a leap day is a date", msg: sampleAReq(ver220, chBrw), edit: setJSON("acctInfo.chAccDate", "20240229")},
		{name: "an expiry month 13 is 203", msg: sampleAReq(ver220, chBrw),
			edit: setJSON("cardExpiryDate", "2513"), code: 203, detail: "cardExpiryDate"},
		{name: "a purchase date at hour 24 is 203", msg: sampleAReq(ver220, chBrw),
			edit: setJSON("purchaseDate", "20250131240000"), code: 203, detail: "purchaseDate"},
		{name: "a minute timestamp with seconds is 203", msg: sampleAReq(ver220, chBrw),
			edit: setJSON("threeDSRequestorAuthenticationInfo", map[string]any{"threeDSReqAuthMethod": "02", "threeDSReqAuthTimestamp": "20250131120000"}),
			code: 203, detail: "threeDSRequestorAuthenticationInfo.threeDSReqAuthTimestamp"},
		{name: "a boolean sent as a string is 203", msg: sampleAReq(ver220, chBrw),
			edit: setJSON("browserJavaEnabled", "false"), code: 203, detail: "browserJavaEnabled"},
		{name: "a number where a string belongs is 203", msg: sampleAReq(ver220, chBrw),
			edit: setJSON("purchaseAmount", 1999), code: 203, detail: "purchaseAmount"},
		{name: "an object sent as a string is 203", msg: sampleAReq(ver220, chBrw),
			edit: setJSON("acctInfo", "old customer"), code: 203, detail: "acctInfo"},
		{name: "an array sent as a string is 203", msg: sampleAReq(ver220, chApp),
			edit: setJSON("deviceRenderOptions.sdkUiType", "01"), code: 203, detail: "deviceRenderOptions.sdkUiType"},
		{name: "an array item outside its list is 203", msg: sampleAReq(ver220, chApp),
			edit: setJSON("deviceRenderOptions.sdkUiType", []any{"01", "06"}), code: 203, detail: "deviceRenderOptions.sdkUiType"},
		{name: "a JWS with two parts is 203", msg: sampleChallengeARes(ver220, chApp), ctx: ctxOf(sampleAReq(ver220, chApp)),
			edit: setJSON("acsSignedContent", "eyJhbGciOiJQUzI1NiJ9.eyJ9"), code: 203, detail: "acsSignedContent"},
		{name: "sdkEncData that is not a JWE is left to the DS's decryption (302 there)", msg: sampleAReq(ver220, chApp),
			edit: setJSON("sdkEncData", "eyJhbGciOiJkaXIifQ==..aXY.Y2lwaGVy.dGFn")},
		{name: "sdkEncData over 64,000 characters is 203", msg: sampleAReq(ver220, chApp),
			edit: setJSON("sdkEncData", strings.Repeat("A", 64001)), code: 203, detail: "sdkEncData"},
		{name: "an app AReq without sdkEncData is 201", msg: sampleAReq(ver220, chApp),
			edit: delJSON("sdkEncData"), code: 201, detail: "sdkEncData"},
		{name: "an app AReq from the DS carries deviceInfo in place of sdkEncData", msg: sampleAReq(ver220, chApp),
			edit: edits(delJSON("sdkEncData"), setJSON("deviceInfo", "eyJEViI6IjEuNyIsIkREIjp7fX0"))},
		{name: "deviceInfo may be the device-information object itself", msg: sampleAReq(ver231, chApp),
			edit: edits(delJSON("sdkEncData"), setJSON("deviceInfo", map[string]any{"DV": "1.7", "DD": map[string]any{}}))},
		{name: "an EC key without coordinates is 203", msg: sampleAReq(ver220, chApp),
			edit: setJSON("sdkEphemPubKey", map[string]any{"kty": "EC", "crv": "P-256"}), code: 203, detail: "sdkEphemPubKey"},
		{name: "an authentication value that is not base64 is 203", msg: sampleARes(ver220),
			edit: setJSON("authenticationValue", "AAABBBCCCDDDEEEFFFGGGHHH-II="), code: 203, detail: "authenticationValue"},
		{name: "an authentication value of 27 characters is 203", msg: sampleARes(ver220),
			edit: setJSON("authenticationValue", "AAABBBCCCDDDEEEFFFGGGHHHIII"), code: 203, detail: "authenticationValue"},
		{name: "a long authentication value is accepted in 2.3.1", msg: sampleARes(ver231),
			edit: setJSON("authenticationValue", strings.Repeat("kQ", 100))},
		{name: "acsHTML that is not base64url is 203", msg: sampleScreenCRes(ver220),
			edit: setJSON("acsHTML", "<html>"), code: 203, detail: "acsHTML"},
		{name: "an IP address out of range is 203", msg: sampleAReq(ver220, chBrw),
			edit: setJSON("browserIP", "192.0.2.256"), code: 203, detail: "browserIP"},
		{name: "an IPv6 address is accepted", msg: sampleAReq(ver220, chBrw), edit: setJSON("browserIP", "2001:db8::1")},
		{name: "a time-zone offset of five digits is 203", msg: sampleAReq(ver220, chBrw),
			edit: setJSON("browserTZ", "+12345"), code: 203, detail: "browserTZ"},
		{name: "a protocol version without its patch number is 203", msg: samplePRes(ver220),
			edit: setJSON("dsStartProtocolVersion", "2.2"), code: 203, detail: "dsStartProtocolVersion"},
		{name: "a select option whose label is not a string is 203", msg: sampleCRes(ver220, chApp),
			edit: setJSON("challengeSelectInfo", []any{map[string]any{"1": 2}}), code: 203, detail: "challengeSelectInfo"},
		{name: "a select option with a blank label is 203", msg: sampleCRes(ver220, chApp),
			edit: setJSON("challengeSelectInfo", []any{map[string]any{"1": " "}}), code: 203, detail: "challengeSelectInfo"},
		{name: "an element of open shape is passed on as is in 2.3.1", msg: sampleAReq(ver231, chBrw),
			edit: setJSON("broadInfo", map[string]any{"message": map[string]any{"text": "hello"}})},
		{name: "an element of open shape is 203 in a version without it", msg: sampleAReq(ver220, chBrw),
			edit: setJSON("broadInfo", map[string]any{"message": "hello"}), code: 203, detail: "broadInfo"},
		{name: "a seller named by its id alone is accepted in 2.3.1", msg: sampleAReq(ver231, chBrw),
			edit: setJSON("sellerInfo", []any{map[string]any{"sellerId": "s-1"}})},
		{name: "sellerInfo is 203 in 2.2.0, which lacks it", msg: sampleAReq(ver220, chBrw),
			edit: setJSON("sellerInfo", []any{map[string]any{"sellerId": "s-1"}}), code: 203, detail: "sellerInfo"},
		{name: "sellerInfo as one object rather than an array is 203", msg: sampleAReq(ver231, chBrw),
			edit: setJSON("sellerInfo", map[string]any{"sellerId": "s-1"}), code: 203, detail: "sellerInfo"},
		{name: "a seller's country that is not three digits is 203 naming it", msg: sampleAReq(ver231, chBrw),
			edit: setJSON("sellerInfo", []any{map[string]any{"sellerId": "s-1"}, map[string]any{"sellerName": "B", "sellerAddrCountry": "FR"}}),
			code: 203, detail: "sellerInfo.sellerAddrCountry"},
		{name: "51 sellers are 203", msg: sampleAReq(ver231, chBrw),
			edit: setJSON("sellerInfo", sellers(51)), code: 203, detail: "sellerInfo"},
		{name: "a multi-transaction AV usable 1000 times is 203", msg: sampleAReq(ver231, chBrw),
			edit: setJSON("multiTransaction", map[string]any{"avNumberUse": "1000"}), code: 203, detail: "multiTransaction.avNumberUse"},
		{name: "a listed merchant without its name is 201", msg: sampleAReq(ver231, chBrw),
			edit: setJSON("multiTransaction", map[string]any{"merchantList": []any{map[string]any{"merchantAmount": "100"}}}),
			code: 201, detail: "multiTransaction.merchantList.merchantNameListed"},
		{name: "an empty multiTransaction is 203", msg: sampleAReq(ver231, chBrw),
			edit: setJSON("multiTransaction", map[string]any{}), code: 203, detail: "multiTransaction"},
		{name: "multiTransaction is 203 in 2.2.0", msg: sampleAReq(ver220, chBrw),
			edit: setJSON("multiTransaction", map[string]any{"avNumberUse": "2"}), code: 203, detail: "multiTransaction"},
		{name: "a device binding status in the reserved range is 203", msg: sampleAReq(ver231, chBrw),
			edit: setJSON("deviceBindingStatus", "07"), code: 203, detail: "deviceBindingStatus"},
		{name: "an SPC incompletion reason other than 01 and 02 is 203", msg: sampleAReq(ver231, chBrw),
			edit: setJSON("spcIncompInd", "03"), code: 203, detail: "spcIncompInd"},
		{name: "SPC support other than Y is 203", msg: sampleAReq(ver231, chBrw),
			edit: setJSON("threeDSRequestorSpcSupport", "N"), code: 203, detail: "threeDSRequestorSpcSupport"},
		{name: "SPC support is 203 in 2.2.0", msg: sampleAReq(ver220, chBrw),
			edit: setJSON("threeDSRequestorSpcSupport", "Y"), code: 203, detail: "threeDSRequestorSpcSupport"},
		{name: "a tax id of 46 characters is 203", msg: sampleAReq(ver231, chBrw),
			edit: setJSON("taxId", strings.Repeat("9", 46)), code: 203, detail: "taxId"},
		{name: "a prior authentication by SPC (05) is accepted in 2.3.1", msg: sampleAReq(ver231, chBrw),
			edit: setJSON("threeDSRequestorPriorAuthenticationInfo", []any{map[string]any{"threeDSReqPriorAuthMethod": "05", "threeDSReqPriorAuthTimestamp": "202503141012"}})},
		{name: "a prior authentication by SPC (05) is 203 in 2.2.0", msg: sampleAReq(ver220, chBrw),
			edit: setJSON("threeDSRequestorPriorAuthenticationInfo", map[string]any{"threeDSReqPriorAuthMethod": "05", "threeDSReqPriorAuthTimestamp": "202503141012"}),
			code: 203, detail: "threeDSRequestorPriorAuthenticationInfo.threeDSReqPriorAuthMethod"},
		{name: "a tax id is 203 in 2.2.0", msg: sampleAReq(ver220, chBrw),
			edit: setJSON("taxId", "FR40303265045"), code: 203, detail: "taxId"},
		{name: "an element of open shape over its size is 203", msg: sampleAReq(ver220, chApp),
			edit: setJSON("deviceInfo", strings.Repeat("A", 64000)), code: 203, detail: "deviceInfo"},
		{name: "extension data that is not an object is 203", msg: samplePReq(ver220),
			edit: setJSON("messageExtension", []any{map[string]any{"name": "x", "id": "A0-1", "criticalityIndicator": false, "data": "x"}}),
			code: 203, detail: "messageExtension.data"},
	})
}

func TestPresenceDependsOnChannelCategoryAndVersion(t *testing.T) {
	npa := sampleAReq(ver220, chBrw)
	npa.MessageCategory = emv.CategoryNonPayment
	paAReq := sampleAReq(ver220, chBrw)
	runDictCases(t, []dictCase{
		{name: "a required element that is absent is 201", msg: sampleAReq(ver220, chBrw),
			edit: delJSON("acctNumber"), code: 201, detail: "acctNumber"},
		{name: "a required element that is null is 201", msg: sampleAReq(ver220, chBrw),
			edit: setJSON("acctNumber", nil), code: 201, detail: "acctNumber"},
		{name: "a required element that is white space is 201", msg: sampleAReq(ver220, chBrw),
			edit: setJSON("acctNumber", "  "), code: 201, detail: "acctNumber"},
		{name: "a required object that is empty is 201", msg: sampleAReq(ver220, chApp),
			edit: setJSON("deviceRenderOptions", map[string]any{}), code: 201, detail: "deviceRenderOptions"},
		{name: "a required member of an object is 201 by its path", msg: sampleAReq(ver220, chApp),
			edit: delJSON("deviceRenderOptions.sdkInterface"), code: 201, detail: "deviceRenderOptions.sdkInterface"},
		{name: "an optional element that is an empty string is 203", msg: sampleAReq(ver220, chBrw),
			edit: setJSON("acctID", ""), code: 203, detail: "acctID"},
		{name: "an optional element that is null is 203", msg: sampleAReq(ver220, chBrw),
			edit: setJSON("acctID", nil), code: 203, detail: "acctID"},
		{name: "every missing element is listed in dictionary order", msg: sampleAReq(ver220, chBrw),
			edit: edits(delJSON("acctNumber"), delJSON("merchantName"), delJSON("threeDSServerURL")),
			code: 201, detail: "threeDSServerURL,merchantName,acctNumber"},
		{name: "a payment needs its purchase amount", msg: sampleAReq(ver220, chBrw),
			edit: delJSON("purchaseAmount"), code: 201, detail: "purchaseAmount"},
		{name: "a non-payment does without a purchase amount", msg: npa, edit: delJSON("purchaseAmount")},
		{name: "a browser AReq needs its notification URL", msg: sampleAReq(ver220, chBrw),
			edit: delJSON("notificationURL"), code: 201, detail: "notificationURL"},
		{name: "an app AReq needs its SDK transaction id", msg: sampleAReq(ver220, chApp),
			edit: delJSON("sdkTransID"), code: 201, detail: "sdkTransID"},
		{name: "an app AReq does without browser data", msg: sampleAReq(ver220, chApp), edit: delJSON("browserUserAgent")},
		{name: "a 3RI AReq needs its 3RI indicator", msg: sampleAReq(ver220, ch3RI),
			edit: delJSON("threeRIInd"), code: 201, detail: "threeRIInd"},
		{name: "a 2.1.0 browser AReq needs the screen height", msg: sampleAReq(ver210, chBrw),
			edit: delJSON("browserScreenHeight"), code: 201, detail: "browserScreenHeight"},
		{name: "a 2.2.0 browser AReq without JavaScript does without the screen height", msg: sampleAReq(ver220, chBrw),
			edit: edits(setJSON("browserJavascriptEnabled", false), delJSON("browserScreenHeight"))},
		{name: "a 2.3.1 browser AReq without JavaScript does without the language", msg: sampleAReq(ver231, chBrw),
			edit: edits(setJSON("browserJavascriptEnabled", false), delJSON("browserLanguage"))},
		{name: "an ARes for a payment needs its transStatus", msg: sampleARes(ver220), ctx: ctxOf(paAReq),
			edit: delJSON("transStatus"), code: 201, detail: "transStatus"},
		{name: "an ARes for a non-payment does without transStatus", msg: sampleARes(ver220), ctx: ctxOf(npa),
			edit: edits(delJSON("transStatus"), delJSON("authenticationValue"), delJSON("eci"))},
		{name: "an ARes of unknown category does without transStatus", msg: sampleARes(ver220),
			edit: edits(delJSON("transStatus"), delJSON("authenticationValue"), delJSON("eci"))},
		{name: "an ARes with an sdkTransID is taken for an app one", msg: sampleARes(ver231),
			edit: setJSON("sdkTransID", sampleSDKID), code: 201, detail: "deviceInfoRecognisedVersion,threeDSRequestorAppURLInd"},
		{name: "a browser CReq needs its window size", msg: sampleCReq(ver220, chBrw),
			edit: delJSON("challengeWindowSize"), code: 201, detail: "challengeWindowSize"},
		{name: "an app CReq needs its counter", msg: sampleCReq(ver220, chApp),
			edit: delJSON("sdkCounterStoA"), code: 201, detail: "sdkCounterStoA"},
		{name: "an app CReq counter has three digits", msg: sampleCReq(ver220, chApp),
			edit: setJSON("sdkCounterStoA", "1"), code: 203, detail: "sdkCounterStoA"},
		{name: "an RReq needs its category", msg: sampleRReq(ver220),
			edit: delJSON("messageCategory"), code: 201, detail: "messageCategory"},
		{name: "a 2.3.1 Erro needs errorMessageType", msg: sampleErro(ver231),
			edit: delJSON("errorMessageType"), code: 201, detail: "errorMessageType"},
		{name: "a 2.2.0 Erro does without errorMessageType", msg: sampleErro(ver220), edit: delJSON("errorMessageType")},
	})
}

func TestVersionDifferencesAreEnforced(t *testing.T) {
	runDictCases(t, []dictCase{
		{name: "browserJavascriptEnabled does not exist in 2.1.0", msg: sampleAReq(ver210, chBrw),
			edit: setJSON("browserJavascriptEnabled", true), code: 203, detail: "browserJavascriptEnabled"},
		{name: "the decoupled request does not exist in 2.1.0", msg: sampleAReq(ver210, chBrw),
			edit: setJSON("threeDSRequestorDecReqInd", "N"), code: 203, detail: "threeDSRequestorDecReqInd"},
		{name: "whiteListStatus is renamed in 2.3.1", msg: sampleAReq(ver231, chBrw),
			edit: setJSON("whiteListStatus", "Y"), code: 203, detail: "whiteListStatus"},
		{name: "trustListStatus does not exist in 2.2.0", msg: sampleAReq(ver220, chBrw),
			edit: setJSON("trustListStatus", "Y"), code: 203, detail: "trustListStatus"},
		{name: "transStatusReason 22 does not exist in 2.1.0", msg: sampleARes(ver210),
			edit: edits(setJSON("transStatus", "U"), setJSON("transStatusReason", "22")), code: 203, detail: "transStatusReason"},
		{name: "transStatusReason 26 exists in 2.2.0", msg: sampleARes(ver220),
			edit: edits(setJSON("transStatus", "U"), setJSON("transStatusReason", "26"))},
		{name: "transStatusReason 27 does not exist in 2.2.0", msg: sampleARes(ver220),
			edit: edits(setJSON("transStatus", "U"), setJSON("transStatusReason", "27")), code: 203, detail: "transStatusReason"},
		{name: "transStatusReason 30 exists in 2.3.1", msg: sampleARes(ver231),
			edit: edits(setJSON("transStatus", "U"), setJSON("transStatusReason", "30"))},
		{name: "transStatus D does not exist in 2.1.0", msg: sampleARes(ver210),
			edit: setJSON("transStatus", "D"), code: 203, detail: "transStatus"},
		{name: "transStatus S does not exist in 2.2.0", msg: sampleARes(ver220),
			edit: setJSON("transStatus", "S"), code: 203, detail: "transStatus"},
		{name: "an RReq never reports C", msg: sampleRReq(ver220),
			edit: setJSON("transStatus", "C"), code: 203, detail: "transStatus"},
		{name: "a final CRes never reports A", msg: sampleCRes(ver220, chBrw),
			edit: setJSON("transStatus", "A"), code: 203, detail: "transStatus"},
		{name: "challenge indicator 05 does not exist in 2.1.0", msg: sampleAReq(ver210, chBrw),
			edit: setJSON("threeDSRequestorChallengeInd", "05"), code: 203, detail: "threeDSRequestorChallengeInd"},
		{name: "authenticationType 04 does not exist in 2.1.0", msg: sampleRReq(ver210),
			edit: setJSON("authenticationType", "04"), code: 203, detail: "authenticationType"},
		{name: "authenticationType is replaced in 2.3.1", msg: sampleRReq(ver231),
			edit: setJSON("authenticationType", "02"), code: 203, detail: "authenticationType"},
		{name: "authenticationMethod does not exist in 2.2.0", msg: sampleRReq(ver220),
			edit: setJSON("authenticationMethod", []any{"02"}), code: 203, detail: "authenticationMethod"},
		{name: "challengeCancel 03 does not exist in 2.1.0", msg: sampleRReq(ver210),
			edit: setJSON("challengeCancel", "03"), code: 203, detail: "challengeCancel"},
		{name: "a 2.1.0 RReq needs its interaction counter", msg: sampleRReq(ver210),
			edit: delJSON("interactionCounter"), code: 201, detail: "interactionCounter"},
		{name: "a 2.2.0 RReq does without its interaction counter", msg: sampleRReq(ver220), edit: delJSON("interactionCounter")},
		{name: "the RReq has no sdkTransID in 2.1.0", msg: sampleRReq(ver210),
			edit: setJSON("sdkTransID", sampleSDKID), code: 203, detail: "sdkTransID"},
		{name: "the CReq has no requestor app URL in 2.1.0", msg: sampleCReq(ver210, chApp),
			edit: setJSON("threeDSRequestorAppURL", "https://shop.example/app"), code: 203, detail: "threeDSRequestorAppURL"},
		{name: "threeRIInd 06 does not exist in 2.1.0", msg: sampleAReq(ver210, ch3RI),
			edit: setJSON("threeRIInd", "06"), code: 203, detail: "threeRIInd"},
		{name: "error code 205 does not exist before 2.3.1", msg: sampleErro(ver220),
			edit: setJSON("errorCode", "205"), code: 203, detail: "errorCode"},
	})
}

func TestTwoShapeElementsFollowTheVersion(t *testing.T) {
	runDictCases(t, []dictCase{
		{name: "the challenge indicator is an array in 2.3.1", msg: sampleAReq(ver231, chBrw),
			edit: setJSON("threeDSRequestorChallengeInd", []any{"01", "14"})},
		{name: "a single challenge indicator is 203 in 2.3.1", msg: sampleAReq(ver231, chBrw),
			edit: setJSON("threeDSRequestorChallengeInd", "01"), code: 203, detail: "threeDSRequestorChallengeInd"},
		{name: "an array of challenge indicators is 203 in 2.2.0", msg: sampleAReq(ver220, chBrw),
			edit: setJSON("threeDSRequestorChallengeInd", []any{"01"}), code: 203, detail: "threeDSRequestorChallengeInd"},
		{name: "an empty array of challenge indicators is 203", msg: sampleAReq(ver231, chBrw),
			edit: setJSON("threeDSRequestorChallengeInd", []any{}), code: 203, detail: "threeDSRequestorChallengeInd"},
		{name: "a challenge indicator 15 is 203 in 2.3.1", msg: sampleAReq(ver231, chBrw),
			edit: setJSON("threeDSRequestorChallengeInd", []any{"01", "15"}), code: 203, detail: "threeDSRequestorChallengeInd"},
		{name: "prior authentication info items are checked member by member", msg: sampleAReq(ver231, chBrw),
			edit: setJSON("threeDSRequestorPriorAuthenticationInfo", []any{map[string]any{"threeDSReqPriorAuthMethod": "09", "threeDSReqPriorAuthTimestamp": "202501311200"}}),
			code: 203, detail: "threeDSRequestorPriorAuthenticationInfo.threeDSReqPriorAuthMethod"},
		{name: "an authentication info object is 203 in 2.3.1", msg: sampleAReq(ver231, chBrw),
			edit: setJSON("threeDSRequestorAuthenticationInfo", map[string]any{"threeDSReqAuthMethod": "02", "threeDSReqAuthTimestamp": "202501311200"}),
			code: 203, detail: "threeDSRequestorAuthenticationInfo"},
		{name: "cardholderInfo is an object in 2.3.1", msg: sampleARes(ver231),
			edit: setJSON("cardholderInfo", map[string]any{"text": "Call your bank", "issuerImage": "https://bank.example/logo.png"})},
		{name: "a cardholderInfo string is 203 in 2.3.1", msg: sampleARes(ver231),
			edit: setJSON("cardholderInfo", "Call your bank"), code: 203, detail: "cardholderInfo"},
		{name: "a cardholderInfo object is 203 in 2.2.0", msg: sampleARes(ver220),
			edit: setJSON("cardholderInfo", map[string]any{"text": "Call your bank"}), code: 203, detail: "cardholderInfo"},
		{name: "a cardholderInfo object needs its text", msg: sampleARes(ver231),
			edit: setJSON("cardholderInfo", map[string]any{"issuerImage": "https://bank.example/logo.png"}),
			code: 201, detail: "cardholderInfo.text"},
	})
}

func TestGoBuiltTwoShapeElementsKeepTheirShape(t *testing.T) {
	m := sampleAReq(ver231, chBrw)
	m.ThreeDSRequestorChallengeInd = emv.One("01")
	wantProtocolError(t, emv.Validate(m, nil), 203, "threeDSRequestorChallengeInd")

	r := sampleARes(ver231)
	r.CardholderInfo = emv.CardholderInfo{Text: "Call your bank", Object: true}
	if err := emv.Validate(r, nil); err != nil {
		t.Fatalf("an object cardholderInfo in 2.3.1: %v", err)
	}
	if got := string(encode(t, r)); !strings.Contains(got, `"cardholderInfo":{"text":"Call your bank"}`) {
		t.Fatalf("cardholderInfo encoded as %s", got)
	}
	r.CardholderInfo.Object = false
	wantProtocolError(t, emv.Validate(r, nil), 203, "cardholderInfo")
}

// The demo's development switch lets an http acsURL to this machine through in 2.3.1, and nothing else.
// It changes process-wide state, so the test does not run in parallel with others.
func TestAllowLoopbackHTTPAcceptsOnlyLoopbackHosts(t *testing.T) {
	emv.AllowLoopbackHTTP(true)
	defer emv.AllowLoopbackHTTP(false)
	runDictCases(t, []dictCase{
		{name: "http://localhost is accepted", msg: sampleChallengeARes(ver231, chBrw), edit: setJSON("acsURL", "http://localhost:8402/challenge")},
		{name: "http://127.0.0.1 is accepted", msg: sampleChallengeARes(ver231, chBrw), edit: setJSON("acsURL", "http://127.0.0.1:8402/challenge")},
		{name: "http://[::1] is accepted", msg: sampleChallengeARes(ver231, chBrw), edit: setJSON("acsURL", "http://[::1]:8402/challenge")},
		{name: "any other http host is still 203", msg: sampleChallengeARes(ver231, chBrw),
			edit: setJSON("acsURL", "http://acs.example/c"), code: 203, detail: "acsURL"},
		{name: "a name ending in localhost is still 203", msg: sampleChallengeARes(ver231, chBrw),
			edit: setJSON("acsURL", "http://localhost.example/c"), code: 203, detail: "acsURL"},
	})
}

// sellers returns n seller objects.
func sellers(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = map[string]any{"sellerId": fmt.Sprintf("s-%d", i)}
	}
	return out
}
