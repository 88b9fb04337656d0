package acs_test

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"
	"time"

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

// TestAppHTMLScreenOffersTheBankAppInChromium: the HTML (05) code screen of a 2.3.1 challenge that
// may fall back, drawn by Chromium at a phone's width as an SDK's web view would, shows "Approve in
// my bank's app instead" within the width; the form data that button submits (as the SDK would
// send it in challengeHTMLDataEntry) moves the challenge to the bank's app with the final CRes D.
func TestAppHTMLScreenOffersTheBankAppInChromium(t *testing.T) {
	ctx := browsertest.Start(t, browsertest.Options{Width: 360, Height: 740})
	s := newAppShop(t, backends[0].open)
	s.unwatched = true
	_, dsURL := newRReqDS(t)
	sdk := s.startAppFallback(t, false, "2.3.1", "05", "F", dsURL)
	screen(t, sdk.send(t, nil), "05")
	c := screen(t, sdk.send(t, map[string]any{"challengeHTMLDataEntry": "dest=email%3A0"}), "05")
	html, err := base64.RawURLEncoding.DecodeString(c.ACSHTML)
	if err != nil {
		t.Fatal(err)
	}
	browsertest.Navigate(t, ctx, "data:text/html;base64,"+base64.StdEncoding.EncodeToString(html))
	var label, entry string
	var sw, cw int
	browsertest.Do(t, ctx, "reading the code screen's bank-app button",
		browsertest.Keep(&label, chromedp.Text(chromedp.CSS(`button[value="bankapp"]`))),
		browsertest.Keep(&sw, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)),
		browsertest.Keep(&cw, chromedp.Evaluate[int](`document.documentElement.clientWidth`)),
		// What the form submits with that button, URL-encoded, as the SDK intercepts it.
		browsertest.Keep(&entry, chromedp.Evaluate[string](`new URLSearchParams(new FormData(document.forms[0],
			document.querySelector('button[value="bankapp"]'))).toString()`)))
	if label != "Approve in my bank's app instead" || sw > cw {
		t.Errorf("button %q; content %dpx wide in %dpx", label, sw, cw)
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if png, err := chromedp.Run(sctx, chromedp.CaptureScreenshot()); err == nil {
		dir := os.Getenv("OPEN3DS_SCREENSHOTS")
		if dir == "" {
			dir = t.TempDir()
		}
		os.WriteFile(filepath.Join(dir, "app-html-code-bankapp.png"), png, 0o644)
	}
	a := sdk.send(t, map[string]any{"challengeHTMLDataEntry": entry})
	if a.c == nil || a.c.TransStatus != "D" {
		t.Fatalf("the form's %q gave %+v %+v, want the final CRes D", entry, a.c, a.e)
	}
}
