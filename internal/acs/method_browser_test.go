package acs_test

import (
	"context"
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

func TestChromiumRunsTheThreeDSMethod(t *testing.T) {
	ctx := chromium(t)
	s := newShop(t)
	m := newMerchant(t)
	cases := []struct {
		name, id   string
		javaScript bool
	}{
		{"with JavaScript the page reports the browser's traits and notifies by itself", "1b7c2f39-5c1e-4d6f-9a51-3c8e2a0f7d11", true},
		{"without JavaScript the server's view is kept and one press notifies", "2c8d3e4a-6d2f-4e70-8b62-4d9f3b1e8e22", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tab, cancel := chromedp.NewContext(ctx)
			defer cancel()
			if err := chromedp.Do(tab, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: !tc.javaScript})
				return err
			})); err != nil {
				t.Fatal(err)
			}
			m.mu.Lock()
			before := len(m.methodDone)
			m.mu.Unlock()
			page := m.url + "/method?" + url.Values{"acs": {s.url + "/method"}, "data": {methodData(tc.id, m.url+"/method-done")}}.Encode()
			navigate(t, tab, page)
			if !tc.javaScript {
				// The merchant's own script is off too: its start button posts the form into the hidden iframe.
				sctx, cancel := context.WithTimeout(tab, 5*time.Second)
				defer cancel()
				if err := chromedp.Do(sctx, chromedp.SendKeys(chromedp.CSS("#go"), "\r")); err != nil {
					t.Fatal(err)
				}
				inFrameOf(t, tab, "m", "the method page's continue button", press(`button[type="submit"]`))
			}
			got := waitFor(t, "the 3DS Method notification", func() string {
				m.mu.Lock()
				defer m.mu.Unlock()
				if len(m.methodDone) <= before {
					return ""
				}
				return m.methodDone[len(m.methodDone)-1]
			})
			raw, _ := base64.RawURLEncoding.DecodeString(got)
			if string(raw) != `{"threeDSServerTransID":"`+tc.id+`"}` {
				t.Errorf("notification threeDSMethodData = %s", raw)
			}
			d, err := s.e.store.DeviceData(context.Background(), tc.id)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(d.Data, `"javaScript":true`) != tc.javaScript {
				t.Errorf("device data %s, want javaScript %v", d.Data, tc.javaScript)
			}
			if tc.javaScript && (!strings.Contains(d.Data, `"fingerprint":"`) || !strings.Contains(d.Data, `"colorDepth"`)) {
				t.Errorf("the traits are missing: %s", d.Data)
			}
		})
	}
}

// An ACS that chose MethodRedirect sends a browser without JavaScript straight on to the
// notification URL: nobody presses anything, and the server's view of the browser is stored.
func TestChromiumWithoutJavaScriptNotifiesAtOnceWhenTheACSRedirects(t *testing.T) {
	ctx := chromium(t)
	s := newShop(t)
	s.b.MethodRedirect = true
	m := newMerchant(t)
	tab, cancel := chromedp.NewContext(ctx)
	defer cancel()
	if err := chromedp.Do(tab, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	})); err != nil {
		t.Fatal(err)
	}
	const id = "3d9e4f5b-7e30-4f81-9c73-5ea04c2f9f33"
	data := methodData(id, m.url+"/method-done")
	navigate(t, tab, m.url+"/method?"+url.Values{"acs": {s.url + "/method"}, "data": {data}}.Encode())
	// The merchant's own page has no script either: its start button posts the form into the hidden
	// iframe. From there on the browser is on its own.
	sctx, cancelPress := context.WithTimeout(tab, 5*time.Second)
	defer cancelPress()
	if err := chromedp.Do(sctx, chromedp.SendKeys(chromedp.CSS("#go"), "\r")); err != nil {
		t.Fatal(err)
	}
	got := waitFor(t, "the 3DS Method notification", m.lastMethod)
	if got != data {
		t.Errorf("the notification carried %q, want the replayed form %q", got, data)
	}
	d, err := s.e.store.DeviceData(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(d.Data, `"javaScript":false`) || !strings.Contains(d.Data, `"userAgent":"`) {
		t.Errorf("device data %s, want the server's view", d.Data)
	}
}
