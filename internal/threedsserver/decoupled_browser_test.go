package threedsserver_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/open3ds/open3ds/internal/browsertest"
	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/threedsserver"
)

// The whole decoupled flow through real parts: the checkout script on the merchant's page, the 3DS
// Server, the DS and the real ACS over mutual TLS. The ACS answers D, the script says to approve in
// the bank's app, the cardholder opens the link the bank sent (here on a phone-sized browser) and
// approves, the ACS's RReq reaches the 3DS Server through the DS, and the script ends with Y.
func TestTheCheckoutScriptWaitsForADecoupledApprovalAndEndsWithTheBanksResult(t *testing.T) {
	n := newNetwork(t)
	bank := n.withRealACS(t)
	bank.sendRReqs(t, n)
	s := newShop(t, n)
	ctx := s.open(t, browsertest.Options{})
	st := startPurchase(t, ctx, panRealDecoupled)
	evalJS[bool](t, ctx, `settle(Open3DS.checkout({method: null, card: "`+panRealDecoupled[:6]+`", pollMs: 200,
		authenticate: pay("`+st.ID+`", "amount=250000&decoupled=1"), result: readResult})); true`)
	waitJS[bool](t, ctx, "the panel asking for approval in the bank's app",
		`(p => p !== null && p.textContent === "Approve this payment in your bank's app")(`+browsertest.DeepQuery+`(document, "#status"))`)
	detail := waitJS[string](t, ctx, "the ACS's words", `(p => p && p.textContent)(`+browsertest.DeepQuery+`(document, "#detail"))`)
	if !strings.Contains(detail, "App Bank") {
		t.Errorf("the panel's detail is %q, want the ACS's cardholderInfo", detail)
	}
	shot(t, ctx, "decoupled-checkout-waiting")

	link := bank.link(t)
	for _, size := range []struct {
		name string
		o    browsertest.Options
	}{{"phone", browsertest.Options{Width: 375, Height: 740}}, {"tablet", browsertest.Options{Width: 820, Height: 1100}},
		{"desktop", browsertest.Options{Width: 1280, Height: 800}}} {
		phone := browsertest.Start(t, size.o)
		browsertest.Navigate(t, phone, link)
		var sw, cw int
		browsertest.Do(t, phone, "measuring the approval page", browsertest.Keep(&sw, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)),
			browsertest.Keep(&cw, chromedp.Evaluate[int](`document.documentElement.clientWidth`)))
		if sw > cw {
			t.Errorf("%s: the approval page is %dpx wide in %dpx", size.name, sw, cw)
		}
		shot(t, phone, "decoupled-approval-"+size.name)
		if size.name != "phone" {
			continue
		}
		var merchant string
		browsertest.Do(t, phone, "reading the purchase", browsertest.Keep(&merchant, chromedp.Evaluate[string](`document.getElementById("merchant").textContent`)))
		if merchant != "Shop Demo" {
			t.Errorf("the approval page names %q", merchant)
		}
		browsertest.Do(t, phone, "approving", chromedp.Click(chromedp.CSS("#approve")), chromedp.WaitVisible(chromedp.CSS("#done")))
		shot(t, phone, "decoupled-approved-phone")
	}
	got := result(t, ctx)
	if got.ID != st.ID || got.TransStatus != "Y" {
		t.Fatalf("checkout ended with %+v, want Y", got)
	}
	if !eventFired(t, ctx, "open3ds:outcome", map[string]any{"id": st.ID, "transStatus": "Y"}) {
		t.Error("no open3ds:outcome event with the final result")
	}
	if evalJS[bool](t, ctx, browsertest.DeepQuery+`(document, "#status") !== null`) {
		t.Error("the approval panel is still up after the result")
	}
}

// The 2.3.1 decoupled fallback through real parts: the merchant allows decoupled only as a
// fallback (F), the ACS challenges, the shopper picks "Approve in my bank's app instead" on the
// ACS's page in the checkout's modal, the ACS ends the frame with a CRes D and sends the approval
// link, the script shows the approval panel and waits, the cardholder approves on the phone, and
// the ACS's interim RReq D and final RReq Y reach the 3DS Server through the DS: the script ends
// with Y.
func TestTheCheckoutScriptFollowsAChallengeMovedToTheBanksApp(t *testing.T) {
	// 2.3.1 wants an https acsURL; the real ACS's pages listen on plain loopback, as in the demo.
	emv.AllowLoopbackHTTP(true)
	t.Cleanup(func() { emv.AllowLoopbackHTTP(false) })
	n := newNetwork(t)
	bank := n.withRealACS(t)
	bank.sendRReqs(t, n)
	s := newShop(t, n)
	ctx := s.open(t, browsertest.Options{})
	st := startPurchase(t, ctx, panRealFallback)
	evalJS[bool](t, ctx, `settle(Open3DS.checkout({method: null, card: "`+panRealFallback[:6]+`", pollMs: 200,
		authenticate: pay("`+st.ID+`", "amount=250000&decoupled=only"), result: readResult})); true`)
	inModal(t, ctx, "the ACS's choice page offering the bank's app", visible(`#bankapp`))
	shot(t, ctx, "decoupled-fallback-choice")
	inModal(t, ctx, "moving to the bank's app", keys(`#bankapp`, "\r"))
	waitJS[bool](t, ctx, "the panel asking for approval in the bank's app",
		`(p => p !== null && p.textContent === "Approve this payment in your bank's app")(`+browsertest.DeepQuery+`(document, "#status"))`)
	if evalJS[bool](t, ctx, browsertest.DeepQuery+`(document, '`+modalFrame+`') !== null`) {
		t.Error("the challenge's modal stayed up after the CRes D")
	}
	shot(t, ctx, "decoupled-fallback-waiting")
	var mid threedsserver.Result
	n.call(t, "GET", "/v1/authentications/"+st.ID, nil, &mid)
	if mid.Final {
		t.Errorf("before the approval the result is final: %+v", mid)
	}
	phone := browsertest.Start(t, browsertest.Options{Width: 375, Height: 740})
	browsertest.Navigate(t, phone, bank.linkFor(t, fallbackMobile))
	browsertest.Do(t, phone, "approving", chromedp.Click(chromedp.CSS("#approve")), chromedp.WaitVisible(chromedp.CSS("#done")))
	got := result(t, ctx)
	if got.ID != st.ID || got.TransStatus != "Y" {
		t.Fatalf("checkout ended with %+v, want Y", got)
	}
	if !eventFired(t, ctx, "open3ds:outcome", map[string]any{"id": st.ID, "transStatus": "Y"}) {
		t.Error("no open3ds:outcome event with the final result")
	}
	if eventFired(t, ctx, "open3ds:outcome", map[string]any{"id": st.ID, "transStatus": "D"}) {
		t.Error("the CRes D was announced as an outcome")
	}
	var final threedsserver.Result
	n.call(t, "GET", "/v1/authentications/"+st.ID, nil, &final)
	if !final.Final || final.TransStatus != "Y" || final.AuthenticationValue == "" || final.MessageVersion != "2.3.1" {
		t.Errorf("the merchant's result %+v", final)
	}
}

// shot saves a screenshot for a person to look at (in OPEN3DS_SCREENSHOTS when set).
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(sctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	dir := os.Getenv("OPEN3DS_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
}
