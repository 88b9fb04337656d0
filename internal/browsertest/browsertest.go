// Package browsertest starts the headless Chromium that the browser tests of every package drive
// with chromedp. It is imported only by tests.
package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"
)

// ChromiumPath is Debian's chromium, which scripts/test.sh installs.
const ChromiumPath = "/usr/bin/chromium"

// Options tune one browser.
type Options struct {
	Width, Height int // window size; 1000×800 when zero
}

// Start starts a headless Chromium with a temporary profile, stopped when the test ends. Without the
// executable the test is skipped, loudly; under CI (env CI set) that is a failure, since CI installs it.
func Start(t testing.TB, o Options) context.Context {
	t.Helper()
	if _, err := os.Stat(ChromiumPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing: scripts/test.sh installs Debian's chromium, and CI must run the browser tests", ChromiumPath)
		}
		t.Skipf("SKIPPED: %s is missing; install Debian's chromium (scripts/test.sh does) to run the browser tests", ChromiumPath)
	}
	if o.Width == 0 {
		o.Width, o.Height = 1000, 800
	}
	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]), chromedp.ExecPath(ChromiumPath), chromedp.Headless,
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.WindowSize(o.Width, o.Height))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	// The first run starts the browser and must not carry a timeout; later steps each get one.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", ChromiumPath, err)
	}
	return ctx
}

// Actions builds the steps to run against one node (an iframe's, usually), which the query option
// names.
type Actions func(in chromedp.QueryOption) []chromedp.Action[chromedp.Void]

// Navigate loads url in the tab and waits for it.
func Navigate(t testing.TB, ctx context.Context, url string) {
	t.Helper()
	Do(t, ctx, "loading "+url, chromedp.Navigate(url))
}

// Do runs actions in the tab with a time limit, failing the test with what on error.
func Do(t testing.TB, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// DeepQuery is a JavaScript function (root, selector) that finds the first element matching the
// selector in root or in any open shadow root within it, or null. The checkout script draws its
// overlays in shadow roots, where document.querySelector does not look.
const DeepQuery = `(function deep(root, sel) {
	const e = root.querySelector(sel);
	if (e) { return e; }
	for (const h of root.querySelectorAll("*")) {
		const f = h.shadowRoot && deep(h.shadowRoot, sel);
		if (f) { return f; }
	}
	return null;
})`

// Deep selects the first element matching the CSS selector sel in the page or in an open shadow
// root within it.
func Deep(sel string) chromedp.JSPath {
	q, _ := json.Marshal(sel)
	return chromedp.JSPath(DeepQuery + "(document, " + string(q) + ")")
}

// Frame finds the iframe matching sel afresh, in the page or in a shadow root: its document changes
// with every page it shows. ok is false when there is none (yet).
func Frame(ctx context.Context, sel string) (chromedp.QueryOption, *chromedp.Node, bool) {
	sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	nodes, err := chromedp.Run(sctx, chromedp.Nodes(Deep(sel), chromedp.AtLeast(0)))
	if err != nil || len(nodes) == 0 {
		return nil, nil, false
	}
	return chromedp.FromNode(nodes[0]), nodes[0], true
}

// document is the node id of the document the iframe shows now, 0 when there is none.
func document(ctx context.Context, sel string) cdp.NodeID {
	_, n, ok := Frame(ctx, sel)
	if !ok || n.ContentDocument == nil {
		return 0
	}
	return n.ContentDocument.NodeID
}

// InFrame runs actions built against the iframe matching sel, retrying while the frame is missing
// or between pages, for up to 20 seconds.
func InFrame(t testing.TB, ctx context.Context, sel, what string, build Actions) {
	t.Helper()
	last := errors.New("no such frame")
	attempt := 500 * time.Millisecond
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		in, _, ok := Frame(ctx, sel)
		if !ok {
			continue
		}
		// Short attempts: a query bound to the frame's previous page never succeeds, so retry soon
		// with the frame's current document. Each retry allows twice as long (up to 3 s), so that a
		// browser slowed by a loaded machine still gets an attempt long enough to finish.
		sctx, cancel := context.WithTimeout(ctx, attempt)
		last = chromedp.Do(sctx, build(in)...)
		cancel()
		if last == nil {
			return
		}
		attempt = min(2*attempt, 3*time.Second)
	}
	t.Fatalf("%s: %v", what, last)
}

// Submit runs actions that send a form from the iframe matching sel and waits until the frame
// shows another document, so the next step never acts on the page that is going away.
func Submit(t testing.TB, ctx context.Context, sel, what string, build Actions) {
	t.Helper()
	before := document(ctx, sel)
	InFrame(t, ctx, sel, what, build)
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if now := document(ctx, sel); now != before {
			return
		}
	}
	t.Fatalf("%s: the frame never showed the answer", what)
}

// Press presses Enter on the element matching sel.
func Press(sel string) Actions {
	return func(in chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{chromedp.SendKeys(chromedp.CSS(sel), "\r", in)}
	}
}

// Type types text into the element matching sel.
func Type(sel, text string) Actions {
	return func(in chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{chromedp.SendKeys(chromedp.CSS(sel), text, in)}
	}
}

// Visible waits until the element matching sel is visible.
func Visible(sel string) Actions {
	return func(in chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{chromedp.WaitVisible(chromedp.CSS(sel), in)}
	}
}

// Keep turns an action with a value into one that keeps the value in *dst, so several can run in
// one sequence.
func Keep[T any](dst *T, a chromedp.Action[T]) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		v, err := a(ctx, tg)
		if err == nil {
			*dst = v
		}
		return chromedp.Void{}, err
	}
}

// WaitFor polls get until it returns a non-empty value, for up to 20 seconds.
func WaitFor(t testing.TB, what string, get func() string) string {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(25 * time.Millisecond) {
		if v := get(); v != "" {
			return v
		}
	}
	t.Fatalf("timed out waiting for %s", what)
	return ""
}

// NewTab opens another tab in the browser, closed when the test ends. Like the browser, the tab is
// made by a first step without a time limit: a step with one would close it when its time ran out.
func NewTab(t testing.TB, browser context.Context) context.Context {
	t.Helper()
	tab, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	return tab
}

// WaitForURL waits until the tab's address contains part: after a click that loads another page,
// so that the next step reads the new page and not the one going away.
func WaitForURL(t testing.TB, ctx context.Context, part string) {
	t.Helper()
	WaitFor(t, "an address with "+part, func() string {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		if strings.Contains(loc, part) {
			return loc
		}
		return ""
	})
}
