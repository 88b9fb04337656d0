package ds_test

import (
	"crypto/tls"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/open3ds/open3ds/internal/browsertest"
	"github.com/open3ds/open3ds/internal/console"
	"github.com/open3ds/open3ds/internal/console/consoletest"
	"github.com/open3ds/open3ds/internal/ds"
)

// An operator signs in to the DS's console in Chromium and reads every page at a phone's, a
// tablet's and a desktop's width: the participants, the analytics with yesterday's frictionless
// bar, the stand-in policy, the certificates, none wider than the screen; then changes the stand-in policy and finds
// the change in the audit log.
func TestDSConsoleInChromium(t *testing.T) {
	now := time.Now().UTC()
	own, _ := pem.Decode(certPEM(t, "ds.example", 1, now.AddDate(0, 0, 12)))
	r := newConsoleRig(t, backends[0].open(t), time.Time{}, func(o *ds.ConsoleOptions) {
		o.TLS = &tls.Certificate{Certificate: [][]byte{own.Bytes}}
	})
	seedRegistry(t, r.st)
	seedTraffic(t, r.db, r.st, now)
	op := &consoletest.Operator{Name: "olga", Password: consoletest.Account(t, r.c, "olga", console.Operator)}
	ctx := browsertest.Start(t, browsertest.Options{Width: 1280, Height: 900})
	consoletest.SignIn(t, ctx, r.srv.URL, op)
	yesterday := now.AddDate(0, 0, -1).Format("01-02")

	pages := []struct{ name, path, want string }{
		{"acs", "/console/acs", "ACS-REF-bank"},
		{"acs-detail", "/console/acs/bank", "4000000000000000"},
		{"3dss", "/console/3dss", "3DSS-REF"},
		{"3dss-detail", "/console/3dss/shop", "req-2"},
		{"ranges", "/console/ranges?bin=4000", "1 of 2 ranges"},
		{"analytics", "/console/analytics", "Erros by code"},
		{"stand-in", "/console/stand-in", "ACS unavailable"},
		{"certificates", "/console/certificates", "renew"},
		{"acs-health", "/console/acs-health", "idle"},
	}
	for _, size := range []consoletest.Screen{consoletest.Phone, consoletest.Tablet, consoletest.Desktop} {
		consoletest.Resize(t, ctx, size)
		for _, p := range pages {
			browsertest.Navigate(t, ctx, r.srv.URL+p.path)
			raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify({
				text: document.querySelector("main").innerText,
				overflow: document.documentElement.scrollWidth > window.innerWidth + 1,
				bars: [...document.querySelectorAll("#frictionless-rate rect.bar")].map(b => [b.dataset.label, b.dataset.value, b.getBoundingClientRect().height]),
			})`))
			if err != nil {
				t.Fatal(err)
			}
			var seen struct {
				Text     string
				Overflow bool
				Bars     [][3]any
			}
			if err := json.Unmarshal([]byte(raw), &seen); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(seen.Text, p.want) {
				t.Errorf("%s at %s does not show %q:\n%s", p.path, size.Name, p.want, seen.Text)
			}
			if seen.Overflow {
				t.Errorf("%s is wider than a %d px screen", p.path, size.W)
			}
			if p.name == "analytics" {
				// Yesterday: three of the six AReqs passed without a challenge, drawn half way up.
				found := false
				for _, b := range seen.Bars {
					if b[0] == yesterday {
						found = true
						if b[1] != "50.00" || b[2].(float64) < 20 {
							t.Errorf("the frictionless bar of %s at %s is %v", yesterday, size.Name, b)
						}
					}
				}
				if !found {
					t.Errorf("no frictionless bar for %s at %s: %v", yesterday, size.Name, seen.Bars)
				}
			}
			consoletest.Screenshot(t, ctx, "ds-console", p.name+"-"+size.Name)
		}
	}

	browsertest.Navigate(t, ctx, r.srv.URL+"/console/stand-in")
	browsertest.Do(t, ctx, "changing the stand-in policy",
		chromedp.SetValue(chromedp.CSS("#unavailable"), "attempts"),
		chromedp.Click(chromedp.CSS("#stand-in-save")),
		chromedp.WaitVisible(chromedp.CSS(".notice")))
	consoletest.Screenshot(t, ctx, "ds-console", "stand-in-changed-desktop")
	applied, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#case-unavailable")))
	if err != nil || !strings.Contains(applied, "attempts") {
		t.Errorf("after the change the policy for an unavailable ACS reads %q (%v)", applied, err)
	}
	browsertest.Navigate(t, ctx, r.srv.URL+"/console/audit")
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("#audit tbody tr")].map(r => r.innerText.replace(/\s+/g, " ")).join("\n")`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rows, "olga console scheme.stand-in scheme not enrolled attempts → attempts; ACS unavailable unavailable → attempts") {
		t.Errorf("the audit log shows:\n%s", rows)
	}
	consoletest.Screenshot(t, ctx, "ds-console", "audit-desktop")
}
