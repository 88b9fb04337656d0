package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/open3ds/open3ds/internal/browsertest"
	"github.com/open3ds/open3ds/internal/console/consoletest"
)

// The test of the consoles, through the demo as a new operator meets it: the credentials
// the demo prints sign in to each role's console (enrolling an authenticator app), the operator finds
// a purchase the shop just made, unlocks the demo's locked card, sees that change in the audit log,
// and reads today's frictionless rate on the chart.
func TestChromiumANewOperatorUsesTheDemosConsoles(t *testing.T) {
	d := startTestDemo(t, filepath.Join(t.TempDir(), "open3ds-data"), 0)
	m := regexp.MustCompile(`account admin, password (\S+) `).FindStringSubmatch(d.stdout.String())
	if m == nil {
		t.Fatalf("the demo prints no console credentials:\n%s", d.stdout)
	}
	password := m[1]
	// One frictionless purchase today, through the merchant API as the shop's back end makes it.
	got := d.buy("4000000000001000", "2400")
	if got["transStatus"] != "Y" {
		t.Fatalf("the purchase: %v", got)
	}
	acsTransID, _ := got["acsTransID"].(string)

	ctx := browsertest.Start(t, browsertest.Options{Width: 1280, Height: 900})
	text := func(sel string) string {
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("reading %s: %v", sel, err)
		}
		return s
	}

	// Each console takes the printed password and enrols the operator's authenticator app.
	u := d.net.urls
	for _, base := range []string{u.DSAdmin, u.TDSSAdmin, u.ACSAdmin} {
		consoletest.SignIn(t, ctx, base, &consoletest.Operator{Name: "admin", Password: password})
	}

	// The ACS's console, where the last sign-in left the browser: find the purchase.
	browsertest.Navigate(t, ctx, u.ACSAdmin+"/console/transactions")
	browsertest.Do(t, ctx, "finding the purchase",
		chromedp.SendKeys(chromedp.CSS("#txid"), acsTransID),
		chromedp.Click(chromedp.CSS("#find")))
	// The list before the search shows the purchase too: act only once the search's answer is shown.
	browsertest.WaitForURL(t, ctx, "id="+acsTransID)
	browsertest.Do(t, ctx, "opening the purchase",
		chromedp.WaitVisible(chromedp.CSS(`#transactions tbody a[href*="`+acsTransID+`"]`)),
		chromedp.Click(chromedp.CSS(`#transactions tbody a[href*="`+acsTransID+`"]`)),
		chromedp.WaitVisible(chromedp.CSS("#transaction")))
	if tx := text("#transaction"); !strings.Contains(tx, acsTransID) || !strings.Contains(tx, "Y") {
		t.Errorf("the transaction page shows:\n%s", tx)
	}
	consoletest.Screenshot(t, ctx, "demo-console", "transaction")

	// Unlock the demo's locked card, found by its last four digits.
	browsertest.Navigate(t, ctx, u.ACSAdmin+"/console/cardholders")
	browsertest.Do(t, ctx, "searching the locked card",
		chromedp.SendKeys(chromedp.CSS("#last4"), "4003"),
		chromedp.Click(chromedp.CSS("#search")))
	browsertest.WaitForURL(t, ctx, "last4=4003")
	browsertest.Do(t, ctx, "opening the locked card",
		chromedp.WaitVisible(chromedp.CSS(`#cardholders tr[data-id]`)),
		chromedp.Click(chromedp.CSS(`#cardholders tr[data-id] a`)),
		chromedp.WaitVisible(chromedp.CSS("#unlock")))
	if lock := text("#lock"); !strings.HasPrefix(lock, "locked") {
		t.Fatalf("the demo's locked card shows %q", lock)
	}
	browsertest.Do(t, ctx, "unlocking the card", chromedp.Click(chromedp.CSS("#unlock")), chromedp.WaitVisible(chromedp.CSS(".notice")))
	if lock := text("#lock"); !strings.HasPrefix(lock, "not locked") {
		t.Errorf("after the unlock the card shows %q", lock)
	}
	consoletest.Screenshot(t, ctx, "demo-console", "unlocked")
	browsertest.Navigate(t, ctx, u.ACSAdmin+"/console/audit")
	if rows := text("#audit tbody"); !strings.Contains(rows, "cardholder.unlock") || !strings.Contains(rows, "admin") {
		t.Errorf("the audit log does not show the unlock:\n%s", rows)
	}

	// Today's frictionless rate: the one purchase of the day was frictionless.
	browsertest.Navigate(t, ctx, u.ACSAdmin+"/console/analytics")
	today := time.Now().UTC().Format(time.DateOnly)
	var bar string
	browsertest.Do(t, ctx, "reading today's bar", chromedp.WaitVisible(chromedp.CSS("#frictionless-rate svg")),
		browsertest.Keep(&bar, chromedp.Evaluate[string](`(b => b ? b.dataset.value + "/" + b.getBoundingClientRect().height : "")(document.querySelector('#frictionless-rate rect.bar[data-label="`+today+`"]'))`)))
	value, height, _ := strings.Cut(bar, "/")
	if value != "100.00" || height == "" || height == "0" {
		t.Errorf("today's frictionless bar: %q", bar)
	}
	consoletest.Screenshot(t, ctx, "demo-console", "analytics")

	// The risk team's page: the purchase was scored by the live policy and by the demo's shadow one.
	browsertest.Navigate(t, ctx, u.ACSAdmin+"/console/risk")
	if n := text("#compared"); n != "1" {
		t.Errorf("AReqs scored by both policies: %q, want the day's one purchase", n)
	}
	if rules := text("#rules-demo-bank"); !strings.Contains(rules, "demo-stricter") || !strings.Contains(rules, "over 500") {
		t.Errorf("the rules in force do not show the demo's shadow policy:\n%s", rules)
	}
	consoletest.Screenshot(t, ctx, "demo-console", "risk")

	// The scheme sees the same purchase in its own analytics (its days are labelled MM-DD).
	browsertest.Navigate(t, ctx, u.DSAdmin+"/console/analytics")
	browsertest.Do(t, ctx, "reading the scheme's bar", chromedp.WaitVisible(chromedp.CSS("#frictionless-rate svg")),
		browsertest.Keep(&bar, chromedp.Evaluate[string](`(b => b ? b.dataset.value : "")(document.querySelector('#frictionless-rate rect.bar[data-label="`+today[5:]+`"]'))`)))
	if bar != "100.00" {
		t.Errorf("the DS's bar for today: %q", bar)
	}
}
