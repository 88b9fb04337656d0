package acs_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"

	"github.com/open3ds/open3ds/internal/browsertest"
)

const chromiumPath = "/usr/bin/chromium"

// chromium starts a headless Chromium with a temporary profile. Without the executable the test is
// skipped, loudly; under CI (env CI set) that is a failure, since CI installs it.
func chromium(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing: scripts/test.sh installs Debian's chromium, and CI must run the browser tests", chromiumPath)
		}
		t.Skipf("SKIPPED: %s is missing; install Debian's chromium (scripts/test.sh does) to run the browser tests", chromiumPath)
	}
	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]), chromedp.ExecPath(chromiumPath), chromedp.Headless,
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.WindowSize(1000, 800))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	// The first run starts the browser and must not carry a timeout; later steps each get one.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", chromiumPath, err)
	}
	return ctx
}

// merchant plays the 3DS Requestor's web page: it frames the challenge, runs the 3DS Method in a
// hidden iframe and records what the ACS posts back.
type merchant struct {
	url        string
	mu         sync.Mutex
	cres       []string
	methodDone []string
}

// windows are the challengeWindowSize values and the iframe sizes the requestor makes for them.
var windows = []struct{ size, css string }{
	{"01", "width:250px;height:400px"}, {"02", "width:390px;height:400px"}, {"03", "width:500px;height:600px"},
	{"04", "width:600px;height:400px"}, {"05", "width:100vw;height:100vh"},
}

func newMerchant(t *testing.T) *merchant {
	m := &merchant{}
	mux := http.NewServeMux()
	// The checkout page posts the CReq into the challenge iframe, as a requestor does.
	mux.HandleFunc("GET /checkout", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		fmt.Fprintf(w, `<!doctype html><html><body style="margin:0"><iframe name="challenge" id="challenge" style="%s;border:0"></iframe>
<form id="f" method="post" action="%s" target="challenge"><input type="hidden" name="creq" value="%s">
<input type="hidden" name="threeDSSessionData" value="c2Vzc2lvbi00Mg"></form>
<script>document.getElementById("f").submit()</script></body></html>`, html.EscapeString(q.Get("style")),
			html.EscapeString(q.Get("acs")), html.EscapeString(q.Get("creq")))
	})
	// The method page posts threeDSMethodData into a hidden iframe; "go" is a button for a browser
	// whose script is off.
	mux.HandleFunc("GET /method", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		fmt.Fprintf(w, `<!doctype html><html><body><iframe name="m" id="m" style="width:300px;height:150px"></iframe>
<form id="f" method="post" action="%s" target="m"><input type="hidden" name="threeDSMethodData" value="%s">
<button id="go" type="submit">start</button></form>
<script>document.getElementById("f").submit()</script></body></html>`, html.EscapeString(q.Get("acs")), html.EscapeString(q.Get("data")))
	})
	mux.HandleFunc("POST /notify", func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		m.cres = append(m.cres, r.PostFormValue("cres"))
		m.mu.Unlock()
		fmt.Fprint(w, `<!doctype html><p id="received">received</p>`)
	})
	mux.HandleFunc("POST /method-done", func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		m.methodDone = append(m.methodDone, r.PostFormValue("threeDSMethodData"))
		m.mu.Unlock()
		fmt.Fprint(w, `<!doctype html><p id="received">received</p>`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	m.url = srv.URL
	return m
}

// waitFor polls get until it returns a non-empty value.
func waitFor(t *testing.T, what string, get func() string) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if v := get(); v != "" {
			return v
		}
	}
	t.Fatalf("timed out waiting for %s", what)
	return ""
}

func (m *merchant) lastCRes() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.cres) == 0 {
		return ""
	}
	return m.cres[len(m.cres)-1]
}

func (m *merchant) lastMethod() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.methodDone) == 0 {
		return ""
	}
	return m.methodDone[len(m.methodDone)-1]
}

// frame finds the iframe's node afresh: its document changes with every page the ACS sends.
func frame(t *testing.T, ctx context.Context, id string) chromedp.QueryOption {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	nodes, err := chromedp.Run(sctx, chromedp.Nodes(chromedp.CSS("#"+id)))
	if err != nil || len(nodes) == 0 {
		t.Fatalf("no iframe %s: %v", id, err)
	}
	return chromedp.FromNode(nodes[0])
}

// document is the node id of the document the iframe shows now.
func document(t *testing.T, ctx context.Context, id string) cdp.NodeID {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	nodes, err := chromedp.Run(sctx, chromedp.Nodes(chromedp.CSS("#"+id)))
	if err != nil || len(nodes) == 0 || nodes[0].ContentDocument == nil {
		return 0
	}
	return nodes[0].ContentDocument.NodeID
}

// submit runs actions that send a form from the challenge frame and waits until the frame shows
// the answer, so the next step never acts on the page that is going away.
func submit(t *testing.T, ctx context.Context, what string, build func(in chromedp.QueryOption) []chromedp.Action[chromedp.Void]) {
	t.Helper()
	before := document(t, ctx, "challenge")
	inFrame(t, ctx, what, build)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if now := document(t, ctx, "challenge"); now != 0 && now != before {
			return
		}
	}
	t.Fatalf("%s: the frame never showed the answer", what)
}

// inFrame runs actions built against the challenge iframe, retrying while the frame is between pages.
func inFrame(t *testing.T, ctx context.Context, what string, build func(in chromedp.QueryOption) []chromedp.Action[chromedp.Void]) {
	t.Helper()
	inFrameOf(t, ctx, "challenge", what, build)
}

// inFrameOf is inFrame for the iframe with the given id.
func inFrameOf(t *testing.T, ctx context.Context, id, what string, build func(in chromedp.QueryOption) []chromedp.Action[chromedp.Void]) {
	t.Helper()
	browsertest.InFrame(t, ctx, "#"+id, what, build)
}

// notClipped checks the framed page fits its width (it may scroll down, never sideways) and saves
// a screenshot for a person to look at.
func notClipped(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	var sw, cw int
	inFrame(t, ctx, "measuring "+name, func(in chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{keep(&sw, chromedp.JavascriptAttribute[int](chromedp.CSS("html"), "scrollWidth", in)),
			keep(&cw, chromedp.JavascriptAttribute[int](chromedp.CSS("html"), "clientWidth", in))}
	})
	if sw > cw || cw == 0 {
		t.Errorf("%s: content %dpx wide in a %dpx frame", name, sw, cw)
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(sctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	dir := os.Getenv("OPEN3DS_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
}

func checkoutURL(m *merchant, acsURL, creq, style string) string {
	return m.url + "/checkout?" + url.Values{"acs": {acsURL}, "creq": {creq}, "style": {style}}.Encode()
}

// keep turns an action with a value into one that keeps the value in *dst, so several can run in
// one sequence.
func keep[T any](dst *T, a chromedp.Action[T]) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		v, err := a(ctx, tg)
		if err == nil {
			*dst = v
		}
		return chromedp.Void{}, err
	}
}
