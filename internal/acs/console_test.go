package acs_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/acs"
	"github.com/open3ds/open3ds/internal/audit"
	"github.com/open3ds/open3ds/internal/console"
	"github.com/open3ds/open3ds/internal/console/consoletest"
	"github.com/open3ds/open3ds/internal/otp"
	"github.com/open3ds/open3ds/internal/store"
)

const (
	conPAN1 = "4111110000001234"
	conPAN2 = "4111110000005678"
	conPAN3 = "5200000000009999"
)

// conRig is an ACS console on a real store with two issuers, three cards and known transactions,
// served on a loopback listener.
type conRig struct {
	t     testing.TB
	st    *acs.SQLStore
	c     *console.Console
	srv   *httptest.Server
	cards map[string]acs.Cardholder // by PAN
	today time.Time
}

func newConRig(t testing.TB, db *store.DB) *conRig {
	ctx := context.Background()
	r := &conRig{t: t, st: acs.NewSQLStore(db, newKeyring(t).ring(t)), cards: map[string]acs.Cardholder{},
		today: time.Now().UTC().Truncate(24 * time.Hour)}
	for _, is := range []acs.Issuer{testIssuer("bank-a", "4000", "4999"), testIssuer("bank-m", "5000", "5999")} {
		if err := r.st.CreateIssuer(ctx, is); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []acs.Cardholder{
		{IssuerID: "bank-a", PAN: conPAN1, Mobiles: []string{"+447700900123"}, Emails: []string{"ada@example.com"}},
		{IssuerID: "bank-a", PAN: conPAN2},
		{IssuerID: "bank-m", PAN: conPAN3},
	} {
		got, err := r.st.CreateCardholder(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		r.cards[c.PAN] = got
	}
	r.c = console.New(console.Options{Role: "acs", Title: "ACS", DB: db})
	acs.AddConsole(r.c, r.st, otp.Policy{})
	mux := http.NewServeMux()
	mux.Handle("/console/", r.c.Handler())
	r.srv = httptest.NewServer(mux)
	t.Cleanup(r.srv.Close)
	return r
}

// tx records one decided authentication of pan; challenged ones get a challenge row, as an ARes C
// leaves. Every field the pages and the analytics read is set.
func (r *conRig) tx(id, pan, channel, status, reason string, challenged, failed bool, at time.Time) {
	r.t.Helper()
	c := r.cards[pan]
	t := acs.Transaction{ACSTransID: id, ThreeDSServerTransID: "srv-" + id, DSTransID: "ds-" + id, IssuerID: c.IssuerID,
		CardholderID: c.ID, PANHash: r.st.LookupHash(pan), MaskedPAN: acs.MaskPAN(pan), MessageVersion: "2.2.0",
		MessageCategory: "01", DeviceChannel: channel, DSURL: "https://ds.example/rreq", Amount: 4250, Currency: "978",
		Merchant: "Tea Shop " + id, DeviceKey: "dev-" + pan[12:], RiskScore: 10, LiveDecision: "Y", TransStatus: status, Reason: reason,
		ECI: "05", ChallengeFailed: failed, CreatedAt: at, EndedAt: at.Add(time.Minute), RecurringAmount: -1}
	rec := acs.AReqRecord{Transaction: t}
	if challenged {
		rec.Challenge = &acs.ChallengeRow{ACSTransID: id, NotificationURL: "https://shop.example/n", MerchantName: t.Merchant,
			Step: acs.StepDone, Token: "tok" + id, Channel: "sms", OTP: otp.State{TransactionID: id, Sequence: 1, Wrong: 1, Interactions: 2},
			Result: status, AResAt: at, LastActivity: at.Add(time.Minute)}
	}
	if err := r.st.RecordAReq(context.Background(), rec); err != nil {
		r.t.Fatal(err)
	}
}

// signIn makes an account of access a and signs it in through the console's own pages; no page
// it gets may show a whole card number.
func (r *conRig) signIn(name string, a console.Access) *consoletest.Client {
	r.t.Helper()
	b := consoletest.NewClient(r.t, r.srv.URL)
	b.Never = []string{conPAN1, conPAN2, conPAN3}
	b.SignIn(r.c, name, a)
	return b
}

func TestACSConsoleFindsCardholdersAndUnlocksACard(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			r := newConRig(t, be.open(t))
			ctx := context.Background()
			ada := r.cards[conPAN1]
			for range 10 {
				if err := r.st.RecordOTPFailure(ctx, r.st.LookupHash(conPAN1), time.Now()); err != nil {
					t.Fatal(err)
				}
			}
			r.tx("tx-ada", conPAN1, "02", "Y", "", false, false, time.Now().Add(-time.Hour))
			op := r.signIn("olga", console.Operator)

			body := op.Page("/console/cardholders?last4=1234")
			if !strings.Contains(body, "411111******1234") || strings.Contains(body, "5678") || !strings.Contains(body, `<span class="tag bad">locked</span>`) {
				t.Errorf("the search by last four shows:\n%s", body)
			}
			body = op.Page("/console/cardholders?first6=411111")
			if !strings.Contains(body, "411111******1234") || !strings.Contains(body, "411111******5678") || strings.Contains(body, "520000") {
				t.Errorf("the search by first six shows:\n%s", body)
			}
			body = op.Page("/console/cardholders?ref=" + r.cards[conPAN3].ID)
			if !strings.Contains(body, "520000******9999") || strings.Contains(body, "411111") {
				t.Errorf("the search by reference shows:\n%s", body)
			}
			body = op.Page("/console/cardholders?last4=12a4")
			if !strings.Contains(body, `class="alert"`) || !strings.Contains(body, "Last four") || strings.Contains(body, "411111******1234") {
				t.Errorf("a mistyped last four shows:\n%s", body)
			}

			body = op.Page("/console/cardholders/" + ada.ID)
			for _, want := range []string{"411111******1234", "Bank bank-a (bank-a)", "•••• 0123", "a•••@example.com",
				`<span class="tag bad">locked</span>`, "10 failed code entries within 24h", "dev-1234", "browser", "Tea Shop tx-ada", `id="unlock"`} {
				if !strings.Contains(body, want) {
					t.Errorf("the cardholder page lacks %q:\n%s", want, body)
				}
			}
			if strings.Contains(body, "447700900123") || strings.Contains(body, "ada@example.com") {
				t.Errorf("the cardholder page shows a contact unmasked")
			}
			if st, _, _ := op.Get("/console/cardholders/ch_nobody"); st != http.StatusNotFound {
				t.Errorf("an unknown cardholder answered %d, want 404", st)
			}

			// A read-only account sees the card but may not unlock it.
			viewer := r.signIn("vera", console.ReadOnly)
			if st, _, _ := viewer.PostForm("/console/cardholders/"+ada.ID+"/unlock", nil); st != http.StatusForbidden {
				t.Errorf("a read-only unlock answered %d, want 403", st)
			}
			if st, _, _ := op.Post("/console/cardholders/"+ada.ID+"/unlock", url.Values{}); st != http.StatusForbidden {
				t.Errorf("an unlock without the form's token answered %d, want 403", st)
			}
			if n, _ := r.st.OTPFailures(ctx, r.st.LookupHash(conPAN1), time.Now().Add(-time.Hour)); n != 10 {
				t.Fatalf("refused unlocks left %d failures, want 10", n)
			}

			st, loc, _ := op.PostForm("/console/cardholders/"+ada.ID+"/unlock", nil)
			if st != http.StatusSeeOther || loc != "/console/cardholders/"+ada.ID {
				t.Fatalf("unlock answered %d → %s", st, loc)
			}
			body = op.Page(loc)
			if !strings.Contains(body, "Card unlocked: 10 failed code entries cleared.") || !strings.Contains(body, "not locked") ||
				strings.Contains(body, `id="unlock"`) {
				t.Errorf("after the unlock the page shows:\n%s", body)
			}
			if n, _ := r.st.OTPFailures(ctx, r.st.LookupHash(conPAN1), time.Now().Add(-time.Hour)); n != 0 {
				t.Errorf("after the unlock the card has %d failures", n)
			}
			es, err := r.c.Audit().List(ctx, audit.Filter{Action: "cardholder.unlock", Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			if len(es) != 1 || es[0].Actor != "olga" || es[0].Target != ada.ID || es[0].Detail != "cleared 10 failed code entries" {
				t.Errorf("the audit log holds %+v", es)
			}
			// Unlocking again changes nothing and records nothing.
			op.PostForm("/console/cardholders/"+ada.ID+"/unlock", nil)
			if es, _ := r.c.Audit().List(ctx, audit.Filter{Action: "cardholder.unlock", Limit: 10}); len(es) != 1 {
				t.Errorf("a second unlock left %d audit entries, want 1", len(es))
			}
		})
	}
}

func TestACSConsoleFindsATransactionAndShowsItsChallenge(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			r := newConRig(t, be.open(t))
			at := r.today.Add(9 * time.Hour)
			r.tx("tx-1", conPAN1, "02", "Y", "", false, false, at)
			r.tx("tx-2", conPAN1, "02", "N", "14", true, false, at.Add(time.Minute))
			r.tx("tx-3", conPAN3, "01", "Y", "", true, false, at.AddDate(0, 0, -1))
			op := r.signIn("olga", console.Operator)

			body := op.Page("/console/transactions")
			if strings.Index(body, "tx-2") > strings.Index(body, "tx-1") || !strings.Contains(body, "tx-3") {
				t.Errorf("the latest transactions, newest first, show:\n%s", body)
			}
			for _, id := range []string{"tx-2", "ds-tx-2", "srv-tx-2"} {
				body = op.Page("/console/transactions?id=" + id)
				if !strings.Contains(body, `data-id="tx-2"`) || strings.Contains(body, `data-id="tx-1"`) {
					t.Errorf("finding %s shows:\n%s", id, body)
				}
			}
			body = op.Page("/console/transactions?channel=app")
			if !strings.Contains(body, `data-id="tx-3"`) || strings.Contains(body, `data-id="tx-1"`) {
				t.Errorf("the app channel shows:\n%s", body)
			}
			body = op.Page("/console/transactions?day=" + r.today.Format(time.DateOnly) + "&status=Y&issuer=bank-a")
			if !strings.Contains(body, `data-id="tx-1"`) || strings.Contains(body, `data-id="tx-2"`) || strings.Contains(body, `data-id="tx-3"`) {
				t.Errorf("today's Y of bank-a shows:\n%s", body)
			}
			body = op.Page("/console/transactions?day=yesterday")
			if !strings.Contains(body, "Day: must be a date") {
				t.Errorf("a bad day shows:\n%s", body)
			}

			body = op.Page("/console/transactions/tx-2")
			for _, want := range []string{"411111******1234", "4250 978", "Tea Shop tx-2", `id="status">N`, "14", "05",
				`id="outcome">timed out`, "ds-tx-2", "srv-tx-2"} {
				if !strings.Contains(body, want) {
					t.Errorf("the transaction page lacks %q:\n%s", want, body)
				}
			}
			body = op.Page("/console/transactions/tx-1")
			if !strings.Contains(body, "No challenge") {
				t.Errorf("a frictionless transaction's page shows:\n%s", body)
			}
			if st, _, _ := op.Get("/console/transactions/nope"); st != http.StatusNotFound {
				t.Errorf("an unknown transaction answered %d, want 404", st)
			}
		})
	}
}

func TestACSConsoleAnalyticsCountsFromKnownRows(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			r := newConRig(t, be.open(t))
			today, yesterday := r.today.Add(8*time.Hour), r.today.AddDate(0, 0, -1).Add(8*time.Hour)
			// Today: 5 AReqs, 1 frictionless Y (an N without a challenge is not), 3 challenges: one
			// authenticated, one timed out, one with a wrong code.
			r.tx("t1", conPAN1, "02", "Y", "", false, false, today)
			r.tx("t2", conPAN1, "02", "N", "01", false, false, today)
			r.tx("t3", conPAN2, "02", "Y", "", true, false, today)
			r.tx("t4", conPAN2, "02", "N", "14", true, false, today)
			r.tx("t5", conPAN2, "02", "N", "01", true, true, today)
			// Yesterday: one app AReq of bank-m answered A without a challenge.
			r.tx("y1", conPAN3, "01", "A", "", false, false, yesterday)
			// Out of the range: 20 days ago.
			r.tx("old", conPAN1, "02", "Y", "", false, false, r.today.AddDate(0, 0, -20))
			op := r.signIn("olga", console.Operator)

			day := func(t time.Time) string { return t.Format(time.DateOnly) }
			bar := func(body, chart, label, series, value string) bool {
				i := strings.Index(body, `id="`+chart+`"`)
				if i < 0 {
					return false
				}
				return strings.Contains(body[i:], fmt.Sprintf(`data-label="%s" data-series="%s" data-value="%s"`, label, series, value))
			}
			body := op.Page("/console/analytics")
			if !bar(body, "frictionless-rate", day(today), "frictionless", "20.00") || !bar(body, "frictionless-rate", day(yesterday), "frictionless", "100.00") {
				t.Errorf("the frictionless chart shows:\n%s", body)
			}
			if !bar(body, "challenge-outcomes", day(today), "authenticated", "33.33") || !bar(body, "challenge-outcomes", day(today), "abandoned", "33.33") {
				t.Errorf("the challenge chart shows:\n%s", body)
			}
			if strings.Contains(body, r.today.AddDate(0, 0, -20).Format(time.DateOnly)) || strings.Count(body, `data-series="frictionless"`) != 2 {
				t.Errorf("the default range is not the last 14 days:\n%s", body)
			}
			if !strings.Contains(body, `id="frictionless-total">33.3%`) {
				t.Errorf("the range's frictionless rate (2 of 6) is not shown:\n%s", body)
			}
			body = op.Page("/console/analytics?channel=app")
			if bar(body, "frictionless-rate", day(today), "frictionless", "20.00") || !bar(body, "frictionless-rate", day(yesterday), "frictionless", "100.00") {
				t.Errorf("the app channel's chart shows:\n%s", body)
			}
			body = op.Page("/console/analytics?bin=411111&issuer=bank-a&version=2.2.0")
			if !bar(body, "frictionless-rate", day(today), "frictionless", "20.00") || bar(body, "frictionless-rate", day(yesterday), "frictionless", "100.00") {
				t.Errorf("BIN 411111's chart shows:\n%s", body)
			}
			body = op.Page("/console/analytics?version=2.3.1")
			if strings.Contains(body, `data-series="frictionless"`) {
				t.Errorf("a version without AReqs draws bars:\n%s", body)
			}
			body = op.Page("/console/analytics?from=" + day(r.today.AddDate(0, 0, -30)))
			if !bar(body, "frictionless-rate", day(r.today.AddDate(0, 0, -20)), "frictionless", "100.00") {
				t.Errorf("a longer range leaves out the old AReq:\n%s", body)
			}
			body = op.Page("/console/analytics?bin=41")
			if !strings.Contains(body, "BIN: must be the first 6 digits") {
				t.Errorf("a short BIN shows:\n%s", body)
			}
		})
	}
}

func TestACSConsoleShowsEachIssuersRangesAndCodePolicy(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			r := newConRig(t, be.open(t))
			is := testIssuer("bank-s", "6011", "6011")
			is.OTP = acs.OTPPolicy{Length: 8, TTLSeconds: 120, MaxAttempts: 5, MaxResends: 1}
			is.Decoupled = true
			if err := r.st.CreateIssuer(context.Background(), is); err != nil {
				t.Fatal(err)
			}
			op := r.signIn("vera", console.ReadOnly)
			body := op.Page("/console/issuers")
			section := func(id string) string {
				i := strings.Index(body, `id="issuer-`+id+`"`)
				if i < 0 {
					t.Fatalf("no section for %s:\n%s", id, body)
				}
				j := strings.Index(body[i:], "</section>")
				if j < 0 {
					t.Fatalf("the section of %s does not end:\n%s", id, body[i:])
				}
				return body[i : i+j]
			}
			s := section("bank-s")
			for _, want := range []string{"601100–601199", "8 digits, valid 2m; 5 wrong entries end the challenge; 1 resends, 30s apart",
				"after 10 failed entries within 24h", "offered"} {
				if !strings.Contains(s, want) {
					t.Errorf("bank-s's settings lack %q:\n%s", want, s)
				}
			}
			if s := section("bank-a"); !strings.Contains(s, "400000–499999") || !strings.Contains(s, "6 digits, valid 5m; 3 wrong entries") {
				t.Errorf("bank-a's settings show:\n%s", s)
			}
		})
	}
}
