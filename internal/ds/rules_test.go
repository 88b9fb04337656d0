package ds_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/ds"
	"github.com/open3ds/open3ds/internal/emv"
)

func TestAnInvalidAResGetsAnErroToThe3DSServerAndAnErroPostedToTheACS(t *testing.T) {
	cases := []struct {
		name   string
		spoil  func(*emv.ARes)
		code   string
		detail string
	}{
		{"an ARes for another transaction", func(a *emv.ARes) { a.ThreeDSServerTransID = newID() }, "301", "threeDSServerTransID"},
		{"an ARes with another dsTransID", func(a *emv.ARes) { a.DSTransID = newID() }, "301", "dsTransID"},
		{"an ARes in another version", func(a *emv.ARes) { a.MessageVersion = "2.1.0" }, "203", "messageVersion"},
		{"an ARes without transStatus", func(a *emv.ARes) { a.TransStatus = "" }, "201", "transStatus"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n := newNetwork(t, netOptions{})
			n.acs.setAnswer(func(r *http.Request, m emv.Message) emv.Message {
				ares := frictionless(r, m)
				if a, ok := ares.(*emv.ARes); ok {
					tc.spoil(a)
				}
				return ares
			})
			areq := n.areq(t, "4000000000001091")
			wantErro(t, n.send(t, n.psp, areq), tc.code, tc.detail)
			erros := n.acs.received(emv.TypeErro)
			if len(erros) != 1 || erros[0].(*emv.Erro).ErrorCode != tc.code || erros[0].(*emv.Erro).ErrorMessageType != "ARes" {
				t.Fatalf("the ACS got %d Erro messages (%+v), want one %s about its ARes", len(erros), erros, tc.code)
			}
			fwd := n.acs.received(emv.TypeAReq)[0].(*emv.AReq)
			if _, err := n.store.Transaction(context.Background(), fwd.DSTransID); err == nil {
				t.Error("a transaction whose ARes was invalid was recorded as routed")
			}
		})
	}
}

func TestEachBadMessageGetsItsErro(t *testing.T) {
	n := newNetwork(t, netOptions{})
	routed := n.send(t, n.psp, n.areq(t, "4000000000001091")).(*emv.ARes)
	rreqFor := func(mod func(*emv.RReq)) emv.Message {
		r := &emv.RReq{MessageType: emv.TypeRReq, MessageVersion: "2.2.0", ThreeDSServerTransID: routed.ThreeDSServerTransID,
			ACSTransID: routed.ACSTransID, DSTransID: routed.DSTransID, MessageCategory: "01", TransStatus: "N",
			TransStatusReason: "01", InteractionCounter: "01", AuthenticationType: "02"}
		mod(r)
		return r
	}
	areqJSON := func(mod func(*emv.AReq)) []byte {
		a := n.areq(t, "4000000000001091")
		mod(a)
		data, err := emv.Marshal(a)
		must(t, err)
		return data
	}
	cases := []struct {
		name   string
		client *http.Client
		msg    any
		code   string
		detail string
	}{
		{"a body that is not JSON", n.psp, []byte("{not json"), "101", ""},
		{"an unknown message type", n.psp, []byte(`{"messageType":"XReq","messageVersion":"2.2.0"}`), "101", ""},
		{"an AReq in an unsupported version", n.psp, []byte(strings.Replace(string(areqJSON(func(*emv.AReq) {})), `"2.2.0"`, `"2.0.9"`, 1)), "102", ""},
		{"an AReq without acctNumber", n.psp, areqJSON(func(a *emv.AReq) { a.AcctNumber = "" }), "201", "acctNumber"},
		{"an AReq with a bad merchantCountryCode", n.psp, areqJSON(func(a *emv.AReq) { a.MerchantCountryCode = "ABC" }), "203", "merchantCountryCode"},
		{"an AReq with a critical unknown extension", n.psp, areqJSON(func(a *emv.AReq) {
			a.MessageExtension = []emv.MessageExtension{{Name: "x", ID: "A000000000_x", CriticalityIndicator: true, Data: []byte(`{"a":1}`)}}
		}), "202", ""},
		{"an AReq in a version the range's ACS lacks", n.psp, areqJSON(func(a *emv.AReq) {}), "", ""}, // placeholder replaced below
		{"an RReq for an unknown dsTransID", n.bank, rreqFor(func(r *emv.RReq) { r.DSTransID = newID() }), "301", "dsTransID"},
		{"an RReq whose threeDSServerTransID differs", n.bank, rreqFor(func(r *emv.RReq) { r.ThreeDSServerTransID = newID() }), "301", "threeDSServerTransID"},
		{"an RReq without messageCategory", n.bank, rreqFor(func(r *emv.RReq) { r.MessageCategory = "" }), "201", "messageCategory"},
		{"an RReq with a bad transStatus", n.bank, rreqFor(func(r *emv.RReq) { r.TransStatus = "C" }), "203", "transStatus"},
		{"an RReq in another version than its AReq", n.bank, rreqFor(func(r *emv.RReq) { r.MessageVersion = "2.3.1"; r.AuthenticationType = "" }), "203", "messageVersion"},
		{"a PReq without threeDSServerTransID", n.psp, []byte(`{"messageType":"PReq","messageVersion":"2.2.0","threeDSServerRefNumber":"X"}`), "201", "threeDSServerTransID"},
		{"an AReq whose acctNumber in a range fails the Luhn check", n.psp, areqJSON(func(a *emv.AReq) { a.AcctNumber = "4000000000001092" }), "203", "acctNumber"},
		// Outside every range the DS would otherwise stand in with an attempts value.
		{"an AReq whose acctNumber outside the ranges fails the Luhn check", n.psp, areqJSON(func(a *emv.AReq) { a.AcctNumber = "5100000000000009" }), "203", "acctNumber"},
		// 2.3.1's elements in a 2.2.0 AReq are not defined there: 203 naming each.
		{"a 2.2.0 AReq carrying 2.3.1's sellerInfo", n.psp, areqJSON(func(a *emv.AReq) {
			a.SellerInfo = []emv.SellerInfo{{SellerName: "Atelier", SellerID: "S-1"}}
		}), "203", "sellerInfo"},
		{"a 2.2.0 AReq carrying 2.3.1's SPC support and device binding", n.psp, areqJSON(func(a *emv.AReq) {
			a.ThreeDSRequestorSpcSupport, a.DeviceBindingStatus, a.DeviceBindingStatusSource = "Y", "11", "01"
		}), "203", "threeDSRequestorSpcSupport,deviceBindingStatus,deviceBindingStatusSource"},
		{"a 2.2.0 FIDO login whose data is not a WebAuthn assertion", n.psp, areqJSON(func(a *emv.AReq) {
			a.ThreeDSRequestorAuthenticationInfo = emv.One(emv.ThreeDSRequestorAuthenticationInfo{
				ThreeDSReqAuthMethod: "07", ThreeDSReqAuthTimestamp: "202503141012", ThreeDSReqAuthData: "signed-fido-blob"})
		}), "203", "threeDSRequestorAuthenticationInfo.threeDSReqAuthData"},
	}
	// An ACS range that stops at 2.1.0 cannot take a 2.2.0 AReq: 102.
	must(t, n.store.AddRange(context.Background(), ds.Range{Start: "4111000000000000", End: "4111999999999999", ACS: "bank",
		ACSStart: "2.1.0", ACSEnd: "2.1.0", DSStart: "2.1.0", DSEnd: "2.3.1"}))
	cases[6].msg, cases[6].code, cases[6].detail = areqJSON(func(a *emv.AReq) { a.AcctNumber = "4111111111111111" }), "102", "messageVersion"
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantErro(t, n.send(t, tc.client, tc.msg), tc.code, tc.detail)
		})
	}
	if got := len(n.acs.received(emv.TypeAReq)); got != 1 {
		t.Errorf("the ACS got %d AReqs, want only the first valid one", got)
	}
}

func TestAnRReqFromAnotherACSIsRefused(t *testing.T) {
	n := newNetwork(t, netOptions{})
	must(t, n.store.AddACS(context.Background(), ds.ACS{Name: "otherbank", ReferenceNumber: "R", URL: "https://127.0.0.1:1/"}))
	routed := n.send(t, n.psp, n.areq(t, "4000000000001091")).(*emv.ARes)
	rreq := &emv.RReq{MessageType: emv.TypeRReq, MessageVersion: "2.2.0", ThreeDSServerTransID: routed.ThreeDSServerTransID,
		ACSTransID: routed.ACSTransID, DSTransID: routed.DSTransID, MessageCategory: "01", TransStatus: "N",
		TransStatusReason: "01", InteractionCounter: "01"}
	wantErro(t, n.send(t, clientFor(t, "acs", "otherbank"), rreq), "303", "")
	if got := n.tdss.received(emv.TypeRReq); len(got) != 0 {
		t.Errorf("the 3DS Server got an RReq from the wrong ACS")
	}
}

func TestPReqAnswersDeltasSinceASerialAndPacesEach3DSServer(t *testing.T) {
	n := newNetwork(t, netOptions{every: time.Hour})
	ctx := context.Background()
	ref := pspRef
	preq := func(serial string) *emv.PReq {
		return &emv.PReq{MessageType: emv.TypePReq, MessageVersion: "2.2.0", ThreeDSServerTransID: newID(),
			ThreeDSServerRefNumber: ref, SerialNum: serial}
	}
	full := n.send(t, n.psp, preq("")).(*emv.PRes)
	wantErro(t, n.send(t, n.psp, preq("")), "103", "")

	must(t, n.store.AddRange(ctx, testRange("4000000000010000", "4000000000019999", "bank")))
	must(t, n.store.ChangeRange(ctx, testRange("4000000000000000", "4000000000000999", "bank")))
	must(t, n.store.AddRange(ctx, testRange("4000000000020000", "4000000000029999", "bank")))
	must(t, n.store.RemoveRange(ctx, "4000000000020000"))

	// A serial the DS never issued gets 307 even while paced, and the full reload that follows is
	// admitted at once.
	wantErro(t, n.send(t, n.psp, preq("99999")), "103", "")
	must(t, n.store.AddThreeDSServer(ctx, dsThreeDSServer("fresh")))
	fresh, ref := clientFor(t, "3dss", "fresh"), dsThreeDSServer("fresh").ReferenceNumber
	wantErro(t, n.send(t, fresh, preq("99999")), "307", "serialNum")
	if _, ok := n.send(t, fresh, preq("")).(*emv.PRes); !ok {
		t.Fatal("the full reload after 307 was not admitted")
	}
	wantErro(t, n.send(t, fresh, preq("")), "103", "")

	must(t, n.store.AddThreeDSServer(ctx, dsThreeDSServer("delta")))
	ref = dsThreeDSServer("delta").ReferenceNumber
	delta := n.send(t, clientFor(t, "3dss", "delta"), preq(full.SerialNum)).(*emv.PRes)
	var got []string
	for _, r := range delta.CardRangeData {
		got = append(got, r.ActionInd+":"+r.StartRange)
	}
	if strings.Join(got, " ") != "A:4000000000010000 M:4000000000000000" {
		t.Errorf("delta = %v", got)
	}
	must(t, emv.Validate(delta, nil))
}

// TestA3DSServerMustShowWhatTheSchemeRegisteredForIt checks that the DS compares the reference
// number (and, once the scheme registers one, the operator id) of every AReq and PReq with the
// registration behind the client certificate, and refuses a difference with 303 naming the field.
func TestA3DSServerMustShowWhatTheSchemeRegisteredForIt(t *testing.T) {
	n := newNetwork(t, netOptions{})
	ctx := context.Background()
	areq := func(ref, operator string) *emv.AReq {
		a := n.areq(t, "4000000000001091")
		a.ThreeDSServerRefNumber, a.ThreeDSServerOperatorID = ref, operator
		return a
	}
	wantErro(t, n.send(t, n.psp, areq("3DS_LOA_SER_OPNS_020200_99999", "")), "303", "threeDSServerRefNumber")
	preq := &emv.PReq{MessageType: emv.TypePReq, MessageVersion: "2.2.0", ThreeDSServerTransID: newID(), ThreeDSServerRefNumber: "SOMEONE-ELSE"}
	wantErro(t, n.send(t, n.psp, preq), "303", "threeDSServerRefNumber")
	if got := len(n.acs.received(emv.TypeAReq)); got != 0 {
		t.Errorf("the ACS got %d AReqs from a 3DS Server with the wrong reference number", got)
	}
	if _, ok := n.send(t, n.psp, areq(pspRef, "anything")).(*emv.ARes); !ok {
		t.Fatal("with no operator id registered, the one an AReq carries is not checked")
	}

	psp, err := n.store.ThreeDSServer(ctx, "psp")
	must(t, err)
	psp.OperatorID = "OP-PSP-1"
	must(t, n.store.ChangeThreeDSServer(ctx, psp))
	wantErro(t, n.send(t, n.psp, areq(pspRef, "")), "303", "threeDSServerOperatorID")
	wantErro(t, n.send(t, n.psp, areq(pspRef, "OP-PSP-2")), "303", "threeDSServerOperatorID")
	if _, ok := n.send(t, n.psp, areq(pspRef, "OP-PSP-1")).(*emv.ARes); !ok {
		t.Fatal("the registered reference number and operator id were refused")
	}
	preq = &emv.PReq{MessageType: emv.TypePReq, MessageVersion: "2.2.0", ThreeDSServerTransID: newID(), ThreeDSServerRefNumber: pspRef,
		ThreeDSServerOperatorID: "OP-PSP-1"}
	if _, ok := n.send(t, n.psp, preq).(*emv.PRes); !ok {
		t.Fatal("a PReq with the registered reference number and operator id was refused")
	}
}

func TestAnErroFromAPeerIsAcknowledgedAndRecorded(t *testing.T) {
	n := newNetwork(t, netOptions{})
	erro := sample(t, "2.2.0", "erro.json")
	resp, err := n.psp.Post(n.ds.URL, "application/json", bytes.NewReader(erro))
	must(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || len(body) != 0 {
		t.Fatalf("got %d %q, want 200 with no body", resp.StatusCode, body)
	}
	m, err := emv.Parse(erro, nil)
	must(t, err)
	got, err := n.db.ExchangesByTransID(context.Background(), m.(*emv.Erro).ThreeDSServerTransID)
	must(t, err)
	if len(got) != 1 || got[0].MessageType != "Erro" || got[0].ErrorCode != m.(*emv.Erro).ErrorCode || got[0].Peer != "3dss:psp" {
		t.Errorf("recorded %+v", got)
	}
}
