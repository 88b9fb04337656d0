package threedsserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/open3ds/open3ds/internal/browsertest"
	"github.com/open3ds/open3ds/internal/threedsserver"
)

// panSilent is in a range whose 3DS Method page never sends the notification.
const panSilent = "4300000000001080"

// shop is a merchant on its own origin: a checkout page that loads /checkout.js from the 3DS Server
// under the Content-Security-Policy docs/checkout.md asks for, and a back end that calls the
// merchant API with its key, as a real shop's would.
type shop struct {
	n   *network
	url string
}

func newShop(tb testing.TB, n *network) *shop {
	tb.Helper()
	s := &shop{n: n}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.page)
	mux.HandleFunc("POST /start", func(w http.ResponseWriter, r *http.Request) {
		s.forward(w, "/v1/authentications", r.Body)
	})
	mux.HandleFunc("POST /pay", s.pay)
	// The back end's reading of a result, for the script's decoupled wait.
	mux.HandleFunc("GET /result", func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequest("GET", s.n.api.URL+"/v1/authentications/"+r.URL.Query().Get("id"), nil)
		req.Header.Set("Authorization", "Bearer "+s.n.apiKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.Header().Set("Content-Type", "application/json")
		io.Copy(w, resp.Body)
	})
	mux.HandleFunc("POST /silent-method", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "<!doctype html><title>A 3DS Method that never answers</title>")
	})
	mux.HandleFunc("GET /hostile.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css")
		fmt.Fprint(w, hostileCSS)
	})
	mux.HandleFunc("GET /return", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><p id="back">Back at the shop</p>`)
	})
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)
	s.url = srv.URL
	// The merchant's page origin is that of its requestorUrl.
	ctx := context.Background()
	m := testMerchant("shop")
	m.RequestorURL = s.url + "/"
	must(tb, n.st.ChangeMerchant(ctx, m, ""))
	r := dsRange("4300000000000000", "4300000000009999")
	r.MethodURL = s.url + "/silent-method"
	must(tb, n.dsStore.AddRange(ctx, r))
	must(tb, n.server.RefreshRanges(ctx))
	return s
}

func (s *shop) page(w http.ResponseWriter, r *http.Request) {
	hostile := ""
	if r.URL.Query().Has("hostile") {
		hostile = `<link rel="stylesheet" href="/hostile.css">`
	}
	// The test's listeners are plain HTTP on 127.0.0.1; in production "https:" stands for the ACSs.
	w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'nonce-shop' "+s.n.public.URL+
		"; frame-src http://127.0.0.1:*; form-action http://127.0.0.1:*")
	fmt.Fprintf(w, `<!doctype html><html><head><meta charset="utf-8"><title>Shop</title>
%s<script src="%s/checkout.js"></script></head><body><button id="buy">Buy</button>
<script nonce="shop">
window.events = []; window.heard = [];
// shown keeps, by the page's own clock, when the status overlay and the challenge's frame came and went.
window.shown = [];
new MutationObserver(() => {
  const find = sel => `+browsertest.DeepQuery+`(document, sel) !== null, last = shown[shown.length - 1] || {};
  const on = find("[role=status]"), modal = find('iframe[name^="open3ds-challenge-"]');
  if (on !== !!last.on || modal !== !!last.modal) { shown.push({on, modal, at: performance.now()}); }
}).observe(document.documentElement, {childList: true, subtree: true});
["open3ds:method", "open3ds:outcome"].forEach(type => addEventListener(type, e => events.push({type, detail: e.detail})));
addEventListener("message", e => heard.push({origin: e.origin, data: e.data}));
async function call(path, body) {
  const r = await fetch(path, {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
  return r.json();
}
window.startPurchase = card => call("/start", {cardNumber: card});
// pay is the page's authenticate function for one transaction; q carries the test's choices.
window.pay = (id, q) => data => call("/pay?id=" + id + "&" + (q || ""), data);
window.readResult = id => fetch("/result?id=" + id).then(r => r.json());
// settle keeps a long promise's end in window.result, so the test can act meanwhile.
window.settle = p => { window.result = undefined; p.then(r => window.result = r, e => window.result = {error: e.message}); };
</script></body></html>`, hostile, s.n.public.URL)
}

// pay is the back end's authenticate call: the script's data plus what only the server knows.
func (s *shop) pay(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	q := r.URL.Query()
	browser, _ := body["browser"].(map[string]any)
	browser["acceptHeader"], browser["ip"] = "text/html", "127.0.0.1"
	body["amount"], body["currency"] = "12999", "978"
	if v := q.Get("amount"); v != "" {
		body["amount"] = v
	}
	if v := q.Get("size"); v != "" {
		body["challengeWindowSize"] = v
	}
	if q.Has("decoupled") {
		d := map[string]any{"allowed": true, "maxMinutes": 10}
		if v := q.Get("decoupled"); v == "only" || v == "also" {
			d["fallback"] = v
		}
		body["decoupled"] = d
	}
	if v := q.Get("return"); v != "" {
		body["returnUrl"] = s.url + v
	}
	data, _ := json.Marshal(body)
	s.forward(w, "/v1/authentications/"+q.Get("id")+"/authenticate", bytes.NewReader(data))
}

func (s *shop) forward(w http.ResponseWriter, path string, body io.Reader) {
	req, _ := http.NewRequest("POST", s.n.api.URL+path, body)
	req.Header.Set("Authorization", "Bearer "+s.n.apiKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}

// open loads the checkout page in a fresh browser and waits for the script.
func (s *shop) open(t *testing.T, o browsertest.Options) context.Context {
	t.Helper()
	return s.openAt(t, o, "/")
}

// openAt is open for the page at path ("/?hostile" adds hostileCSS).
func (s *shop) openAt(t *testing.T, o browsertest.Options, path string) context.Context {
	t.Helper()
	ctx := browsertest.Start(t, o)
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, chromedp.Navigate(s.url+path)); err != nil {
		t.Fatalf("opening the shop: %v", err)
	}
	waitJS[bool](t, ctx, "the checkout script", `typeof Open3DS === "object"`)
	return ctx
}

// startPurchase starts an authentication from the page, through the shop's back end.
func startPurchase(t *testing.T, ctx context.Context, pan string) threedsserver.StartResponse {
	t.Helper()
	return evalJS[threedsserver.StartResponse](t, ctx, `startPurchase("`+pan+`")`)
}

// evalJS runs expr in the page, awaiting a promise, and decodes its value.
func evalJS[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(sctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// waitJS waits until expr is truthy in the page and decodes its value.
func waitJS[T any](t *testing.T, ctx context.Context, what, expr string) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(sctx, chromedp.Poll[T](expr, chromedp.WithPollingInterval(20*time.Millisecond),
		chromedp.WithPollingTimeout(25*time.Second)))
	if err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
	return v
}

func jsValue(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	must(t, err)
	return string(b)
}

// outcome is what checkout() and challenge() resolve with, or the message they reject with.
type outcome struct {
	ID          string `json:"id"`
	TransStatus string `json:"transStatus"`
	ErrorCode   string `json:"errorCode"`
	Cancelled   bool   `json:"cancelled"`
	Error       string `json:"error"`
}

// result waits for the promise handed to settle() to end.
func result(t *testing.T, ctx context.Context) outcome {
	t.Helper()
	return waitJS[outcome](t, ctx, "the checkout's outcome", `window.result`)
}

// eventFired reports whether the page heard the window event type with the given detail.
func eventFired(t *testing.T, ctx context.Context, typ string, detail any) bool {
	t.Helper()
	return evalJS[bool](t, ctx, `(want => events.some(e => e.type === "`+typ+`" &&
		Object.keys(e.detail).length === Object.keys(want).length && Object.keys(want).every(k => e.detail[k] === want[k])))(`+jsValue(t, detail)+`)`)
}

func TestTheCheckoutScriptSaysYNOrUForThe3DSMethodAsTheTenSecondRuleWants(t *testing.T) {
	n := newNetwork(t)
	n.withRealACS(t)
	s := newShop(t, n)
	ctx := s.open(t, browsertest.Options{})

	t.Run("a Method whose notification comes gives Y and the transaction knows it", func(t *testing.T) {
		st := startPurchase(t, ctx, panRealACS)
		if got := evalJS[string](t, ctx, `Open3DS.runMethod(`+jsValue(t, st.ThreeDSMethod)+`)`); got != "Y" {
			t.Fatalf("runMethod with the real ACS's Method = %q; want Y", got)
		}
		tx, err := n.st.Transaction(context.Background(), st.ID)
		must(t, err)
		if !tx.MethodDone {
			t.Fatal("the 3DS Server did not record the Method notification")
		}
		if !eventFired(t, ctx, "open3ds:method", map[string]string{"compInd": "Y"}) ||
			evalJS[bool](t, ctx, deep("iframe")+` !== null`) {
			t.Fatal("no open3ds:method event with Y, or the hidden iframe stayed")
		}
	})

	t.Run("no Method gives U at once and a frictionless checkout resolves with its status", func(t *testing.T) {
		if got := evalJS[string](t, ctx, `Open3DS.runMethod(null)`); got != "U" {
			t.Fatalf("runMethod(null) = %q; want U", got)
		}
		st := startPurchase(t, ctx, panFrictionless)
		got := evalJS[outcome](t, ctx, `Open3DS.checkout({method: null, authenticate: pay("`+st.ID+`")})`)
		if got != (outcome{ID: st.ID, TransStatus: "Y"}) || !eventFired(t, ctx, "open3ds:outcome", map[string]string{"id": st.ID, "transStatus": "Y"}) {
			t.Fatalf("checkout = %+v; want {id, transStatus: Y} and the outcome event", got)
		}
		n.mu.Lock()
		defer n.mu.Unlock()
		if n.lastReq.ThreeDSCompInd != "U" {
			t.Fatalf("AReq threeDSCompInd = %q; want U", n.lastReq.ThreeDSCompInd)
		}
	})

	t.Run("a Method that never notifies gives N after the full ten seconds and the AReq says N", func(t *testing.T) {
		st := startPurchase(t, ctx, panSilent)
		// As a shop does: the Method starts when the card number is known, checkout takes its promise.
		evalJS[bool](t, ctx, `window.t0 = performance.now(); window.method = Open3DS.runMethod(`+jsValue(t, st.ThreeDSMethod)+`);
			method.then(() => window.waited = performance.now() - t0); true`)
		evalJS[bool](t, ctx, `settle(Open3DS.checkout({method, authenticate: pay("`+st.ID+`")})); true`)
		if status := waitJS[string](t, ctx, "the status overlay", deep("[role=status]")+`?.textContent`); status != "Verifying your purchase…" {
			t.Fatalf("status overlay says %q", status)
		}
		got := result(t, ctx)
		if got != (outcome{ID: st.ID, TransStatus: "Y"}) {
			t.Fatalf("checkout = %+v; want the frictionless Y", got)
		}
		// A lower bound, not a speed claim: N must not come before the ten seconds are up.
		if waited := evalJS[float64](t, ctx, `waited`); waited < 9990 {
			t.Fatalf("the Method gave up after %.0f ms; the rule is 10000", waited)
		}
		if !eventFired(t, ctx, "open3ds:method", map[string]string{"compInd": "N"}) ||
			evalJS[bool](t, ctx, deep("[role=status]")+` !== null`) {
			t.Fatal("no open3ds:method event with N, or the status overlay stayed")
		}
		n.mu.Lock()
		defer n.mu.Unlock()
		if n.lastReq.ThreeDSCompInd != "N" {
			t.Fatalf("AReq threeDSCompInd = %q; want N", n.lastReq.ThreeDSCompInd)
		}
	})
}

func TestMessagesFromAnotherOriginOrAboutAnotherTransactionAreIgnored(t *testing.T) {
	n := newNetwork(t)
	s := newShop(t, n)
	ctx := s.open(t, browsertest.Options{})
	mine, other := startPurchase(t, ctx, panSilent), startPurchase(t, ctx, panFrictionless)
	// While the Method runs, the shop's own page claims it completed (wrong origin), and the 3DS
	// Server's real notification page reports another transaction (right origin, wrong id).
	got := evalJS[struct {
		CompInd string
		Heard   []struct {
			Origin string
			Data   struct{ Type, ID string }
		}
	}](t, ctx, `(async () => {
		const done = Open3DS.runMethod(`+jsValue(t, mine.ThreeDSMethod)+`, {timeoutMs: 4000});
		postMessage({type: "open3ds:method", id: "`+mine.ID+`"}, "*");
		const f = document.createElement("iframe"); f.name = "other"; document.body.append(f);
		const form = Object.assign(document.createElement("form"), {method: "post", action: "`+n.public.URL+`/3ds/method", target: "other"});
		form.append(Object.assign(document.createElement("input"), {type: "hidden", name: "threeDSMethodData", value: "`+other.ThreeDSMethod.ThreeDSMethodData+`"}));
		document.body.append(form); form.submit();
		const compInd = await done;
		return {compInd, heard: heard.map(h => ({origin: h.origin, data: {type: h.data.type, id: h.data.id}}))};
	})()`)
	if got.CompInd != "N" {
		t.Fatalf("runMethod = %q; want N, since neither message was the 3DS Server's word about this transaction", got.CompInd)
	}
	var spoofed, foreign bool
	for _, h := range got.Heard {
		spoofed = spoofed || (h.Origin == s.url && h.Data.ID == mine.ID)
		foreign = foreign || (h.Origin == n.public.URL && h.Data.Type == "open3ds:method" && h.Data.ID == other.ID)
	}
	if !spoofed || !foreign {
		t.Fatalf("the page heard %+v before the timeout; both messages must have arrived for the test to mean anything", got.Heard)
	}
}

// deep is a JavaScript expression for the first element matching the CSS selector sel, in the page
// or in the shadow roots where the checkout script draws.
func deep(sel string) string { return string(browsertest.Deep(sel)) }

// modalFrame selects the challenge iframe in the modal.
const modalFrame = `iframe[name^="open3ds-challenge-"]`

// inModal runs actions against the document the modal's iframe shows, retrying while it is
// between pages.
func inModal(t *testing.T, ctx context.Context, what string, build func(in chromedp.QueryOption) []chromedp.Action[chromedp.Void]) {
	t.Helper()
	var last error
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		sctx, cancel := context.WithTimeout(ctx, time.Second)
		nodes, err := chromedp.Run(sctx, chromedp.Nodes(browsertest.Deep(modalFrame)))
		if err == nil && len(nodes) > 0 {
			err = chromedp.Do(sctx, build(chromedp.FromNode(nodes[0]))...)
		}
		cancel()
		if last = err; err == nil {
			return
		}
	}
	t.Fatalf("%s: %v", what, last)
}

func visible(sel string) func(in chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
	return func(in chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{chromedp.WaitVisible(chromedp.CSS(sel), in)}
	}
}

func keys(sel, v string) func(in chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
	return func(in chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{chromedp.SendKeys(chromedp.CSS(sel), v, in)}
	}
}

func TestTheChallengeOpensInAModalOfEachWindowSizeAndEndsWithTheOutcomeOrACancel(t *testing.T) {
	n := newNetwork(t)
	bank := n.withRealACS(t)
	s := newShop(t, n)
	ctx := s.open(t, browsertest.Options{Width: 1000, Height: 800})
	vw, vh := evalJS[int](t, ctx, `innerWidth`), evalJS[int](t, ctx, `innerHeight`)
	tests := []struct {
		size, how     string
		width, height int
	}{
		{"01", "escape", 250, 400},
		{"02", "close", 390, 400},
		{"03", "code", 500, 600},
		{"04", "close", 600, 400},
		{"05", "close", vw, vh - 36}, // the whole viewport under the close bar
	}
	codes := 0
	for _, tt := range tests {
		t.Run("window size "+tt.size+" then "+tt.how, func(t *testing.T) {
			st := startPurchase(t, ctx, panRealACS)
			evalJS[bool](t, ctx, `settle(Open3DS.checkout({method: null, authenticate: pay("`+st.ID+`", "amount=250000&size=`+tt.size+`")})); true`)
			inModal(t, ctx, "the ACS's first challenge page", visible(`button[value="send"]`))
			size := evalJS[[]float64](t, ctx, `(r => [r.width, r.height])(`+deep(modalFrame)+`.getBoundingClientRect())`)
			if int(size[0]) != tt.width || int(size[1]) != tt.height {
				t.Fatalf("the challenge iframe is %v×%v; want %d×%d", size[0], size[1], tt.width, tt.height)
			}
			waitJS[bool](t, ctx, "focus in the dialog", `(a => a.shadowRoot?.activeElement?.closest("[role=dialog]") != null)(document.activeElement)`)
			want := outcome{ID: st.ID, Cancelled: true}
			switch tt.how {
			case "code":
				inModal(t, ctx, "asking for the code", keys(`button[value="send"]`, "\r"))
				codes++
				code := bank.code(t, codes)
				inModal(t, ctx, "typing the code", keys("#code", code+"\r"))
				want = outcome{ID: st.ID, TransStatus: "Y"}
			default:
				// The page itself claims success first: from the wrong origin, it must change nothing.
				evalJS[bool](t, ctx, `postMessage({type: "open3ds:challenge", outcome: {id: "`+st.ID+`", transStatus: "Y"}}, "*"); true`)
				closeKey := kb.Escape
				if tt.how == "close" {
					closeKey = "\r"
				}
				sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				err := chromedp.Do(sctx, chromedp.SendKeys(browsertest.Deep(`button[aria-label="Cancel"]`), closeKey))
				cancel()
				must(t, err)
			}
			if got := result(t, ctx); got != want {
				t.Fatalf("checkout = %+v; want %+v", got, want)
			}
			detail := map[string]any{"id": want.ID, "transStatus": want.TransStatus}
			if want.Cancelled {
				detail = map[string]any{"id": want.ID, "cancelled": true}
			}
			if !eventFired(t, ctx, "open3ds:outcome", detail) || evalJS[bool](t, ctx, deep("[role=dialog]")+` !== null`) {
				t.Fatal("no open3ds:outcome event with the outcome, or the modal stayed")
			}
		})
	}
}

func TestWithTheRedirectFallbackTheShopperComesBackToTheReturnURLWithTheID(t *testing.T) {
	n := newNetwork(t)
	n.withRealACS(t)
	s := newShop(t, n)
	ctx := s.open(t, browsertest.Options{})
	st := startPurchase(t, ctx, panRealACS)
	q := url.Values{"amount": {"250000"}, "return": {"/return?order=42"}}.Encode()
	evalJS[bool](t, ctx, `settle(Open3DS.checkout({method: null, redirect: true, authenticate: pay("`+st.ID+`", "`+q+`")})); true`)
	// The ACS's page is now the top-level page: the shopper cancels there.
	sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	must(t, chromedp.Do(sctx, chromedp.WaitVisible(chromedp.CSS(`button[value="cancel"]`)),
		chromedp.SendKeys(chromedp.CSS(`button[value="cancel"]`), "\r"),
		chromedp.WaitVisible(chromedp.CSS("#back"))))
	loc, err := chromedp.Run(sctx, chromedp.Location())
	must(t, err)
	if want := s.url + "/return?order=42&id=" + st.ID; loc != want {
		t.Fatalf("the shopper ended at %s; want %s", loc, want)
	}
}

func TestWindowSizeTakesTheLargestThatFitsAndFullScreenOnPhones(t *testing.T) {
	n := newNetwork(t)
	s := newShop(t, n)
	ctx := s.open(t, browsertest.Options{})
	tests := []struct {
		name          string
		width, height int64
		want          string
	}{
		{"a desktop gets 500×600", 1280, 800, "03"},
		{"a short laptop window gets 390×400", 1280, 560, "02"},
		{"a narrow window gets 390×400", 480, 800, "02"},
		{"a phone gets full screen", 390, 844, "05"},
		{"a very short window gets full screen", 1280, 420, "05"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			must(t, chromedp.Do(sctx, chromedp.EmulateViewport(tt.width, tt.height)))
			if got := evalJS[string](t, ctx, `Open3DS.windowSize()`); got != tt.want {
				t.Fatalf("windowSize() = %s; want %s", got, tt.want)
			}
		})
	}
	b := evalJS[map[string]any](t, ctx, `Open3DS.browserData()`)
	for _, f := range []string{"colorDepth", "screenHeight", "screenWidth", "tz"} {
		if v, ok := b[f].(string); !ok || strings.Trim(v, "-0123456789") != "" || v == "" {
			t.Errorf("browserData().%s = %#v; want digits in a string", f, b[f])
		}
	}
	if !strings.Contains(" 1 4 8 15 16 24 32 48 ", " "+fmt.Sprint(b["colorDepth"])+" ") || b["javascriptEnabled"] != true ||
		b["javaEnabled"] != false || len(fmt.Sprint(b["language"])) > 8 || b["userAgent"] == "" {
		t.Errorf("browserData() = %v", b)
	}
}
