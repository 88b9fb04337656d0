package threedsserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/pki"
	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/store/storetest"
	"github.com/open3ds/open3ds/internal/threedsserver"
)

// backends are the 3DS Server's stores the tests below run on.
var backends = []struct {
	name string
	open func(testing.TB) *store.DB
}{{"SQLite", storetest.OpenSQLite}, {"PostgreSQL", storetest.OpenPostgres}}

// waitFinal reads the transaction until it is final, for up to 20 seconds, and returns it.
func waitFinal(t *testing.T, n *network, id string) threedsserver.Result {
	t.Helper()
	var res threedsserver.Result
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		res = threedsserver.Result{}
		n.call(t, "GET", "/v1/authentications/"+id, nil, &res)
		if res.Final {
			return res
		}
	}
	t.Fatalf("the transaction never became final: %+v", res)
	return res
}

func TestAMerchantThatHangsUpMidAReqStillGetsAFinalTransactionAndTheDSStandsInForNoOne(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			n := newNetwork(t, b.open)
			st := start(t, n, panFrictionless)
			hangUpAtTheACS(t, n, "/v1/authentications/"+st.ID+"/authenticate", authenticateBody())

			res := waitFinal(t, n, st.ID)
			if res.State != threedsserver.StateFrictionless || res.TransStatus != "Y" || res.AuthenticationValue == "" {
				t.Fatalf("the transaction ended as %+v; want the ACS's frictionless Y", res)
			}
			tx, err := n.dsStore.Transaction(context.Background(), res.DSTransID)
			if err != nil {
				t.Fatalf("the DS lost its transaction: %v", err)
			}
			if tx.ACS != "bank" || tx.Outcome != "Y" {
				t.Fatalf("the DS recorded %+v; want the ACS's own Y, no stand-in", tx)
			}
		})
	}
}

// hangUpAtTheACS posts body to the merchant API at path and hangs up while the AReq it starts is
// held at the ACS, so that the hang-up falls mid-exchange whatever the machine's speed. It returns
// once the merchant's side has ended without an answer; the ACS then goes on.
func hangUpAtTheACS(t *testing.T, n *network, path string, body any) {
	t.Helper()
	// The merchant API behind a hook that hears the moment the merchant's request ends.
	hungUp := make(chan struct{})
	var once sync.Once
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			go func() { <-r.Context().Done(); once.Do(func() { close(hungUp) }) }()
		}
		n.server.MerchantHandler().ServeHTTP(w, r)
	}))
	t.Cleanup(api.Close)
	atACS := make(chan struct{})
	n.mu.Lock()
	n.acsGate = func() { close(atACS); <-hungUp }
	n.mu.Unlock()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	data, _ := json.Marshal(body)
	req, _ := http.NewRequestWithContext(ctx, "POST", api.URL+path, bytes.NewReader(data))
	req.Header.Set("Authorization", "Bearer "+n.apiKey)
	req.Header.Set("Content-Type", "application/json")
	done := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	<-atACS
	cancel()
	if err := <-done; err == nil {
		t.Fatal("the merchant's request ended with an answer; the test meant it to hang up first")
	}
	n.mu.Lock()
	n.acsGate = nil
	n.mu.Unlock()
}

// stuck makes a transaction whose AReq was claimed at claimedAt and never finished, as an instance
// that died mid-exchange leaves it.
func stuck(t *testing.T, n *network, claimedAt time.Time) string {
	t.Helper()
	st := start(t, n, panFrictionless)
	must(t, n.st.ClaimAReq(context.Background(), st.ID, claimedAt))
	return st.ID
}

// sweeper is another instance of the 3DS Server on the same store whose clock reads now.
func sweeper(t *testing.T, n *network, now time.Time) *threedsserver.Server {
	return threedsserver.NewServer(threedsserver.Config{Store: n.st, Client: clientFor(t, pki.RoleThreeDSServer, "3dss"),
		DSURL: n.dsSrv.URL, PublicURL: n.public.URL, ProtocolURL: n.proto.URL, Vault: n.ring, Timeout: 2 * time.Second,
		Now: func() time.Time { return now }})
}

func TestTheSweeperEndsATransactionLeftInSendingAsError402(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			n := newNetwork(t, b.open)
			claimed := time.Now()
			old, recent := stuck(t, n, claimed.Add(-time.Hour)), stuck(t, n, claimed)
			var res threedsserver.Result
			if code := n.call(t, "POST", "/v1/authentications/"+old+"/authenticate", authenticateBody(), nil); code != http.StatusConflict {
				t.Fatalf("authenticating a transaction being sent answered %d; want 409", code)
			}

			ended, err := sweeper(t, n, claimed).SweepStuck(context.Background())
			if err != nil || ended != 1 {
				t.Fatalf("the sweep ended %d transactions (%v); want the hour-old one only", ended, err)
			}
			n.call(t, "GET", "/v1/authentications/"+old, nil, &res)
			if res.State != threedsserver.StateError || res.ErrorCode != "402" || !res.Final {
				t.Fatalf("the swept transaction reads %+v; want a final error 402", res)
			}
			n.call(t, "GET", "/v1/authentications/"+recent, nil, &res)
			if res.State != threedsserver.StateSending || res.Final {
				t.Fatalf("a transaction claimed just now was swept: %+v", res)
			}
			if ended, _ := sweeper(t, n, claimed).SweepStuck(context.Background()); ended != 0 {
				t.Fatalf("a second sweep ended %d transactions again", ended)
			}
			// The merchant hears that this one is over, not that it is still being sent.
			var p struct{ Detail string }
			if code := n.call(t, "POST", "/v1/authentications/"+old+"/authenticate", authenticateBody(), &p); code != http.StatusConflict ||
				p.Detail != "this authentication was already sent; start a new one" {
				t.Fatalf("a retry after the sweep answered %d %q; want 409 asking for a new authentication", code, p.Detail)
			}
		})
	}
}

func TestTwoSweepersAtOnceEndEachStuckTransactionOnce(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			n := newNetwork(t, b.open)
			claimed := time.Now().Add(-time.Hour)
			const count = 30
			ids := make([]string, count)
			for i := range ids {
				ids[i] = stuck(t, n, claimed)
			}
			a, b := sweeper(t, n, time.Now()), sweeper(t, n, time.Now())
			var wg sync.WaitGroup
			var endedA, endedB int
			var errA, errB error
			wg.Go(func() { endedA, errA = a.SweepStuck(context.Background()) })
			wg.Go(func() { endedB, errB = b.SweepStuck(context.Background()) })
			wg.Wait()
			if errA != nil || errB != nil {
				t.Fatalf("sweeping: %v, %v", errA, errB)
			}
			if endedA+endedB != count {
				t.Fatalf("the sweepers ended %d + %d transactions; want %d in all, each once", endedA, endedB, count)
			}
			for _, id := range ids {
				tx, err := n.st.Transaction(context.Background(), id)
				must(t, err)
				if tx.State != threedsserver.StateError || tx.ErrorCode != "402" || tx.PANSealed != "" {
					t.Fatalf("transaction %s after the sweep: state %s, code %s, sealed PAN kept %v", id, tx.State, tx.ErrorCode, tx.PANSealed != "")
				}
			}
		})
	}
}
