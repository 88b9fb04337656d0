package acs_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/acs"
	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/notify"
	"github.com/open3ds/open3ds/internal/otp"
	"github.com/open3ds/open3ds/internal/store"
)

// clock is a settable time shared by the ACS and the test, so timeouts are tested without waiting.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// shop is one ACS with its browser side on a real HTTP listener, the development outbox behind a
// real notify queue, and a record of when the RReq row existed relative to the CRes page.
type shop struct {
	e      *acsEnv
	b      *acs.Browser
	url    string
	outbox *notify.Outbox
	clock  *clock
	// rreqBeforeCRes records, for each page that carried a final cres, whether the RReq was already
	// in the outbox when the page's first byte was written.
	mu             sync.Mutex
	rreqBeforeCRes map[string]bool
	// notifyURL and dsURL, when set, replace the AReq's notificationURL and dsURL.
	notifyURL, dsURL string
	// unwatched skips the RReq-before-CRes check, which is the test's work, not the ACS's.
	unwatched bool
}

const notificationURL = "https://merchant.example/3ds/notify?order=42"

func newShop(tb testing.TB) *shop {
	tb.Helper()
	return newShopOn(tb, backends[0].open)
}

// newShopOn is newShop on the store open gives (one of backends).
func newShopOn(tb testing.TB, open func(testing.TB) *store.DB) *shop {
	tb.Helper()
	e := newACSOn(tb, open)
	s := &shop{e: e, outbox: notify.NewOutbox(0), clock: &clock{t: time.Now().UTC()}, rreqBeforeCRes: map[string]bool{}}
	e.svc.Now = s.clock.now
	codes, err := otp.New(bytes.Repeat([]byte("k"), 32), otp.Policy{})
	if err != nil {
		tb.Fatal(err)
	}
	q := notify.NewQueue(s.outbox, notify.QueueConfig{})
	tb.Cleanup(func() { q.Close(context.Background()) })
	s.b = &acs.Browser{Service: e.svc, Challenges: e.store, Apps: e.store, Codes: codes, Notify: q, Decoupled: e.store}
	e.svc.DecoupledStarted = s.b.SendDecoupled
	ctx := context.Background()
	ch, err := e.store.CardholderByPAN(ctx, panEnrolled)
	if err != nil {
		tb.Fatal(err)
	}
	ch.Emails = []string{"taro@example.com"}
	if err := e.store.UpdateCardholder(ctx, ch); err != nil {
		tb.Fatal(err)
	}
	h := s.b.Handler() // built once, as a server does; it sees later changes to s.b's fields
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.unwatched {
			h.ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(&watch{ResponseWriter: w, s: s}, r)
	}))
	tb.Cleanup(srv.Close)
	s.url = srv.URL
	s.b.DecoupledURL = srv.URL + "/decoupled/"
	return s
}

// watch checks the outbox the moment a page carrying a final cres starts to be written.
type watch struct {
	http.ResponseWriter
	s       *shop
	checked bool
}

var acsTransIDInCRes = regexp.MustCompile(`name="cres" value="([^"]+)"`)

func (w *watch) Write(p []byte) (int, error) {
	if !w.checked {
		w.checked = true
		if m := acsTransIDInCRes.FindSubmatch(p); m != nil {
			raw, _ := emv.DecodeBase64Lenient(string(m[1]))
			var ids struct{ ACSTransID string }
			json.Unmarshal(raw, &ids)
			_, err := w.s.e.store.Outbox(context.Background(), ids.ACSTransID)
			w.s.mu.Lock()
			w.s.rreqBeforeCRes[ids.ACSTransID] = err == nil
			w.s.mu.Unlock()
		}
	}
	return w.ResponseWriter.Write(p)
}

// challenge sends an AReq that ends in C and returns the acsTransID.
func (s *shop) challenge(tb testing.TB, lang string) (acsTransID, serverTransID string) {
	tb.Helper()
	set := map[string]any{"acctNumber": panEnrolled, "purchaseAmount": "250000", "notificationURL": notificationURL, "browserLanguage": lang}
	if s.notifyURL != "" {
		set["notificationURL"] = s.notifyURL
	}
	if s.dsURL != "" {
		set["dsURL"] = s.dsURL
	}
	res := post(tb, s.e.ds, s.e.url, areq(tb, "2.2.0", "areq-browser-pa", set)).(*emv.ARes)
	if res.TransStatus != "C" {
		tb.Fatalf("transStatus %s, want C", res.TransStatus)
	}
	return res.ACSTransID, res.ThreeDSServerTransID
}

// page is one answer of the ACS's browser side.
type page struct {
	status int
	header http.Header
	body   string
}

var fieldPattern = regexp.MustCompile(`name="([a-zA-Z]+)" value="([^"]*)"`)

func (p page) field(name string) string {
	for _, m := range fieldPattern.FindAllStringSubmatch(p.body, -1) {
		if m[1] == name {
			return htmlUnescape(m[2])
		}
	}
	return ""
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&#43;", "+", "&#34;", `"`, "&quot;", `"`, "&#39;", "'").Replace(s)
}

func (s *shop) post(tb testing.TB, path string, form url.Values) page {
	tb.Helper()
	resp, err := http.PostForm(s.url+path, form)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func creq(acsTransID, serverTransID, version, window string) string {
	m := map[string]string{"messageType": "CReq", "messageVersion": version, "threeDSServerTransID": serverTransID,
		"acsTransID": acsTransID, "challengeWindowSize": window}
	if window == "" {
		delete(m, "challengeWindowSize")
	}
	b, _ := json.Marshal(m)
	return base64.RawURLEncoding.EncodeToString(b)
}

// start posts the first CReq, as the merchant's iframe form does.
func (s *shop) start(tb testing.TB, acsTransID, serverTransID string) page {
	tb.Helper()
	return s.post(tb, "/challenge", url.Values{"creq": {creq(acsTransID, serverTransID, "2.2.0", "02")}, "threeDSSessionData": {"c2Vzc2lvbi00Mg"}})
}

// act posts one form of the page p with the action and extra fields.
func (s *shop) act(tb testing.TB, p page, action string, extra ...string) page {
	tb.Helper()
	f := url.Values{"id": {p.field("id")}, "token": {p.field("token")}, "action": {action}}
	for i := 0; i+1 < len(extra); i += 2 {
		f.Set(extra[i], extra[i+1])
	}
	return s.post(tb, "/challenge/step", f)
}

// code waits for the n-th message to reach the outbox for to and returns its code.
func (s *shop) code(tb testing.TB, to string, n int) string {
	tb.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if msgs := s.outbox.Messages(to); len(msgs) >= n {
			return msgs[0].Code
		}
	}
	tb.Fatalf("no message %d for %s in the outbox", n, to)
	return ""
}

// final reads the cres of a result page and the RReq in the outbox, and checks the RReq row was
// there before the page was written.
func (s *shop) final(tb testing.TB, p page, acsTransID string) (*emv.CRes, *emv.RReq) {
	tb.Helper()
	raw, err := emv.DecodeBase64Lenient(p.field("cres"))
	if err != nil {
		tb.Fatalf("no cres on the page: %s", p.body)
	}
	m, err := emv.ParseAs(raw, emv.TypeCRes, nil)
	if err != nil {
		tb.Fatalf("cres is not a valid CRes: %v\n%s", err, raw)
	}
	if p.field("threeDSSessionData") != "c2Vzc2lvbi00Mg" {
		tb.Errorf("threeDSSessionData = %q, want it echoed untouched", p.field("threeDSSessionData"))
	}
	if !strings.Contains(p.body, `action="`+strings.ReplaceAll(notificationURL, "&", "&amp;")+`"`) {
		tb.Errorf("the CRes form does not post to the notificationURL")
	}
	s.mu.Lock()
	before, seen := s.rreqBeforeCRes[acsTransID]
	s.mu.Unlock()
	if (!seen || !before) && !s.unwatched {
		tb.Errorf("the RReq was not in the outbox when the CRes page was written (seen %v)", seen)
	}
	row, err := s.e.store.Outbox(context.Background(), acsTransID)
	if err != nil {
		tb.Fatal(err)
	}
	r, err := emv.ParseAs(row.Body, emv.TypeRReq, nil)
	if err != nil {
		tb.Fatalf("outbox RReq invalid: %v", err)
	}
	return m.(*emv.CRes), r.(*emv.RReq)
}
