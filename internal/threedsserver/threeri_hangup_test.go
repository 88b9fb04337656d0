package threedsserver_test

import (
	"net/http"
	"testing"

	"github.com/open3ds/open3ds/internal/threedsserver"
)

// A 3RI is one call, like an app start: the exchange it starts is the 3DS Server's, so a merchant
// that hangs up mid-AReq still leaves a final transaction with the ACS's answer, and an ACS that
// never answers leaves one that ended at the first deadline (here the 3DS Server's own, error 402,
// as its AReq timeout is no longer than the DS's), never a transaction left waiting.

func TestA3RIWhoseMerchantHangsUpMidAReqStillEndsWithTheACSsAnswer(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			n := newNetwork(t, b.open)
			prior := frictionless(t, n, panFrictionless)
			hangUpAtTheACS(t, n, "/v1/authentications", monthlyBody(panFrictionless, prior))
			n.mu.Lock()
			id := n.lastReq.ThreeDSServerTransID
			n.mu.Unlock()
			res := waitFinal(t, n, id)
			if res.Channel != "3ri" || res.TransStatus != "Y" || res.AuthenticationValue == "" {
				t.Fatalf("the 3RI ended as %+v; want the ACS's Y", res)
			}
		})
	}
}

func TestA3RIWhoseACSNeverAnswersEndsAtTheDeadline(t *testing.T) {
	n := newNetwork(t)
	prior := frictionless(t, n, panFrictionless)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	n.mu.Lock()
	n.acsGate = func() { <-release } // longer than the DS waits for an ACS
	n.mu.Unlock()
	var res threedsserver.Result
	if code := n.call(t, "POST", "/v1/authentications", monthlyBody(panFrictionless, prior), &res); code != http.StatusCreated {
		t.Fatalf("HTTP %d %+v", code, res)
	}
	if !res.Final || res.Channel != "3ri" || res.State != threedsserver.StateError || res.ErrorCode != "402" {
		t.Fatalf("a 3RI whose ACS never answered: %+v; want a final error 402 (timeout)", res)
	}
	var again threedsserver.Result
	if n.call(t, "GET", "/v1/authentications/"+res.ID, nil, &again); again.State != res.State || again.ErrorCode != "402" {
		t.Fatalf("GET reads %+v, not the answer the merchant got", again)
	}
}
