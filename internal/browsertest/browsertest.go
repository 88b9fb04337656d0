// Package browsertest starts the headless Chromium that the browser tests of every package drive
// with chromedp. It is imported only by tests.
package browsertest

import (
	"context"
	"os"
	"slices"
	"testing"

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
