package console

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/open3ds/open3ds/internal/browsertest"
)

// An operator's first sign-in in a real browser, at a phone's, a tablet's and a desktop's width:
// the authenticator key is shown (with its QR code), the code signs in, a change from the console
// appears in the audit log, the chart draws its bar, and no page is wider than the screen.
func TestTheConsoleInChromiumAtEveryWindowSize(t *testing.T) {
	for _, size := range []struct {
		name string
		w, h int
	}{{"phone", 390, 844}, {"tablet", 820, 1180}, {"desktop", 1280, 900}} {
		t.Run(size.name, func(t *testing.T) {
			r := newRig(t, backends[0].open(t), DefaultPolicy)
			r.clock = time.Time{} // the real clock: the browser's code is computed now
			r.c.o.Now = time.Now
			r.c.now = time.Now
			r.c.accounts.now = time.Now
			pw := r.account("olga", Operator)
			ctx := browsertest.Start(t, browsertest.Options{Width: max(size.w, 800), Height: size.h})
			browsertest.Do(t, ctx, "sizing the viewport", chromedp.EmulateViewport(int64(size.w), int64(size.h)))
			shot := func(name string) {
				if dir := os.Getenv("OPEN3DS_SCREENSHOTS"); dir != "" {
					png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
					if err != nil {
						t.Fatal(err)
					}
					os.WriteFile(filepath.Join(dir, "console-"+name+"-"+size.name+".png"), png, 0o644)
				}
			}
			browsertest.Navigate(t, ctx, r.srv.URL+"/console/widgets")
			shot("signin")
			browsertest.Do(t, ctx, "signing in",
				chromedp.WaitVisible(chromedp.CSS("#name")),
				chromedp.SendKeys(chromedp.CSS("#name"), "olga"),
				chromedp.SendKeys(chromedp.CSS("#password"), pw),
				chromedp.Click(chromedp.CSS("button[type=submit]")),
				chromedp.WaitVisible(chromedp.CSS("#totp-secret")))
			shot("enrol")
			qrWidth, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.querySelector("img.qr").naturalWidth`))
			if err != nil || qrWidth < 100 {
				t.Errorf("the QR code of the key did not draw: width %v, %v", qrWidth, err)
			}
			secret, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#totp-secret")))
			if err != nil {
				t.Fatal(err)
			}
			code, err := TOTPCode(strings.ReplaceAll(secret, " ", ""), time.Now())
			if err != nil {
				t.Fatal(err)
			}
			browsertest.Do(t, ctx, "typing the code",
				chromedp.SendKeys(chromedp.CSS("#code"), code),
				chromedp.Click(chromedp.CSS("button[type=submit]")),
				chromedp.WaitVisible(chromedp.CSS("#count")))
			browsertest.Do(t, ctx, "adding a widget",
				chromedp.Click(chromedp.CSS("#add")),
				chromedp.WaitVisible(chromedp.CSS(".notice")))
			shot("page")
			raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify({
				count: document.querySelector("#count").textContent,
				bars: [...document.querySelectorAll("#widgets-chart rect.bar")].map(b => [b.dataset.value, b.getBoundingClientRect().height]),
				overflow: document.documentElement.scrollWidth > window.innerWidth + 1,
			})`))
			if err != nil {
				t.Fatal(err)
			}
			var seen struct {
				Count    string
				Bars     [][2]any
				Overflow bool
			}
			json.Unmarshal([]byte(raw), &seen)
			if seen.Count != "Widgets: 1" || len(seen.Bars) != 1 || seen.Bars[0][0] != "1.00" || seen.Bars[0][1].(float64) < 10 {
				t.Errorf("after the change the page shows %+v", seen)
			}
			if seen.Overflow {
				t.Errorf("the page is wider than a %d px screen", size.w)
			}
			browsertest.Navigate(t, ctx, r.srv.URL+"/console/audit")
			rows, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("#audit tbody tr")].map(r => r.innerText.replace(/\s+/g, " ")).join("\n")`))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(rows, "olga console widget.add 1") || !strings.Contains(rows, "account.second-factor.enrol") {
				t.Errorf("the audit log shows:\n%s", rows)
			}
			overflow, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
			if overflow {
				t.Errorf("the audit page is wider than a %d px screen", size.w)
			}
			shot("audit")
		})
	}
}
