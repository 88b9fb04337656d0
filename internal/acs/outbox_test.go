package acs_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/acs"
	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/httpx"
	"github.com/open3ds/open3ds/internal/pki"
	"github.com/open3ds/open3ds/internal/store"
)

// fakeDS plays the DS's RReq endpoint over mutual TLS: it fails the first `fail` requests with HTTP
// 503, then answers RRes 01 (or erro, when set, as the DS does when it cannot relay), and remembers
// every RReq it was sent.
type fakeDS struct {
	mu   sync.Mutex
	fail int
	erro *emv.Erro
	got  []emv.RReq
	url  string
	// holding and release, when set, hold each RReq until released: a slow DS.
	holding, release chan struct{}
}

func newFakeDS(tb testing.TB, fail int) *fakeDS {
	tb.Helper()
	l := testPKI(tb)
	f := &fakeDS{fail: fail}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id, err := pki.IdentifyRequest(r); err != nil || id.Role != "acs" {
			http.Error(w, "not an ACS", http.StatusForbidden)
			return
		}
		body, _ := io.ReadAll(r.Body)
		if f.release != nil {
			f.holding <- struct{}{}
			<-f.release
		}
		m, err := emv.ParseAs(body, emv.TypeRReq, nil)
		f.mu.Lock()
		defer f.mu.Unlock()
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rreq := m.(*emv.RReq)
		f.got = append(f.got, *rreq)
		if len(f.got) <= f.fail {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		if f.erro != nil {
			json.NewEncoder(w).Encode(f.erro)
			return
		}
		json.NewEncoder(w).Encode(emv.RRes{MessageType: emv.TypeRRes, MessageVersion: rreq.MessageVersion,
			ThreeDSServerTransID: rreq.ThreeDSServerTransID, ACSTransID: rreq.ACSTransID, DSTransID: rreq.DSTransID, ResultsStatus: "01"})
	}))
	cert, _ := pki.LoadKeyPair(l.DS.Cert, l.DS.Key)
	pool, _ := pki.LoadPool(l.CA.Cert)
	srv.TLS = pki.ServerConfig(cert, pool, true)
	srv.StartTLS()
	tb.Cleanup(srv.Close)
	f.url = srv.URL + "/rreq"
	return f
}

func (f *fakeDS) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.got)
}

// challenged makes a transaction that ends in a challenge, whose RReq goes to ds.
func challenged(tb testing.TB, e *acsEnv, ds *fakeDS) string {
	tb.Helper()
	res := post(tb, e.ds, e.url, areq(tb, "2.2.0", "areq-browser-pa", map[string]any{"acctNumber": panEnrolled,
		"purchaseAmount": "250000", "dsURL": ds.url})).(*emv.ARes)
	if res.TransStatus != "C" {
		tb.Fatalf("transStatus %s, want C", res.TransStatus)
	}
	return res.ACSTransID
}

func TestRReqOutbox(t *testing.T) {
	ctx := t.Context()
	for _, b := range backends {
		t.Run("a shutdown lets the RReq being sent finish and keeps it as sent, on "+b.name, func(t *testing.T) {
			e, ds := newACSOn(t, b.open), newFakeDS(t, 0)
			ds.holding, ds.release = make(chan struct{}, 1), make(chan struct{})
			id := challenged(t, e, ds)
			drain := &httpx.Drain{Grace: 20 * time.Second}
			s := &acs.Sender{Store: e.store, Client: e.acsTLS, Drain: drain, Every: time.Hour}
			running, stop := context.WithCancel(ctx)
			defer stop()
			go s.Run(running)
			if err := e.svc.EndAuthentication(ctx, acs.End{ACSTransID: id, TransStatus: "Y", InteractionCounter: 1}); err != nil {
				t.Fatal(err)
			}
			s.Wake()
			select {
			case <-ds.holding:
			case <-time.After(10 * time.Second):
				t.Fatal("the RReq never reached the DS")
			}
			stop() // SIGTERM while the DS holds the RReq
			drained := make(chan error, 1)
			go func() { drained <- drain.Serve(running) }()
			select {
			case <-drained:
				t.Fatal("the drain ended while an RReq was being delivered")
			case <-time.After(300 * time.Millisecond):
			}
			close(ds.release)
			select {
			case <-drained:
			case <-time.After(10 * time.Second):
				t.Fatal("the drain did not end once the RReq was delivered")
			}
			row, err := e.store.Outbox(ctx, id)
			if err != nil || row.SentAt.IsZero() || row.ResultsStatus != "01" {
				t.Fatalf("after the drain the outbox row is %+v (%v); want it sent with the RRes", row, err)
			}
		})
	}
	t.Run("failures are retried with back-off until an RRes comes back", func(t *testing.T) {
		e, ds := newACS(t), newFakeDS(t, 2)
		id := challenged(t, e, ds)
		if err := e.svc.EndAuthentication(ctx, acs.End{ACSTransID: id, TransStatus: "Y", InteractionCounter: 1}); err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		s := &acs.Sender{Store: e.store, Client: e.acsTLS, Backoff: time.Second, Now: func() time.Time { return now }}
		for i, wantSent := range []int{0, 0, 1} {
			if got := s.SendDue(ctx); got != wantSent {
				t.Fatalf("round %d delivered %d, want %d", i, got, wantSent)
			}
			if got := s.SendDue(ctx); got != 0 || ds.count() != i+1 {
				t.Fatalf("round %d: a row was retried before its back-off ended (%d calls)", i, ds.count())
			}
			now = now.Add(time.Duration(3<<i) * time.Second)
		}
		row, _ := e.store.Outbox(ctx, id)
		if row.SentAt.IsZero() || row.Attempts != 3 || row.ResultsStatus != "01" {
			t.Errorf("row %+v", row)
		}
		got := ds.got[2]
		tx, _ := e.store.Transaction(ctx, id)
		if got.TransStatus != "Y" || got.ECI != "05" || got.AuthenticationValue == "" || got.AuthenticationValue != tx.AuthValue {
			t.Errorf("RReq %+v, transaction %+v", got, tx)
		}
	})
	t.Run("an Erro from the DS is kept as the DS wrote it, its code and detail, not as an unexpected message type", func(t *testing.T) {
		e, ds := newACS(t), newFakeDS(t, 0)
		id := challenged(t, e, ds)
		if err := e.svc.EndAuthentication(ctx, acs.End{ACSTransID: id, TransStatus: "Y", InteractionCounter: 1}); err != nil {
			t.Fatal(err)
		}
		ds.erro = &emv.Erro{MessageType: emv.TypeErro, MessageVersion: "2.2.0", ErrorCode: "405", ErrorComponent: "D",
			ErrorDescription: "System connection failure", ErrorDetail: "3DS Server answered the RReq with HTTP 404",
			ErrorMessageType: emv.TypeRReq, ACSTransID: id}
		s := &acs.Sender{Store: e.store, Client: e.acsTLS}
		if got := s.SendDue(ctx); got != 0 {
			t.Fatalf("delivered %d RReqs to a DS that answered an Erro", got)
		}
		row, err := e.store.Outbox(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(row.LastError, "Erro 405 from D about RReq: 3DS Server answered the RReq with HTTP 404") {
			t.Fatalf("the outbox keeps %q; want the DS's code and detail", row.LastError)
		}
	})
	t.Run("a running sender woken by the end sends the RReq at once, long before its next look", func(t *testing.T) {
		e, ds := newACS(t), newFakeDS(t, 0)
		id := challenged(t, e, ds)
		s := &acs.Sender{Store: e.store, Client: e.acsTLS, Every: time.Hour}
		e.svc.Ended = s.Wake
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { s.Run(runCtx); close(done) }()
		defer func() { stop(); <-done }()
		// Run looks once as it starts and finds nothing; the end comes after that look, so only the
		// wake can send it within the hour.
		time.Sleep(300 * time.Millisecond)
		if err := e.svc.EndAuthentication(ctx, acs.End{ACSTransID: id, TransStatus: "Y", InteractionCounter: 1}); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for ds.count() == 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if ds.count() != 1 {
			t.Fatalf("the RReq did not reach the DS after the end woke the sender (%d calls)", ds.count())
		}
	})
	t.Run("a row leased by a crashed instance is sent by another once the lease runs out", func(t *testing.T) {
		e, ds := newACS(t), newFakeDS(t, 0)
		id := challenged(t, e, ds)
		if err := e.svc.EndAuthentication(ctx, acs.End{ACSTransID: id, TransStatus: "N", Reason: "01", ChallengeFailed: true}); err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		if rows, err := e.store.LeaseRReqs(ctx, "crashed", now, 30*time.Second, 10); err != nil || len(rows) != 1 {
			t.Fatalf("lease: %v %v", rows, err)
		}
		s := &acs.Sender{Store: e.store, Client: e.acsTLS, Now: func() time.Time { return now.Add(10 * time.Second) }}
		if s.SendDue(ctx) != 0 || ds.count() != 0 {
			t.Fatalf("a leased row was sent by another instance")
		}
		s.Now = func() time.Time { return now.Add(31 * time.Second) }
		if s.SendDue(ctx) != 1 || ds.count() != 1 || ds.got[0].TransStatus != "N" {
			t.Fatalf("the row was not resumed: %d calls", ds.count())
		}
	})
	t.Run("ending twice and delivering twice are harmless", func(t *testing.T) {
		e, ds := newACS(t), newFakeDS(t, 0)
		id := challenged(t, e, ds)
		end := acs.End{ACSTransID: id, TransStatus: "Y"}
		if err := e.svc.EndAuthentication(ctx, end); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.EndAuthentication(ctx, end); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("second end: %v, want ErrConflict", err)
		}
		s := &acs.Sender{Store: e.store, Client: e.acsTLS}
		s.SendDue(ctx)
		first, _ := e.store.Outbox(ctx, id)
		if err := e.store.RReqSent(ctx, first, "02", time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		again, _ := e.store.Outbox(ctx, id)
		if !again.SentAt.Equal(first.SentAt) || again.ResultsStatus != "01" || s.SendDue(ctx) != 0 || ds.count() != 1 {
			t.Errorf("a second delivery changed the row: %+v then %+v, %d calls", first, again, ds.count())
		}
	})
	t.Run("two senders at once deliver each row once", func(t *testing.T) {
		e, ds := newACS(t), newFakeDS(t, 0)
		for range 5 {
			id := challenged(t, e, ds)
			if err := e.svc.EndAuthentication(ctx, acs.End{ACSTransID: id, TransStatus: "Y"}); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() { (&acs.Sender{Store: e.store, Client: e.acsTLS}).SendDue(ctx) })
		}
		wg.Wait()
		if ds.count() != 5 {
			t.Errorf("the DS got %d RReqs for 5 rows", ds.count())
		}
	})
}
