package threedsserver_test

import (
	"context"
	"fmt"
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

	"github.com/open3ds/open3ds/internal/audit"
	"github.com/open3ds/open3ds/internal/console"
	"github.com/open3ds/open3ds/internal/console/consoletest"
	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/store/storetest"
	"github.com/open3ds/open3ds/internal/threedsserver"
)

var consoleStores = []struct {
	name string
	open func(testing.TB) *store.DB
}{{"sqlite", storetest.OpenSQLite}, {"postgres", storetest.OpenPostgres}}

// consoleRig is a 3DS Server network with the console of a second instance on the same store.
type consoleRig struct {
	n   *network
	c   *console.Console
	srv *httptest.Server
}

func newConsoleRig(t *testing.T, open func(testing.TB) *store.DB) *consoleRig {
	n := newNetwork(t, open)
	c := console.New(console.Options{Role: "3dss", Title: "3DS Server", DB: n.db})
	threedsserver.AddConsole(c, threedsserver.NewSQLStore(n.db))
	mux := http.NewServeMux()
	mux.Handle("/console/", c.Handler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &consoleRig{n: n, c: c, srv: srv}
}

// operatorClient signs an operator in through the console's forms and returns a client keeping
// its session; it does not follow redirects.
type operatorClient struct {
	t    *testing.T
	base string
	hc   *http.Client
}

var (
	tokenInput  = regexp.MustCompile(`name="token" value="([0-9a-f]+)"`)
	csrfInput   = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)
	totpSecret  = regexp.MustCompile(`id="totp-secret">([A-Z2-7 ]+)<`)
	newKeyShown = regexp.MustCompile(`id="new-key">([^<]+)<`)
)

func (r *consoleRig) signIn(t *testing.T, name string, a console.Access) *operatorClient {
	t.Helper()
	pw := consoletest.Account(t, r.c, name, a)
	jar, _ := cookiejar.New(nil)
	o := &operatorClient{t: t, base: r.srv.URL, hc: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
	_, _, body := o.get("/console/sign-in")
	_, loc, _ := o.post("/console/sign-in", url.Values{"token": {match(t, tokenInput, body)}, "name": {name}, "password": {pw}})
	_, _, body = o.get(loc)
	code, err := console.TOTPCode(strings.ReplaceAll(match(t, totpSecret, body), " ", ""), time.Now())
	must(t, err)
	if st, loc, _ := o.post("/console/second-factor", url.Values{"csrf": {match(t, csrfInput, body)}, "code": {code}}); st != http.StatusSeeOther || loc != "/console/" {
		t.Fatalf("second factor: %d → %s", st, loc)
	}
	return o
}

func match(t *testing.T, re *regexp.Regexp, body string) string {
	t.Helper()
	m := re.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("%s not in the page:\n%s", re, body)
	}
	return m[1]
}

func (o *operatorClient) get(path string) (int, string, string) {
	o.t.Helper()
	resp, err := o.hc.Get(o.base + path)
	must(o.t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

func (o *operatorClient) post(path string, form url.Values) (int, string, string) {
	o.t.Helper()
	resp, err := o.hc.PostForm(o.base+path, form)
	must(o.t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

// postForm posts a console form with the session's CSRF token, read from page.
func (o *operatorClient) postForm(page, path string) (int, string, string) {
	o.t.Helper()
	_, _, body := o.get(page)
	return o.post(path, url.Values{"csrf": {match(o.t, csrfInput, body)}})
}

// An operator rotates a merchant's key in the console of another instance: the new key is shown
// once, works at once, and the old one is refused; revoking it makes the merchant API refuse it at
// once too (401), and both changes are in the audit log. A read-only account may do neither.
func TestConsoleRotatesAndRevokesMerchantKeys(t *testing.T) {
	for _, b := range consoleStores {
		t.Run(b.name, func(t *testing.T) {
			r := newConsoleRig(t, b.open)
			o := r.signIn(t, "olga", console.Operator)
			st, _, body := o.get("/console/merchants")
			if st != http.StatusOK || !strings.Contains(body, `data-merchant="shop"`) || !strings.Contains(body, "tag good\">active") {
				t.Fatalf("merchants page: %d\n%s", st, body)
			}
			old := r.n.apiKey
			st, _, body = o.postForm("/console/merchants", "/console/merchants/shop/key")
			if st != http.StatusOK {
				t.Fatalf("rotate: %d\n%s", st, body)
			}
			key := match(t, newKeyShown, body)
			if code := callWith(t, r.n.api.URL, old, "POST", "/v1/authentications", map[string]string{"cardNumber": panFrictionless}, nil); code != http.StatusUnauthorized {
				t.Errorf("the rotated key answered %d, want 401", code)
			}
			if code := callWith(t, r.n.api.URL, key, "POST", "/v1/authentications", map[string]string{"cardNumber": panFrictionless}, nil); code != http.StatusCreated {
				t.Errorf("the new key answered %d, want 201", code)
			}
			if _, _, again := o.get("/console/merchants"); strings.Contains(again, key) {
				t.Error("the merchants page shows the key again")
			}
			st, loc, _ := o.postForm("/console/merchants", "/console/merchants/shop/revoke")
			if st != http.StatusSeeOther || loc != "/console/merchants" {
				t.Fatalf("revoke: %d → %s", st, loc)
			}
			if code := callWith(t, r.n.api.URL, key, "POST", "/v1/authentications", map[string]string{"cardNumber": panFrictionless}, nil); code != http.StatusUnauthorized {
				t.Errorf("the revoked key answered %d, want 401", code)
			}
			if _, _, body := o.get("/console/merchants"); !strings.Contains(body, "The API key of shop is revoked.") || !strings.Contains(body, "tag bad\">revoked") {
				t.Errorf("after the revocation the merchants page shows:\n%s", body)
			}
			st, loc, _ = o.postForm("/console/merchants", "/console/merchants/nobody/revoke")
			if _, _, body := o.get(loc); st != http.StatusSeeOther || !strings.Contains(body, "merchant: does not exist") {
				t.Errorf("revoking an unknown merchant: %d → %s\n%s", st, loc, body)
			}
			es, err := r.c.Audit().List(context.Background(), audit.Filter{Action: "merchant.key", Limit: 10})
			must(t, err)
			var got []string
			for _, e := range es {
				got = append(got, e.Actor+" "+e.Action+" "+e.Target)
				if strings.Contains(e.Detail, key) || strings.Contains(e.Target, key) {
					t.Error("an audit entry holds the key")
				}
			}
			if strings.Join(got, "; ") != "olga merchant.key.revoke shop; olga merchant.key.rotate shop" {
				t.Errorf("audit: %q", got)
			}
			ro := r.signIn(t, "rita", console.ReadOnly)
			if st, _, _ := ro.postForm("/console/merchants", "/console/merchants/shop/key"); st != http.StatusForbidden {
				t.Errorf("a read-only account rotated a key: %d", st)
			}
		})
	}
}

// The transactions page lists and finds a real purchase by any of its ids, and its page shows the
// exchanges recorded for it with the card number masked and no authentication value in full.
func TestConsoleFindsATransactionAndShowsItsMessagesMasked(t *testing.T) {
	for _, b := range consoleStores {
		t.Run(b.name, func(t *testing.T) {
			r := newConsoleRig(t, b.open)
			s := start(t, r.n, panFrictionless)
			before, err := r.n.st.Transaction(context.Background(), s.ID)
			must(t, err)
			if code := r.n.call(t, "POST", "/v1/authentications/"+s.ID+"/authenticate", authenticateBody(), nil); code != http.StatusOK {
				t.Fatalf("authenticate: %d", code)
			}
			tx, err := r.n.st.Transaction(context.Background(), s.ID)
			must(t, err)
			o := r.signIn(t, "olga", console.ReadOnly)
			_, _, list := o.get("/console/transactions?status=frictionless&merchant=shop&day=" + time.Now().UTC().Format(time.DateOnly))
			if !strings.Contains(list, s.ID) || !strings.Contains(list, "400000******1000") {
				t.Errorf("the list misses the purchase:\n%s", list)
			}
			if _, _, none := o.get("/console/transactions?status=error"); strings.Contains(none, s.ID) {
				t.Error("the error filter lists a frictionless purchase")
			}
			for _, id := range []string{s.ID, tx.DSTransID, tx.ACSTransID} {
				st, loc, _ := o.get("/console/transactions?find=" + url.QueryEscape(id))
				if st != http.StatusSeeOther || loc != "/console/transactions/"+s.ID {
					t.Errorf("find %s: %d → %s", id, st, loc)
				}
			}
			st, _, page := o.get("/console/transactions/" + s.ID)
			if st != http.StatusOK || !strings.Contains(page, "&#34;messageType&#34;: &#34;AReq&#34;") ||
				!strings.Contains(page, "&#34;acctNumber&#34;: &#34;400000******1000&#34;") || !strings.Contains(page, "kcxy••••••••") {
				t.Errorf("transaction page: %d\n%s", st, page)
			}
			if tx.AuthenticationValue == "" || before.PANSealed == "" {
				t.Fatal("the purchase stored no authentication value, or no sealed PAN before its AReq")
			}
			for what, secret := range map[string]string{"card number": panFrictionless, "authentication value": tx.AuthenticationValue, "sealed PAN": before.PANSealed} {
				if strings.Contains(page, secret) {
					t.Errorf("the transaction page shows the %s", what)
				}
			}
			if st, _, _ := o.get("/console/transactions/nope"); st != http.StatusNotFound {
				t.Errorf("an unknown transaction: %d", st)
			}
			if st, _, _ := o.get("/console/transactions?day=yesterday"); st != http.StatusBadRequest {
				t.Errorf("a bad day: %d", st)
			}
		})
	}
}

// The analytics count known rows per UTC day and per dimension.
func TestConsoleAnalyticsCountKnownTransactions(t *testing.T) {
	for _, b := range consoleStores {
		t.Run(b.name, func(t *testing.T) {
			r := newConsoleRig(t, b.open)
			ctx := context.Background()
			day1 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
			i := 0
			add := func(at time.Time, version, state, status, cancel string) {
				i++
				must(t, r.n.st.CreateTransaction(ctx, threedsserver.Transaction{ID: "tx-" + string(rune('a'+i/26)) + string(rune('a'+i%26)),
					MerchantID: "shop", MaskedPAN: "400000******1000", PANSealed: "sealed", MessageVersion: version, State: state,
					TransStatus: status, ChallengeCancel: cancel, DeviceChannel: emv.ChannelBrowser, CreatedAt: at}))
			}
			// 1 November: 6 frictionless, 2 challenges passed, 1 cancelled, 1 left open, 2 errors.
			for k := 0; k < 6; k++ {
				add(day1.Add(time.Duration(k)*time.Hour), "2.2.0", threedsserver.StateFrictionless, "Y", "")
			}
			add(day1.Add(10*time.Hour), "2.2.0", threedsserver.StateFinal, "Y", "")
			add(day1.Add(11*time.Hour), "2.2.0", threedsserver.StateFinal, "Y", "")
			add(day1.Add(12*time.Hour), "2.2.0", threedsserver.StateFinal, "N", "01")
			add(day1.Add(13*time.Hour), "2.2.0", threedsserver.StateChallenge, "C", "")
			add(day1.Add(14*time.Hour), "2.2.0", threedsserver.StateError, "", "")
			add(day1.Add(23*time.Hour+59*time.Minute), "2.2.0", threedsserver.StateError, "", "")
			// 2 November: one frictionless of 2.1.0; 31 October: outside the period.
			add(day1.Add(24*time.Hour), "2.1.0", threedsserver.StateFrictionless, "Y", "")
			add(day1.Add(-time.Second), "2.2.0", threedsserver.StateError, "", "")

			o := r.signIn(t, "olga", console.ReadOnly)
			st, _, page := o.get("/console/analytics?from=2026-11-01&to=2026-11-02")
			if st != http.StatusOK {
				t.Fatalf("analytics: %d\n%s", st, page)
			}
			for _, want := range []string{
				`data-label="2026-11-01" data-series="shop" data-value="60.00"`,
				`data-label="2026-11-02" data-series="shop" data-value="100.00"`,
				`data-label="2026-11-01" data-series="challenge success" data-value="50.00"`,
				`data-label="2026-11-01" data-series="abandonment" data-value="50.00"`,
				`data-label="2026-11-01" data-series="errors" data-value="16.67"`,
				`<td>12</td><td>60.0% (6/10)</td><td>4</td><td>50.0%</td><td>50.0%</td><td>2 (16.7%)</td>`,
			} {
				if !strings.Contains(page, want) {
					t.Errorf("the analytics page lacks %s", want)
				}
			}
			_, _, page = o.get("/console/analytics?from=2026-11-01&to=2026-11-02&by=version")
			for _, want := range []string{`data-label="2026-11-02" data-series="2.1.0" data-value="100.00"`, `data-label="2026-11-01" data-series="2.2.0" data-value="60.00"`} {
				if !strings.Contains(page, want) {
					t.Errorf("by version, the analytics page lacks %s", want)
				}
			}
			if strings.Contains(page, `data-label="2026-11-01" data-series="2.1.0"`) {
				t.Error("a version without transactions on a day has a bar that day")
			}
			for _, q := range []string{"by=card", "from=11/01/2026", "from=2026-11-02&to=2026-11-01"} {
				if st, _, _ := o.get("/console/analytics?" + q); st != http.StatusBadRequest {
					t.Errorf("analytics?%s: %d, want 400", q, st)
				}
			}
		})
	}
}

// Operators rotating one merchant's key at the same moment each get a key shown, but only the last
// written works afterwards: no two keys are left working, and every rotation is in the audit log.
func TestConsoleKeyRotationsInParallelLeaveOneWorkingKey(t *testing.T) {
	for _, b := range consoleStores {
		t.Run(b.name, func(t *testing.T) {
			r := newConsoleRig(t, b.open)
			o := r.signIn(t, "olga", console.Operator)
			_, _, page := o.get("/console/merchants")
			form := url.Values{"csrf": {match(t, csrfInput, page)}}
			const n = 12
			keys := make([]string, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					resp, err := o.hc.PostForm(o.base+"/console/merchants/shop/key", form)
					if err != nil {
						errs[i] = err
						return
					}
					defer resp.Body.Close()
					body, _ := io.ReadAll(resp.Body)
					if m := newKeyShown.FindStringSubmatch(string(body)); resp.StatusCode == http.StatusOK && m != nil {
						keys[i] = m[1]
					} else {
						errs[i] = fmt.Errorf("rotation answered %d", resp.StatusCode)
					}
				}()
			}
			wg.Wait()
			working := 0
			for i, k := range keys {
				if errs[i] != nil {
					t.Fatal(errs[i])
				}
				if code := callWith(t, r.n.api.URL, k, "GET", "/v1/authentications/none", nil, nil); code != http.StatusUnauthorized {
					working++
				}
			}
			if working != 1 {
				t.Errorf("%d of %d keys shown work afterwards; want exactly one", working, n)
			}
			es, err := r.c.Audit().List(context.Background(), audit.Filter{Action: "merchant.key.rotate", Limit: 50})
			must(t, err)
			if len(es) != n {
				t.Errorf("%d rotations in the audit log; want %d", len(es), n)
			}
		})
	}
}
