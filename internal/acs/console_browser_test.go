package acs_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/open3ds/open3ds/internal/browsertest"
	"github.com/open3ds/open3ds/internal/console"
	"github.com/open3ds/open3ds/internal/console/consoletest"
	"github.com/open3ds/open3ds/internal/store/storetest"
)

// An issuer's operator in a real browser at a phone's, a tablet's and a desktop's width: signs in,
// finds a locked card by its last four digits, unlocks it and finds the unlock in the audit log,
// opens one of the card's transactions, reads the issuers' settings and the day's frictionless rate
// off the analytics chart; no page is wider than the screen.
func TestACSConsoleInChromiumAtEveryWindowSize(t *testing.T) {
	for _, size := range []consoletest.Screen{consoletest.Phone, consoletest.Tablet, consoletest.Desktop} {
		t.Run(size.Name, func(t *testing.T) {
			r := newConRig(t, storetest.OpenSQLite(t))
			for range 10 {
				if err := r.st.RecordOTPFailure(t.Context(), r.st.LookupHash(conPAN1), time.Now()); err != nil {
					t.Fatal(err)
				}
			}
			// Today: two AReqs of the card, one frictionless, one challenged: a frictionless rate of 50%.
			at := time.Now().UTC().Add(-time.Minute)
			if at.Before(r.today) {
				at = r.today
			}
			// Ids as long as real ones (UUIDs), which must wrap on a phone rather than widen the page.
			const challenged = "0b7f3c1e-9a42-4d6b-8e15-2f6c9d0a7b31"
			r.tx("f3a9e2d4-5c18-4b07-a6e9-71d2c8b4f05e", conPAN1, "02", "Y", "", false, false, at)
			r.tx(challenged, conPAN1, "02", "N", "14", true, false, at)
			op := &consoletest.Operator{Name: "olga", Password: consoletest.Account(t, r.c, "olga", console.Operator)}

			ctx := consoletest.Tab(t, size)

			consoletest.SignIn(t, ctx, r.srv.URL, op)
			browsertest.Navigate(t, ctx, r.srv.URL+"/console/cardholders")
			browsertest.Do(t, ctx, "searching by the last four digits",
				chromedp.WaitVisible(chromedp.CSS("#last4")),
				chromedp.SendKeys(chromedp.CSS("#last4"), "1234"),
				chromedp.Click(chromedp.CSS("#search")))
			// The page before the search lists every card: read only the search's answer.
			browsertest.WaitForURL(t, ctx, "last4=1234")
			browsertest.Do(t, ctx, "the search's answer", chromedp.WaitVisible(chromedp.CSS(`#cardholders tr[data-id]`)))
			if rows := consoletest.Text(t, ctx, "#cardholders tbody"); !strings.Contains(rows, "411111******1234") || !strings.Contains(rows, "locked") || strings.Contains(rows, "5678") {
				t.Errorf("the search shows: %s", rows)
			}
			consoletest.FitsWidth(t, ctx, "the cardholders page", size.W)
			consoletest.Screenshot(t, ctx, "acs-console", "cardholders-"+size.Name)

			browsertest.Do(t, ctx, "opening the card",
				chromedp.Click(chromedp.CSS(`#cardholders tr[data-id] a`)),
				chromedp.WaitVisible(chromedp.CSS("#unlock")))
			if facts := consoletest.Text(t, ctx, "#cardholder"); !strings.Contains(facts, "10 failed code entries") || !strings.Contains(facts, "•••• 0123") {
				t.Errorf("the card page shows: %s", facts)
			}
			consoletest.FitsWidth(t, ctx, "the cardholder page", size.W)
			consoletest.Screenshot(t, ctx, "acs-console", "cardholder-locked-"+size.Name)
			browsertest.Do(t, ctx, "unlocking the card",
				chromedp.Click(chromedp.CSS("#unlock")),
				chromedp.WaitVisible(chromedp.CSS(".notice")))
			if n, lock := consoletest.Text(t, ctx, ".notice"), consoletest.Text(t, ctx, "#lock"); !strings.Contains(n, "Card unlocked: 10 failed code entries cleared.") || !strings.Contains(lock, "not locked") {
				t.Errorf("after the unlock the page says %q and %q", n, lock)
			}
			consoletest.Screenshot(t, ctx, "acs-console", "cardholder-unlocked-"+size.Name)

			browsertest.Navigate(t, ctx, r.srv.URL+"/console/audit")
			if rows := consoletest.Text(t, ctx, "#audit tbody"); !strings.Contains(rows, "olga console cardholder.unlock "+r.cards[conPAN1].ID+" cleared 10 failed code entries") {
				t.Errorf("the audit log shows: %s", rows)
			}
			consoletest.FitsWidth(t, ctx, "the audit page", size.W)
			consoletest.Screenshot(t, ctx, "acs-console", "audit-"+size.Name)

			browsertest.Navigate(t, ctx, r.srv.URL+"/console/cardholders/"+r.cards[conPAN1].ID)
			browsertest.Do(t, ctx, "opening the card's challenged transaction",
				chromedp.WaitVisible(chromedp.CSS(`#card-transactions a`)),
				chromedp.Click(chromedp.CSS(`#card-transactions tbody tr:first-child a`)),
				chromedp.WaitVisible(chromedp.CSS("#transaction")))
			facts := consoletest.Text(t, ctx, "#transaction") + " " + consoletest.Text(t, ctx, "#challenge")
			if !strings.Contains(facts, challenged) || !strings.Contains(facts, "4250 978") || !strings.Contains(facts, "timed out") {
				t.Errorf("the transaction page shows: %s", facts)
			}
			consoletest.FitsWidth(t, ctx, "the transaction page", size.W)
			consoletest.Screenshot(t, ctx, "acs-console", "transaction-"+size.Name)
			browsertest.Navigate(t, ctx, r.srv.URL+"/console/transactions")
			browsertest.Do(t, ctx, "listing transactions", chromedp.WaitVisible(chromedp.CSS("#transactions")))
			consoletest.FitsWidth(t, ctx, "the transactions page", size.W)
			consoletest.Screenshot(t, ctx, "acs-console", "transactions-"+size.Name)

			browsertest.Navigate(t, ctx, r.srv.URL+"/console/issuers")
			browsertest.Do(t, ctx, "showing the issuers", chromedp.WaitVisible(chromedp.CSS("#issuer-bank-a")))
			if s := consoletest.Text(t, ctx, "#issuer-bank-a"); !strings.Contains(s, "400000–499999") || !strings.Contains(s, "6 digits") {
				t.Errorf("the issuers page shows: %s", s)
			}
			consoletest.FitsWidth(t, ctx, "the issuers page", size.W)
			consoletest.Screenshot(t, ctx, "acs-console", "issuers-"+size.Name)

			browsertest.Navigate(t, ctx, r.srv.URL+"/console/analytics")
			browsertest.Do(t, ctx, "showing the analytics", chromedp.WaitVisible(chromedp.CSS("#frictionless-rate svg")))
			bar, err := chromedp.Run(ctx, chromedp.Evaluate[[]any](`(() => {
				const b = document.querySelector('#frictionless-rate rect.bar[data-label="`+r.today.Format(time.DateOnly)+`"][data-series="frictionless"]');
				return b ? [b.dataset.value, b.getBoundingClientRect().height, document.querySelectorAll('#frictionless-rate rect.bar').length] : [];
			})()`))
			if err != nil {
				t.Fatal(err)
			}
			if len(bar) != 3 || bar[0] != "50.00" || bar[1].(float64) < 10 || bar[2].(float64) != 1 {
				t.Errorf("today's frictionless bar is %v, want 50.00 drawn, and the only bar", bar)
			}
			consoletest.FitsWidth(t, ctx, "the analytics page", size.W)
			consoletest.Screenshot(t, ctx, "acs-console", "analytics-"+size.Name)
		})
	}
}
