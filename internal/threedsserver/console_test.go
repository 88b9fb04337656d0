package threedsserver_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
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

// newKeyShown is the API key a page shows once.
var newKeyShown = regexp.MustCompile(`id="new-key">([^<]+)<`)

// signIn makes an account of access a and signs it in through the console's forms.
func (r *consoleRig) signIn(t *testing.T, name string, a console.Access) *consoletest.Client {
	t.Helper()
	o := consoletest.NewClient(t, r.srv.URL)
	o.SignIn(r.c, name, a)
	return o
}

// An operator rotates a merchant's key in the console of another instance: the new key is shown
// once, works at once, and the old one is refused; revoking it makes the merchant API refuse it at
// once too (401), and both changes are in the audit log. A read-only account may do neither.
func TestConsoleRotatesAndRevokesMerchantKeys(t *testing.T) {
	for _, b := range consoleStores {
		t.Run(b.name, func(t *testing.T) {
			r := newConsoleRig(t, b.open)
			o := r.signIn(t, "olga", console.Operator)
			st, _, body := o.Get("/console/merchants")
			if st != http.StatusOK || !strings.Contains(body, `data-merchant="shop"`) || !strings.Contains(body, "tag good\">active") {
				t.Fatalf("merchants page: %d\n%s", st, body)
			}
			old := r.n.apiKey
			st, _, body = o.PostForm("/console/merchants/shop/key", nil)
			if st != http.StatusOK {
				t.Fatalf("rotate: %d\n%s", st, body)
			}
			key := consoletest.Find(t, newKeyShown, body, "new key")
			if code := callWith(t, r.n.api.URL, old, "POST", "/v1/authentications", map[string]string{"cardNumber": panFrictionless}, nil); code != http.StatusUnauthorized {
				t.Errorf("the rotated key answered %d, want 401", code)
			}
			if code := callWith(t, r.n.api.URL, key, "POST", "/v1/authentications", map[string]string{"cardNumber": panFrictionless}, nil); code != http.StatusCreated {
				t.Errorf("the new key answered %d, want 201", code)
			}
			if _, _, again := o.Get("/console/merchants"); strings.Contains(again, key) {
				t.Error("the merchants page shows the key again")
			}
			st, loc, _ := o.PostForm("/console/merchants/shop/revoke", nil)
			if st != http.StatusSeeOther || loc != "/console/merchants" {
				t.Fatalf("revoke: %d → %s", st, loc)
			}
			if code := callWith(t, r.n.api.URL, key, "POST", "/v1/authentications", map[string]string{"cardNumber": panFrictionless}, nil); code != http.StatusUnauthorized {
				t.Errorf("the revoked key answered %d, want 401", code)
			}
			if _, _, body := o.Get("/console/merchants"); !strings.Contains(body, "The API key of shop is revoked.") || !strings.Contains(body, "tag bad\">revoked") {
				t.Errorf("after the revocation the merchants page shows:\n%s", body)
			}
			st, loc, _ = o.PostForm("/console/merchants/nobody/revoke", nil)
			if _, _, body := o.Get(loc); st != http.StatusSeeOther || !strings.Contains(body, "merchant: does not exist") {
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
			if _, _, list := ro.Get("/console/merchants"); strings.Contains(list, `class="rotate"`) || strings.Contains(list, "/revoke") {
				t.Error("a read-only account is offered the Rotate or Revoke buttons")
			}
			if st, _, _ := ro.PostForm("/console/merchants/shop/key", nil); st != http.StatusForbidden {
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
			_, _, list := o.Get("/console/transactions?status=frictionless&merchant=shop&day=" + time.Now().UTC().Format(time.DateOnly))
			if !strings.Contains(list, s.ID) || !strings.Contains(list, "400000******1000") {
				t.Errorf("the list misses the purchase:\n%s", list)
			}
			if _, _, none := o.Get("/console/transactions?status=error"); strings.Contains(none, s.ID) {
				t.Error("the error filter lists a frictionless purchase")
			}
			for _, id := range []string{s.ID, tx.DSTransID, tx.ACSTransID} {
				st, loc, _ := o.Get("/console/transactions?find=" + url.QueryEscape(id))
				if st != http.StatusSeeOther || loc != "/console/transactions/"+s.ID {
					t.Errorf("find %s: %d → %s", id, st, loc)
				}
			}
			st, _, page := o.Get("/console/transactions/" + s.ID)
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
			if st, _, _ := o.Get("/console/transactions/nope"); st != http.StatusNotFound {
				t.Errorf("an unknown transaction: %d", st)
			}
			if st, _, _ := o.Get("/console/transactions?day=yesterday"); st != http.StatusBadRequest {
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
			st, _, page := o.Get("/console/analytics?from=2026-11-01&to=2026-11-02")
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
			_, _, page = o.Get("/console/analytics?from=2026-11-01&to=2026-11-02&by=version")
			for _, want := range []string{`data-label="2026-11-02" data-series="2.1.0" data-value="100.00"`, `data-label="2026-11-01" data-series="2.2.0" data-value="60.00"`} {
				if !strings.Contains(page, want) {
					t.Errorf("by version, the analytics page lacks %s", want)
				}
			}
			if strings.Contains(page, `data-label="2026-11-01" data-series="2.1.0"`) {
				t.Error("a version without transactions on a day has a bar that day")
			}
			for _, q := range []string{"by=card", "from=11/01/2026", "from=2026-11-02&to=2026-11-01"} {
				if st, _, _ := o.Get("/console/analytics?" + q); st != http.StatusBadRequest {
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
			_, _, page := o.Get("/console/merchants")
			form := url.Values{"csrf": {consoletest.CSRFIn(t, page)}}
			const n = 12
			keys := make([]string, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					resp, err := o.HTTP.PostForm(o.Base+"/console/merchants/shop/key", form)
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

// merchantForm is the add-merchant form filled in as an admin would, for a merchant sharing the
// test requestor (a payment provider may be the 3DS Requestor of many merchants).
func merchantForm(id string) url.Values {
	return url.Values{"id": {id}, "name": {"Cafe Lune"}, "requestorId": {requestorID}, "requestorName": {"Shop Demo SAS"},
		"requestorUrl": {"https://lune.example"}, "acquirerBin": {"412345"}, "acquirerMerchantId": {"LUNE0001"},
		"mcc": {"5814"}, "country": {"250"}, "webhookUrl": {""}}
}

// An admin adds a merchant in the console: its API key is shown once and authenticates against the
// merchant API at once, the merchant is listed, and the audit log says who added it without the key.
// A mistake is shown above the form naming each bad field, with what was typed kept; an id taken
// already is said so, not answered 500. Operators and read-only accounts see no button for it and
// are refused the form and its POST.
func TestConsoleAddsAMerchant(t *testing.T) {
	for _, b := range consoleStores {
		t.Run(b.name, func(t *testing.T) {
			r := newConsoleRig(t, b.open)
			ctx := context.Background()
			// Merchants read from the store itself, not from a cache of them.
			db := threedsserver.NewSQLStore(r.n.db)
			db.MerchantTTL = 0
			ada := r.signIn(t, "ada", console.Admin)
			_, _, list := ada.Get("/console/merchants")
			if !strings.Contains(list, `id="add-merchant"`) {
				t.Fatalf("an admin sees no Add merchant button:\n%s", list)
			}
			st, _, form := ada.Get("/console/merchants/new")
			if st != http.StatusOK || !strings.Contains(form, `id="merchant-form"`) {
				t.Fatalf("the form: %d\n%s", st, form)
			}
			for _, f := range []string{"id", "name", "requestorId", "requestorName", "requestorUrl", "acquirerBin", "acquirerMerchantId", "mcc", "country", "webhookUrl"} {
				if !strings.Contains(form, `name="`+f+`"`) {
					t.Errorf("the form has no field %s", f)
				}
			}
			csrf := consoletest.CSRFIn(t, form)
			post := func(v url.Values) (int, string) {
				t.Helper()
				v.Set("csrf", csrf)
				st, _, body := ada.Post("/console/merchants", v)
				return st, body
			}

			// Four bad fields, each named, and what was typed is in the form again.
			bad := merchantForm("cafe lune")
			bad.Set("mcc", "58")
			bad.Set("acquirerBin", "41-23")
			bad.Set("requestorUrl", "lune.example")
			st, body := post(bad)
			if st != http.StatusOK || !strings.Contains(body, `id="merchant-problems"`) {
				t.Fatalf("a bad form answered %d\n%s", st, body)
			}
			problems := body[strings.Index(body, `id="merchant-problems"`):strings.Index(body, `id="merchant-form"`)]
			for _, want := range []string{`data-field="id"`, `data-field="mcc"`, `data-field="acquirerBin"`, `data-field="requestorUrl"`, "must be 4 digits", "must be 1-11 digits"} {
				if !strings.Contains(problems, want) {
					t.Errorf("the problems above the form miss %s:\n%s", want, problems)
				}
			}
			if strings.Contains(problems, `data-field="name"`) || strings.Contains(problems, `data-field="country"`) {
				t.Errorf("the problems name good fields:\n%s", problems)
			}
			for _, kept := range []string{`value="cafe lune"`, `value="58"`, `value="41-23"`, `value="lune.example"`, `value="Cafe Lune"`, `value="LUNE0001"`} {
				if !strings.Contains(body, kept) {
					t.Errorf("the form lost %s", kept)
				}
			}
			if _, err := db.Merchant(ctx, "cafe lune"); err == nil {
				t.Error("a bad merchant was stored")
			}

			// An id taken already.
			st, body = post(merchantForm("shop"))
			if st != http.StatusOK || !strings.Contains(body, `data-field="id"`) || !strings.Contains(body, "a merchant with this id exists already") ||
				!strings.Contains(body, `value="LUNE0001"`) {
				t.Fatalf("a taken id answered %d\n%s", st, body)
			}
			if m, err := db.Merchant(ctx, "shop"); err != nil || m.Name != "Shop Demo" {
				t.Errorf("the existing merchant is now %+v, %v", m, err)
			}

			// The good form: the key is shown once and works at once.
			st, body = post(merchantForm("cafe-lune"))
			if st != http.StatusOK || !strings.Contains(body, `id="merchant-added"`) {
				t.Fatalf("adding: %d\n%s", st, body)
			}
			key := consoletest.Find(t, newKeyShown, body, "new key")
			var started struct {
				ID string `json:"id"`
			}
			if code := callWith(t, r.n.api.URL, key, "POST", "/v1/authentications", map[string]string{"cardNumber": panFrictionless}, &started); code != http.StatusCreated {
				t.Fatalf("the new merchant's key answered %d, want 201", code)
			}
			if tx, err := r.n.st.Transaction(ctx, started.ID); err != nil || tx.MerchantID != "cafe-lune" {
				t.Errorf("the purchase started with the new key belongs to %q (%v)", tx.MerchantID, err)
			}
			_, _, list = ada.Get("/console/merchants")
			if !strings.Contains(list, `data-merchant="cafe-lune"`) || !strings.Contains(list, "Cafe Lune") || strings.Contains(list, key) {
				t.Errorf("after adding, the merchants page shows:\n%s", list)
			}
			if m, err := db.Merchant(ctx, "cafe-lune"); err != nil || m.MCC != "5814" || m.AcquirerMerchantID != "LUNE0001" || m.WebhookURL != "" {
				t.Errorf("stored: %+v, %v", m, err)
			}
			es, err := r.c.Audit().List(ctx, audit.Filter{Action: "merchant.create", Limit: 10})
			must(t, err)
			if len(es) != 1 || es[0].Actor != "ada" || es[0].Target != "cafe-lune" || es[0].Via != audit.ViaConsole ||
				!strings.Contains(es[0].Detail, "MCC 5814") || strings.Contains(es[0].Detail, key) || strings.Contains(es[0].Target, key) {
				t.Errorf("audit entries of merchant.create: %+v", es)
			}

			// Operators and read-only accounts: no button, no form, no POST.
			for _, who := range []struct {
				name string
				a    console.Access
			}{{"olga", console.Operator}, {"rita", console.ReadOnly}} {
				o := r.signIn(t, who.name, who.a)
				_, _, list := o.Get("/console/merchants")
				if strings.Contains(list, `id="add-merchant"`) || strings.Contains(list, "/console/merchants/new") {
					t.Errorf("%s (%s) sees the Add merchant button", who.name, who.a)
				}
				if st, _, _ := o.Get("/console/merchants/new"); st != http.StatusForbidden {
					t.Errorf("%s (%s) got the form: %d", who.name, who.a, st)
				}
				v := merchantForm("by-" + who.name)
				v.Set("csrf", consoletest.CSRFIn(t, list))
				if st, _, _ := o.Post("/console/merchants", v); st != http.StatusForbidden {
					t.Errorf("%s (%s) posted the form: %d, want 403", who.name, who.a, st)
				}
				if _, err := db.Merchant(ctx, "by-"+who.name); err == nil {
					t.Errorf("%s (%s) added a merchant", who.name, who.a)
				}
			}
			if es, err := r.c.Audit().List(ctx, audit.Filter{Action: "merchant.create", Limit: 10}); err != nil || len(es) != 1 {
				t.Errorf("after the refusals the audit log holds %d merchant.create entries (%v)", len(es), err)
			}
		})
	}
}
