package acs_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/open3ds/open3ds/internal/browsertest"
	"github.com/open3ds/open3ds/internal/console"
	"github.com/open3ds/open3ds/internal/console/consoletest"
	"github.com/open3ds/open3ds/internal/store/storetest"
)

// An issuer's read-only operator in a real browser, at a phone's and a desktop's width, opens the
// Delivery page from the menu, reads each provider's failure rate and latency, narrows it to one
// issuer and mistypes the window; the page never gets wider than the screen.
func TestACSConsoleDeliveryPageInChromium(t *testing.T) {
	for _, size := range []consoletest.Screen{consoletest.Phone, consoletest.Desktop} {
		t.Run(size.Name, func(t *testing.T) {
			r := newConRig(t, storetest.OpenSQLite(t))
			seedDeliveries(t, r)
			op := &consoletest.Operator{Name: "vera", Password: consoletest.Account(t, r.c, "vera", console.ReadOnly)}

			ctx := consoletest.Tab(t, size)

			consoletest.SignIn(t, ctx, r.srv.URL, op)
			// The menu may be folded on a phone: the link is there whether it shows or not.
			href, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector('nav a[href="/console/delivery"]') || {href: ""}).href`))
			if err != nil || !strings.HasSuffix(href, "/console/delivery") {
				t.Fatalf("the menu has no Delivery link (%q, %v)", href, err)
			}
			browsertest.Navigate(t, ctx, r.srv.URL+"/console/delivery")
			browsertest.Do(t, ctx, "showing the delivery page", chromedp.WaitVisible(chromedp.CSS("#providers")))
			for sel, want := range map[string]string{
				`#providers tr[data-provider="smpp"][data-channel="sms"]`:    "smpp sms 3 2 (1 timed out) 40.0% 400 ms 600 ms",
				`#providers tr[data-provider="smtp"][data-channel="email"]`:  "smtp email 21 0 0.0% 1.1 s 2.0 s —",
				`#providers tr[data-provider="webhook"][data-channel="sms"]`: "webhook sms 0 1 (1 fell back to e-mail) 100.0% — —",
				"#failure-rate": "14.3%",
			} {
				if got := consoletest.Text(t, ctx, sel); !strings.HasPrefix(got, want) {
					t.Errorf("%s reads %q, want %q…", sel, got, want)
				}
			}
			if last := consoletest.Text(t, ctx, `#providers tr[data-provider="smpp"] td.last`); !strings.HasSuffix(last, "UTC timeout") {
				t.Errorf("smpp's last failure reads %q", last)
			}
			consoletest.FitsWidth(t, ctx, "the delivery page", size.W)
			consoletest.Screenshot(t, ctx, "acs-console", "delivery-"+size.Name)

			browsertest.Do(t, ctx, "choosing bank-m",
				chromedp.SetValue(chromedp.CSS("#issuer"), "bank-m"),
				chromedp.Click(chromedp.CSS("#show")))
			browsertest.WaitForURL(t, ctx, "issuer=bank-m")
			browsertest.Do(t, ctx, "bank-m's providers", chromedp.WaitVisible(chromedp.CSS("#providers")))
			if rows := consoletest.Text(t, ctx, "#providers tbody"); strings.Contains(rows, "smpp") || !strings.Contains(rows, "webhook") {
				t.Errorf("bank-m's page lists: %s", rows)
			}
			consoletest.FitsWidth(t, ctx, "the delivery page of one issuer", size.W)
			consoletest.Screenshot(t, ctx, "acs-console", "delivery-bank-m-"+size.Name)

			browsertest.Navigate(t, ctx, r.srv.URL+"/console/delivery?days=0")
			browsertest.Do(t, ctx, "a bad window", chromedp.WaitVisible(chromedp.CSS(".alert")))
			if a := consoletest.Text(t, ctx, ".alert"); a != "Days: must be a whole number of days from 1 to 366." {
				t.Errorf("a window of 0 days says %q", a)
			}
			consoletest.FitsWidth(t, ctx, "the delivery page with a mistake", size.W)

			browsertest.Navigate(t, ctx, r.srv.URL+"/console/analytics")
			browsertest.Do(t, ctx, "showing the delivery charts", chromedp.WaitVisible(chromedp.CSS("#delivery-failures svg")))
			n, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.querySelectorAll('#delivery-latency rect.bar').length`))
			if err != nil || n != 3 {
				t.Errorf("the latency chart draws %v bars, want 3 days (%v)", n, err)
			}
			consoletest.FitsWidth(t, ctx, "the analytics page", size.W)
			consoletest.Screenshot(t, ctx, "acs-console", "analytics-delivery-"+size.Name)
		})
	}
}
