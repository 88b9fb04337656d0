package threedsserver_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/acs"
	"github.com/open3ds/open3ds/internal/authvalue"
	"github.com/open3ds/open3ds/internal/ds"
	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/notify"
	"github.com/open3ds/open3ds/internal/otp"
	"github.com/open3ds/open3ds/internal/pki"
	"github.com/open3ds/open3ds/internal/store/storetest"
	"github.com/open3ds/open3ds/internal/threedsserver"
	"github.com/open3ds/open3ds/internal/vault"
)

const (
	panRealACS = "4100001234567898"
	realMobile = "+447700900123"
	// panRealDecoupled is a card of bank-d, which approves in its app (transStatus D).
	panRealDecoupled = "4200001234567806"
	decoupledMobile  = "+447700900456"
	// panRealFallback is a card of bank-f, whose range speaks 2.3.1 and which offers decoupled:
	// a challenge whose AReq allows it as a fallback (F or B) may move to the bank's app.
	panRealFallback = "4700001234567801"
	fallbackMobile  = "+447700900789"
)

// realACS is the real ACS behind the network's DS: its protocol side over mutual TLS and its
// browser side (3DS Method and challenge pages) on a plain listener, with codes going to the
// development outbox.
type realACS struct {
	url    string // the browser side: url+"/method" and url+"/challenge"
	outbox *notify.Outbox
	svc    *acs.Service
	store  *acs.SQLStore
}

// withRealACS puts the real ACS service (acs.Service over SQLite, one issuer and one cardholder)
// behind the network's DS for the 4100 range. Its risk rule challenges amounts above 1000.00.
func (n *network) withRealACS(tb testing.TB) *realACS {
	tb.Helper()
	ctx := context.Background()
	spec, err := authvalue.NewRandomSpec()
	must(tb, err)
	keys, err := authvalue.ParseKeys(spec)
	must(tb, err)
	vspec, err := vault.NewRandomSpec()
	must(tb, err)
	ring, err := vault.ParseKeyring(vspec)
	must(tb, err)
	db := storetest.OpenSQLite(tb)
	st := acs.NewSQLStore(db, acs.Vault(ring))
	must(tb, st.CreateIssuer(ctx, acs.Issuer{ID: "bank-r", Name: "Real Bank", Ranges: []acs.CardRange{{Start: "4100", End: "4100"}},
		Brand: acs.Branding{LogoURL: "https://bank.example/logo.png", SupportText: "Call us"}}))
	_, err = st.CreateCardholder(ctx, acs.Cardholder{IssuerID: "bank-r", PAN: panRealACS, Mobiles: []string{realMobile}})
	must(tb, err)
	must(tb, st.CreateIssuer(ctx, acs.Issuer{ID: "bank-d", Name: "App Bank", Ranges: []acs.CardRange{{Start: "4200", End: "4200"}},
		Decoupled: true, Brand: acs.Branding{Name: "App Bank"}}))
	_, err = st.CreateCardholder(ctx, acs.Cardholder{IssuerID: "bank-d", PAN: panRealDecoupled, Mobiles: []string{decoupledMobile}})
	must(tb, err)
	must(tb, st.CreateIssuer(ctx, acs.Issuer{ID: "bank-f", Name: "Fallback Bank", Ranges: []acs.CardRange{{Start: "4700", End: "4700"}},
		Decoupled: true, Brand: acs.Branding{Name: "Fallback Bank"}}))
	_, err = st.CreateCardholder(ctx, acs.Cardholder{IssuerID: "bank-f", PAN: panRealFallback, Mobiles: []string{fallbackMobile}})
	must(tb, err)
	// The browser side listens first, since its URL is the acsURL of every challenge.
	pages := httptest.NewServer(http.NotFoundHandler())
	tb.Cleanup(pages.Close)
	svc := &acs.Service{Store: st, ChallengeURL: pages.URL + "/challenge", Exchanges: db,
		Keys: func(string) (acs.AuthValueKeys, bool) { return acs.AuthValues(keys), true },
		Risk: acs.RiskFunc(func(_ string, in acs.RiskInput) (acs.RiskResult, *acs.RiskResult) {
			if amount, _ := strconv.ParseInt(in.AReq.PurchaseAmount, 10, 64); amount > 100000 {
				return acs.RiskResult{Score: 60, Outcome: acs.Challenge, Reasons: []string{"high amount"}}, nil
			}
			return acs.RiskResult{Score: 5, Outcome: acs.Frictionless, Reasons: []string{"low risk"}}, nil
		})}
	codes, err := otp.New(bytes.Repeat([]byte("k"), 32), otp.Policy{})
	must(tb, err)
	out := &realACS{url: pages.URL, outbox: notify.NewOutbox(0), svc: svc, store: st}
	q := notify.NewQueue(out.outbox, notify.QueueConfig{})
	tb.Cleanup(func() { q.Close(context.Background()) })
	br := &acs.Browser{Service: svc, Challenges: st, Codes: codes, Notify: q, Decoupled: st, DecoupledURL: pages.URL + "/decoupled/"}
	svc.DecoupledStarted = br.SendDecoupled
	pages.Config.Handler = br.Handler()
	srv := startTLS(tb, pki.RoleACS, "real-bank", svc.Handler())
	must(tb, n.dsStore.AddACS(ctx, ds.ACS{Name: "real-bank", ReferenceNumber: "REAL-ACS", URL: srv.URL + "/areq"}))
	r := dsRange("4100000000000000", "4100009999999999")
	r.ACS, r.MethodURL = "real-bank", pages.URL+"/method"
	must(tb, n.dsStore.AddRange(ctx, r))
	d := dsRange("4200000000000000", "4200009999999999")
	d.ACS, d.MethodURL = "real-bank", ""
	must(tb, n.dsStore.AddRange(ctx, d))
	f := dsRange("4700000000000000", "4700009999999999")
	f.ACS, f.MethodURL, f.ACSEnd = "real-bank", "", "2.3.1"
	must(tb, n.dsStore.AddRange(ctx, f))
	must(tb, n.server.RefreshRanges(ctx))
	return out
}

// code waits for the n-th code the real ACS sends to the cardholder's mobile and returns it.
// sendRReqs delivers the real ACS's RReqs to the network's DS as soon as each authentication ends,
// as the ACS's outbox sender does in a deployment. The AReq's dsURL names the scheme's DS, which
// here listens on loopback: the sender's transport takes every request there.
func (a *realACS) sendRReqs(tb testing.TB, n *network) {
	tb.Helper()
	c := clientFor(tb, pki.RoleACS, "real-bank")
	c.Transport = toHost{rt: c.Transport, host: strings.TrimPrefix(n.dsSrv.URL, "https://")}
	s := &acs.Sender{Store: a.store, Client: c, Every: 50 * time.Millisecond}
	a.svc.Ended = s.Wake
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	tb.Cleanup(func() { cancel(); <-done })
}

// toHost sends every request to one host.
type toHost struct {
	rt   http.RoundTripper
	host string
}

func (t toHost) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.URL.Host, r.Host = t.host, ""
	return t.rt.RoundTrip(r)
}

// link waits for the decoupled approval link sent to the decoupled card's holder.
func (a *realACS) link(tb testing.TB) string {
	tb.Helper()
	return a.linkFor(tb, decoupledMobile)
}

// linkFor waits for the decoupled approval link sent to mobile.
func (a *realACS) linkFor(tb testing.TB, mobile string) string {
	tb.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if msgs := a.outbox.Messages(mobile); len(msgs) > 0 && msgs[0].Link != "" {
			return msgs[0].Link
		}
	}
	tb.Fatal("no approval link in the outbox")
	return ""
}

func (a *realACS) code(tb testing.TB, n int) string {
	tb.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if msgs := a.outbox.Messages(realMobile); len(msgs) >= n {
			return msgs[0].Code
		}
	}
	tb.Fatalf("no code %d in the outbox", n)
	return ""
}

func TestTheRealACSAnswersFrictionlessYAndAChallengeForAHighAmount(t *testing.T) {
	n := newNetwork(t)
	bank := n.withRealACS(t)
	tests := []struct {
		name, amount, status string
	}{
		{"a small purchase is frictionless", "12999", "Y"},
		{"a purchase above 1000.00 is challenged", "250000", "C"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := start(t, n, panRealACS)
			body := authenticateBody()
			body["amount"] = tt.amount
			var res threedsserver.Result
			n.call(t, "POST", "/v1/authentications/"+st.ID+"/authenticate", body, &res)
			if res.TransStatus != tt.status {
				t.Fatalf("authenticate answered %+v; want %s", res, tt.status)
			}
			switch tt.status {
			case "Y":
				if res.ECI != "05" || len(res.AuthenticationValue) != 28 || !res.Final {
					t.Fatalf("frictionless result %+v lacks the ACS's ECI or authentication value", res)
				}
			case "C":
				if res.Challenge == nil || res.Challenge.ACSURL != bank.url+"/challenge" || res.Final {
					t.Fatalf("challenge result %+v lacks the form", res)
				}
				raw, err := emv.DecodeBase64Lenient(res.Challenge.CReq)
				must(t, err)
				if _, err := emv.ParseAs(raw, emv.TypeCReq, nil); err != nil {
					t.Fatalf("the creq does not parse: %v", err)
				}
			}
		})
	}
}
