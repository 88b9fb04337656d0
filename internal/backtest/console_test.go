package backtest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/acs"
	"github.com/open3ds/open3ds/internal/audit"
	"github.com/open3ds/open3ds/internal/backtest"
	"github.com/open3ds/open3ds/internal/console"
	"github.com/open3ds/open3ds/internal/console/consoletest"
	"github.com/open3ds/open3ds/internal/risk"
	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/store/storetest"
	"github.com/open3ds/open3ds/internal/vault"
)

// runningRules is the policy file of the ACS under test: the live rules of backtest_test.go
// decide, and a shadow as strict as its new rules runs beside them (challenging over 100.00).
const runningRules = `
default:
  live: {name: live, frictionless_below: 300, rules: {large_amount: {over: 1000, points: 400}}}
  shadow: {name: stricter, frictionless_below: 300, rules: {large_amount: {over: 100, points: 400}}}
`

// riskRig is an ACS console with the risk pages on a real store holding the test traffic, decided
// live and in shadow by runningRules, and its fraud reports.
type riskRig struct {
	t     testing.TB
	st    *acs.SQLStore
	c     *console.Console
	srv   *httptest.Server
	start time.Time
}

func newRiskRig(t testing.TB, open func(testing.TB) *store.DB) *riskRig {
	t.Helper()
	ctx := context.Background()
	spec, err := vault.NewRandomSpec()
	if err != nil {
		t.Fatal(err)
	}
	ring, err := vault.ParseKeyring(spec)
	if err != nil {
		t.Fatal(err)
	}
	db := open(t)
	r := &riskRig{t: t, st: acs.NewSQLStore(db, acs.Vault(ring)), start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
	for _, is := range []acs.Issuer{
		{ID: "bank-a", Name: "Bank A", Ranges: []acs.CardRange{{Start: "4000", End: "4000"}}},
		{ID: "bank-m", Name: "Bank M", Ranges: []acs.CardRange{{Start: "5100", End: "5100"}}},
	} {
		if err := r.st.CreateIssuer(ctx, is); err != nil {
			t.Fatal(err)
		}
	}
	set, err := risk.ParseSet([]byte(runningRules))
	if err != nil {
		t.Fatal(err)
	}
	engine := acs.Risk(set)
	for i, p := range traffic {
		at := r.start.Add(time.Duration(p.day)*24*time.Hour + time.Duration(i)*time.Minute)
		in := &acs.RiskInput{AReq: sampleAReq(t, p.pan, p.amount), HasDeviceData: true, Now: at}
		live, shadow := engine.Evaluate("", *in)
		issuer := "bank-a"
		if p.pan[0] == '5' {
			issuer = "bank-m"
		}
		r.record(acs.Transaction{ACSTransID: p.id, IssuerID: issuer, MaskedPAN: acs.MaskPAN(p.pan), PANHash: r.st.LookupHash(p.pan),
			Amount: p.amount, Currency: "978", LiveDecision: live.Outcome, ShadowDecision: shadow.Outcome, TransStatus: "Y", CreatedAt: at, RiskInput: in})
	}
	// Around the traffic: one AReq scored before the shadow policy existed, one the engine never
	// scored (no decision), and one a month earlier, outside every window the tests ask for.
	r.record(acs.Transaction{ACSTransID: "before-shadow", IssuerID: "bank-m", MaskedPAN: acs.MaskPAN("5100002222242228"),
		LiveDecision: acs.Frictionless, ShadowDecision: "none", TransStatus: "Y", CreatedAt: r.start.Add(time.Hour)})
	r.record(acs.Transaction{ACSTransID: "unscored", IssuerID: "bank-a", MaskedPAN: acs.MaskPAN("4000001234547891"),
		LiveDecision: "none", ShadowDecision: "none", TransStatus: "N", CreatedAt: r.start.Add(2 * time.Hour)})
	r.record(acs.Transaction{ACSTransID: "old", IssuerID: "bank-a", MaskedPAN: acs.MaskPAN("4000001234547891"),
		LiveDecision: acs.Frictionless, ShadowDecision: acs.Deny, TransStatus: "Y", CreatedAt: r.start.Add(-30 * 24 * time.Hour)})
	reports, bad, err := backtest.ParseFraudCSV(strings.NewReader(fraudFile(r.start)))
	if err != nil || len(bad) != 0 {
		t.Fatalf("fraud file: %v %v", bad, err)
	}
	if _, err := r.st.ImportFraudReports(ctx, reports); err != nil {
		t.Fatal(err)
	}

	now := func() time.Time { return r.start.Add(3*24*time.Hour + time.Hour) }
	r.c = console.New(console.Options{Role: "acs", Title: "ACS", DB: db})
	backtest.AddConsole(r.c, r.st, set, now)
	mux := http.NewServeMux()
	mux.Handle("/console/", r.c.Handler())
	r.srv = httptest.NewServer(mux)
	t.Cleanup(r.srv.Close)
	return r
}

func (r *riskRig) record(tx acs.Transaction) {
	r.t.Helper()
	if tx.Currency == "" {
		tx.Currency, tx.Amount = "978", 1000
	}
	if err := r.st.RecordTransaction(context.Background(), tx); err != nil {
		r.t.Fatal(err)
	}
}

// signIn makes an account of access a and signs it in through the console's pages; no page it
// gets may show a whole card number.
func (r *riskRig) signIn(name string, a console.Access) *consoletest.Client {
	r.t.Helper()
	c := consoletest.NewClient(r.t, r.srv.URL)
	for _, p := range traffic {
		c.Never = append(c.Never, p.pan)
	}
	c.SignIn(r.c, name, a)
	c.Page("/console/risk")
	return c
}

// runBacktest posts the backtest form, which must answer 200 with no whole card number.
func runBacktest(c *consoletest.Client, form url.Values) string {
	c.T.Helper()
	st, loc, body := c.PostForm("/console/risk/backtest", form)
	return c.OK("POST /console/risk/backtest", st, loc, body)
}

// text is the page's visible text, tags dropped and spaces folded, for asserting what a reader sees.
func text(body string) string {
	body = regexp.MustCompile(`(?s)<style.*?</style>|<[^>]*>`).ReplaceAllString(body, " ")
	return strings.Join(strings.Fields(strings.NewReplacer("&gt;", ">", "&lt;", "<", "&amp;", "&", "&#34;", `"`, "&#39;", "'").Replace(body)), " ")
}

// section is the visible text of the element with this id up to the next element of its kind.
func section(t testing.TB, body, id string) string {
	t.Helper()
	i := strings.Index(body, `id="`+id+`"`)
	if i < 0 {
		t.Fatalf("no #%s in the page:\n%s", id, text(body))
	}
	rest := body[i:]
	if j := strings.Index(rest[1:], "</section>"); j >= 0 {
		rest = rest[:j+1]
	}
	return text(rest)
}

var backends = []struct {
	name string
	open func(testing.TB) *store.DB
}{{"sqlite", storetest.OpenSQLite}, {"postgres", storetest.OpenPostgres}}

func TestRiskPageShowsTheRulesAndTheShadowMatrixOnEveryStore(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			r := newRiskRig(t, b.open)
			vera := r.signIn("vera", console.ReadOnly)
			body := vera.Page("/console/risk")

			// The rules as they run: thresholds and each rule's points and parameter, live and shadow.
			rules := section(t, body, "rules-bank-a")
			// The two side by side: a rule the shadow sets otherwise is one row with both settings.
			for _, want := range []string{"Live: live", "frictionless below 300", "deny above 700", "Shadow: stricter",
				"1 of 1 rules differ in the shadow policy", "large_amount over 1000 400 over 100 400"} {
				if !strings.Contains(rules, want) {
					t.Errorf("bank-a's rules lack %q: %s", want, rules)
				}
			}

			if !strings.Contains(body, `<tr data-rule="large_amount" class="differs">`) {
				t.Error("bank-a's large_amount row is not marked as set otherwise in the shadow policy")
			}

			// The default window is the last 7 days: the whole traffic, not the month-old AReq nor the
			// unscored one. bank-a: 3 frictionless both ways, 2 frictionless live and challenged in
			// shadow, 1 challenged both ways.
			a := section(t, body, "matrix-bank-a")
			for _, want := range []string{"6 AReqs scored by both policies", "otherwise on 33.3% (2)", "frictionless 83.3% live, 50.0% shadow",
				"frictionless 3 2 0 5", "challenge 0 1 0 1", "deny 0 0 0 0", "total 3 3 0 6"} {
				if !strings.Contains(a, want) {
					t.Errorf("bank-a's matrix lacks %q: %s", want, a)
				}
			}
			m := section(t, body, "matrix-bank-m")
			for _, want := range []string{"2 AReqs scored by both policies", "otherwise on 50.0% (1)", "frictionless 100.0% live, 50.0% shadow",
				"Not compared: 1 scored while the issuer had no shadow policy", "frictionless 1 1 0 2"} {
				if !strings.Contains(m, want) {
					t.Errorf("bank-m's matrix lacks %q: %s", want, m)
				}
			}
			totals := text(body[strings.Index(body, `id="compare-totals"`):])
			for _, want := range []string{"8 AReqs scored by both policies", "37.5% shadow decides otherwise (3)", "87.5% → 50.0% frictionless, live → shadow",
				"1 AReqs scored with no shadow policy"} {
				if !strings.Contains(totals, want) {
					t.Errorf("the totals lack %q: %s", want, totals)
				}
			}
			// The chart by day: 2 Nov has a3 and m2 (frictionless both ways) and a4 (challenged in shadow only).
			for _, want := range []string{`data-label="2026-11-02" data-series="frictionless live" data-value="100.00"`,
				`data-label="2026-11-02" data-series="frictionless shadow" data-value="66.67"`,
				`data-label="2026-11-02" data-series="shadow differs" data-value="33.33"`} {
				if !strings.Contains(body, want) {
					t.Errorf("the chart by day lacks %s", want)
				}
			}

			// One issuer, and a window of one day.
			body = vera.Page("/console/risk?issuer=bank-m&since=2026-11-01&until=2026-11-02")
			if strings.Contains(body, `id="matrix-bank-a"`) || !strings.Contains(section(t, body, "matrix-bank-m"), "1 AReqs scored by both policies") {
				t.Errorf("bank-m on 1 Nov shows: %s", text(body))
			}

			// Mistakes are named by their field, and nothing is counted.
			for q, want := range map[string]string{
				"since=yesterday":                   "Since: ",
				"since=7d&until=soon":               "Until: ",
				"since=2026-11-03&until=2026-11-01": "Until: must be after Since",
				"since=400d":                        "Since: the window may span 366 days at most.",
				"issuer=bank-z":                     `Issuer: this ACS has no issuer "bank-z".`,
			} {
				body := vera.Page("/console/risk?" + q)
				if p := text(body[strings.Index(body, "<main>"):]); !strings.Contains(p, want) || strings.Contains(body, `id="compare-totals"`) {
					t.Errorf("?%s: want %q, the page shows: %s", q, want, p)
				}
			}
		})
	}
}

func TestRiskBacktestFromTheConsole(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			r := newRiskRig(t, b.open)
			olga := r.signIn("olga", console.Operator)
			want := []string{"87.5% → 50.0% frictionless, live → candidate", "3 of 8 outcomes changed",
				"1 → 3 of 3 reported frauds caught", "1 good purchases newly challenged"}

			// The shadow policy as the candidate: it is as strict as newRules, so the numbers are those
			// of backtest_test.go's run of newRules.
			body := runBacktest(olga, url.Values{"since": {"2026-11-01"}, "until": {"2026-11-04"}, "candidate": {"shadow"}})
			res := text(body[strings.Index(body, `id="result"`):])
			for _, w := range append(want, "the shadow policies") {
				if !strings.Contains(res, w) {
					t.Errorf("the shadow backtest lacks %q: %s", w, res)
				}
			}
			for _, w := range []string{"bank-a 6 83.3% → 50.0% 1 → 3 0 → 0 2 2 1 → 2 1", "510000 2 100.0% → 50.0%", "2026-11-03 2 50.0% → 0.0%",
				"total 8 87.5% → 50.0% 1 → 4 0 → 0 3 3 1 → 3 1"} {
				if !strings.Contains(res, w) {
					t.Errorf("the report's tables lack %q: %s", w, res)
				}
			}
			if !strings.Contains(body, `id="backtest-by-day"`) || !strings.Contains(body, `data-label="2026-11-03" data-series="candidate" data-value="0.00"`) {
				t.Errorf("the report has no chart by day")
			}

			// Pasted rules, one issuer.
			body = runBacktest(olga, url.Values{"since": {"2026-11-01"}, "until": {"2026-11-04"}, "issuer": {"bank-m"}, "candidate": {"pasted"}, "rules": {newRules}})
			if res := text(body[strings.Index(body, `id="result"`):]); !strings.Contains(res, "1 of 2 outcomes changed") || !strings.Contains(res, "the pasted rules") ||
				strings.Contains(res, "bank-a") {
				t.Errorf("the pasted backtest of bank-m shows: %s", res)
			}

			// Each run is in the audit log under the operator's name.
			es, err := r.c.Audit().List(context.Background(), audit.Filter{Action: "risk.backtest", Limit: 10})
			if err != nil || len(es) != 2 || es[0].Actor != "olga" || es[0].Target != "bank-m" || !strings.Contains(es[1].Detail, "8 AReqs replayed, 3 outcomes changed") {
				t.Errorf("the audit log holds %+v (%v)", es, err)
			}

			// Mistakes: named by field or by the rule file's line, the pasted text kept, nothing run.
			broken := "default:\n  live:\n    rules:\n      high_amout: {points: 10}\n"
			for _, c := range []struct {
				form url.Values
				want string
			}{
				{url.Values{"since": {"200d"}, "candidate": {"shadow"}}, "Since: the window may span 90 days at most."},
				{url.Values{"since": {"last week"}, "candidate": {"shadow"}}, `Since: "last week": give a span back from now`},
				{url.Values{"since": {"7d"}, "until": {"8d"}, "candidate": {"shadow"}}, "Until: must be after Since"},
				{url.Values{"since": {"7d"}, "issuer": {"bank-z"}, "candidate": {"shadow"}}, `Issuer: this ACS has no issuer "bank-z".`},
				{url.Values{"since": {"7d"}, "candidate": {"pasted"}, "rules": {broken}}, "Rules: line 4: default.live.rules.high_amout: unknown rule"},
				{url.Values{"since": {"7d"}, "candidate": {"pasted"}, "rules": {"default: [\n"}}, "Rules: yaml: line"},
				{url.Values{"since": {"7d"}, "candidate": {"pasted"}, "rules": {"  "}}, "Rules: paste a risk policy file"},
				{url.Values{"since": {"7d"}, "candidate": {"other"}}, "Candidate: "},
			} {
				body := runBacktest(olga, c.form)
				p := text(body[strings.Index(body, "<main>"):])
				if !strings.Contains(p, c.want) || strings.Contains(body, `id="result"`) {
					t.Errorf("%v: want %q, the page shows: %s", c.form, c.want, p)
				}
				lines := strings.Split(strings.TrimSpace(c.form.Get("rules")), "\n")
				if last := lines[len(lines)-1]; last != "" && !strings.Contains(body, last) {
					t.Errorf("%v: the pasted rules are gone from the form", c.form)
				}
			}
			// A backtest that runs out of time says so instead of failing the page.
			restore := backtest.SetBacktestTimeout(time.Nanosecond)
			body = runBacktest(olga, url.Values{"since": {"7d"}, "candidate": {"shadow"}})
			restore()
			if p := text(body[strings.Index(body, "<main>"):]); !strings.Contains(p, "the backtest did not finish within 1ns; choose a shorter window or one issuer") ||
				strings.Contains(body, `id="result"`) {
				t.Errorf("a backtest out of time shows: %s", p)
			}
			if es, _ := r.c.Audit().List(context.Background(), audit.Filter{Action: "risk.backtest", Limit: 10}); len(es) != 2 {
				t.Errorf("refused backtests left %d audit entries, want 2", len(es))
			}

			// A read-only account sees the form's place but may not run one.
			vera := r.signIn("vera", console.ReadOnly)
			if body := vera.Page("/console/risk/backtest"); !strings.Contains(body, `id="backtest-needs-operator"`) || strings.Contains(body, `id="backtest-form"`) {
				t.Errorf("a read-only account sees: %s", text(body))
			}
			if st, _, _ := vera.PostForm("/console/risk/backtest", url.Values{"since": {"7d"}, "candidate": {"shadow"}}); st != http.StatusForbidden {
				t.Errorf("a read-only backtest answered %d, want 403", st)
			}
			if st, _, _ := olga.Post("/console/risk/backtest", url.Values{"since": {"7d"}, "candidate": {"shadow"}}); st != http.StatusForbidden {
				t.Errorf("a backtest without the form's token answered %d, want 403", st)
			}
		})
	}
}
