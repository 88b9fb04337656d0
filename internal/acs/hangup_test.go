package acs_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/acs"
	"github.com/open3ds/open3ds/internal/emv"
)

// TestADSThatHangsUpMidAReqStillLeavesTheTransactionStored: the DS gives up on an AReq (its own
// timeout, a dropped connection) while the ACS is deciding it. The ACS finishes on its own context:
// the transaction and its exchange are stored, as they would have been had the DS waited.
func TestADSThatHangsUpMidAReqStillLeavesTheTransactionStored(t *testing.T) {
	e := newACS(t)
	var reqCtx atomic.Pointer[context.Context]
	entered := make(chan struct{})
	e.svc.Risk = acs.RiskFunc(func(policy string, in acs.RiskInput) (acs.RiskResult, *acs.RiskResult) {
		close(entered)
		// Decide only once the server has seen the DS hang up.
		select {
		case <-(*reqCtx.Load()).Done():
		case <-time.After(10 * time.Second):
			t.Error("the server never saw the DS hang up")
		}
		return testRisk(policy, in)
	})
	h := e.svc.Handler()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := r.Context()
		reqCtx.Store(&c)
		h.ServeHTTP(w, r)
	}))
	srv.TLS = e.server.TLS.Clone()
	srv.StartTLS()
	t.Cleanup(srv.Close)

	const serverTransID = "8a880dc0-d2d2-4067-bcb1-b08d1690b26e"
	body := areq(t, "2.2.0", "areq-browser-pa", map[string]any{"acctNumber": panEnrolled, "threeDSServerTransID": serverTransID})
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+"/areq", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	done := make(chan error, 1)
	go func() {
		res, err := e.ds.Do(req)
		if err == nil {
			res.Body.Close()
		}
		done <- err
	}()
	<-entered
	cancel()
	if err := <-done; err == nil {
		t.Fatal("the DS's request was answered although it hung up")
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		exs, err := e.db.ExchangesByTransID(context.Background(), serverTransID)
		if err != nil {
			t.Fatal(err)
		}
		if len(exs) == 1 && exs[0].ResponseType == emv.TypeARes {
			if _, err := e.store.Transaction(context.Background(), exs[0].ACSTransID); err != nil {
				t.Errorf("the exchange names transaction %s, which is not stored: %v", exs[0].ACSTransID, err)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no answered exchange stored after the DS hung up: %+v", exs)
		}
	}
}
