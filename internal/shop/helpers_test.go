package shop_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/open3ds/open3ds/internal/shop"
)

const apiKey = "o3k_test_4f9a1c7e2b8d6053"

// fakeAPI plays the 3DS Server's merchant API on loopback. Its function fields give each test its
// answers; it records what the shop sent.
type fakeAPI struct {
	url string

	start        func(cardNumber string) (int, string)
	authenticate func(id string) (int, string)
	get          func(id string, reads int) (int, string) // reads counts this id's reads, from 1

	mu      sync.Mutex
	started []string // card numbers
	// startBodies are the start requests whole, in order.
	startBodies []map[string]any
	sent        map[string]map[string]any // id → authenticate body
	auth        []string                  // Authorization headers seen
	reads       map[string]int
}

const (
	enrolledID   = "5f0c1a52-8f5e-4c1b-9d7e-3a2b1c0d9e8f"
	enrolledCard = "4000000000001000"
)

// methodData is the 3DS Method form's data for enrolledID, as the 3DS Server makes it.
var methodData = base64.RawURLEncoding.EncodeToString([]byte(`{"threeDSServerTransID":"` + enrolledID +
	`","threeDSMethodNotificationURL":"https://3dss.example/3ds/method"}`))

func newFakeAPI(tb testing.TB) *fakeAPI {
	tb.Helper()
	f := &fakeAPI{sent: map[string]map[string]any{}, reads: map[string]int{}}
	f.start = func(string) (int, string) {
		return 201, `{"id":"` + enrolledID + `","enrolled":true,"showLogo":true,"messageVersion":"2.2.0",` +
			`"maskedPan":"400000******1000","threeDSMethod":{"url":"https://acs.example/method","threeDSMethodData":"` + methodData + `"}}`
	}
	f.authenticate = func(id string) (int, string) {
		return 200, `{"id":"` + id + `","state":"frictionless","final":true,"transStatus":"Y","eci":"05","authenticationValue":"AAABBBCCCDDDEEEFFF0011223344=","timings":{"aresMs":42}}`
	}
	f.get = func(id string, _ int) (int, string) {
		return 200, `{"id":"` + id + `","state":"frictionless","final":true,"maskedPan":"400000******1000","transStatus":"Y","eci":"05","timings":{}}`
	}
	mux := http.NewServeMux()
	answer := func(w http.ResponseWriter, status int, body string) {
		ct := "application/json"
		if status >= 400 {
			ct = "application/problem+json"
		}
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
	guard := func(h func(w http.ResponseWriter, r *http.Request)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			f.mu.Lock()
			f.auth = append(f.auth, r.Header.Get("Authorization"))
			f.mu.Unlock()
			if r.Header.Get("Authorization") != "Bearer "+apiKey {
				answer(w, 401, `{"type":"about:blank","title":"Unauthorized","status":401,"detail":"a valid merchant API key is required"}`)
				return
			}
			h(w, r)
		}
	}
	mux.HandleFunc("POST /v1/authentications", guard(func(w http.ResponseWriter, r *http.Request) {
		var req map[string]any
		json.NewDecoder(r.Body).Decode(&req)
		card, _ := req["cardNumber"].(string)
		f.mu.Lock()
		f.started = append(f.started, card)
		f.startBodies = append(f.startBodies, req)
		f.mu.Unlock()
		status, body := f.start(card)
		answer(w, status, body)
	}))
	mux.HandleFunc("POST /v1/authentications/{id}/authenticate", guard(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		json.NewDecoder(r.Body).Decode(&body)
		f.mu.Lock()
		f.sent[r.PathValue("id")] = body
		f.mu.Unlock()
		status, resp := f.authenticate(r.PathValue("id"))
		answer(w, status, resp)
	}))
	mux.HandleFunc("GET /v1/authentications/{id}", guard(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		f.mu.Lock()
		f.reads[id]++
		n := f.reads[id]
		f.mu.Unlock()
		status, body := f.get(id, n)
		answer(w, status, body)
	}))
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)
	f.url = srv.URL
	return f
}

func (f *fakeAPI) startedCards() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.started...)
}

func (f *fakeAPI) lastStart() map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.startBodies[len(f.startBodies)-1]
}

func (f *fakeAPI) authorizations() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.auth...)
}

func (f *fakeAPI) sentFor(id string) map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sent[id]
}

func (f *fakeAPI) readsOf(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reads[id]
}

// testShop is a shop served on loopback in front of a fake merchant API.
type testShop struct {
	url  string
	api  *fakeAPI
	logs *strings.Builder
}

// newShop serves a shop with the default catalogue; edit changes its config first.
func newShop(tb testing.TB, api *fakeAPI, edit func(*shop.Config)) *testShop {
	tb.Helper()
	logs := &strings.Builder{}
	var mu sync.Mutex
	cfg := shop.Config{APIURL: api.url, APIKey: apiKey, ScriptURL: "https://3dss.example:8443/checkout.js",
		Log: slog.New(slog.NewJSONHandler(lockedWriter{&mu, logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	if edit != nil {
		edit(&cfg)
	}
	s, err := shop.New(cfg)
	if err != nil {
		tb.Fatalf("shop.New: %v", err)
	}
	srv := httptest.NewServer(s.Handler())
	tb.Cleanup(srv.Close)
	return &testShop{url: srv.URL, api: api, logs: logs}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// noRedirects is a client that shows redirects instead of following them.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func (s *testShop) do(tb testing.TB, method, path, body string, header ...string) (*http.Response, string) {
	tb.Helper()
	req, err := http.NewRequest(method, s.url+path, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return resp, string(b)
}

// problem reads a problem document, failing the test when the body is not one.
type problem struct {
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Errors []struct {
		Field  string `json:"field"`
		Detail string `json:"detail"`
	} `json:"errors"`
}

func readProblem(tb testing.TB, resp *http.Response, body string) problem {
	tb.Helper()
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		tb.Fatalf("Content-Type = %q, want application/problem+json; body %s", ct, body)
	}
	var p problem
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		tb.Fatalf("not a problem document: %v: %s", err, body)
	}
	return p
}

func (p problem) fields() string {
	var fs []string
	for _, e := range p.Errors {
		fs = append(fs, e.Field)
	}
	return strings.Join(fs, ",")
}

// startOrder starts a checkout for the enrolled card, as the page does when the number is complete.
func (s *testShop) startOrder(tb testing.TB) {
	tb.Helper()
	resp, body := s.do(tb, "POST", "/api/start", `{"cardNumber":"4000 0000 0000 1000"}`)
	if resp.StatusCode != http.StatusCreated {
		tb.Fatalf("start answered %d: %s", resp.StatusCode, body)
	}
}

// checkoutBody is what the page sends at Buy, with fields replaced by edit's.
func checkoutBody(edit map[string]any) string {
	b := map[string]any{"product": "bike", "expiry": "12/39", "name": "Ada Lovelace", "email": "ada@example.com",
		"threeDSCompInd": "Y", "challengeWindowSize": "03", "acceptHeader": "text/html,application/xhtml+xml",
		"browser": map[string]any{"javaEnabled": false, "javascriptEnabled": true, "language": "en-GB", "colorDepth": "24",
			"screenHeight": "800", "screenWidth": "1000", "tz": "-60", "userAgent": "Mozilla/5.0 (test)"}}
	for k, v := range edit {
		if v == nil {
			delete(b, k)
		} else {
			b[k] = v
		}
	}
	out, err := json.Marshal(b)
	if err != nil {
		panic(fmt.Sprint("test body: ", err))
	}
	return string(out)
}
