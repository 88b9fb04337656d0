package consoletest

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/open3ds/open3ds/internal/browsertest"
)

// Screen is a window size a console page is looked at in.
type Screen struct {
	Name string // in test names and screenshots: phone, tablet, desktop
	W, H int
}

// The screens the console's pages must fit.
var (
	Phone   = Screen{"phone", 390, 844}
	Tablet  = Screen{"tablet", 820, 1180}
	Desktop = Screen{"desktop", 1280, 900}
)

// Tab starts a headless Chromium whose viewport is s. Chromium's window cannot be as narrow as a
// phone, so the window is at least 800 px wide and the phone's width is emulated.
func Tab(t testing.TB, s Screen) context.Context {
	t.Helper()
	ctx := browsertest.Start(t, browsertest.Options{Width: max(s.W, 800), Height: s.H})
	Resize(t, ctx, s)
	return ctx
}

// Resize sets the viewport of the tab ctx to s.
func Resize(t testing.TB, ctx context.Context, s Screen) {
	t.Helper()
	browsertest.Do(t, ctx, "sizing the viewport", chromedp.EmulateViewport(int64(s.W), int64(s.H)))
}

// Screenshot saves the whole page of the tab ctx as prefix-name.png in $OPEN3DS_SCREENSHOTS, for a
// person to look at; without that variable it does nothing.
func Screenshot(t testing.TB, ctx context.Context, prefix, name string) {
	t.Helper()
	dir := os.Getenv("OPEN3DS_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s-%s: %v", prefix, name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, prefix+"-"+name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// FitsWidth fails the test when the page in the tab ctx is wider than its screen, width px: a
// horizontal scroll bar on a phone. page names it in the message ("the audit page").
func FitsWidth(t testing.TB, ctx context.Context, page string, width int) {
	t.Helper()
	wide, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
	if err != nil {
		t.Fatalf("measuring %s: %v", page, err)
	}
	if wide {
		t.Errorf("%s is wider than a %d px screen", page, width)
	}
}

// Text is what a reader sees of the first element matching the CSS selector sel: its innerText with
// runs of white space folded to one space and trimmed; "" when nothing matches.
func Text(t testing.TB, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector(`+"`"+sel+"`"+`) || {innerText: ""}).innerText.replace(/\s+/g, " ").trim()`))
	if err != nil {
		t.Fatalf("reading %s: %v", sel, err)
	}
	return s
}
