package acs_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/acs"
	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/store/storetest"
)

// decoupled sends an AReq that the ACS answers D (bank-m offers decoupled; a high amount wants a
// challenge) and returns the ARes and the approval link the cardholder was sent.
func (s *shop) decoupled(tb testing.TB, set map[string]any) (*emv.ARes, string) {
	tb.Helper()
	fields := map[string]any{"acctNumber": panMastercard, "purchaseAmount": "250000"}
	for k, v := range set {
		fields[k] = v
	}
	res, ok := post(tb, s.e.ds, s.e.url, areq(tb, "2.2.0", "areq-browser-decoupled-pa", fields)).(*emv.ARes)
	if !ok || res.TransStatus != "D" {
		tb.Fatalf("got %+v, want an ARes D", res)
	}
	return res, s.link(tb, res.ACSTransID)
}

// link waits for the approval message of a transaction in the outbox and returns its link.
func (s *shop) link(tb testing.TB, acsTransID string) string {
	tb.Helper()
	for range 200 {
		for _, m := range s.outbox.Messages("") {
			if m.TransactionID == acsTransID && m.Link != "" {
				if m.Code != "" || !strings.Contains(m.Text, m.Link) {
					tb.Errorf("approval message %+v: want the link in the text and no code", m)
				}
				return m.Link
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	tb.Fatalf("no approval message for %s in the outbox", acsTransID)
	return ""
}

func getPage(tb testing.TB, link string) string {
	tb.Helper()
	resp, err := http.Get(link)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("GET approval page: %d %s", resp.StatusCode, b)
	}
	return string(b)
}

func answerDec(tb testing.TB, link, what string) string {
	tb.Helper()
	resp, err := http.PostForm(link, url.Values{"answer": {what}})
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("POST approval page: %d %s", resp.StatusCode, b)
	}
	return string(b)
}

// rreqOf reads the RReq the ACS queued for a transaction.
func (s *shop) rreqOf(tb testing.TB, acsTransID string) *emv.RReq {
	tb.Helper()
	row, err := s.e.store.Outbox(context.Background(), acsTransID)
	if err != nil {
		tb.Fatalf("no RReq queued: %v", err)
	}
	m, err := emv.ParseAs(row.Body, emv.TypeRReq, nil)
	if err != nil {
		tb.Fatalf("queued RReq does not parse: %v", err)
	}
	return m.(*emv.RReq)
}

func TestDecoupledApproveAndDecline(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := newShopOn(t, b.open)
			s.unwatched = true
			t.Run("the cardholder approves: Y with an authentication value, by RReq with authenticationType 04", func(t *testing.T) {
				res, link := s.decoupled(t, nil)
				if !strings.Contains(res.CardholderInfo.Text, "Approve") || res.ACSDecConInd != "Y" {
					t.Errorf("ARes D: cardholderInfo %q, acsDecConInd %q", res.CardholderInfo.Text, res.ACSDecConInd)
				}
				page := getPage(t, link)
				for _, want := range []string{"Shop Demo", "EUR 2,500.00", "•••• " + panMastercard[len(panMastercard)-4:], `id="approve"`} {
					if !strings.Contains(page, want) {
						t.Errorf("approval page lacks %q:\n%s", want, page)
					}
				}
				if strings.Contains(page, panMastercard) {
					t.Error("the approval page shows the whole card number")
				}
				if got := answerDec(t, link, "approve"); !strings.Contains(got, "Approved") {
					t.Errorf("after approving: %s", got)
				}
				r := s.rreqOf(t, res.ACSTransID)
				if r.TransStatus != "Y" || r.AuthenticationValue == "" || r.ECI != "02" || r.AuthenticationType != "04" {
					t.Errorf("RReq %+v", r)
				}
				tx, _ := s.e.store.Transaction(t.Context(), res.ACSTransID)
				if tx.TransStatus != "Y" || tx.AuthValue != r.AuthenticationValue {
					t.Errorf("stored %+v", tx)
				}
				if got := answerDec(t, link, "decline"); !strings.Contains(got, "Approved") {
					t.Errorf("a second answer changed the outcome: %s", got)
				}
			})
			t.Run("the cardholder declines: N reason 01", func(t *testing.T) {
				res, link := s.decoupled(t, nil)
				if got := answerDec(t, link, "decline"); !strings.Contains(got, "Declined") {
					t.Errorf("after declining: %s", got)
				}
				r := s.rreqOf(t, res.ACSTransID)
				if r.TransStatus != "N" || r.TransStatusReason != "01" || r.AuthenticationValue != "" {
					t.Errorf("RReq %+v", r)
				}
			})
			t.Run("an unknown token is 404 and a bad answer 400", func(t *testing.T) {
				resp, err := http.Get(s.url + "/decoupled/not-a-token")
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusNotFound {
					t.Errorf("unknown token: %d", resp.StatusCode)
				}
				_, link := s.decoupled(t, nil)
				resp, err = http.PostForm(link, url.Values{"answer": {"maybe"}})
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusBadRequest {
					t.Errorf("bad answer: %d", resp.StatusCode)
				}
			})
			t.Run("the store keeps only the token's hash", func(t *testing.T) {
				_, link := s.decoupled(t, nil)
				token := link[strings.LastIndex(link, "/")+1:]
				var n int
				if err := s.e.db.Reader().QueryRow(s.e.db.Rebind(`SELECT COUNT(*) FROM acs_decoupled WHERE token_hash = ?`), token).Scan(&n); err != nil || n != 0 {
					t.Errorf("token stored in clear (%d, %v)", n, err)
				}
			})
		})
	}
}

func TestDecoupledTimeout(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := newShopOn(t, b.open)
			s.unwatched = true
			t.Run("the sweeper ends it N 24 with challengeCancel 03 at the requestor's time, once", func(t *testing.T) {
				res, link := s.decoupled(t, map[string]any{"threeDSRequestorDecMaxTime": "00005"})
				s.clock.add(4 * time.Minute)
				if n, err := s.b.ExpireDecoupled(t.Context()); err != nil || n != 0 {
					t.Fatalf("swept %d (%v) before the deadline", n, err)
				}
				s.clock.add(2 * time.Minute)
				if n, err := s.b.ExpireDecoupled(t.Context()); err != nil || n != 1 {
					t.Fatalf("swept %d (%v), want 1", n, err)
				}
				if n, _ := s.b.ExpireDecoupled(t.Context()); n != 0 {
					t.Errorf("swept again: %d", n)
				}
				r := s.rreqOf(t, res.ACSTransID)
				if r.TransStatus != "N" || r.TransStatusReason != "24" || r.ChallengeCancel != "03" {
					t.Errorf("RReq %+v", r)
				}
				if got := answerDec(t, link, "approve"); !strings.Contains(got, "expired") {
					t.Errorf("approving after the timeout: %s", got)
				}
			})
			t.Run("the ACS's own maximum caps the requestor's time", func(t *testing.T) {
				s.e.svc.DecoupledMax = 10 * time.Minute
				defer func() { s.e.svc.DecoupledMax = 0 }()
				res, link := s.decoupled(t, map[string]any{"threeDSRequestorDecMaxTime": "10080"})
				s.clock.add(11 * time.Minute)
				// The sweeper has not run: the page already says expired, and an approval ends it as the timeout.
				if page := getPage(t, link); !strings.Contains(page, "expired") || strings.Contains(page, `id="approve"`) {
					t.Errorf("page after the deadline:\n%s", page)
				}
				answerDec(t, link, "approve")
				if r := s.rreqOf(t, res.ACSTransID); r.TransStatus != "N" || r.TransStatusReason != "24" {
					t.Errorf("RReq %+v", r)
				}
			})
		})
	}
}

// An approval racing other approvals, declines and the sweeper ends the transaction exactly once.
func TestDecoupledRace(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := newShopOn(t, b.open)
			s.unwatched = true
			res, link := s.decoupled(t, map[string]any{"threeDSRequestorDecMaxTime": "00005"})
			token := link[strings.LastIndex(link, "/")+1:]
			s.clock.add(5 * time.Minute) // exactly the deadline: answers and the sweeper both qualify
			var wg sync.WaitGroup
			var mu sync.Mutex
			won, conflicts := 0, 0
			for i := range 16 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					var err error
					switch i % 4 {
					case 3:
						var n int
						n, err = s.b.ExpireDecoupled(context.Background())
						if err == nil && n == 0 {
							err = store.ErrConflict
						}
					default:
						_, err = s.b.AnswerDecoupled(context.Background(), token, i%2 == 0)
					}
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						won++
					case errors.Is(err, store.ErrConflict):
						conflicts++
					default:
						t.Errorf("unexpected error: %v", err)
					}
				}()
			}
			wg.Wait()
			if won != 1 || conflicts != 15 {
				t.Errorf("%d ended it and %d were refused, want 1 and 15", won, conflicts)
			}
			var n int
			if err := s.e.db.Reader().QueryRow(s.e.db.Rebind(`SELECT COUNT(*) FROM acs_rreq_outbox WHERE acs_trans_id = ?`), res.ACSTransID).Scan(&n); err != nil || n != 1 {
				t.Errorf("%d RReqs queued (%v), want 1", n, err)
			}
		})
	}
}

// A decoupled request outlives the instance that answered D: another store and browser on the same
// database, with nothing in memory, end it at the deadline.
func TestDecoupledSurvivesRestart(t *testing.T) {
	for _, dsn := range []struct {
		name string
		dsn  func(testing.TB) string
	}{{"sqlite", storetest.SQLiteDSN}, {"postgres", storetest.PostgresDSN}} {
		t.Run(dsn.name, func(t *testing.T) {
			ctx := context.Background()
			s, restart := restartableShop(t, dsn.dsn)
			s.unwatched = true
			res, _ := s.decoupled(t, map[string]any{"threeDSRequestorDecMaxTime": "00002"})
			db := restart()
			st := acs.NewSQLStore(db, s.e.vault)
			later := func() time.Time { return s.clock.now().Add(3 * time.Minute) }
			svc := &acs.Service{Store: st, Keys: s.e.svc.Keys, Now: later}
			br := &acs.Browser{Service: svc, Challenges: st, Decoupled: st}
			if n, err := br.ExpireDecoupled(ctx); err != nil || n != 1 {
				t.Fatalf("after the restart the sweeper ended %d (%v), want 1", n, err)
			}
			tx, err := st.Transaction(ctx, res.ACSTransID)
			if err != nil || tx.TransStatus != "N" || tx.Reason != "24" {
				t.Errorf("stored %+v (%v)", tx, err)
			}
			if _, err := st.Outbox(ctx, res.ACSTransID); err != nil {
				t.Errorf("no RReq queued: %v", err)
			}
		})
	}
}

func TestDecoupledVersionsAndLimits(t *testing.T) {
	s := newShop(t)
	s.unwatched = true
	t.Run("2.1.0 has no decoupled fields: an AReq carrying one is refused naming it", func(t *testing.T) {
		m := post(t, s.e.ds, s.e.url, areq(t, "2.1.0", "areq-browser-pa", map[string]any{"acctNumber": panMastercard,
			"purchaseAmount": "250000", "threeDSRequestorDecReqInd": "Y"}))
		e, ok := m.(*emv.Erro)
		if !ok || !strings.Contains(e.ErrorDescription+e.ErrorDetail, "threeDSRequestorDecReqInd") {
			t.Errorf("got %+v, want an Erro naming threeDSRequestorDecReqInd", m)
		}
	})
	t.Run("2.1.0 never gets D: the same card and amount is challenged", func(t *testing.T) {
		m := post(t, s.e.ds, s.e.url, areq(t, "2.1.0", "areq-browser-pa", map[string]any{"acctNumber": panMastercard, "purchaseAmount": "250000"}))
		if res, ok := m.(*emv.ARes); !ok || res.TransStatus != "C" {
			t.Errorf("got %+v, want C", m)
		}
	})
	t.Run("too little time for the issuer's minimum falls back to a browser challenge", func(t *testing.T) {
		s.e.svc.DecoupledMin = 10 * time.Minute
		defer func() { s.e.svc.DecoupledMin = 0 }()
		m := post(t, s.e.ds, s.e.url, areq(t, "2.2.0", "areq-browser-decoupled-pa", map[string]any{"acctNumber": panMastercard,
			"purchaseAmount": "250000", "threeDSRequestorDecMaxTime": "00005"}))
		if res, ok := m.(*emv.ARes); !ok || res.TransStatus != "C" {
			t.Errorf("got %+v, want C", m)
		}
	})
	t.Run("too little time where no challenge can happen is N reason 25", func(t *testing.T) {
		s.e.svc.DecoupledMin = 10 * time.Minute
		defer func() { s.e.svc.DecoupledMin = 0 }()
		m := post(t, s.e.ds, s.e.url, areq(t, "2.2.0", "areq-browser-decoupled-pa", map[string]any{"acctNumber": panMastercard,
			"purchaseAmount": "250000", "threeDSRequestorDecMaxTime": "00005", "threeDSRequestorChallengeInd": "06"}))
		if res, ok := m.(*emv.ARes); !ok || res.TransStatus != "N" || res.TransStatusReason != "25" {
			t.Errorf("got %+v, want N 25", m)
		}
	})
	t.Run("2.3.1 answers D with authenticationMethod and the final RReq validates", func(t *testing.T) {
		m := post(t, s.e.ds, s.e.url, areq(t, "2.3.1", "areq-browser-pa", map[string]any{"acctNumber": panMastercard,
			"purchaseAmount": "250000", "threeDSRequestorDecReqInd": "Y", "threeDSRequestorDecMaxTime": "00010"}))
		res, ok := m.(*emv.ARes)
		if !ok || res.TransStatus != "D" {
			t.Fatalf("got %+v, want D", m)
		}
		link := s.link(t, res.ACSTransID)
		answerDec(t, link, "approve")
		r := s.rreqOf(t, res.ACSTransID)
		if r.TransStatus != "Y" || len(r.AuthenticationMethod) != 1 || r.AuthenticationType != "" {
			t.Errorf("RReq %+v", r)
		}
	})
	t.Run("2.3.1's B allows D in the ARes; F allows it only as a fallback, so the ARes is a challenge", func(t *testing.T) {
		for ind, want := range map[string]string{"B": "D", "F": "C"} {
			m := post(t, s.e.ds, s.e.url, areq(t, "2.3.1", "areq-browser-pa", map[string]any{"acctNumber": panMastercard,
				"purchaseAmount": "250000", "threeDSRequestorDecReqInd": ind}))
			if res, ok := m.(*emv.ARes); !ok || res.TransStatus != want {
				t.Errorf("DecReqInd %s: got %+v, want %s", ind, m, want)
			}
		}
	})
	t.Run("2.2.0 has no F or B: the Erro names the field", func(t *testing.T) {
		for _, ind := range []string{"F", "B"} {
			m := post(t, s.e.ds, s.e.url, areq(t, "2.2.0", "areq-browser-decoupled-pa", map[string]any{"acctNumber": panMastercard,
				"threeDSRequestorDecReqInd": ind}))
			if e, ok := m.(*emv.Erro); !ok || e.ErrorCode != "203" || e.ErrorDetail != "threeDSRequestorDecReqInd" {
				t.Errorf("DecReqInd %s in 2.2.0: got %+v, want Erro 203 naming threeDSRequestorDecReqInd", ind, m)
			}
		}
	})
	t.Run("a Japanese shopper gets the page in Japanese", func(t *testing.T) {
		_, link := s.decoupled(t, map[string]any{"browserLanguage": "ja-JP"})
		if page := getPage(t, link); !strings.Contains(page, `lang="ja"`) || !strings.Contains(page, "承認する") {
			t.Errorf("approval page:\n%s", page)
		}
	})
	t.Run("no log line holds the link's token", func(t *testing.T) {
		_, link := s.decoupled(t, nil)
		answerDec(t, link, "approve")
		token := link[strings.LastIndex(link, "/")+1:]
		if strings.Contains(s.e.logs.String(), token) {
			t.Error("the approval token is in the log")
		}
	})
}

// restartableShop is a shop on the database dsn names; restart closes its store and opens a fresh
// one on the same database, as another instance with nothing in memory would.
func restartableShop(t *testing.T, dsn func(testing.TB) string) (*shop, func() *store.DB) {
	t.Helper()
	d := dsn(t)
	var first *store.DB
	s := newShopOn(t, func(tb testing.TB) *store.DB {
		db, err := store.Open(context.Background(), d, store.Options{Migrate: true})
		if err != nil {
			tb.Fatal(err)
		}
		first = db
		return db
	})
	return s, func() *store.DB {
		t.Helper()
		if err := first.Close(); err != nil {
			t.Fatal(err)
		}
		db, err := store.Open(context.Background(), d, store.Options{Migrate: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
}
