package acs_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/open3ds/open3ds/internal/browsertest"
)

// TestAppBankAppApprovalInChromium: the cardholder opens the bank-app link the out-of-band screen
// shows in a real browser, reads the purchase, clicks Approve, and the app's next continue ends the
// challenge with Y and its RReq.
func TestAppBankAppApprovalInChromium(t *testing.T) {
	ctx := browsertest.Start(t, browsertest.Options{Width: 400, Height: 800})
	s := newAppShop(t, backends[0].open)
	s.setAppUI(t, "04")
	sdk := s.startApp(t, false, nil)
	c := screen(t, sdk.send(t, nil), "04")
	link := oobLink.FindString(c.ChallengeInfoText)
	if link == "" {
		t.Fatalf("no bank-app link in %q", c.ChallengeInfoText)
	}
	browsertest.Navigate(t, ctx, link)
	var amount, done string
	browsertest.Do(t, ctx, "reading the purchase and approving it",
		browsertest.Keep(&amount, chromedp.Text(chromedp.CSS("#amount"))),
		chromedp.Click(chromedp.CSS("#approve")),
		chromedp.WaitVisible(chromedp.CSS("#done")),
		browsertest.Keep(&done, chromedp.Text(chromedp.CSS("#done"))))
	if amount != "EUR 2,500.00" || done == "" {
		t.Errorf("the bank app showed %q and answered %q", amount, done)
	}
	final(t, sdk, sdk.send(t, map[string]any{"oobContinue": true}), "Y")
}
