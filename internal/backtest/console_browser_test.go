package backtest_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/open3ds/open3ds/internal/browsertest"
	"github.com/open3ds/open3ds/internal/console"
	"github.com/open3ds/open3ds/internal/console/consoletest"
	"github.com/open3ds/open3ds/internal/store/storetest"
)

// An issuer's risk engineer in a real browser at a phone's and a desktop's width: signs in, opens
// Risk rules from the navigation, reads the shadow comparison of the last 7 days and the rules in
// force, then runs a backtest of the shadow policies over the traffic's three days and reads its
// result; no page is wider than the screen.
func TestRiskRulesPageInChromium(t *testing.T) {
	for _, size := range []struct {
		name string
		w, h int
	}{{"phone", 390, 844}, {"desktop", 1280, 900}} {
		t.Run(size.name, func(t *testing.T) {
			r := newRiskRig(t, storetest.OpenSQLite)
			op := &consoletest.Operator{Name: "rita", Password: consoletest.Account(t, r.c, "rita", console.Operator)}

			ctx := browsertest.Start(t, browsertest.Options{Width: max(size.w, 800), Height: size.h})
			browsertest.Do(t, ctx, "sizing the viewport", chromedp.EmulateViewport(int64(size.w), int64(size.h)))
			shot := func(name string) {
				t.Helper()
				if dir := os.Getenv("OPEN3DS_SCREENSHOTS"); dir != "" {
					png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
					if err != nil {
						t.Fatal(err)
					}
					os.WriteFile(filepath.Join(dir, "acs-console-"+name+"-"+size.name+".png"), png, 0o644)
				}
			}
			overflow := func(page string) {
				t.Helper()
				wide, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
				if err != nil || wide {
					t.Errorf("the %s page is wider than a %d px screen (%v)", page, size.w, err)
				}
			}
			read := func(sel string) string {
				t.Helper()
				s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector(`+"`"+sel+"`"+`) || {innerText: ""}).innerText.replace(/\s+/g, " ")`))
				if err != nil {
					t.Fatal(err)
				}
				return s
			}

			consoletest.SignIn(t, ctx, r.srv.URL, op)
			browsertest.Do(t, ctx, "opening Risk rules from the navigation",
				chromedp.Click(chromedp.CSS(`nav.side a[href="/console/risk"]`)),
				chromedp.WaitVisible(chromedp.CSS("#matrix-bank-a")))
			if s := read("#compare-totals"); !strings.Contains(s, "37.5%") || !strings.Contains(s, "87.5% → 50.0%") {
				t.Errorf("the comparison's totals read: %s", s)
			}
			if s := read("#matrix-bank-a table"); !strings.Contains(s, "frictionless 3 2 0 5") || !strings.Contains(s, "challenge 0 1 0 1") {
				t.Errorf("bank-a's matrix reads: %s", s)
			}
			bars, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.querySelectorAll('#shadow-by-day rect.bar').length`))
			if err != nil || bars != 9 {
				t.Errorf("the chart by day draws %v bars, want 9 (3 days × 3 series) (%v)", bars, err)
			}
			if s := read(`#rules-bank-a [data-kind="shadow"]`); !strings.Contains(s, "Shadow: stricter") || !strings.Contains(s, "large_amount over 100 400") {
				t.Errorf("bank-a's shadow policy reads: %s", s)
			}
			overflow("risk rules")
			shot("risk-rules")

			browsertest.Do(t, ctx, "running a backtest of the shadow policies",
				chromedp.Click(chromedp.CSS("#to-backtest")),
				chromedp.WaitVisible(chromedp.CSS("#backtest-form")),
				chromedp.SetValue(chromedp.CSS("#bt-since"), "2026-11-01"),
				chromedp.SetValue(chromedp.CSS("#bt-until"), "2026-11-04"),
				chromedp.Click(chromedp.CSS("#cand-shadow")),
				chromedp.Click(chromedp.CSS("#run")),
				chromedp.WaitVisible(chromedp.CSS("#result-totals")))
			for sel, want := range map[string]string{"#r-frictionless": "87.5% → 50.0%", "#r-changed": "3 of 8",
				"#r-caught": "1 → 3 of 3", "#r-friction": "1"} {
				if got := strings.TrimSpace(read(sel)); got != want {
					t.Errorf("%s reads %q, want %q", sel, got, want)
				}
			}
			if s := read(`#table-issuers tr[data-key="bank-m"]`); !strings.HasPrefix(strings.TrimSpace(s), "bank-m 2 100.0% → 50.0%") {
				t.Errorf("bank-m's row reads: %s", s)
			}
			overflow("backtest")
			shot("risk-backtest")
		})
	}
}
