package ds_test

import (
	"bytes"
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/ds"
	"github.com/open3ds/open3ds/internal/emv"
)

func TestA3DSServerThatHangsUpMidAReqLeavesTheDSsExchangeWholeWithNoStandIn(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			// The DS behind a hook that hears the moment the 3DS Server's request ends, and an ACS
			// that holds the AReq until then, so the hang-up falls while the AReq is at the ACS.
			hungUp, atACS := make(chan struct{}), make(chan struct{})
			var once sync.Once
			n := newNetwork(t, netOptions{open: b.open, wrap: func(h http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					go func() { <-r.Context().Done(); once.Do(func() { close(hungUp) }) }()
					h.ServeHTTP(w, r)
				})
			}})
			n.acs.setAnswer(func(r *http.Request, m emv.Message) emv.Message {
				close(atACS)
				<-hungUp
				return frictionless(r, m)
			})
			areq := n.areq(t, "4000000000001091")
			body, err := emv.Marshal(areq)
			must(t, err)
			ctx, cancel := context.WithCancel(context.Background())
			req, _ := http.NewRequestWithContext(ctx, "POST", n.ds.URL+"/3ds", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			done := make(chan error, 1)
			go func() {
				resp, err := n.psp.Do(req)
				if err == nil {
					resp.Body.Close()
				}
				done <- err
			}()
			<-atACS
			cancel()
			if err := <-done; err == nil {
				t.Fatal("the 3DS Server's request ended with an answer; the test meant it to hang up first")
			}

			// The DS finishes on its own: it stores the transaction the RReq relay will need, with the
			// ACS's answer, not a stand-in's.
			fwd := n.acs.received(emv.TypeAReq)[0].(*emv.AReq)
			tx := waitTransaction(t, n, fwd.DSTransID)
			if tx.ACS != "bank" || tx.Outcome != "Y" {
				t.Fatalf("the DS recorded %+v; want the ACS's own Y", tx)
			}
			if got := n.metric(t, "open3ds_ds_stand_ins_total", map[string]string{}); got != 0 {
				t.Fatalf("the DS stood in %v times for a healthy ACS", got)
			}
			if got := n.metric(t, "open3ds_ds_acs_errors_total", map[string]string{}); got != 0 {
				t.Fatalf("the DS counted %v errors of a healthy ACS", got)
			}
		})
	}
}

// waitTransaction reads the DS's transaction until it is stored, for up to 20 seconds.
func waitTransaction(t *testing.T, n *network, dsTransID string) ds.Transaction {
	t.Helper()
	var err error
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var tx ds.Transaction
		if tx, err = n.store.Transaction(context.Background(), dsTransID); err == nil {
			return tx
		}
	}
	t.Fatalf("the DS never stored its transaction: %v", err)
	return ds.Transaction{}
}
