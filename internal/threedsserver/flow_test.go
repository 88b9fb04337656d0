package threedsserver_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/pki"
	"github.com/open3ds/open3ds/internal/store/storetest"

	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/threedsserver"
)

func start(t *testing.T, n *network, pan string) threedsserver.StartResponse {
	t.Helper()
	var out threedsserver.StartResponse
	if code := n.call(t, "POST", "/v1/authentications", map[string]string{"cardNumber": pan}, &out); code != http.StatusCreated {
		t.Fatalf("start: HTTP %d", code)
	}
	return out
}

func TestAFrictionlessPurchaseEndsWithTheACSsAuthenticationValue(t *testing.T) {
	n := newNetwork(t)
	st := start(t, n, panFrictionless)
	if !st.Enrolled || !st.ShowLogo || st.MessageVersion != emv.Version220 || st.MaskedPAN != "400000******1000" {
		t.Fatalf("start answered %+v; want enrolled, logo, 2.2.0 (the highest common version), masked PAN", st)
	}
	if st.ThreeDSMethod == nil || st.ThreeDSMethod.URL != "https://acs.example/method" {
		t.Fatalf("start gave no 3DS Method form for a range with a Method URL: %+v", st.ThreeDSMethod)
	}
	raw, err := emv.DecodeBase64Lenient(st.ThreeDSMethod.ThreeDSMethodData)
	must(t, err)
	var md map[string]string
	must(t, json.Unmarshal(raw, &md))
	if md["threeDSServerTransID"] != st.ID || md["threeDSMethodNotificationURL"] != n.public.URL+"/3ds/method" {
		t.Fatalf("threeDSMethodData = %s", raw)
	}
	// The script says Y, but no Method notification reached us: the AReq says N.
	var res threedsserver.Result
	if code := n.call(t, "POST", "/v1/authentications/"+st.ID+"/authenticate", authenticateBody(), &res); code != http.StatusOK {
		t.Fatalf("authenticate: HTTP %d %+v", code, res)
	}
	if res.TransStatus != "Y" || res.AuthenticationValue != "kcxyG4uvCrWa0U8wgGFqfng1lZc=" || res.ECI != "05" || !res.Final {
		t.Fatalf("authenticate answered %+v; want final Y with the ACS's value and ECI 05", res)
	}
	n.mu.Lock()
	areq := n.lastReq
	n.mu.Unlock()
	if areq.ThreeDSServerURL != n.proto.URL+"/3ds/rreq" || areq.NotificationURL != n.public.URL+"/3ds/notification" ||
		areq.ThreeDSRequestorID != requestorID || areq.AcctNumber != panFrictionless || areq.ThreeDSCompInd != "N" {
		t.Fatalf("the ACS got an AReq without our URLs, requestor or card: %+v", areq)
	}
	var got threedsserver.Result
	n.call(t, "GET", "/v1/authentications/"+st.ID, nil, &got)
	if got.TransStatus != "Y" || got.State != threedsserver.StateFrictionless || got.DSTransID == "" {
		t.Fatalf("GET answered %+v", got)
	}
	if code := n.call(t, "POST", "/v1/authentications/"+st.ID+"/authenticate", authenticateBody(), nil); code != http.StatusConflict {
		t.Fatalf("a second authenticate answered %d; want 409", code)
	}
	tx, err := n.st.Transaction(context.Background(), st.ID)
	must(t, err)
	if tx.PANSealed != "" {
		t.Fatal("the sealed PAN was kept after the AReq")
	}
	ex, err := n.db.ExchangesByTransID(context.Background(), st.ID)
	must(t, err)
	if len(ex) != 1 || ex[0].MessageType != "AReq" || ex[0].Outcome != "Y" || ex[0].MaskedPAN != "400000******1000" {
		t.Fatalf("exchange log = %+v; want one AReq with outcome Y and the masked PAN", ex)
	}
}

func TestAChallengeGivesTheFormAndTheRReqSetsTheFinalResult(t *testing.T) {
	n := newNetwork(t)
	st := start(t, n, panChallenge)
	var res threedsserver.Result
	n.call(t, "POST", "/v1/authentications/"+st.ID+"/authenticate", authenticateBody(), &res)
	if res.TransStatus != "C" || res.Final || res.Challenge == nil || res.Challenge.ACSURL != "https://acs.example/challenge" ||
		res.Challenge.WindowSize != "03" {
		t.Fatalf("authenticate answered %+v; want a challenge form of window size 03", res)
	}
	raw, err := emv.DecodeBase64Lenient(res.Challenge.CReq)
	must(t, err)
	creq, err := emv.ParseAs(raw, emv.TypeCReq, nil)
	must(t, err)
	if c := creq.(*emv.CReq); c.ThreeDSServerTransID != st.ID || c.ACSTransID != res.ACSTransID {
		t.Fatalf("creq = %s", raw)
	}

	// The ACS sends its RReq to the DS, which relays it to our protocol endpoint.
	rreq := &emv.RReq{MessageType: emv.TypeRReq, MessageVersion: res.MessageVersion, ThreeDSServerTransID: st.ID,
		ACSTransID: res.ACSTransID, DSTransID: res.DSTransID, MessageCategory: "01", TransStatus: "Y",
		AuthenticationType: "02", AuthenticationValue: "rmnQPKCl8XaSeYOGgHda6HFbyYg=", ECI: "05", InteractionCounter: "01"}
	for range 2 { // a repeated RReq is acknowledged again
		rres := n.postDS(t, rreq)
		if r, ok := rres.(*emv.RRes); !ok || r.ResultsStatus != "01" {
			t.Fatalf("RReq got %#v; want RRes 01", rres)
		}
	}
	var got threedsserver.Result
	n.call(t, "GET", "/v1/authentications/"+st.ID, nil, &got)
	if got.State != threedsserver.StateFinal || got.TransStatus != "Y" || got.AuthenticationValue != "rmnQPKCl8XaSeYOGgHda6HFbyYg=" || !got.Final {
		t.Fatalf("GET after the RReq answered %+v; want the RReq's result", got)
	}
}

func TestAnRReqForAnUnknownTransactionGetsErro301(t *testing.T) {
	n := newNetwork(t)
	rreq := &emv.RReq{MessageType: emv.TypeRReq, MessageVersion: "2.2.0", ThreeDSServerTransID: "3dfc51f7-a5f7-440a-b848-ab95222dd6c8",
		ACSTransID: "0c25afb2-246f-40c3-a162-9c82c19d3c90", DSTransID: "d2b3d9c9-22e8-49c1-965f-257e4c61034a", MessageCategory: "01",
		TransStatus: "N", TransStatusReason: "01", InteractionCounter: "01"}
	data, _ := emv.Marshal(rreq)
	resp, err := clientFor(t, "ds", "ds").Post(n.proto.URL+"/3ds/rreq", "application/json", bytesReader(data))
	must(t, err)
	defer resp.Body.Close()
	var erro emv.Erro
	must(t, json.NewDecoder(resp.Body).Decode(&erro))
	if erro.MessageType != "Erro" || erro.ErrorCode != "301" || erro.ErrorComponent != "S" {
		t.Fatalf("answer = %+v; want Erro 301 from S", erro)
	}
}

func TestAnAResForAnotherTransactionIsRefusedWith301AndReportedToTheDS(t *testing.T) {
	n := newNetwork(t)
	// The real DS checks ARes ids itself, so a small DS stand-in plays a DS that lets a wrong one
	// through, and keeps what it is sent.
	var mu sync.Mutex
	var got []emv.Message
	fake := startTLS(t, pki.RoleDS, "ds", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		m, err := emv.Parse(body, nil)
		if err != nil {
			t.Errorf("the DS got an unreadable message: %v", err)
			return
		}
		mu.Lock()
		got = append(got, m)
		mu.Unlock()
		if areq, ok := m.(*emv.AReq); ok {
			data, _ := emv.Marshal(&emv.ARes{MessageType: emv.TypeARes, MessageVersion: areq.MessageVersion,
				ThreeDSServerTransID: "3dfc51f7-a5f7-440a-b848-ab95222dd6c8", DSTransID: "d2b3d9c9-22e8-49c1-965f-257e4c61034a",
				ACSTransID: "0c25afb2-246f-40c3-a162-9c82c19d3c90", ACSReferenceNumber: "ACS-REF", DSReferenceNumber: "DS-REF",
				TransStatus: "Y", AuthenticationValue: "kcxyG4uvCrWa0U8wgGFqfng1lZc=", ECI: "05"})
			w.Write(data)
		}
	}))
	server := n.withDS(t, fake.URL, 2*time.Second)
	st := start(t, n, panFrictionless)
	var res threedsserver.Result
	callWith(t, server.URL, n.apiKey, "POST", "/v1/authentications/"+st.ID+"/authenticate", authenticateBody(), &res)
	if res.State != threedsserver.StateError || res.ErrorCode != "301" || res.ErrorDetail != "threeDSServerTransID" {
		t.Fatalf("authenticate answered %+v; want an error 301 naming threeDSServerTransID", res)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 {
		t.Fatalf("the DS got %d messages; want the AReq and an Erro", len(got))
	}
	erro, ok := got[1].(*emv.Erro)
	if !ok || erro.ErrorCode != "301" || erro.ErrorComponent != "S" || erro.ErrorDetail != "threeDSServerTransID" {
		t.Fatalf("the DS got %#v; want Erro 301 from S naming threeDSServerTransID", got[1])
	}
}

func TestAnAResOfAnotherVersionEndsInTheDSsErro203(t *testing.T) {
	n := newNetwork(t)
	st := start(t, n, panBadVersion)
	var res threedsserver.Result
	n.call(t, "POST", "/v1/authentications/"+st.ID+"/authenticate", authenticateBody(), &res)
	if res.State != threedsserver.StateError || res.ErrorCode != "203" || !res.Final {
		t.Fatalf("authenticate answered %+v; want a final error 203", res)
	}
}

func TestAChallengeAndItsRReqRunOnPostgreSQLToo(t *testing.T) {
	n := newNetwork(t, storetest.OpenPostgres)
	ctx := context.Background()
	st := start(t, n, panChallenge)
	var res threedsserver.Result
	body := authenticateBody()
	body["returnUrl"] = "https://shop.example/done"
	n.call(t, "POST", "/v1/authentications/"+st.ID+"/authenticate", body, &res)
	if res.TransStatus != "C" {
		t.Fatalf("authenticate answered %+v", res)
	}
	rreq := &emv.RReq{MessageType: emv.TypeRReq, MessageVersion: res.MessageVersion, ThreeDSServerTransID: st.ID,
		ACSTransID: res.ACSTransID, DSTransID: res.DSTransID, MessageCategory: "01", TransStatus: "N", TransStatusReason: "01",
		InteractionCounter: "03"}
	if r, ok := n.postDS(t, rreq).(*emv.RRes); !ok || r.ResultsStatus != "01" {
		t.Fatalf("RReq got %#v", r)
	}
	tx, err := n.st.Transaction(ctx, st.ID)
	must(t, err)
	if tx.State != threedsserver.StateFinal || tx.TransStatus != "N" || tx.ResultAt.IsZero() || tx.AResAt.IsZero() ||
		tx.ReturnURL != "https://shop.example/done" {
		t.Fatalf("stored %+v", tx)
	}
	// Another instance finding the refresh due claims it once.
	cs, err := n.st.CacheState(ctx)
	must(t, err)
	won1, err := n.st.ClaimRefresh(ctx, cs.NextAt, cs.NextAt.Add(time.Hour))
	must(t, err)
	won2, err := n.st.ClaimRefresh(ctx, cs.NextAt, cs.NextAt.Add(time.Hour))
	must(t, err)
	if !won1 || won2 {
		t.Fatalf("claims = %v, %v; want only the first to win", won1, won2)
	}
}

func TestTheDSsErroIsLoggedWithTheCodeAndDetailTheDSSent(t *testing.T) {
	n := newNetwork(t)
	st := start(t, n, panBadVersion)
	var res threedsserver.Result
	n.call(t, "POST", "/v1/authentications/"+st.ID+"/authenticate", authenticateBody(), &res)
	if res.ErrorCode != "203" {
		t.Fatalf("authenticate answered %+v; want the DS's error 203", res)
	}
	logs := n.logs.String()
	for _, want := range []string{`"msg":"DS answered the AReq with an Erro"`, `"errorCode":"203"`, `"errorComponent":"D"`,
		`"errorDetail":"` + res.ErrorDetail + `"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("the 3DS Server's log lacks %s:\n%s", want, logs)
		}
	}
}
