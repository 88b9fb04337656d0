package console

import (
	"context"
	"embed"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/store/storetest"
)

var backends = []struct {
	name string
	open func(testing.TB) *store.DB
}{
	{"sqlite", storetest.OpenSQLite},
	{"postgres", storetest.OpenPostgres},
}

//go:embed testdata/widgets.html
var testFiles embed.FS

// rig is a console with one page of the test's own, "widgets", that operators may change, served on
// a real loopback listener.
type rig struct {
	t       testing.TB
	c       *Console
	srv     *httptest.Server
	widgets atomic.Int64
	mu      sync.Mutex
	clock   time.Time
}

func newRig(t testing.TB, db *store.DB, p Policy) *rig {
	r := &rig{t: t, clock: time.Now()}
	c := New(Options{Role: "test", Title: "Test role", DB: db, Policy: p, Now: r.now})
	c.accounts.argon = Argon2Params{Memory: 1024, Time: 1, Threads: 1} // tests hash many passwords
	page := ParsePage(testFiles, "testdata/widgets.html")
	c.Page(NavItem{Path: "/widgets", Label: "Widgets"}, ReadOnly, func(req *Request) (View, error) {
		n := r.widgets.Load()
		ch := Chart{ID: "widgets-chart", Title: "Widgets made", Labels: []string{"today"}, Series: []Series{{Name: "widgets", Values: []float64{float64(n)}}}}
		return View{Title: "Widgets", Template: page, Data: map[string]any{"Count": n, "Chart": ch}}, nil
	})
	c.Action("/widgets/add", Operator, func(req *Request) (Change, error) {
		n := r.widgets.Add(1)
		return Change{Action: "widget.add", Target: fmt.Sprint(n), Notice: "Widget added.", Redirect: "/widgets"}, nil
	})
	r.c = c
	mux := http.NewServeMux()
	mux.Handle("/console/", c.Handler())
	r.srv = httptest.NewServer(mux)
	t.Cleanup(r.srv.Close)
	return r
}

func (r *rig) now() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.clock
}

func (r *rig) advance(d time.Duration) {
	r.mu.Lock()
	r.clock = r.clock.Add(d)
	r.mu.Unlock()
}

// account makes an account and returns its password.
func (r *rig) account(name string, a Access) string {
	r.t.Helper()
	pw, err := r.c.accounts.Create(context.Background(), name, a, "")
	if err != nil {
		r.t.Fatal(err)
	}
	return pw
}

// browser is an HTTP client with its own cookies that does not follow redirects, so each step's
// answer can be checked.
type browser struct {
	t  testing.TB
	r  *rig
	hc *http.Client
}

func (r *rig) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: r.t, r: r, hc: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

func (b *browser) get(path string) (int, string, string) {
	b.t.Helper()
	resp, err := b.hc.Get(b.r.srv.URL + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(body)
}

func (b *browser) post(path string, form url.Values) (int, string, string) {
	b.t.Helper()
	resp, err := b.hc.PostForm(b.r.srv.URL+path, form)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(body)
}

var (
	tokenField = regexp.MustCompile(`name="token" value="([0-9a-f]+)"`)
	csrfField  = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)
	secretText = regexp.MustCompile(`id="totp-secret">([A-Z2-7 ]+)<`)
)

func find(t testing.TB, re *regexp.Regexp, body, what string) string {
	t.Helper()
	m := re.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no %s in the page:\n%s", what, body)
	}
	return m[1]
}

// passwordStep posts the sign-in form and returns the status and where it sent the browser.
func (b *browser) passwordStep(name, password string) (int, string, string) {
	b.t.Helper()
	_, _, body := b.get("/console/sign-in")
	tok := find(b.t, tokenField, body, "sign-in token")
	return b.post("/console/sign-in", url.Values{"token": {tok}, "name": {name}, "password": {password}})
}

// signIn goes through the password, the TOTP enrolment (remembering the secret in secrets) and
// the code, and fails the test unless the browser ends signed in.
func (b *browser) signIn(name, password string, secrets map[string]string) {
	b.t.Helper()
	st, loc, body := b.passwordStep(name, password)
	if st != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/second-factor") {
		b.t.Fatalf("password step: %d → %q\n%s", st, loc, body)
	}
	_, _, body = b.get(loc)
	if m := secretText.FindStringSubmatch(body); m != nil {
		secrets[name] = strings.ReplaceAll(m[1], " ", "")
	}
	code, err := TOTPCode(secrets[name], b.r.now())
	if err != nil {
		b.t.Fatalf("no TOTP secret known for %s: %v", name, err)
	}
	st, loc, body = b.post("/console/second-factor", url.Values{"csrf": {find(b.t, csrfField, body, "csrf")}, "code": {code}})
	if st != http.StatusSeeOther || loc != "/console/" {
		b.t.Fatalf("code step: %d → %q\n%s", st, loc, body)
	}
	// Each code is good once: later sign-ins in the same test need the next step's code.
	b.r.advance(totpPeriod * time.Second)
}

// csrf reads the CSRF token from a console page.
func (b *browser) csrf() string {
	b.t.Helper()
	_, _, body := b.get("/console/widgets")
	return find(b.t, csrfField, body, "csrf")
}
