package emv_test

import (
	"strings"
	"testing"

	"github.com/open3ds/open3ds/internal/emv"
)

// rawCase is a message given as JSON text, for what a Go map cannot express: repeated keys, malformed
// JSON, key order.
type rawCase struct {
	name   string
	json   string
	code   emv.Code
	detail string
}

func runRawCases(t *testing.T, parse func([]byte) (emv.Message, error), cases []rawCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse([]byte(tc.json))
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

func parseAnyType(b []byte) (emv.Message, error) { return emv.Parse(b, nil) }

// rresJSON is a valid 2.2.0 RRes with extra members spliced in before the closing brace.
func rresJSON(extra string) string {
	s := `{"messageType":"RRes","messageVersion":"2.2.0","threeDSServerTransID":"` + sampleServerID +
		`","acsTransID":"` + sampleACSID + `","dsTransID":"` + sampleDSID + `","resultsStatus":"01"`
	if extra != "" {
		s += "," + extra
	}
	return s + "}"
}

func TestEnvelopeErrorsComeFirst(t *testing.T) {
	runRawCases(t, parseAnyType, []rawCase{
		{name: "text that is not JSON is 101", json: `{"messageType":"AReq",`, code: 101, detail: "message is not valid JSON"},
		{name: "trailing text after the object is 101", json: rresJSON("") + "x", code: 101, detail: "message is not valid JSON"},
		{name: "a JSON array is 101", json: `[` + rresJSON("") + `]`, code: 101, detail: "message is not a JSON object"},
		{name: "a missing messageType is 101", json: `{"messageVersion":"2.2.0"}`, code: 101, detail: "messageType"},
		{name: "an unknown messageType is 101", json: `{"messageType":"OReq","messageVersion":"2.3.1"}`, code: 101, detail: "messageType"},
		{name: "a messageType that is not a string is 101", json: `{"messageType":1,"messageVersion":"2.2.0"}`, code: 101, detail: "messageType"},
		{name: "a missing messageVersion is 102", json: `{"messageType":"RRes"}`, code: 102, detail: "messageVersion"},
		{name: "version 2.3.0 is 102", json: strings.Replace(rresJSON(""), "2.2.0", "2.3.0", 1), code: 102, detail: "messageVersion"},
		{name: "a numeric messageVersion is 102", json: strings.Replace(rresJSON(""), `"2.2.0"`, `2.2`, 1), code: 102, detail: "messageVersion"},
		{name: "an unsupported version wins over a repeated key", json: strings.Replace(rresJSON(`"resultsStatus":"02"`), "2.2.0", "1.0.2", 1),
			code: 102, detail: "messageVersion"},
		{name: "invalid UTF-8 is 101", json: rresJSON(`"x":"` + "\xff" + `"`), code: 101, detail: "message is not valid JSON"},
		{name: "a raw control character in a string is 101", json: rresJSON("\"x\":\"a\tb\""), code: 101, detail: "message is not valid JSON"},
		{name: "a malformed number is 101", json: rresJSON(`"x":01`), code: 101, detail: "message is not valid JSON"},
		{name: "nesting deeper than any message is 101", json: rresJSON(`"x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100)),
			code: 101, detail: "message is not valid JSON"},
		{name: "escapes and surrogate pairs decode", json: rresJSON(`"x":"\u00e9\ud83d\ude00\n\"\\\/"`)},
		{name: "white space around the message is allowed", json: " \n\t" + rresJSON("") + "\r\n"},
	})
}

func TestParseAsTakesOneType(t *testing.T) {
	data := encode(t, sampleRRes(ver220))
	if _, err := emv.ParseAs(data, emv.TypeRRes, nil); err != nil {
		t.Fatalf("ParseAs RRes: %v", err)
	}
	pe := wantProtocolError(t, errOf(emv.ParseAs(data, emv.TypeRReq, nil)), 101, "messageType")
	if pe.MessageType != emv.TypeRRes || pe.ThreeDSServerTransID != sampleServerID {
		t.Fatalf("the 101 carries type %q and id %q, want what was readable", pe.MessageType, pe.ThreeDSServerTransID)
	}
	wantProtocolError(t, errOf(emv.ParseAs(data, "Nonsense", nil)), 101, "messageType")
}

func errOf(_ emv.Message, err error) error { return err }

func TestRepeatedKeysAre204AtAnyDepth(t *testing.T) {
	runRawCases(t, parseAnyType, []rawCase{
		{name: "a repeated top-level key is 204", json: rresJSON(`"resultsStatus":"02"`), code: 204, detail: "resultsStatus"},
		{name: "a repeated key inside an extension's data is 204",
			json: rresJSON(`"messageExtension":[{"name":"n","id":"A0-1","criticalityIndicator":false,"data":{"a":{"b":1,"b":2}}}]`),
			code: 204, detail: "messageExtension.data.a.b"},
		{name: "a repeated key under an unknown key is 204", json: rresJSON(`"x":{"y":1,"y":1}`), code: 204, detail: "x.y"},
		{name: "two repeated keys are both named", json: rresJSON(`"acsTransID":"` + sampleACSID + `","dsTransID":"` + sampleDSID + `"`),
			code: 204, detail: "acsTransID,dsTransID"},
		{name: "a repeated key wins over a missing element", json: `{"messageType":"RRes","messageVersion":"2.2.0","a":1,"a":1}`,
			code: 204, detail: "a"},
	})
	// Past 128 members the scanner switches from a linear look to a set; repeats must still be found.
	var b strings.Builder
	for i := 0; i < 200; i++ {
		b.WriteString(`"k` + strings.Repeat("x", i) + `":1,`)
	}
	runRawCases(t, parseAnyType, []rawCase{
		{name: "a repeated key in a large object is 204", json: rresJSON(b.String() + `"kxxx":2`), code: 204, detail: "kxxx"},
	})
}

func TestUnknownKeysAreIgnoredButNotKnownNamesInOtherCapitals(t *testing.T) {
	runRawCases(t, parseAnyType, []rawCase{
		{name: "an unknown key is ignored", json: rresJSON(`"vendorField":{"a":1}`)},
		{name: "a known name in other capitals is 203", json: rresJSON(`"ResultsStatus":"02"`), code: 203, detail: "ResultsStatus"},
		{name: "a known name with a long s is 203", json: rresJSON(`"re` + "ſ" + `ultsStatus":"02"`), code: 203, detail: "re" + "ſ" + "ultsStatus"},
	})
	m, err := emv.Parse([]byte(rresJSON(`"vendorField":"x"`)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(encode(t, m)); strings.Contains(got, "vendorField") {
		t.Fatalf("the unknown key survived the round trip: %s", got)
	}
}

func TestErrorsCarryWhatWasReadable(t *testing.T) {
	m := sampleARes(ver220)
	m.SDKTransID = "not-a-uuid"
	_, err := emv.Parse(encode(t, m), nil)
	pe := wantProtocolError(t, err, 203, "sdkTransID")
	if pe.MessageType != emv.TypeARes || pe.MessageVersion != ver220 {
		t.Fatalf("type and version = %q %q", pe.MessageType, pe.MessageVersion)
	}
	if pe.ThreeDSServerTransID != sampleServerID || pe.ACSTransID != sampleACSID || pe.DSTransID != sampleDSID {
		t.Fatalf("ids = %q %q %q, want the three well-formed ones", pe.ThreeDSServerTransID, pe.ACSTransID, pe.DSTransID)
	}
	if pe.SDKTransID != "" {
		t.Fatalf("a malformed sdkTransID was carried: %q", pe.SDKTransID)
	}
	erro := emv.ErroFor(err, emv.ComponentThreeDSServ, ver231)
	if erro.ErrorMessageType != emv.TypeARes || erro.MessageVersion != ver220 || erro.ErrorDetail != "sdkTransID" {
		t.Fatalf("ErroFor = %+v", erro)
	}
	if err := emv.Validate(erro, nil); err != nil {
		t.Fatalf("the Erro built from a parse error does not validate: %v", err)
	}
}

func TestErrorTextsNeverCarryCardData(t *testing.T) {
	m := sampleAReq(ver220, chBrw)
	m.AcctNumber = samplePAN + "12345" // 21 digits: too long
	_, err := emv.Parse(encode(t, m), nil)
	wantProtocolError(t, err, 203, "acctNumber")
	if strings.Contains(err.Error(), samplePAN) {
		t.Fatalf("the error text carries the card number: %v", err)
	}
}

func TestMessageExtensionsAreCountedAndCriticalOnesRecognised(t *testing.T) {
	ext := func(id string, critical bool) emv.MessageExtension {
		return emv.MessageExtension{Name: "ext", ID: id, CriticalityIndicator: critical, Data: []byte(`{"v":1}`)}
	}
	many := func(n int) []emv.MessageExtension {
		out := make([]emv.MessageExtension, n)
		for i := range out {
			out[i] = ext("A000000003-"+strings.Repeat("9", i+1), false)
		}
		return out
	}
	with := func(m *emv.PReq, e ...emv.MessageExtension) *emv.PReq { m.MessageExtension = e; return m }
	cases := []struct {
		name   string
		m      *emv.PReq
		code   emv.Code
		detail string
	}{
		{"an unrecognised critical extension is 202", with(samplePReq(ver220), ext("A0-1", false), ext("A0-2", true)), 202, "A0-2"},
		{"an unrecognised extension that is not critical is passed over", with(samplePReq(ver220), ext("A0-1", false)), 0, ""},
		{"a recognised critical extension is accepted", with(samplePReq(ver220), ext("A0-known", true)), 0, ""},
		{"eleven extensions are 203 in 2.2.0", with(samplePReq(ver220), many(11)...), 203, "messageExtension"},
		{"eleven extensions are accepted in 2.3.1", with(samplePReq(ver231), many(11)...), 0, ""},
		{"sixteen extensions are 203 in 2.3.1", with(samplePReq(ver231), many(16)...), 203, "messageExtension"},
		{"a format error wins over a critical extension", with(samplePReq(ver220), emv.MessageExtension{ID: "A0-2", CriticalityIndicator: true, Data: []byte(`{}`)}),
			201, "messageExtension.name,messageExtension.data"},
	}
	emv.RecognisedExtensions["A0-known"] = true
	defer delete(emv.RecognisedExtensions, "A0-known")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := emv.Parse(encode(t, tc.m), nil)
			if tc.code == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantProtocolError(t, err, tc.code, tc.detail)
		})
	}
	// An empty array cannot be built from Go (omitempty drops it), so it is written out.
	runRawCases(t, parseAnyType, []rawCase{
		{name: "an empty extension array is 203", json: rresJSON(`"messageExtension":[]`), code: 203, detail: "messageExtension"},
	})
}

func TestMarshalOmitsAbsentElementsAndStampsTheType(t *testing.T) {
	m := sampleAReq(ver220, chBrw)
	m.MessageType = "" // Marshal writes the Go type's name whatever the field says
	m.AcctID = ""
	got := string(encode(t, m))
	for _, want := range []string{`"messageType":"AReq"`, `?t=1&u=2`} {
		if !strings.Contains(got, want) {
			t.Errorf("Marshal output lacks %s: %s", want, got)
		}
	}
	for _, bad := range []string{`""`, `null`, `\u0026`, "\n"} {
		if strings.Contains(got, bad) {
			t.Errorf("Marshal output contains %q: %s", bad, got)
		}
	}
	if m.MessageType != "" {
		t.Errorf("Marshal changed the caller's message: messageType %q", m.MessageType)
	}
	if m.MessageType != "" {
		t.Errorf("Marshal changed the caller's message")
	}
	r := sampleARes(ver231)
	r.CardholderInfo = emv.CardholderInfo{Text: "Terms & <conditions>", Object: true}
	if got := string(encode(t, r)); !strings.Contains(got, `"text":"Terms & <conditions>"`) {
		t.Errorf("cardholderInfo text was escaped: %s", got)
	}
	var nilAReq *emv.AReq
	if _, err := emv.Marshal(nilAReq); err == nil {
		t.Errorf("Marshal took a nil message")
	}
	wantProtocolError(t, emv.Validate(nil, nil), 101, "messageType")
	broken := sampleAReq(ver220, chBrw)
	broken.ThreeDSRequestorChallengeInd = emv.OneOrMany[string]{Items: []string{"01", "02"}}
	if _, err := emv.Marshal(broken); err == nil {
		t.Errorf("Marshal took two values in the single-value form")
	}
}
