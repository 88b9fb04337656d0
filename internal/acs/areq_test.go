package acs_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/open3ds/open3ds/internal/acs"
	"github.com/open3ds/open3ds/internal/emv"
)

// areq loads a valid sample AReq of the version and changes the fields given (nil deletes one).
func areq(tb testing.TB, version, sample string, set map[string]any) []byte {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "emv", "testdata", "valid", version, sample+".json"))
	if err != nil {
		tb.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		tb.Fatal(err)
	}
	m["dsTransID"] = "d2b3d9c9-22e8-49c1-965f-257e4c61034a"
	for k, v := range set {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	out, _ := json.Marshal(m)
	return out
}

// post sends body as the client c and parses the answer, which must be a valid ARes or Erro.
func post(tb testing.TB, c *http.Client, url string, body []byte) emv.Message {
	tb.Helper()
	resp, err := c.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("status %d: %s", resp.StatusCode, raw)
	}
	var head struct{ MessageType string }
	json.Unmarshal(raw, &head)
	if head.MessageType == emv.TypeErro {
		var e emv.Erro
		if err := json.Unmarshal(raw, &e); err != nil {
			tb.Fatal(err)
		}
		return &e
	}
	m, err := emv.ParseAs(raw, emv.TypeARes, nil)
	if err != nil {
		tb.Fatalf("answer is not a valid ARes: %v\n%s", err, raw)
	}
	return m
}

func TestAReqDecisions(t *testing.T) {
	e := newACS(t)
	cases := []struct {
		name                              string
		version, sample                   string
		set                               map[string]any
		status, reason, eci               string
		wantValue, wantURL, wantMethod231 bool
	}{
		{name: "an enrolled card with a small amount passes frictionless with a value and ECI 05",
			version: "2.2.0", sample: "areq-browser-pa", set: map[string]any{"acctNumber": panEnrolled},
			status: "Y", eci: "05", wantValue: true},
		{name: "a mastercard issuer's card passes with ECI 02",
			version: "2.2.0", sample: "areq-browser-pa", set: map[string]any{"acctNumber": panMastercard},
			status: "Y", eci: "02", wantValue: true},
		{name: "a high amount is challenged with the challenge URL",
			version: "2.2.0", sample: "areq-browser-pa", set: map[string]any{"acctNumber": panEnrolled, "purchaseAmount": "250000"},
			status: "C", wantURL: true},
		{name: "challenge indicator 04 mandates a challenge even at low risk",
			version: "2.2.0", sample: "areq-browser-pa", set: map[string]any{"acctNumber": panEnrolled, "threeDSRequestorChallengeInd": "04"},
			status: "C", wantURL: true},
		{name: "a decoupled request to an issuer that offers it is answered D when risk wants a challenge",
			version: "2.2.0", sample: "areq-browser-decoupled-pa", set: map[string]any{"acctNumber": panMastercard, "purchaseAmount": "250000"},
			status: "D"},
		{name: "a decoupled request to an issuer without it gets a browser challenge",
			version: "2.2.0", sample: "areq-browser-decoupled-pa", set: map[string]any{"acctNumber": panEnrolled, "purchaseAmount": "250000"},
			status: "C", wantURL: true},
		{name: "a 2.1.0 AReq passes frictionless too",
			version: "2.1.0", sample: "areq-browser-pa", set: map[string]any{"acctNumber": panEnrolled},
			status: "Y", eci: "05", wantValue: true},
		{name: "a 2.3.1 challenge names authenticationMethod 02",
			version: "2.3.1", sample: "areq-browser-pa", set: map[string]any{"acctNumber": panEnrolled, "purchaseAmount": "250000"},
			status: "C", wantURL: true, wantMethod231: true},
		{name: "a blocked card is rejected",
			version: "2.2.0", sample: "areq-browser-pa", set: map[string]any{"acctNumber": panBlocked},
			status: "R", reason: "12", eci: "07"},
		{name: "a card not enrolled is denied with reason 13",
			version: "2.2.0", sample: "areq-browser-pa", set: map[string]any{"acctNumber": panNotEnrolled},
			status: "N", reason: "13", eci: "07"},
		{name: "a card not enrolled at an attempts issuer gets attempts with ECI 01",
			version: "2.2.0", sample: "areq-browser-pa", set: map[string]any{"acctNumber": panAttempts},
			status: "A", eci: "01", wantValue: true},
		{name: "risk denial answers N with the engine's reason",
			version: "2.2.0", sample: "areq-browser-pa", set: map[string]any{"acctNumber": panEnrolled, "merchantName": "Fraud Shop"},
			status: "N", reason: "11", eci: "07"},
		{name: "an issuer whose keys are missing answers U with reason 22 rather than an invalid Y",
			version: "2.2.0", sample: "areq-browser-pa", set: map[string]any{"acctNumber": panNoKeys},
			status: "U", reason: "22"},
		{name: "data share only at low risk is informational",
			version: "2.2.0", sample: "areq-browser-pa", set: map[string]any{"acctNumber": panEnrolled, "threeDSRequestorChallengeInd": "06"},
			status: "I"},
		{name: "3RI with no prior reference never challenges: the issuer's policy says N",
			version: "2.2.0", sample: "areq-3ri-npa", set: map[string]any{"acctNumber": panEnrolled, "purchaseAmount": "250000",
				"threeDSRequestorPriorAuthenticationInfo": nil,
				"purchaseCurrency":                        "978", "purchaseExponent": "2", "purchaseDate": "20250314101530"},
			status: "N", reason: "21", eci: "07"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := post(t, e.ds, e.url, areq(t, c.version, c.sample, c.set))
			res, ok := m.(*emv.ARes)
			if !ok {
				t.Fatalf("got %+v, want an ARes", m)
			}
			if res.TransStatus != c.status || res.TransStatusReason != c.reason || res.ECI != c.eci {
				t.Errorf("got status %q reason %q eci %q, want %q %q %q", res.TransStatus, res.TransStatusReason, res.ECI, c.status, c.reason, c.eci)
			}
			if (res.AuthenticationValue != "") != c.wantValue {
				t.Errorf("authenticationValue present = %v, want %v", res.AuthenticationValue != "", c.wantValue)
			}
			if c.wantURL && res.ACSURL != "https://acs.example/challenge" {
				t.Errorf("acsURL = %q", res.ACSURL)
			}
			if c.wantMethod231 && (len(res.AuthenticationMethod) != 1 || res.AuthenticationMethod[0] != "02") {
				t.Errorf("authenticationMethod = %v", res.AuthenticationMethod)
			}
			tx, err := e.store.Transaction(t.Context(), res.ACSTransID)
			if err != nil {
				t.Fatalf("transaction not stored before the ARes: %v", err)
			}
			if tx.TransStatus != c.status || tx.AuthValue != res.AuthenticationValue || strings.Contains(tx.MaskedPAN, "1234567") {
				t.Errorf("stored %+v", tx)
			}
		})
	}
	t.Run("every AReq is in the exchange log with its outcome", func(t *testing.T) {
		got, err := e.db.RecentExchanges(t.Context(), 100)
		if err != nil || len(got) != len(cases) {
			t.Fatalf("%d exchanges (%v), want %d", len(got), err, len(cases))
		}
		for _, x := range got {
			if x.Peer != "ds" || x.Outcome == "" || x.Outcome == "Erro" || x.ACSTransID == "" {
				t.Errorf("exchange %+v", x)
			}
		}
	})
	t.Run("no log line holds a PAN", func(t *testing.T) {
		for _, p := range []string{panEnrolled, panBlocked, panNotEnrolled, panAttempts, panMastercard, panNoKeys} {
			if strings.Contains(e.logs.String(), p) {
				t.Errorf("logs hold a PAN in clear")
			}
		}
		if !strings.Contains(e.logs.String(), "400000******7891") {
			t.Errorf("the decision log line with the masked PAN is missing")
		}
	})
}

func TestAReqErrors(t *testing.T) {
	e := newACS(t)
	cases := []struct {
		name   string
		client *http.Client
		body   []byte
		code   string
		detail string
	}{
		{"a 3DS Server certificate is refused with 303", e.other, areq(t, "2.2.0", "areq-browser-pa", nil), "303", "client certificate"},
		{"a body that is not JSON is 101", e.ds, []byte("not json"), "101", ""},
		{"an AReq without acctNumber is 201 naming it", e.ds, areq(t, "2.2.0", "areq-browser-pa", map[string]any{"acctNumber": nil}), "201", "acctNumber"},
		{"an AReq the DS did not stamp is 201 dsTransID", e.ds, areq(t, "2.2.0", "areq-browser-pa", map[string]any{"dsTransID": nil}), "201", "dsTransID"},
		{"a malformed amount is 203 naming it", e.ds, areq(t, "2.2.0", "areq-browser-pa", map[string]any{"purchaseAmount": "12.99"}), "203", "purchaseAmount"},
		{"an acctNumber that fails the Luhn check is 203 naming it", e.ds, areq(t, "2.2.0", "areq-browser-pa", map[string]any{"acctNumber": "4000001234547892"}), "203", "acctNumber"},
		{"an unsupported version is 102", e.ds, areq(t, "2.2.0", "areq-browser-pa", map[string]any{"messageVersion": "1.0.2"}), "102", ""},
		{"an ARes sent to the AReq endpoint is 101", e.ds, []byte(`{"messageType":"ARes","messageVersion":"2.2.0"}`), "101", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := post(t, c.client, e.url, c.body)
			erro, ok := m.(*emv.Erro)
			if !ok {
				t.Fatalf("got %T, want Erro", m)
			}
			if x, _ := e.db.RecentExchanges(t.Context(), 1); len(x) != 1 || x[0].ErrorCode != c.code || x[0].Outcome != "Erro" {
				t.Errorf("exchange log: %+v", x)
			}
			if erro.ErrorCode != c.code || erro.ErrorComponent != "A" || !strings.Contains(erro.ErrorDetail, c.detail) {
				t.Errorf("got code %s component %s detail %q, want %s A %q", erro.ErrorCode, erro.ErrorComponent, erro.ErrorDetail, c.code, c.detail)
			}
		})
	}
}

func TestAReqJoinsTheDeviceDataOfItsThreeDSMethod(t *testing.T) {
	e := newACS(t)
	var seen acs.RiskInput
	e.svc.Risk = acs.RiskFunc(func(p string, in acs.RiskInput) (acs.RiskResult, *acs.RiskResult) {
		seen = in
		return testRisk(p, in)
	})
	const serverTransID = "3dfc51f7-a5f7-440a-b848-ab95222dd6c8"
	if err := e.store.SaveDeviceData(t.Context(), acs.DeviceData{ThreeDSServerTransID: serverTransID, DeviceKey: "method-device",
		IP: "192.0.2.7", Data: `{"screen":"1920x1080"}`}); err != nil {
		t.Fatal(err)
	}
	res := post(t, e.ds, e.url, areq(t, "2.2.0", "areq-browser-pa", map[string]any{"acctNumber": panEnrolled,
		"threeDSServerTransID": serverTransID})).(*emv.ARes)
	tx, _ := e.store.Transaction(t.Context(), res.ACSTransID)
	if !seen.HasDeviceData || seen.DeviceIP != "192.0.2.7" || tx.DeviceKey != "method-device" {
		t.Errorf("risk saw device data %v from %q; transaction device %q", seen.HasDeviceData, seen.DeviceIP, tx.DeviceKey)
	}
	post(t, e.ds, e.url, areq(t, "2.2.0", "areq-browser-pa", map[string]any{"acctNumber": panEnrolled,
		"threeDSServerTransID": "0b6c1a2e-8a52-4b6f-9c38-2a6e1e7f0b11"}))
	if seen.HasDeviceData {
		t.Errorf("a transaction without a 3DS Method was given device data")
	}
}
