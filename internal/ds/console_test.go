package ds_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/console"
	"github.com/open3ds/open3ds/internal/console/consoletest"
	"github.com/open3ds/open3ds/internal/ds"
	"github.com/open3ds/open3ds/internal/store"
)

// consoleRig is the DS's console on a real loopback listener over a real store, with a clock the
// test moves.
type consoleRig struct {
	t     testing.TB
	db    *store.DB
	st    *ds.SQLStore
	c     *console.Console
	srv   *httptest.Server
	mu    sync.Mutex
	clock time.Time
}

func newConsoleRig(t testing.TB, db *store.DB, now time.Time, opts ...func(*ds.ConsoleOptions)) *consoleRig {
	r := &consoleRig{t: t, db: db, st: ds.NewSQLStore(db), clock: now}
	r.c = console.New(console.Options{Role: "ds", Title: "Directory Server", DB: db, Now: r.now})
	o := ds.ConsoleOptions{Store: r.st, DB: db, Now: r.now}
	for _, f := range opts {
		f(&o)
	}
	ds.AddConsole(r.c, o)
	mux := http.NewServeMux()
	mux.Handle("/console/", r.c.Handler())
	r.srv = httptest.NewServer(mux)
	t.Cleanup(r.srv.Close)
	return r
}

// now is the rig's clock; a rig made with the zero time runs on the real one (a browser's
// authenticator codes are computed now).
func (r *consoleRig) now() time.Time {
	r.mu.Lock()
	if r.clock.IsZero() {
		r.mu.Unlock()
		return time.Now()
	}
	defer r.mu.Unlock()
	return r.clock
}

func (r *consoleRig) advance(d time.Duration) {
	r.mu.Lock()
	r.clock = r.clock.Add(d)
	r.mu.Unlock()
}

// signIn makes an account of access a and signs it in through the pages, as a person would, with
// an authenticator code of the rig's clock.
func (r *consoleRig) signIn(name string, a console.Access) *consoletest.Client {
	r.t.Helper()
	o := consoletest.NewClient(r.t, r.srv.URL)
	o.Now = r.now
	o.SignIn(r.c, name, a)
	r.advance(30 * time.Second) // each code is good once
	return o
}

// cells reads the text of the cells of the table with id, row by row, tags stripped.
func cells(body, id string) [][]string {
	i := strings.Index(body, `id="`+id+`"`)
	if i < 0 {
		return nil
	}
	table := body[i:]
	table = table[:strings.Index(table, "</table>")]
	tags := regexp.MustCompile(`<[^>]+>`)
	var out [][]string
	for _, tr := range regexp.MustCompile(`<tr[ >]`).Split(table, -1)[1:] {
		var row []string
		for _, td := range regexp.MustCompile(`<t[dh]( [^>]*)?>`).Split(tr, -1)[1:] {
			row = append(row, html.UnescapeString(strings.TrimSpace(tags.ReplaceAllString(td, ""))))
		}
		out = append(out, row)
	}
	return out
}

func seedRegistry(t testing.TB, s *ds.SQLStore) {
	t.Helper()
	ctx := context.Background()
	must(t, s.AddACS(ctx, testACS("bank")))
	must(t, s.AddACS(ctx, testACS("other")))
	must(t, s.AddRange(ctx, testRange("4000000000000000", "4000000000009999", "bank")))
	must(t, s.AddRange(ctx, testRange("5100000000000000", "5199999999999999", "other")))
	must(t, s.AddThreeDSServer(ctx, ds.ThreeDSServer{Name: "shop", ReferenceNumber: "3DSS-REF", RequestorIDs: []string{"req-1", "req-2"}}))
}

// The participants' pages list what the registry holds, and the card ranges narrow to a BIN.
func TestConsoleShowsTheSchemesParticipantsAndFiltersRangesByBIN(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			r := newConsoleRig(t, b.open(t), time.Now())
			seedRegistry(t, r.st)
			o := r.signIn("rita", console.ReadOnly)

			acs := cells(o.Page("/console/acs"), "acs-list")
			if len(acs) != 3 || acs[1][0] != "bank" || acs[1][1] != "ACS-REF-bank" || acs[1][4] != "1" || acs[2][0] != "other" {
				t.Errorf("the ACS list shows %q", acs)
			}
			body := o.Page("/console/acs/bank")
			if rows := cells(body, "acs-ranges"); len(rows) != 2 || rows[1][0] != "4000000000000000" || rows[1][2] != "2.1.0–2.3.1" {
				t.Errorf("the ACS page shows the ranges %q", rows)
			}
			if st, _, _ := o.Get("/console/acs/nobody"); st != http.StatusNotFound {
				t.Errorf("an unknown ACS answers %d, want 404", st)
			}
			srv := cells(o.Page("/console/3dss"), "server-list")
			if len(srv) != 2 || srv[1][0] != "shop" || srv[1][3] != "2" {
				t.Errorf("the 3DS Server list shows %q", srv)
			}
			if body := o.Page("/console/3dss/shop"); !strings.Contains(body, "<code>req-2</code>") {
				t.Errorf("the 3DS Server page does not list its requestor ids:\n%s", body)
			}
			all := cells(o.Page("/console/ranges"), "ranges")
			if len(all) != 3 {
				t.Errorf("the range list shows %q", all)
			}
			five := cells(o.Page("/console/ranges?bin=515"), "ranges")
			if len(five) != 2 || five[1][2] != "other" {
				t.Errorf("ranges with BIN 515 are %q", five)
			}
			if none := cells(o.Page("/console/ranges?bin=6"), "ranges"); len(none) != 2 || !strings.Contains(none[1][0], "No card range") {
				t.Errorf("ranges with BIN 6 are %q", none)
			}
			if body := o.Page("/console/ranges?bin=4x"); !strings.Contains(body, `role="alert"`) {
				t.Errorf("a BIN with a letter is not pointed out:\n%s", body)
			}
		})
	}
}

// seedTraffic writes known AReqs: on the day before now, five for the ACS bank (Y, C, A, a relayed
// Erro 203, and a stand-in after bank timed out) and one app AReq for other (Y); three days before,
// one N for bank; twenty days before (outside the default span), one Y; and one AReq the DS
// refused with Erro 303.
func seedTraffic(t testing.TB, db *store.DB, st *ds.SQLStore, now time.Time) {
	t.Helper()
	ctx := context.Background()
	n := 0
	tx := func(at time.Time, acs, outcome, channel, version, pan string) string {
		n++
		id := "ds-" + strings.Repeat("0", 3) + string(rune('a'+n))
		must(t, st.CreateTransaction(ctx, ds.Transaction{DSTransID: id, ThreeDSServerTransID: "s-" + id, ACSTransID: "a-" + id,
			ACS: acs, ThreeDSServer: "shop", ThreeDSServerURL: "https://shop.example/rreq", MessageVersion: version,
			MessageCategory: "01", DeviceChannel: channel, MaskedPAN: pan, Outcome: outcome, CreatedAt: at}))
		return id
	}
	ex := func(e store.Exchange) {
		e.Role = store.RoleDS
		if e.MessageType == "" {
			e.MessageType = "AReq"
		}
		must(t, db.RecordExchange(ctx, e))
	}
	d1 := now.AddDate(0, 0, -1)
	bank := "400000******0001"
	tx(d1, "bank", "Y", "02", "2.2.0", bank)
	tx(d1, "bank", "C", "02", "2.2.0", bank)
	tx(d1, "bank", "A", "02", "2.2.0", bank)
	erro := tx(d1, "bank", "Erro", "02", "2.2.0", bank)
	ex(store.Exchange{Direction: store.In, Peer: "3dss:shop", ThreeDSServerTransID: "s-" + erro, DSTransID: erro, MaskedPAN: bank,
		MessageVersion: "2.2.0", Outcome: "Erro", ErrorCode: "203", ErrorComponent: "A", StartedAt: d1})
	ex(store.Exchange{Direction: store.Out, Peer: "acs:bank", ThreeDSServerTransID: "s-" + erro, DSTransID: erro, MaskedPAN: bank,
		MessageVersion: "2.2.0", Outcome: "Erro", ErrorCode: "203", ErrorComponent: "A", StartedAt: d1})
	stood := tx(d1, "", "U", "02", "2.2.0", bank)
	ex(store.Exchange{Direction: store.Out, Peer: "acs:bank", ThreeDSServerTransID: "s-" + stood, DSTransID: stood, MaskedPAN: bank,
		MessageVersion: "2.2.0", Outcome: "timeout", StartedAt: d1, Duration: 10 * time.Second})
	tx(d1, "other", "Y", "01", "2.3.1", "510000******0002")
	tx(now.AddDate(0, 0, -3), "bank", "N", "02", "2.2.0", bank)
	tx(now.AddDate(0, 0, -20), "bank", "Y", "02", "2.2.0", bank)
	ex(store.Exchange{Direction: store.In, Peer: "3dss:shop", ThreeDSServerTransID: "refused", MaskedPAN: bank,
		MessageVersion: "2.2.0", Outcome: "Erro", ErrorCode: "303", ErrorComponent: "D", StartedAt: d1})
}

// The analytics page counts the known AReqs of each day right, under every filter.
func TestConsoleAnalyticsCountsEachDaysAReqsUnderEveryFilter(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			now := time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)
			r := newConsoleRig(t, b.open(t), now)
			seedRegistry(t, r.st)
			seedTraffic(t, r.db, r.st, now)
			o := r.signIn("rita", console.ReadOnly)
			// day reads the row of one day from #days: AReqs, frictionless, challenged, stand-ins.
			day := func(body, d string) string {
				for _, row := range cells(body, "days") {
					if len(row) == 5 && row[0] == d {
						return strings.Join(row[1:], " ")
					}
				}
				return "no row"
			}
			tile := regexp.MustCompile(`id="total-(\w+)">([^<]*)<`)
			tiles := func(body string) string {
				var out []string
				for _, m := range tile.FindAllStringSubmatch(body, -1) {
					out = append(out, m[1]+"="+m[2])
				}
				return strings.Join(out, " ")
			}
			bar := regexp.MustCompile(`id="frictionless-rate"[\s\S]*?data-label="03-14" data-series="frictionless" data-value="([0-9.]+)"`)

			body := o.Page("/console/analytics")
			if got := day(body, "2026-03-14"); got != "6 3 1 1" {
				t.Errorf("2026-03-14 shows %q, want 6 AReqs, 3 frictionless, 1 challenged, 1 stand-in", got)
			}
			if got := day(body, "2026-03-12"); got != "1 0 0 0" {
				t.Errorf("2026-03-12 shows %q", got)
			}
			if rows := cells(body, "days"); len(rows) != 15 || rows[1][0] != "2026-03-02" || rows[14][0] != "2026-03-15" {
				t.Errorf("the default span is not the 14 days up to today: %q", rows)
			}
			if got := tiles(body); got != "areqs=7 frictionless=42.9% challenge=14.3% standins=1" {
				t.Errorf("the totals read %q", got)
			}
			if m := bar.FindStringSubmatch(body); m == nil || m[1] != "50.00" {
				t.Errorf("the frictionless bar of 03-14 is %q, want 50.00", m)
			}
			if got := cells(body, "erros"); len(got) != 3 || strings.Join(got[1], " ") != "203 1" || strings.Join(got[2], " ") != "303 1" {
				t.Errorf("the Erros read %q", got)
			}

			// The stand-in for bank counts under bank, found through the DS's timed-out call.
			body = o.Page("/console/analytics?acs=bank")
			if got := day(body, "2026-03-14"); got != "5 2 1 1" {
				t.Errorf("for bank 2026-03-14 shows %q", got)
			}
			if got := cells(body, "erros"); len(got) != 2 || strings.Join(got[1], " ") != "203 1" {
				t.Errorf("the Erros of bank read %q", got)
			}
			if m := bar.FindStringSubmatch(body); m == nil || m[1] != "40.00" {
				t.Errorf("the frictionless bar of 03-14 for bank is %q, want 40.00", m)
			}
			for q, want := range map[string]string{
				"acs=other":                         "1 1 0 0",
				"channel=01":                        "1 1 0 0",
				"bin=5100":                          "1 1 0 0",
				"version=2.2.0":                     "5 2 1 1",
				"server=shop&bin=400000&channel=02": "5 2 1 1",
				"server=nobody":                     "0 0 0 0",
			} {
				if got := day(o.Page("/console/analytics?"+q), "2026-03-14"); got != want {
					t.Errorf("with %s 2026-03-14 shows %q, want %q", q, got, want)
				}
			}
			// A span back to the old AReq finds it; a wrong day is pointed out, not a failure.
			body = o.Page("/console/analytics?from=2026-02-20&to=2026-02-28")
			if got := day(body, "2026-02-23"); got != "1 1 0 0" {
				t.Errorf("2026-02-23 shows %q", got)
			}
			body = o.Page("/console/analytics?from=yesterday&bin=4x")
			if strings.Count(body, `role="alert"`) != 2 || day(body, "2026-03-14") != "6 3 1 1" {
				t.Errorf("a wrong day and BIN are not pointed out, or the defaults not used:\n%s", body)
			}
		})
	}
}

// An operator changes the scheme's stand-in policy from the console: the DS applies it, the audit
// log records who changed what, a wrong value is refused naming its field, and a read-only account
// may not change it.
func TestConsoleChangesTheStandInPolicyAndAuditsIt(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			r := newConsoleRig(t, b.open(t), time.Now())
			ctx := context.Background()
			o := r.signIn("olga", console.Operator)
			body := o.Page("/console/stand-in")
			if rows := cells(body, "stand-in"); len(rows) != 3 || rows[1][2] != "attempts" || rows[2][4] != "unavailable" {
				t.Fatalf("the stand-in page shows %q", rows)
			}
			csrf := consoletest.CSRFIn(t, body)
			st, loc, _ := o.Post("/console/stand-in", url.Values{"csrf": {csrf}, "not_enrolled": {"not-enrolled"}, "unavailable": {"attempts"}})
			if st != http.StatusSeeOther || loc != "/console/stand-in" {
				t.Fatalf("the change answered %d → %s", st, loc)
			}
			sc, err := r.st.Scheme(ctx)
			if err != nil || sc.NotEnrolled != ds.PolicyNotEnrolled || sc.Unavailable != ds.PolicyAttempts {
				t.Fatalf("the scheme holds %+v (%v)", sc, err)
			}
			body = o.Page("/console/stand-in")
			if !strings.Contains(body, "The scheme&#39;s stand-in policy is changed.") {
				t.Errorf("no notice after the change:\n%s", body)
			}
			audit := cells(o.Page("/console/audit"), "audit")
			if len(audit) < 2 || audit[1][1] != "olga" || audit[1][3] != "scheme.stand-in" ||
				audit[1][5] != "not enrolled attempts → not-enrolled; ACS unavailable unavailable → attempts" {
				t.Errorf("the audit log shows %q", audit)
			}
			// A value that is no policy changes nothing and says which field is wrong.
			st, loc, _ = o.Post("/console/stand-in", url.Values{"csrf": {csrf}, "not_enrolled": {"maybe"}, "unavailable": {"attempts"}})
			if st != http.StatusSeeOther {
				t.Fatalf("a wrong policy answered %d", st)
			}
			if body := o.Page("/console/stand-in"); !strings.Contains(body, "not_enrolled: must be attempts, unavailable or not-enrolled") {
				t.Errorf("a wrong policy is not pointed out:\n%s", body)
			}
			if sc2, _ := r.st.Scheme(ctx); sc2.NotEnrolled != ds.PolicyNotEnrolled {
				t.Errorf("a refused change moved the policy to %s", sc2.NotEnrolled)
			}
			// A read-only account sees the policy but has no form, and its POST is refused.
			ro := r.signIn("rita", console.ReadOnly)
			body = ro.Page("/console/stand-in")
			if strings.Contains(body, `id="stand-in-form"`) {
				t.Error("a read-only account is offered the change")
			}
			if st, _, _ := ro.Post("/console/stand-in", url.Values{"csrf": {consoletest.CSRFIn(t, body)},
				"not_enrolled": {"attempts"}, "unavailable": {"attempts"}}); st != http.StatusForbidden {
				t.Errorf("a read-only change answered %d, want 403", st)
			}
			if sc2, _ := r.st.Scheme(ctx); sc2.NotEnrolled != ds.PolicyNotEnrolled {
				t.Errorf("a read-only account changed the policy to %s", sc2.NotEnrolled)
			}
		})
	}
}

// The ACS health page counts the last hour's calls to each ACS: 20 answered in 1…20 ms (p95 by
// nearest rank is 19 ms), one Erro, one timeout the DS stood in for; a call two hours old is not
// counted, and an ACS with no calls is idle.
func TestConsoleACSHealthCountsTheLastHour(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			now := time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)
			r := newConsoleRig(t, b.open(t), now)
			seedRegistry(t, r.st)
			ctx := context.Background()
			leg := func(id, outcome string, at time.Time, d time.Duration) {
				must(t, r.db.RecordExchange(ctx, store.Exchange{Role: store.RoleDS, Direction: store.Out, Peer: "acs:bank",
					MessageType: "AReq", ThreeDSServerTransID: "s-" + id, DSTransID: id, Outcome: outcome, StartedAt: at, Duration: d}))
			}
			for i := 1; i <= 20; i++ {
				leg(fmt.Sprintf("ok-%d", i), "Y", now.Add(-10*time.Minute), time.Duration(i)*time.Millisecond)
			}
			leg("erro", "Erro", now.Add(-5*time.Minute), 3*time.Millisecond)
			leg("late", "timeout", now.Add(-5*time.Minute), 10*time.Second)
			must(t, r.st.CreateTransaction(ctx, ds.Transaction{DSTransID: "late", ThreeDSServerTransID: "s-late", ACSTransID: "x",
				ThreeDSServer: "shop", MessageVersion: "2.2.0", MessageCategory: "01", DeviceChannel: "02",
				MaskedPAN: "400000******0001", Outcome: "U", CreatedAt: now.Add(-5 * time.Minute)}))
			leg("old", "timeout", now.Add(-2*time.Hour), 10*time.Second)

			o := r.signIn("rita", console.ReadOnly)
			rows := cells(o.Page("/console/acs-health"), "health")
			if len(rows) != 3 {
				t.Fatalf("the health page shows %q", rows)
			}
			if got := strings.Join(rows[1], " "); got != "bank failing 22 1 0 1 1 19 ms" {
				t.Errorf("bank reads %q", got)
			}
			if got := strings.Join(rows[2], " "); got != "other idle 0 0 0 0 0 —" {
				t.Errorf("other reads %q", got)
			}
		})
	}
}
