package emv_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/open3ds/open3ds/internal/emv"
)

// Builders of valid messages for the dictionary and rule tests. Each returns a fresh message that
// passes Validate; a test changes one thing and expects one error.

const (
	sampleServerID = "8a880dc0-d2d2-4067-bcb1-b08d1690b26e"
	sampleACSID    = "d7c1ee99-9478-44a6-b1f2-391e29c6b340"
	sampleDSID     = "f25084f0-5b16-4c0a-ae5d-b24808a95e4b"
	sampleSDKID    = "b2385523-a66c-4907-ac3c-91848e8c0067"
	sampleAppID    = "1f2c4c89-5b1a-4f53-9a3c-1c2b9f0e6a11"
	// samplePAN is a well-known test card number, not a real card.
	samplePAN = "4000000000001000"
)

func ptrTrue() *bool  { t := true; return &t }
func ptrFalse() *bool { f := false; return &f }

// sampleAReq is a payment AReq of the version and channel, with every element that channel requires.
func sampleAReq(version, channel string) *emv.AReq {
	m := &emv.AReq{
		MessageVersion:                    version,
		MessageCategory:                   emv.CategoryPayment,
		DeviceChannel:                     channel,
		ThreeDSServerTransID:              sampleServerID,
		ThreeDSServerRefNumber:            "3DS_LOA_SER_OPEN_020200_00001",
		ThreeDSServerURL:                  "https://3dss.example/rreq",
		ThreeDSRequestorID:                "requestor-1",
		ThreeDSRequestorName:              "Demo Shop",
		ThreeDSRequestorURL:               "https://shop.example/",
		ThreeDSRequestorAuthenticationInd: "01",
		AcquirerBIN:                       "400000",
		AcquirerMerchantID:                "merchant-1",
		MCC:                               "5411",
		MerchantCountryCode:               "826",
		MerchantName:                      "Demo Shop",
		AcctNumber:                        samplePAN,
		PurchaseAmount:                    "1999",
		PurchaseCurrency:                  "978",
		PurchaseExponent:                  "2",
		PurchaseDate:                      "20250131235959",
	}
	switch channel {
	case emv.ChannelBrowser:
		m.ThreeDSCompInd = "Y"
		m.NotificationURL = "https://3dss.example/notify?t=1&u=2"
		m.BrowserAcceptHeader = "text/html,application/xhtml+xml"
		m.BrowserIP = "192.0.2.10"
		m.BrowserJavaEnabled = ptrFalse()
		m.BrowserLanguage = "en-GB"
		m.BrowserColorDepth = "24"
		m.BrowserScreenHeight = "1080"
		m.BrowserScreenWidth = "1920"
		m.BrowserTZ = "-60"
		m.BrowserUserAgent = "Mozilla/5.0 (X11; Linux x86_64)"
		if version != emv.Version210 {
			m.BrowserJavascriptEnabled = ptrTrue()
		}
		if version == emv.Version231 {
			m.AcceptLanguage = []string{"en-GB", "en"}
		}
	case emv.ChannelApp:
		m.SDKAppID = sampleAppID
		m.SDKTransID = sampleSDKID
		m.SDKEncData = "eyJhbGciOiJkaXIifQ..aXY.Y2lwaGVy.dGFn"
		m.SDKEphemPubKey = json.RawMessage(`{"kty":"EC","crv":"P-256","x":"eA","y":"eQ"}`)
		m.SDKMaxTimeout = "05"
		m.SDKReferenceNumber = "3DS_LOA_SDK_OPEN_020200_00001"
		m.DeviceRenderOptions = &emv.DeviceRenderOptions{SDKInterface: "03", SDKUiType: []string{"01", "02", "05"}}
		if version == emv.Version231 {
			m.SDKType = "01"
			m.DefaultSDKType = &emv.DefaultSDKType{SDKVariant: "01"}
		}
	case emv.Channel3RI:
		// 2.1.0 knows 3RI only for non-payment; 05 is an account verification.
		m.MessageCategory = emv.CategoryNonPayment
		m.ThreeDSRequestorAuthenticationInd = ""
		m.ThreeRIInd = "05"
	}
	return m
}

// sampleARes is a frictionless browser ARes: Y with its authentication value and ECI.
func sampleARes(version string) *emv.ARes {
	m := &emv.ARes{
		MessageVersion:       version,
		ThreeDSServerTransID: sampleServerID,
		ACSTransID:           sampleACSID,
		DSTransID:            sampleDSID,
		ACSReferenceNumber:   "3DS_LOA_ACS_OPEN_020200_00001",
		DSReferenceNumber:    "DS_OPEN_01",
		TransStatus:          "Y",
		AuthenticationValue:  "AAABBBCCCDDDEEEFFFGGGHHHIII=",
		ECI:                  "05",
	}
	return m
}

// sampleChallengeARes is a browser (or, with sdkTransID, chApp) ARes asking for a challenge.
func sampleChallengeARes(version, channel string) *emv.ARes {
	m := sampleARes(version)
	m.TransStatus, m.AuthenticationValue, m.ECI = "C", "", ""
	m.ACSChallengeMandated = "N"
	if version == emv.Version231 {
		m.AuthenticationMethod = []string{"02"}
	} else {
		m.AuthenticationType = "02"
	}
	if channel == emv.ChannelApp {
		m.SDKTransID = sampleSDKID
		m.ACSRenderingType = &emv.ACSRenderingType{ACSInterface: "01", ACSUiTemplate: "01"}
		m.ACSSignedContent = "eyJhbGciOiJQUzI1NiJ9.eyJhY3NVUkwiOiJ4In0.c2ln"
		if version == emv.Version231 {
			m.DeviceInfoRecognisedVersion = "1.7"
			m.ThreeDSRequestorAppURLInd = "N"
		}
	} else {
		m.ACSURL = "https://acs.example/challenge"
	}
	return m
}

// sampleRReq is a payment RReq after a successful browser challenge.
func sampleRReq(version string) *emv.RReq {
	return &emv.RReq{
		MessageVersion:       version,
		ThreeDSServerTransID: sampleServerID,
		ACSTransID:           sampleACSID,
		DSTransID:            sampleDSID,
		MessageCategory:      emv.CategoryPayment,
		TransStatus:          "Y",
		AuthenticationType:   sampleAuthType(version),
		AuthenticationMethod: sampleAuthMethod(version),
		AuthenticationValue:  "AAABBBCCCDDDEEEFFFGGGHHHIII=",
		ECI:                  "05",
		InteractionCounter:   "01",
	}
}

func sampleAuthType(version string) string {
	if version == emv.Version231 {
		return ""
	}
	return "02"
}

func sampleAuthMethod(version string) []string {
	if version == emv.Version231 {
		return []string{"02"}
	}
	return nil
}

func sampleRRes(version string) *emv.RRes {
	return &emv.RRes{MessageVersion: version, ThreeDSServerTransID: sampleServerID, ACSTransID: sampleACSID, DSTransID: sampleDSID, ResultsStatus: "01"}
}

// sampleCReq is a browser CReq, or the first chApp CReq.
func sampleCReq(version, channel string) *emv.CReq {
	m := &emv.CReq{MessageVersion: version, ThreeDSServerTransID: sampleServerID, ACSTransID: sampleACSID}
	if channel == emv.ChannelApp {
		m.SDKTransID, m.SDKCounterStoA = sampleSDKID, "000"
	} else {
		m.ChallengeWindowSize = "05"
	}
	return m
}

// sampleCRes is the final CRes of a successful challenge.
func sampleCRes(version, channel string) *emv.CRes {
	m := &emv.CRes{MessageVersion: version, ThreeDSServerTransID: sampleServerID, ACSTransID: sampleACSID,
		ChallengeCompletionInd: "Y", TransStatus: "Y"}
	if channel == emv.ChannelApp {
		m.SDKTransID, m.ACSCounterAtoS = sampleSDKID, "000"
	}
	return m
}

func samplePReq(version string) *emv.PReq {
	return &emv.PReq{MessageVersion: version, ThreeDSServerTransID: sampleServerID, ThreeDSServerRefNumber: "3DS_LOA_SER_OPEN_020200_00001"}
}

func samplePRes(version string) *emv.PRes {
	return &emv.PRes{MessageVersion: version, ThreeDSServerTransID: sampleServerID, DSTransID: sampleDSID, SerialNum: "42",
		DSStartProtocolVersion: "2.1.0", DSEndProtocolVersion: "2.3.1",
		CardRangeData: []emv.CardRangeData{{StartRange: "4000000000000000", EndRange: "4000000000009999",
			ActionInd: "A", ACSStartProtocolVersion: "2.1.0", ACSEndProtocolVersion: "2.2.0",
			ThreeDSMethodURL: "https://acs.example/method"}}}
}

func sampleErro(version string) *emv.Erro {
	return &emv.Erro{MessageVersion: version, ThreeDSServerTransID: sampleServerID, ErrorCode: "203", ErrorComponent: "D",
		ErrorDescription: "Data element not in the required format or value is invalid", ErrorDetail: "acctNumber",
		ErrorMessageType: emv.TypeAReq}
}

// asMap turns a message into a generic JSON object that a test can change freely.
func asMap(tb testing.TB, m emv.Message) map[string]any {
	tb.Helper()
	b, err := emv.Marshal(m)
	if err != nil {
		tb.Fatalf("Marshal: %v", err)
	}
	var obj map[string]any
	if err := json.Unmarshal(b, &obj); err != nil {
		tb.Fatalf("Unmarshal: %v", err)
	}
	return obj
}

// editedJSON is the message's JSON after edit has changed its generic form.
func editedJSON(tb testing.TB, m emv.Message, edit func(map[string]any)) []byte {
	tb.Helper()
	obj := asMap(tb, m)
	edit(obj)
	b, err := json.Marshal(obj)
	if err != nil {
		tb.Fatalf("Marshal: %v", err)
	}
	return b
}

// wantProtocolError asserts that err is an *emv.Error with the code and detail.
func wantProtocolError(tb testing.TB, err error, code emv.Code, detail string) *emv.Error {
	tb.Helper()
	var pe *emv.Error
	if !errors.As(err, &pe) {
		tb.Fatalf("error = %v, want an *emv.Error %d %q", err, code, detail)
	}
	if pe.Code != code || pe.Detail != detail {
		tb.Fatalf("error = %d %q, want %d %q (%v)", pe.Code, pe.Detail, code, detail, pe.Err)
	}
	return pe
}

func encode(tb testing.TB, m emv.Message) []byte {
	tb.Helper()
	b, err := emv.Marshal(m)
	if err != nil {
		tb.Fatalf("Marshal: %v", err)
	}
	return b
}

// setJSON returns an edit that puts v at a dotted path, creating objects on the way.
func setJSON(path string, v any) func(map[string]any) {
	return func(obj map[string]any) {
		keys := strings.Split(path, ".")
		for _, k := range keys[:len(keys)-1] {
			next, ok := obj[k].(map[string]any)
			if !ok {
				next = map[string]any{}
				obj[k] = next
			}
			obj = next
		}
		obj[keys[len(keys)-1]] = v
	}
}

// delJSON returns an edit that removes the element at a dotted path.
func delJSON(path string) func(map[string]any) {
	return func(obj map[string]any) {
		keys := strings.Split(path, ".")
		for _, k := range keys[:len(keys)-1] {
			obj, _ = obj[k].(map[string]any)
		}
		delete(obj, keys[len(keys)-1])
	}
}

// edits applies several edits in turn.
func edits(edits ...func(map[string]any)) func(map[string]any) {
	return func(obj map[string]any) {
		for _, e := range edits {
			e(obj)
		}
	}
}
