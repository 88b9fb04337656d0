package consoletest

import (
	"io"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/console"
)

// Client is an operator at the console over plain HTTP, for tests that read the pages' HTML: it
// keeps its own cookies and does not follow redirects, so each answer (status, Location, body) can
// be checked.
type Client struct {
	T    testing.TB
	Base string // where the console is served, e.g. an httptest.Server's URL
	// Now is the console's clock, which the authenticator code must match; time.Now when nil.
	Now func() time.Time
	// CSRF is the session's token for the console's forms, set by SignIn.
	CSRF string
	// Never is text no page may show, such as the whole card numbers of the test's data: Page and OK
	// fail the test when a body holds one.
	Never []string
	// HTTP is the client itself, for a test that needs the raw response or runs requests in
	// goroutines (where Get and Post may not fail the test).
	HTTP *http.Client
}

// NewClient is a client of the console at base with no session yet.
func NewClient(t testing.TB, base string) *Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &Client{T: t, Base: base, HTTP: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

var (
	tokenField  = regexp.MustCompile(`name="token" value="([0-9a-f]+)"`)
	csrfField   = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)
	secretField = regexp.MustCompile(`id="totp-secret">([A-Z2-7 ]+)<`)
)

// Find is the first group of re in body and fails the test, showing the page, when re is not there;
// what names the thing looked for in that message.
func Find(t testing.TB, re *regexp.Regexp, body, what string) string {
	t.Helper()
	m := re.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no %s in the page:\n%s", what, body)
	}
	return m[1]
}

// CSRFIn is the CSRF token of the console form in body.
func CSRFIn(t testing.TB, body string) string {
	t.Helper()
	return Find(t, csrfField, body, "csrf")
}

// SignIn makes the account name of access a in c and signs it in through the console's own pages,
// as a person would: the sign-in form (with its token), the password, the enrolment page's
// authenticator key and the app's code. The password step must send it to the second factor and
// the code step to /console/, whose redirect must land on a page answering 200; that page's CSRF
// token is kept in cl.CSRF. Each account is new, so its first code is never one already used.
func (cl *Client) SignIn(c *console.Console, name string, a console.Access) {
	cl.T.Helper()
	pw := Account(cl.T, c, name, a)
	_, _, body := cl.Get("/console/sign-in")
	st, loc, body := cl.Post("/console/sign-in", url.Values{"token": {Find(cl.T, tokenField, body, "sign-in token")},
		"name": {name}, "password": {pw}})
	if st != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/second-factor") {
		cl.T.Fatalf("password step: %d → %q\n%s", st, loc, body)
	}
	_, _, body = cl.Get(loc)
	now := time.Now
	if cl.Now != nil {
		now = cl.Now
	}
	code, err := console.TOTPCode(strings.ReplaceAll(Find(cl.T, secretField, body, "TOTP key"), " ", ""), now())
	if err != nil {
		cl.T.Fatalf("authenticator key of %s: %v", name, err)
	}
	st, loc, body = cl.Post("/console/second-factor", url.Values{"csrf": {CSRFIn(cl.T, body)}, "code": {code}})
	if st != http.StatusSeeOther || loc != "/console/" {
		cl.T.Fatalf("code step: %d → %q\n%s", st, loc, body)
	}
	st, home, body := cl.Get(loc)
	if st != http.StatusSeeOther {
		cl.T.Fatalf("GET /console/ answered %d\n%s", st, body)
	}
	cl.CSRF = CSRFIn(cl.T, cl.Page(home))
}

// Get gets path and returns the status, the Location header and the body.
func (cl *Client) Get(path string) (status int, location, body string) {
	cl.T.Helper()
	req, err := http.NewRequest(http.MethodGet, cl.Base+path, nil)
	if err != nil {
		cl.T.Fatal(err)
	}
	return cl.do(req)
}

// Post posts form, as it is, to path and returns the status, the Location header and the body.
func (cl *Client) Post(path string, form url.Values) (status int, location, body string) {
	cl.T.Helper()
	req, err := http.NewRequest(http.MethodPost, cl.Base+path, strings.NewReader(form.Encode()))
	if err != nil {
		cl.T.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return cl.do(req)
}

// PostForm posts form to path as a console form does, with the session's CSRF token added (form
// itself is left as it was).
func (cl *Client) PostForm(path string, form url.Values) (status int, location, body string) {
	cl.T.Helper()
	f := maps.Clone(form)
	if f == nil {
		f = url.Values{}
	}
	f.Set("csrf", cl.CSRF)
	return cl.Post(path, f)
}

// Page gets path, which must answer 200 and show nothing of cl.Never, and returns its body.
func (cl *Client) Page(path string) string {
	cl.T.Helper()
	st, loc, body := cl.Get(path)
	return cl.OK("GET "+path, st, loc, body)
}

// OK returns the body of an answer, what (e.g. "POST /console/x"), that must be a 200 showing
// nothing of cl.Never, and fails the test otherwise.
func (cl *Client) OK(what string, status int, location, body string) string {
	cl.T.Helper()
	if status != http.StatusOK {
		cl.T.Fatalf("%s answered %d → %q\n%s", what, status, location, body)
	}
	for i, s := range cl.Never {
		if strings.Contains(body, s) {
			cl.T.Fatalf("%s shows Never[%d], which no page may show", what, i) // not printed: it may be a card number
		}
	}
	return body
}

func (cl *Client) do(req *http.Request) (int, string, string) {
	cl.T.Helper()
	resp, err := cl.HTTP.Do(req)
	if err != nil {
		cl.T.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		cl.T.Fatalf("%s %s: reading the answer: %v", req.Method, req.URL.Path, err)
	}
	return resp.StatusCode, resp.Header.Get("Location"), string(body)
}
