package threedsserver_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/open3ds/open3ds/internal/browsertest"
	"github.com/open3ds/open3ds/internal/console"
	"github.com/open3ds/open3ds/internal/console/consoletest"
	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/store/storetest"
	"github.com/open3ds/open3ds/internal/threedsserver"
)

// An operator in a real browser, at a phone's, a tablet's and a desktop's width: the merchants,
// transactions and analytics pages fit the screen; rotating a key shows it once; a purchase is found
// by its dsTransID and its messages show the card masked; the frictionless chart draws today's bar;
// and the rotation is in the audit log.
func TestTheThreeDSServerConsoleInChromium(t *testing.T) {
	r := newConsoleRig(t, storetest.OpenSQLite)
	ctx := context.Background()
	s := start(t, r.n, panFrictionless)
	if code := r.n.call(t, "POST", "/v1/authentications/"+s.ID+"/authenticate", authenticateBody(), nil); code != http.StatusOK {
		t.Fatalf("authenticate: %d", code)
	}
	tx, err := r.n.st.Transaction(ctx, s.ID)
	must(t, err)
	// Today also has one challenge passed: half of the answered transactions were frictionless.
	must(t, r.n.st.CreateTransaction(ctx, threedsserver.Transaction{ID: "challenged-1", MerchantID: "shop", MaskedPAN: "400000******1091",
		PANSealed: "sealed", MessageVersion: "2.2.0", State: threedsserver.StateFinal, TransStatus: "Y", DeviceChannel: emv.ChannelBrowser,
		CreatedAt: time.Now()}))
	today := time.Now().UTC().Format(time.DateOnly)

	op := &consoletest.Operator{Name: "olga", Password: consoletest.Account(t, r.c, "olga", console.Operator)}
	b := browsertest.Start(t, browsertest.Options{Width: 1280, Height: 900})
	consoletest.SignIn(t, b, r.srv.URL, op)
	shot := func(name, size string) {
		if dir := os.Getenv("OPEN3DS_SCREENSHOTS"); dir != "" {
			png, err := chromedp.Run(b, chromedp.FullScreenshot(100))
			must(t, err)
			must(t, os.WriteFile(filepath.Join(dir, "3dss-console-"+name+"-"+size+".png"), png, 0o644))
		}
	}
	eval := func(js string) string {
		t.Helper()
		out, err := chromedp.Run(b, chromedp.Evaluate[string](js))
		must(t, err)
		return out
	}
	fits := func(page string, w int) {
		t.Helper()
		if eval(`String(document.documentElement.scrollWidth > window.innerWidth + 1)`) == "true" {
			t.Errorf("%s is wider than a %d px screen", page, w)
		}
	}
	var key string
	for _, size := range []struct {
		name string
		w, h int
	}{{"phone", 390, 844}, {"tablet", 820, 1180}, {"desktop", 1280, 900}} {
		browsertest.Do(t, b, "sizing the viewport", chromedp.EmulateViewport(int64(size.w), int64(size.h)))

		browsertest.Navigate(t, b, r.srv.URL+"/console/merchants")
		fits("the merchants page", size.w)
		shot("merchants", size.name)
		if size.name == "tablet" {
			browsertest.Do(t, b, "rotating the key",
				chromedp.Click(chromedp.CSS(`tr[data-merchant="shop"] button.rotate`)),
				chromedp.WaitVisible(chromedp.CSS("#new-key")))
			key = eval(`document.querySelector("#new-key").textContent`)
			if !strings.HasPrefix(key, "o3ds_") {
				t.Errorf("the new key shown is %q", key)
			}
			shot("key", size.name)
			if code := callWith(t, r.n.api.URL, key, "POST", "/v1/authentications", map[string]string{"cardNumber": panFrictionless}, nil); code != http.StatusCreated {
				t.Errorf("the key the page showed answered %d", code)
			}
			browsertest.Navigate(t, b, r.srv.URL+"/console/merchants")
			if strings.Contains(eval(`document.body.innerText`), key) {
				t.Error("the merchants page shows the key again")
			}
		}

		browsertest.Navigate(t, b, r.srv.URL+"/console/transactions")
		fits("the transactions page", size.w)
		shot("transactions", size.name)
		browsertest.Do(t, b, "finding the purchase by its dsTransID",
			chromedp.SendKeys(chromedp.CSS("#find"), tx.DSTransID),
			chromedp.Submit(chromedp.CSS("#find")),
			chromedp.WaitVisible(chromedp.CSS("#exchanges")))
		seen := eval(`document.querySelector("main").innerText`)
		if !strings.Contains(seen, s.ID) || !strings.Contains(seen, `"acctNumber": "400000******1000"`) || !strings.Contains(seen, `"messageType": "AReq"`) ||
			strings.Contains(seen, panFrictionless) || strings.Contains(seen, tx.AuthenticationValue) {
			t.Errorf("the transaction page shows:\n%s", seen)
		}
		fits("the transaction page", size.w)
		shot("transaction", size.name)

		browsertest.Navigate(t, b, r.srv.URL+"/console/analytics")
		raw := eval(`JSON.stringify([...document.querySelectorAll("#frictionless-rate rect.bar")].map(b => [b.dataset.label, b.dataset.series, b.dataset.value, String(b.getBoundingClientRect().height >= 10)]))`)
		var bars [][4]string
		must(t, json.Unmarshal([]byte(raw), &bars))
		if len(bars) != 1 || bars[0][0] != today || bars[0][1] != "shop" || bars[0][2] != "50.00" || bars[0][3] != "true" {
			t.Errorf("the frictionless chart draws %v; want one bar of 50.00 for shop today, drawn at least 10 px high", bars)
		}
		fits("the analytics page", size.w)
		shot("analytics", size.name)
	}
	browsertest.Navigate(t, b, r.srv.URL+"/console/audit")
	rows := eval(`[...document.querySelectorAll("#audit tbody tr")].map(r => r.innerText.replace(/\s+/g, " ")).join("\n")`)
	if !strings.Contains(rows, "olga console merchant.key.rotate shop") || strings.Contains(rows, key) {
		t.Errorf("the audit log shows:\n%s", rows)
	}
	shot("audit", "desktop")
}
