package acs_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/acs"
	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/store/storetest"
)

// rreqDS is a DS that records the transStatus of every RReq it receives, in order, and answers
// each with an RRes. While hold is set, an RReq D waits on it before being answered.
type rreqDS struct {
	mu   sync.Mutex
	got  []string
	hold chan struct{}
	// inFlight is closed when an RReq D has arrived and waits on hold.
	inFlight chan struct{}
}

func newRReqDS(tb testing.TB) (*rreqDS, string) {
	d := &rreqDS{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var m emv.RReq
		json.Unmarshal(body, &m)
		d.mu.Lock()
		d.got = append(d.got, m.TransStatus)
		hold, inFlight := d.hold, d.inFlight
		d.mu.Unlock()
		if m.TransStatus == "D" && hold != nil {
			close(inFlight)
			<-hold
		}
		out, _ := emv.Marshal(&emv.RRes{MessageType: emv.TypeRRes, MessageVersion: m.MessageVersion,
			ThreeDSServerTransID: m.ThreeDSServerTransID, ACSTransID: m.ACSTransID, DSTransID: m.DSTransID, ResultsStatus: "01"})
		w.Header().Set("Content-Type", "application/json")
		w.Write(out)
	}))
	tb.Cleanup(srv.Close)
	return d, srv.URL + "/rreq"
}

func (d *rreqDS) seen() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.got...)
}

// fallback opens a 2.3.1 browser challenge whose AReq says threeDSRequestorDecReqInd ind, on the
// card whose issuer offers decoupled, and returns its first page.
func (s *shop) fallback(tb testing.TB, version, ind, dsURL string) (string, page) {
	tb.Helper()
	set := map[string]any{"acctNumber": panMastercard, "purchaseAmount": "250000", "notificationURL": notificationURL,
		"threeDSRequestorDecReqInd": ind, "threeDSRequestorDecMaxTime": "00010"}
	if dsURL != "" {
		set["dsURL"] = dsURL
	}
	if ind == "" {
		set["threeDSRequestorDecReqInd"] = nil
	}
	res, ok := post(tb, s.e.ds, s.e.url, areq(tb, version, "areq-browser-pa", set)).(*emv.ARes)
	if !ok || res.TransStatus != "C" {
		tb.Fatalf("got %+v, want an ARes C", res)
	}
	p := s.post(tb, "/challenge", url.Values{"creq": {creq(res.ACSTransID, res.ThreeDSServerTransID, version, "05")},
		"threeDSSessionData": {"c2Vzc2lvbi00Mg"}})
	if p.status != http.StatusOK {
		tb.Fatalf("first page: %d %s", p.status, p.body)
	}
	return res.ACSTransID, p
}

// sendAll runs n senders at once, each sending what is due, until none sends anything more. now,
// when given, is the senders' clock.
func sendAll(st acs.Store, n int, now ...func() time.Time) {
	for {
		var wg sync.WaitGroup
		var mu sync.Mutex
		total := 0
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sd := &acs.Sender{Store: st, Client: http.DefaultClient}
				if len(now) > 0 {
					sd.Now = now[0]
				}
				c := sd.SendDue(context.Background())
				mu.Lock()
				total += c
				mu.Unlock()
			}()
		}
		wg.Wait()
		if total == 0 {
			return
		}
	}
}

func TestDecoupledFallback(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := newShopOn(t, b.open)
			s.unwatched = true
			t.Run("the cardholder moves the challenge to the bank's app: CRes D, interim RReq D, approval, final RReq Y, each once and in order", func(t *testing.T) {
				ds, dsURL := newRReqDS(t)
				id, p := s.fallback(t, "2.3.1", "F", dsURL)
				if !strings.Contains(p.body, `id="bankapp"`) || !strings.Contains(p.body, "Approve in my bank&#39;s app instead") {
					t.Fatalf("the choice page offers no bank app:\n%s", p.body)
				}
				done := s.act(t, p, "bankapp")
				if !strings.Contains(done.body, "Approve this payment in your bank&#39;s app") {
					t.Errorf("the final page does not tell the cardholder to use the app:\n%s", done.body)
				}
				cres, rreq := s.final(t, done, id)
				if cres.TransStatus != "D" || rreq.TransStatus != "D" || rreq.AuthenticationValue != "" {
					t.Errorf("CRes %+v, interim RReq %+v", cres, rreq)
				}
				if row, _ := s.e.store.Outbox(t.Context(), id); !row.Interim || row.Seq != 1 {
					t.Errorf("outbox row %+v, want the interim RReq as seq 1", row)
				}
				sendAll(s.e.store, 4)
				link := s.link(t, id)
				if got := answerDec(t, link, "approve"); !strings.Contains(got, "Approved") {
					t.Errorf("after approving: %s", got)
				}
				row, _ := s.e.store.Outbox(t.Context(), id)
				final := s.rreqOf(t, id)
				if row.Interim || row.Seq != 2 || !row.SentAt.IsZero() || final.TransStatus != "Y" || final.AuthenticationValue == "" ||
					len(final.AuthenticationMethod) != 1 || final.AuthenticationMethod[0] != "11" {
					t.Errorf("after approval: row %+v, RReq %+v", row, final)
				}
				sendAll(s.e.store, 4)
				if got := strings.Join(ds.seen(), ","); got != "D,Y" {
					t.Errorf("the DS received %s, want D,Y", got)
				}
				// The challenge page, reloaded, still shows the switch and the CRes D.
				if again := s.act(t, p, "send", "dest", "sms:0"); !strings.Contains(again.body, "Approve this payment in your bank&#39;s app") {
					t.Errorf("a later post on the old page:\n%s", again.body)
				}
			})
			t.Run("a final RReq waits for the interim one still being sent, then goes once", func(t *testing.T) {
				ds, dsURL := newRReqDS(t)
				ds.hold, ds.inFlight = make(chan struct{}), make(chan struct{})
				id, p := s.fallback(t, "2.3.1", "F", dsURL)
				s.act(t, p, "bankapp")
				first := make(chan int)
				go func() {
					first <- (&acs.Sender{Store: s.e.store, Client: http.DefaultClient}).SendDue(context.Background())
				}()
				<-ds.inFlight
				answerDec(t, s.link(t, id), "decline")
				// The interim RReq is on the wire: the final one must not overtake it.
				sendAll(s.e.store, 4)
				if got := strings.Join(ds.seen(), ","); got != "D" {
					t.Errorf("while the interim RReq was in flight the DS received %s", got)
				}
				close(ds.hold)
				if n := <-first; n != 1 {
					t.Errorf("the interim sender counted %d delivered, want its interim RReq", n)
				}
				sendAll(s.e.store, 4)
				if got := strings.Join(ds.seen(), ","); got != "D,N" {
					t.Errorf("the DS received %s, want D,N", got)
				}
				if row, _ := s.e.store.Outbox(t.Context(), id); row.SentAt.IsZero() || row.Seq != 2 {
					t.Errorf("final row %+v, want it sent", row)
				}
			})
			t.Run("a final RReq before the interim one was sent replaces it: the DS gets only the final one", func(t *testing.T) {
				ds, dsURL := newRReqDS(t)
				id, p := s.fallback(t, "2.3.1", "F", dsURL)
				s.act(t, p, "bankapp")
				answerDec(t, s.link(t, id), "approve")
				sendAll(s.e.store, 4)
				if got := strings.Join(ds.seen(), ","); got != "Y" {
					t.Errorf("the DS received %s, want Y alone", got)
				}
			})
			t.Run("2.3.1 with N or no indicator, and 2.2.0, offer no bank app and a forged switch changes nothing", func(t *testing.T) {
				for _, c := range []struct{ version, ind string }{{"2.3.1", "N"}, {"2.3.1", ""}, {"2.2.0", "N"}, {"2.2.0", ""}} {
					set := map[string]any{"acctNumber": panMastercard, "purchaseAmount": "250000", "notificationURL": notificationURL,
						"threeDSRequestorDecReqInd": nil}
					if c.ind != "" {
						set["threeDSRequestorDecReqInd"] = c.ind
					}
					res, ok := post(t, s.e.ds, s.e.url, areq(t, c.version, "areq-browser-pa", set)).(*emv.ARes)
					if !ok || res.TransStatus != "C" {
						t.Fatalf("%s %s: got %+v, want C", c.version, c.ind, res)
					}
					p := s.post(t, "/challenge", url.Values{"creq": {creq(res.ACSTransID, res.ThreeDSServerTransID, c.version, "05")}})
					if strings.Contains(p.body, "bankapp") {
						t.Errorf("%s %q: the page offers the bank app", c.version, c.ind)
					}
					again := s.act(t, p, "bankapp")
					tx, _ := s.e.store.Transaction(t.Context(), res.ACSTransID)
					if strings.Contains(again.body, `name="cres"`) || tx.TransStatus != "C" {
						t.Errorf("%s %q: a forged switch gave %s / %+v", c.version, c.ind, again.body, tx)
					}
				}
			})
		})
	}
}

func TestDecoupledFallbackSurvivesRestart(t *testing.T) {
	for _, dsn := range []struct {
		name string
		dsn  func(testing.TB) string
	}{{"sqlite", storetest.SQLiteDSN}, {"postgres", storetest.PostgresDSN}} {
		t.Run(dsn.name, func(t *testing.T) {
			ctx := context.Background()
			s, restart := restartableShop(t, dsn.dsn)
			s.unwatched = true
			ds, dsURL := newRReqDS(t)
			id, p := s.fallback(t, "2.3.1", "F", dsURL)
			s.act(t, p, "bankapp")
			sendAll(s.e.store, 2)
			db := restart()
			st := acs.NewSQLStore(db, s.e.vault)
			later := func() time.Time { return s.clock.now().Add(11 * time.Minute) }
			svc := &acs.Service{Store: st, Keys: s.e.svc.Keys, Now: later}
			br := &acs.Browser{Service: svc, Challenges: st, Decoupled: st}
			if n, err := br.ExpireDecoupled(ctx); err != nil || n != 1 {
				t.Fatalf("after the restart the sweeper ended %d (%v), want 1", n, err)
			}
			sendAll(st, 3, later)
			tx, _ := st.Transaction(ctx, id)
			if got := strings.Join(ds.seen(), ","); got != "D,N" || tx.Reason != "24" {
				t.Errorf("the DS received %s (want D,N); stored %+v", got, tx)
			}
		})
	}
}

// In Chromium, in every challenge window size and in English and Japanese, the choice page of a
// 2.3.1 challenge whose AReq allowed the fallback shows "Approve in my bank's app instead" beside
// the other buttons, all in view without scrolling; pressing it shows the switch and posts a final
// CRes D to the merchant.
func TestChromiumMovesAChallengeToTheBanksApp(t *testing.T) {
	// 2.3.1 wants https notification URLs; the merchant page here is plain loopback.
	emv.AllowLoopbackHTTP(true)
	t.Cleanup(func() { emv.AllowLoopbackHTTP(false) })
	ctx := chromium(t)
	s, m, _, _ := browserShop(t)
	s.unwatched = true
	n := 0
	for _, w := range windows {
		for _, lang := range []string{"en-GB", "ja-JP"} {
			t.Run("window size "+w.size+" in "+lang, func(t *testing.T) {
				res, ok := post(t, s.e.ds, s.e.url, areq(t, "2.3.1", "areq-browser-pa", map[string]any{"acctNumber": panMastercard,
					"purchaseAmount": "250000", "notificationURL": m.url + "/notify", "dsURL": s.dsURL, "browserLanguage": lang,
					"threeDSRequestorDecReqInd": "F", "threeDSRequestorDecMaxTime": "00010"})).(*emv.ARes)
				if !ok || res.TransStatus != "C" {
					t.Fatalf("got %+v, want C", res)
				}
				navigate(t, ctx, checkoutURL(m, s.url+"/challenge", creq(res.ACSTransID, res.ThreeDSServerTransID, "2.3.1", w.size), w.css))
				var each map[string]string
				sels := []string{`button[value="send"]`, "#bankapp", `button[value="cancel"]`}
				got := frameValue(t, ctx, "measuring the choice page", inView(sels...))
				if err := json.Unmarshal([]byte(got), &each); err != nil {
					t.Fatalf("%v in %s", err, got)
				}
				for _, sel := range sels {
					if each[sel] != "ok" {
						t.Errorf("%s is %s", sel, each[sel])
					}
				}
				notClipped(t, ctx, "fallback-"+w.size+"-"+lang+"-choose")
				inFrame(t, ctx, "moving to the bank's app", press("#bankapp"))
				n++
				if cres := m.received(t, n); cres.TransStatus != "D" || cres.ACSTransID != res.ACSTransID {
					t.Errorf("the merchant got %+v, want a CRes D", cres)
				}
			})
		}
	}
}
