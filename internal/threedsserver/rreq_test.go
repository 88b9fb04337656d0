package threedsserver_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/pki"
	"github.com/open3ds/open3ds/internal/threedsserver"
)

func TestAChallengeNeverStartedIsAcknowledgedWithResultsStatus02(t *testing.T) {
	n := newNetwork(t)
	st := start(t, n, panChallenge)
	var res threedsserver.Result
	n.call(t, "POST", "/v1/authentications/"+st.ID+"/authenticate", authenticateBody(), &res)
	rreq := &emv.RReq{MessageType: emv.TypeRReq, MessageVersion: res.MessageVersion, ThreeDSServerTransID: st.ID,
		ACSTransID: res.ACSTransID, DSTransID: res.DSTransID, MessageCategory: "01", TransStatus: "N", TransStatusReason: "14",
		ChallengeCancel: "05", InteractionCounter: "00"}
	if r, ok := n.postDS(t, rreq).(*emv.RRes); !ok || r.ResultsStatus != "02" {
		t.Fatalf("RReq got %#v; want RRes 02", r)
	}
	var got threedsserver.Result
	n.call(t, "GET", "/v1/authentications/"+st.ID, nil, &got)
	if got.TransStatus != "N" || got.ChallengeCancel != "05" || !got.Final {
		t.Fatalf("GET = %+v", got)
	}
}

func TestOnlyTheDSMaySendAnRReq(t *testing.T) {
	n := newNetwork(t)
	data, _ := json.Marshal(map[string]string{"messageType": "RReq"})
	resp, err := clientFor(t, pki.RoleACS, "bank").Post(n.proto.URL+"/3ds/rreq", "application/json", bytesReader(data))
	must(t, err)
	defer resp.Body.Close()
	var erro emv.Erro
	must(t, json.NewDecoder(resp.Body).Decode(&erro))
	if erro.ErrorCode != "303" {
		t.Fatalf("an ACS's RReq got %+v; want Erro 303", erro)
	}
}

func TestADSThatDoesNotAnswerEndsTheTransactionWith402(t *testing.T) {
	n := newNetwork(t)
	slow := startTLS(t, pki.RoleDS, "ds", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(500 * time.Millisecond)
	}))
	api := n.withDS(t, slow.URL, 100*time.Millisecond)
	st := start(t, n, panFrictionless)
	var res threedsserver.Result
	callWith(t, api.URL, n.apiKey, "POST", "/v1/authentications/"+st.ID+"/authenticate", authenticateBody(), &res)
	if res.State != threedsserver.StateError || res.ErrorCode != "402" || !res.Final {
		t.Fatalf("authenticate answered %+v; want a final error 402", res)
	}
}
