package ds_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/console"
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

func newConsoleRig(t testing.TB, db *store.DB, now time.Time) *consoleRig {
	r := &consoleRig{t: t, db: db, st: ds.NewSQLStore(db), clock: now}
	r.c = console.New(console.Options{Role: "ds", Title: "Directory Server", DB: db, Now: r.now})
	ds.AddConsole(r.c, ds.ConsoleOptions{Store: r.st, DB: db, Now: r.now})
	mux := http.NewServeMux()
	mux.Handle("/console/", r.c.Handler())
	r.srv = httptest.NewServer(mux)
	t.Cleanup(r.srv.Close)
	return r
}

func (r *consoleRig) now() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.clock
}

func (r *consoleRig) advance(d time.Duration) {
	r.mu.Lock()
	r.clock = r.clock.Add(d)
	r.mu.Unlock()
}

// operator is a signed-in HTTP client that does not follow redirects.
type operator struct {
	r  *consoleRig
	hc *http.Client
}

var (
	tokenField = regexp.MustCompile(`name="token" value="([0-9a-f]+)"`)
	csrfField  = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)
	secretText = regexp.MustCompile(`id="totp-secret">([A-Z2-7 ]+)<`)
)

func findIn(t testing.TB, re *regexp.Regexp, body, what string) string {
	t.Helper()
	m := re.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no %s in the page:\n%s", what, body)
	}
	return m[1]
}

// signIn makes an account of access a and signs it in through the pages, as a person would.
func (r *consoleRig) signIn(name string, a console.Access) *operator {
	r.t.Helper()
	pw, err := r.c.Accounts().Create(context.Background(), name, a, "")
	if err != nil {
		r.t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	o := &operator{r: r, hc: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
	_, _, body := o.get("/console/sign-in")
	st, loc, body := o.post("/console/sign-in", url.Values{"token": {findIn(r.t, tokenField, body, "sign-in token")},
		"name": {name}, "password": {pw}})
	if st != http.StatusSeeOther {
		r.t.Fatalf("password step: %d %s\n%s", st, loc, body)
	}
	_, _, body = o.get(loc)
	code, err := console.TOTPCode(strings.ReplaceAll(findIn(r.t, secretText, body, "TOTP key"), " ", ""), r.now())
	if err != nil {
		r.t.Fatal(err)
	}
	if st, loc, body := o.post("/console/second-factor", url.Values{"csrf": {findIn(r.t, csrfField, body, "csrf")}, "code": {code}}); st != http.StatusSeeOther || loc != "/console/" {
		r.t.Fatalf("code step: %d %s\n%s", st, loc, body)
	}
	r.advance(30 * time.Second) // each code is good once
	return o
}

func (o *operator) get(path string) (int, string, string) {
	o.r.t.Helper()
	resp, err := o.hc.Get(o.r.srv.URL + path)
	if err != nil {
		o.r.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(body)
}

func (o *operator) post(path string, form url.Values) (int, string, string) {
	o.r.t.Helper()
	resp, err := o.hc.PostForm(o.r.srv.URL+path, form)
	if err != nil {
		o.r.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(body)
}

// page GETs path and fails the test unless it answers 200.
func (o *operator) page(path string) string {
	o.r.t.Helper()
	st, _, body := o.get(path)
	if st != http.StatusOK {
		o.r.t.Fatalf("GET %s: %d\n%s", path, st, body)
	}
	return body
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
	for _, tr := range strings.Split(table, "<tr>")[1:] {
		var row []string
		for _, td := range regexp.MustCompile(`<t[dh][^>]*>`).Split(tr, -1)[1:] {
			row = append(row, strings.TrimSpace(tags.ReplaceAllString(td, "")))
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

			acs := cells(o.page("/console/acs"), "acs-list")
			if len(acs) != 3 || acs[1][0] != "bank" || acs[1][1] != "ACS-REF-bank" || acs[1][4] != "1" || acs[2][0] != "other" {
				t.Errorf("the ACS list shows %q", acs)
			}
			body := o.page("/console/acs/bank")
			if rows := cells(body, "acs-ranges"); len(rows) != 2 || rows[1][0] != "4000000000000000" || rows[1][2] != "2.1.0–2.3.1" {
				t.Errorf("the ACS page shows the ranges %q", rows)
			}
			if st, _, _ := o.get("/console/acs/nobody"); st != http.StatusNotFound {
				t.Errorf("an unknown ACS answers %d, want 404", st)
			}
			srv := cells(o.page("/console/3dss"), "server-list")
			if len(srv) != 2 || srv[1][0] != "shop" || srv[1][3] != "2" {
				t.Errorf("the 3DS Server list shows %q", srv)
			}
			if body := o.page("/console/3dss/shop"); !strings.Contains(body, "<code>req-2</code>") {
				t.Errorf("the 3DS Server page does not list its requestor ids:\n%s", body)
			}
			all := cells(o.page("/console/ranges"), "ranges")
			if len(all) != 3 {
				t.Errorf("the range list shows %q", all)
			}
			five := cells(o.page("/console/ranges?bin=515"), "ranges")
			if len(five) != 2 || five[1][2] != "other" {
				t.Errorf("ranges with BIN 515 are %q", five)
			}
			if none := cells(o.page("/console/ranges?bin=6"), "ranges"); len(none) != 2 || !strings.Contains(none[1][0], "No card range") {
				t.Errorf("ranges with BIN 6 are %q", none)
			}
			if body := o.page("/console/ranges?bin=4x"); !strings.Contains(body, `role="alert"`) {
				t.Errorf("a BIN with a letter is not pointed out:\n%s", body)
			}
		})
	}
}
