package threedsserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/open3ds/open3ds/internal/browsertest"
)

// hostileCSS is a merchant's stylesheet at its worst: rules written for its own page that reach
// everything, as global resets and theme rules do.
const hostileCSS = `
* { color: #fff !important; background: #fff !important; font-size: 0 !important; line-height: 0 !important;
    border-color: #fff !important; box-sizing: content-box !important; max-width: 12px !important;
    max-height: 12px !important; opacity: .3 !important; }
html, body { max-width: none !important; max-height: none !important; opacity: 1 !important; }
body { transform: translateX(0); height: 40px; overflow: hidden; }
button { color: #fff; background: #fff; font-size: 0; border: 0; visibility: hidden; }
div, p, iframe, dialog { display: inline !important; position: static !important; width: 0 !important; height: 0 !important; }
iframe { display: none !important; }
`

// sizes are the windows a shopper looks at the checkout in.
var sizes = []struct {
	name          string
	width, height int64
}{{"phone", 375, 667}, {"tablet", 768, 1024}, {"desktop", 1280, 800}}

// looksAt reports, as JSON, whether the element matching sel (in the page or a shadow root) is one
// a shopper can see and reach: inside the viewport, at least minW×minH, the topmost element at its
// centre, with text of at least minFont px whose contrast with the background behind it is at least
// 4.5 (WCAG AA), and nothing on the way up making it transparent or hidden. It gives "" while there
// is no such element yet, or it has no text yet.
func looksAt(sel string, minW, minH, minFont int) string {
	return `((e, minW, minH, minFont) => {
	if (!e || e.nodeName !== "IFRAME" && !e.textContent.trim()) { return ""; }
	const rgb = c => (c.match(/[\d.]+/g) || [0, 0, 0, 0]).map(Number);
	const lum = ([r, g, b]) => [r, g, b].map(v => (v /= 255) <= .03928 ? v / 12.92 : ((v + .055) / 1.055) ** 2.4)
		.reduce((s, v, i) => s + v * [.2126, .7152, .0722][i], 0);
	const up = n => n.parentElement || (n.parentNode && n.parentNode.host) || null;
	const problems = [], st = getComputedStyle(e), r = e.getBoundingClientRect();
	if (r.left < 0 || r.top < 0 || r.right > innerWidth || r.bottom > innerHeight) { problems.push("outside the viewport at " + [r.left, r.top, r.right, r.bottom].map(Math.round)); }
	if (r.width < minW || r.height < minH) { problems.push("only " + Math.round(r.width) + "x" + Math.round(r.height)); }
	if (parseFloat(st.fontSize) < minFont) { problems.push("font-size " + st.fontSize); }
	let bg = null;
	for (let n = e; n; n = up(n)) {
		const s = getComputedStyle(n);
		if (s.visibility !== "visible" || parseFloat(s.opacity) < 1 || s.display === "none") { problems.push(n.nodeName + " is " + s.visibility + ", opacity " + s.opacity + ", display " + s.display); }
		const c = rgb(s.backgroundColor);
		if (!bg && (c.length < 4 || c[3] === 1)) { bg = c; }
	}
	const a = lum(rgb(st.color)), b = lum(bg || [255, 255, 255]);
	const contrast = (Math.max(a, b) + .05) / (Math.min(a, b) + .05);
	if (contrast < 4.5) { problems.push("contrast " + contrast.toFixed(2) + " (" + st.color + " on rgb(" + bg + "))"); }
	let root = e.getRootNode(), hit = root.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
	if (hit !== e && !e.contains(hit)) { problems.push("covered by " + (hit ? hit.nodeName : "nothing")); }
	return JSON.stringify(problems);
})(` + deep(sel) + fmt.Sprintf(", %d, %d, %d)", minW, minH, minFont)
}

// seen fails the test with what keeps the element matching sel from being seen and used.
func seen(t *testing.T, ctx context.Context, what, sel string, minW, minH, minFont int) {
	t.Helper()
	var problems []string
	got := waitJS[string](t, ctx, what, looksAt(sel, minW, minH, minFont))
	if err := json.Unmarshal([]byte(got), &problems); err != nil {
		t.Fatalf("%s: %v in %s", what, err, got)
	}
	if len(problems) > 0 {
		t.Errorf("%s cannot be seen or used: %s", what, strings.Join(problems, "; "))
	}
}

// shoot saves a screenshot for a person to look at, in $OPEN3DS_SCREENSHOTS when set.
func shoot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("OPEN3DS_SCREENSHOTS")
	if dir == "" {
		return
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(sctx, chromedp.CaptureScreenshot())
	must(t, err)
	must(t, os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644))
}

func resize(t *testing.T, ctx context.Context, width, height int64) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	must(t, chromedp.Do(sctx, chromedp.EmulateViewport(width, height)))
}

func TestTheChallengeModalAndTheStatusPanelStayVisibleAndUsableUnderAHostileMerchantStylesheet(t *testing.T) {
	n := newNetwork(t)
	n.withRealACS(t)
	s := newShop(t, n)
	ctx := s.openAt(t, browsertest.Options{}, "/?hostile")
	if got := evalJS[string](t, ctx, `getComputedStyle(document.getElementById("buy")).color`); got != "rgb(255, 255, 255)" {
		t.Fatalf("the hostile stylesheet did not load: the shop's button is %s", got)
	}
	for _, sz := range sizes {
		t.Run("on a "+sz.name, func(t *testing.T) {
			resize(t, ctx, sz.width, sz.height)
			evalJS[bool](t, ctx, `Open3DS.showStatus("Checking with your bank…", "4000000000001000"); true`)
			seen(t, ctx, "the status panel's words", "[role=status]", 100, 16, 14)
			shoot(t, ctx, "hostile-status-"+sz.name)
			evalJS[bool](t, ctx, `Open3DS.hideStatus(); true`)

			st := startPurchase(t, ctx, panRealACS)
			evalJS[bool](t, ctx, `settle(Open3DS.checkout({method: null, authenticate: pay("`+st.ID+`", "amount=250000&size=02")})); true`)
			inModal(t, ctx, "the ACS's first challenge page", visible(`button[value="send"]`))
			size := evalJS[[]float64](t, ctx, `(r => [r.width, r.height])(`+deep(modalFrame)+`.getBoundingClientRect())`)
			want := []float64{min(390, float64(sz.width)-16), 400} // capped to the viewport with its margin
			if size[0] != want[0] || size[1] != want[1] {
				t.Errorf("the challenge iframe is %v×%v; want %v×%v", size[0], size[1], want[0], want[1])
			}
			seen(t, ctx, "the challenge frame", modalFrame, 200, 300, 0)
			seen(t, ctx, "the close button", `button[aria-label="Cancel"]`, 24, 24, 16)
			shoot(t, ctx, "hostile-challenge-"+sz.name)
			// A click where the shopper sees the button, not a call on the element.
			browsertest.Do(t, ctx, "clicking the close button", chromedp.Click(browsertest.Deep(`button[aria-label="Cancel"]`)))
			if got := result(t, ctx); got != (outcome{ID: st.ID, Cancelled: true}) {
				t.Fatalf("checkout = %+v; want the cancel", got)
			}
		})
	}
}

func TestTheStatusPanelNamesTheSchemeSpinsUnlessAskedNotToAndIsAnnounced(t *testing.T) {
	n := newNetwork(t)
	s := newShop(t, n)
	ctx := s.open(t, browsertest.Options{})
	schemes := []struct{ card, want string }{
		{"4000000000001000", "Visa secure checkout"},
		{"555555******4444", "Mastercard secure checkout"},
		{"2223000048410010", "Mastercard secure checkout"},
		{"378282******0005", "American Express secure checkout"},
		{"6011111111111117", "secure checkout"},
		{"", "secure checkout"},
	}
	for _, tt := range schemes {
		t.Run("card "+tt.card+" shows "+tt.want, func(t *testing.T) {
			evalJS[bool](t, ctx, `Open3DS.showStatus("Checking with your bank…", "`+tt.card+`"); true`)
			defer evalJS[bool](t, ctx, `Open3DS.hideStatus(); true`)
			// The mark is the panel's first line: all of its text, without the status words.
			got := waitJS[string](t, ctx, "the mark", deep("[role=status]")+`?.textContent && `+deep("[role=status]")+`.parentElement.firstChild.textContent`)
			if got != tt.want {
				t.Errorf("the panel's mark says %q; want %q", got, tt.want)
			}
		})
	}

	t.Run("the words are in a polite live region screen readers see", func(t *testing.T) {
		evalJS[bool](t, ctx, `Open3DS.showStatus("Checking with your bank…", "4000000000001000"); true`)
		defer evalJS[bool](t, ctx, `Open3DS.hideStatus(); true`)
		waitJS[string](t, ctx, "the status words", deep("[role=status]")+`?.textContent`)
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		tree, err := chromedp.Call(sctx, accessibility.GetFullAXTree, accessibility.GetFullAXTreeParams{})
		must(t, err)
		byID := map[accessibility.NodeID]*accessibility.Node{}
		for _, nd := range tree.Nodes {
			byID[nd.NodeID] = nd
		}
		var text func(nd *accessibility.Node) string
		text = func(nd *accessibility.Node) string {
			out := ""
			if nd.Role != nil && string(nd.Role.Value) == `"StaticText"` && nd.Name != nil {
				var v string
				json.Unmarshal(nd.Name.Value, &v)
				out += v
			}
			for _, c := range nd.ChildIDs {
				if ch := byID[c]; ch != nil {
					out += text(ch)
				}
			}
			return out
		}
		found := false
		for _, nd := range tree.Nodes {
			if nd.Ignored || nd.Role == nil || string(nd.Role.Value) != `"status"` {
				continue
			}
			for _, p := range nd.Properties {
				if p.Name == accessibility.PropertyNameLive && string(p.Value.Value) == `"polite"` && text(nd) == "Checking with your bank…" {
					found = true
				}
			}
		}
		if !found {
			t.Error("the accessibility tree has no polite status saying \"Checking with your bank…\"")
		}
	})

	spins := func(t *testing.T) bool {
		t.Helper()
		evalJS[bool](t, ctx, `Open3DS.showStatus("Checking with your bank…"); true`)
		defer evalJS[bool](t, ctx, `Open3DS.hideStatus(); true`)
		return evalJS[bool](t, ctx, `(sp => sp !== null && sp.getAnimations().some(a => a.playState === "running"))(`+deep("#spinner")+`)`)
	}
	if !spins(t) {
		t.Error("the spinner does not spin")
	}
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	must(t, chromedp.Do(sctx, func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-reduced-motion", Value: "reduce"}}})
		return chromedp.Void{}, err
	}))
	if spins(t) {
		t.Error("the spinner spins for a shopper who asked for reduced motion")
	}
}

func TestTheStatusPanelStaysLongEnoughToReadUnlessTheChallengeOpens(t *testing.T) {
	n := newNetwork(t)
	n.withRealACS(t)
	s := newShop(t, n)
	ctx := s.open(t, browsertest.Options{})
	// measure gives, once the status overlay has come and gone, how long it was up by the page's
	// clock, and whether it was still up when the challenge's frame came.
	type shown struct {
		Ms          float64
		UpWithModal bool
	}
	measure := func() string {
		return `(s => {
			const end = s.findLastIndex(r => !r.on), start = s.findLastIndex((r, i) => r.on && i < end), modal = s.find(r => r.modal);
			return start >= 0 && JSON.stringify({ms: s[end].at - s[start].at, upWithModal: modal !== undefined && modal.on});
		})(shown)`
	}

	t.Run("a frictionless answer leaves the panel up for a second at least", func(t *testing.T) {
		st := startPurchase(t, ctx, panFrictionless)
		evalJS[bool](t, ctx, `shown.length = 0; settle(Open3DS.checkout({method: null, card: "`+panFrictionless+`", authenticate: pay("`+st.ID+`")})); true`)
		if got := result(t, ctx); got.TransStatus != "Y" {
			t.Fatalf("checkout = %+v; want the frictionless Y", got)
		}
		var got shown
		must(t, json.Unmarshal([]byte(waitJS[string](t, ctx, "the overlay's end", measure())), &got))
		// A lower bound by the page's own clock: a loaded machine only makes it longer.
		if got.Ms < 950 {
			t.Errorf("the status overlay was up %.0f ms; a shopper needs about a second to read it", got.Ms)
		}
	})

	t.Run("a challenge takes over at once", func(t *testing.T) {
		st := startPurchase(t, ctx, panRealACS)
		evalJS[bool](t, ctx, `shown.length = 0; settle(Open3DS.checkout({method: null, authenticate: pay("`+st.ID+`", "amount=250000")})); true`)
		var got shown
		must(t, json.Unmarshal([]byte(waitJS[string](t, ctx, "the overlay's end", measure())), &got))
		if got.UpWithModal {
			t.Error("the status overlay was still up when the challenge's modal came")
		}
		inModal(t, ctx, "the ACS's first challenge page", visible(`button[value="send"]`))
		browsertest.Do(t, ctx, "closing the challenge", chromedp.Click(browsertest.Deep(`button[aria-label="Cancel"]`)))
		result(t, ctx)
	})
}
