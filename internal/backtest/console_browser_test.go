package backtest_test

import (
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
	for _, size := range []consoletest.Screen{consoletest.Phone, consoletest.Desktop} {
		t.Run(size.Name, func(t *testing.T) {
			r := newRiskRig(t, storetest.OpenSQLite)
			op := &consoletest.Operator{Name: "rita", Password: consoletest.Account(t, r.c, "rita", console.Operator)}

			ctx := consoletest.Tab(t, size)

			consoletest.SignIn(t, ctx, r.srv.URL, op)
			browsertest.Do(t, ctx, "opening Risk rules from the navigation",
				chromedp.Click(chromedp.CSS(`nav.side a[href="/console/risk"]`)),
				chromedp.WaitVisible(chromedp.CSS("#matrix-bank-a")))
			if s := consoletest.Text(t, ctx, "#compare-totals"); !strings.Contains(s, "37.5%") || !strings.Contains(s, "87.5% → 50.0%") {
				t.Errorf("the comparison's totals read: %s", s)
			}
			if s := consoletest.Text(t, ctx, "#matrix-bank-a table"); !strings.Contains(s, "frictionless 3 2 0 5") || !strings.Contains(s, "challenge 0 1 0 1") {
				t.Errorf("bank-a's matrix reads: %s", s)
			}
			bars, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.querySelectorAll('#shadow-by-day rect.bar').length`))
			if err != nil || bars != 9 {
				t.Errorf("the chart by day draws %v bars, want 9 (3 days × 3 series) (%v)", bars, err)
			}
			if s := consoletest.Text(t, ctx, `#rules-bank-a [data-kind="shadow"]`); !strings.Contains(s, "Shadow: stricter") {
				t.Errorf("bank-a's shadow policy reads: %s", s)
			}
			if s := consoletest.Text(t, ctx, `#rules-bank-a tr.differs[data-rule="large_amount"]`); !strings.Contains(strings.Join(strings.Fields(s), " "), "large_amount over 1000 400 over 100 400") {
				t.Errorf("bank-a's large_amount row, live beside shadow, reads: %q", s)
			}
			consoletest.FitsWidth(t, ctx, "the risk rules page", size.W)
			consoletest.Screenshot(t, ctx, "acs-console", "risk-rules-"+size.Name)

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
				if got := consoletest.Text(t, ctx, sel); got != want {
					t.Errorf("%s reads %q, want %q", sel, got, want)
				}
			}
			if s := consoletest.Text(t, ctx, `#table-issuers tr[data-key="bank-m"]`); !strings.HasPrefix(s, "bank-m 2 100.0% → 50.0%") {
				t.Errorf("bank-m's row reads: %s", s)
			}
			consoletest.FitsWidth(t, ctx, "the backtest page", size.W)
			consoletest.Screenshot(t, ctx, "acs-console", "risk-backtest-"+size.Name)
		})
	}
}
