package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/open3ds/open3ds/internal/browsertest"
)

// The demo rows that are more than a purchase (demoCard.Flow), in a real Chromium: a subscription
// the shop charges with nobody present (3RI) after an authenticated purchase, and a card saved
// without paying (a non-payment authentication).

// heading is the order page's heading once it starts with prefix, which a page loaded after a form
// post has; the page before it has another.
func (s *shopper) heading(prefix string) string {
	s.t.Helper()
	return browsertest.WaitFor(s.t, "the heading "+prefix, func() string {
		var h string
		ctx, cancel := context.WithTimeout(s.ctx, 2*time.Second)
		defer cancel()
		if err := chromedp.Do(ctx, browsertest.Keep(&h, chromedp.Text(chromedp.CSS("#outcome-heading")))); err != nil || !strings.HasPrefix(h, prefix) {
			return ""
		}
		return h
	})
}

func (s *shopper) text(sel string) string {
	s.t.Helper()
	var v string
	browsertest.Do(s.t, s.ctx, "reading "+sel, browsertest.Keep(&v, chromedp.Text(chromedp.CSS(sel))))
	return strings.TrimSpace(v)
}

// saveCard fills the shop's form for card and presses Save card without paying.
func (s *shopper) saveCard(pan string) {
	s.t.Helper()
	browsertest.Navigate(s.t, s.ctx, s.d.net.urls.Shop+"/")
	browsertest.Do(s.t, s.ctx, "typing the card", chromedp.SendKeys(chromedp.CSS("#card-number"), groupPAN(pan)))
	browsertest.Do(s.t, s.ctx, "waiting for the logo", chromedp.WaitVisible(chromedp.CSS("#secure-logo")))
	browsertest.Do(s.t, s.ctx, "typing expiry and name", chromedp.SendKeys(chromedp.CSS("#expiry"), demoExpiry),
		chromedp.SendKeys(chromedp.CSS("#name"), "Alex Shopper"))
	browsertest.Do(s.t, s.ctx, "scrolling to Save card", chromedp.ScrollIntoView(chromedp.CSS("#save-card")))
	s.shot("shop-save-card-" + s.size)
	browsertest.Do(s.t, s.ctx, "pressing Save card", chromedp.WaitEnabled(chromedp.CSS("#save-card")), chromedp.Click(chromedp.CSS("#save-card")))
}

// passkeySignIn gives the tab a platform authenticator that verifies its user (a virtual one, as
// a phone's fingerprint reader would), opens the shop and signs in with a passkey: the page makes
// one, then signs in with it, and the shop checks the signature.
func (s *shopper) passkeySignIn() {
	s.t.Helper()
	browsertest.Navigate(s.t, s.ctx, s.d.net.urls.Shop+"/")
	ctx, cancel := context.WithTimeout(s.ctx, 15*time.Second)
	defer cancel()
	if _, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		s.t.Fatalf("WebAuthn.enable: %v", err)
	}
	if _, err := chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{Protocol: webauthn.AuthenticatorProtocolCtap2,
			Transport: webauthn.AuthenticatorTransportInternal, HasResidentKey: true, HasUserVerification: true,
			IsUserVerified: true, AutomaticPresenceSimulation: true}}); err != nil {
		s.t.Fatalf("WebAuthn.addVirtualAuthenticator: %v", err)
	}
	browsertest.Do(s.t, s.ctx, "waiting for the passkey button", chromedp.WaitVisible(chromedp.CSS("#passkey")))
	s.shot("passkey-offer-" + s.size)
	browsertest.Do(s.t, s.ctx, "pressing Sign in with a passkey", chromedp.Click(chromedp.CSS("#passkey")))
	browsertest.WaitFor(s.t, "the passkey sign-in", func() string {
		if got := s.text("#passkey-status"); got == "Signed in with your passkey." {
			return got
		} else if strings.Contains(got, "did not complete") {
			s.t.Fatalf("the passkey sign-in failed: %s", got)
		}
		return ""
	})
	s.shot("passkey-signed-in-" + s.size)
}

// shot saves the page for a person to look at, in $OPEN3DS_SCREENSHOTS when set.
func (s *shopper) shot(name string) {
	s.t.Helper()
	dir := os.Getenv("OPEN3DS_SCREENSHOTS")
	if dir == "" {
		return
	}
	var png []byte
	browsertest.Do(s.t, s.ctx, "a screenshot", browsertest.Keep(&png, chromedp.CaptureScreenshot()))
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		s.t.Error(err)
	}
}

func TestChromiumShopperSubscribesAndSavesACard(t *testing.T) {
	d := startTestDemo(t, filepath.Join(t.TempDir(), "open3ds-data"), 0)
	sizes := []struct {
		name          string
		width, height int
	}{{"desktop", 1200, 900}, {"tablet", 800, 1100}, {"phone", 390, 844}}
	ran := 0
	for _, c := range demoCards {
		if c.Flow == "" {
			continue
		}
		ran++
		for _, size := range sizes {
			t.Run(c.Flow+"/"+size.name, func(t *testing.T) {
				browser := browsertest.Start(t, browsertest.Options{Width: size.width, Height: size.height})
				s := &shopper{t: t, ctx: browser, d: d, size: size.name}
				switch c.Flow {
				case demoFlowSubscribe:
					s.checkout(c.PAN, "")
					s.heading("Authenticated")
					purchase := s.orderID()
					browsertest.Do(t, s.ctx, "scrolling to the offer", chromedp.ScrollIntoView(chromedp.CSS("#subscribe")))
					s.shot("subscribe-offer-" + size.name)
					browsertest.Do(t, s.ctx, "pressing Subscribe monthly", chromedp.Click(chromedp.CSS("#subscribe")))
					s.heading("Subscription payment authenticated")
					if got := s.text("#trans-status"); got != c.Want {
						t.Errorf("the subscription's transStatus %q, want %s", got, c.Want)
					}
					sub := s.orderID()
					var res map[string]any
					if code := d.api("GET", "/v1/authentications/"+sub, nil, &res); code != http.StatusOK || sub == purchase ||
						res["channel"] != "3ri" || res["threeRIInd"] != "01" || res["transStatus"] != c.Want || res["eci"] != "05" {
						t.Errorf("the 3DS Server's record of the subscription payment: %d %v", code, res)
					}
					s.shot("subscribe-result-" + size.name)
					browsertest.Do(t, s.ctx, "pressing Renew now", chromedp.Click(chromedp.CSS("#subscribe")))
					s.heading("Not authenticated")
					if got, why := s.text("#trans-status"), s.text("#reason"); got != "N" || !strings.Contains(why, "too many authentications") {
						t.Errorf("renewing at once: %s, %q; want N and the bank's word that it is too soon", got, why)
					}
				case demoFlowPasskey:
					s.passkeySignIn()
					s.checkout(c.PAN, c.Product)
					// No challenge: the bike goes through at once on the strength of the passkey.
					s.heading("Authenticated")
					if got := s.text("#trans-status"); got != c.Want {
						t.Errorf("the bike after a passkey sign-in: transStatus %q, want %s", got, c.Want)
					}
					var res map[string]any
					if code := d.api("GET", "/v1/authentications/"+s.orderID(), nil, &res); code != http.StatusOK || res["state"] != "frictionless" {
						t.Fatalf("the 3DS Server's record: %d %v, want frictionless", code, res)
					}
					if reasons := d.acsReasons(res["acsTransID"].(string)); !strings.Contains(strings.Join(reasons, "; "), "FIDO login with user verification") {
						t.Errorf("the ACS's reasons %q do not name the passkey sign-in", reasons)
					}
					s.shot("passkey-result-" + size.name)
				case demoFlowSaveCard:
					s.saveCard(c.PAN)
					s.heading("Card saved")
					if got, saved := s.text("#trans-status"), s.text("#save-only"); got != c.Want || !strings.Contains(saved, "nothing was charged") {
						t.Errorf("the saved card's page: %s, %q", got, saved)
					}
					var res map[string]any
					if d.api("GET", "/v1/authentications/"+s.orderID(), nil, &res); res["messageCategory"] != "non-payment" {
						t.Errorf("the 3DS Server's record of the saved card: %v", res)
					}
					s.shot("save-card-" + size.name)
				}
			})
		}
	}
	if ran != 3 {
		t.Fatalf("%d demo rows have a flow; this test knows the subscription, the saved card and the passkey", ran)
	}
}
