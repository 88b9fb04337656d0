package threedsserver_test

import (
	"context"
	"encoding/json"
	"net/http"
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

// An admin in a real browser, at a phone's, a tablet's and a desktop's width: the merchants,
// transactions and analytics pages fit the screen; adding a merchant names a bad field above the
// form with what was typed kept, then shows the new key once, and the key works; rotating a key
// shows it once; a purchase is found by its dsTransID and its messages show the card masked; the
// frictionless chart draws today's bar; and the additions and the rotation are in the audit log.
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

	op := &consoletest.Operator{Name: "ada", Password: consoletest.Account(t, r.c, "ada", console.Admin)}
	b := browsertest.Start(t, browsertest.Options{Width: 1280, Height: 900})
	consoletest.SignIn(t, b, r.srv.URL, op)
	eval := func(js string) string {
		t.Helper()
		out, err := chromedp.Run(b, chromedp.Evaluate[string](js))
		must(t, err)
		return out
	}
	var key string
	var added []string
	for _, size := range []consoletest.Screen{consoletest.Phone, consoletest.Tablet, consoletest.Desktop} {
		consoletest.Resize(t, b, size)

		browsertest.Navigate(t, b, r.srv.URL+"/console/merchants")
		consoletest.FitsWidth(t, b, "the merchants page", size.W)
		consoletest.Screenshot(t, b, "3dss-console", "merchants-"+size.Name)
		if size.Name != "tablet" {
			id := "cafe-" + size.Name
			browsertest.Do(t, b, "opening the form that adds a merchant",
				chromedp.Click(chromedp.CSS("#add-merchant")),
				chromedp.WaitVisible(chromedp.CSS("#merchant-form")))
			consoletest.FitsWidth(t, b, "the add-merchant form", size.W)
			var typing []chromedp.Action[chromedp.Void]
			for _, f := range [][2]string{{"id", id}, {"name", "Cafe Lune"}, {"requestorId", requestorID}, {"requestorName", "Shop Demo SAS"},
				{"requestorUrl", "https://lune.example"}, {"acquirerBin", "412345"}, {"acquirerMerchantId", "LUNE0001"}, {"mcc", "58"}, {"country", "250"}} {
				typing = append(typing, chromedp.SendKeys(chromedp.CSS("#f-"+f[0]), f[1]))
			}
			browsertest.Do(t, b, "filling in the form with a 2-digit MCC", append(typing,
				chromedp.Click(chromedp.CSS("#add-merchant-submit")),
				chromedp.WaitVisible(chromedp.CSS("#merchant-problems")))...)
			problems := eval(`document.querySelector("#merchant-problems").innerText`)
			if !strings.Contains(problems, "Merchant category code (mcc) must be 4 digits") || strings.Contains(problems, "Acquirer") ||
				eval(`document.querySelector("#f-id").value + " " + document.querySelector("#f-acquirerMerchantId").value`) != id+" LUNE0001" {
				t.Errorf("after a bad MCC the page says %q, the form kept %q", problems,
					eval(`[...document.querySelectorAll("#merchant-form input[id^=f-]")].map(i => i.value).join(" ")`))
			}
			consoletest.FitsWidth(t, b, "the add-merchant form with a problem", size.W)
			consoletest.Screenshot(t, b, "3dss-console", "merchant-problem-"+size.Name)
			browsertest.Do(t, b, "correcting the MCC and adding the merchant",
				chromedp.SetValue(chromedp.CSS("#f-mcc"), "5814"),
				chromedp.Click(chromedp.CSS("#add-merchant-submit")),
				chromedp.WaitVisible(chromedp.CSS("#new-key")))
			newKey := eval(`document.querySelector("#new-key").textContent`)
			if !strings.HasPrefix(newKey, "o3ds_") || !strings.Contains(eval(`document.querySelector("#merchant-added").innerText`), id) {
				t.Errorf("after adding %s the page shows %q", id, eval(`document.querySelector("main").innerText`))
			}
			consoletest.FitsWidth(t, b, "the new merchant's key", size.W)
			consoletest.Screenshot(t, b, "3dss-console", "merchant-added-"+size.Name)
			if code := callWith(t, r.n.api.URL, newKey, "POST", "/v1/authentications", map[string]string{"cardNumber": panFrictionless}, nil); code != http.StatusCreated {
				t.Errorf("the key the page showed for %s answered %d", id, code)
			}
			browsertest.Navigate(t, b, r.srv.URL+"/console/merchants")
			if seen := eval(`document.querySelector("#merchants").innerText`); !strings.Contains(seen, id) || strings.Contains(seen, newKey) {
				t.Errorf("after adding %s the merchants page shows:\n%s", id, seen)
			}
			added = append(added, newKey)
		}
		if size.Name == "tablet" {
			browsertest.Do(t, b, "rotating the key",
				chromedp.Click(chromedp.CSS(`tr[data-merchant="shop"] button.rotate`)),
				chromedp.WaitVisible(chromedp.CSS("#new-key")))
			key = eval(`document.querySelector("#new-key").textContent`)
			if !strings.HasPrefix(key, "o3ds_") {
				t.Errorf("the new key shown is %q", key)
			}
			consoletest.Screenshot(t, b, "3dss-console", "key-"+size.Name)
			if code := callWith(t, r.n.api.URL, key, "POST", "/v1/authentications", map[string]string{"cardNumber": panFrictionless}, nil); code != http.StatusCreated {
				t.Errorf("the key the page showed answered %d", code)
			}
			browsertest.Navigate(t, b, r.srv.URL+"/console/merchants")
			if strings.Contains(eval(`document.body.innerText`), key) {
				t.Error("the merchants page shows the key again")
			}
		}

		browsertest.Navigate(t, b, r.srv.URL+"/console/transactions")
		consoletest.FitsWidth(t, b, "the transactions page", size.W)
		consoletest.Screenshot(t, b, "3dss-console", "transactions-"+size.Name)
		browsertest.Do(t, b, "finding the purchase by its dsTransID",
			chromedp.SendKeys(chromedp.CSS("#find"), tx.DSTransID),
			chromedp.Submit(chromedp.CSS("#find")),
			chromedp.WaitVisible(chromedp.CSS("#exchanges")))
		seen := eval(`document.querySelector("main").innerText`)
		if !strings.Contains(seen, s.ID) || !strings.Contains(seen, `"acctNumber": "400000******1000"`) || !strings.Contains(seen, `"messageType": "AReq"`) ||
			strings.Contains(seen, panFrictionless) || strings.Contains(seen, tx.AuthenticationValue) {
			t.Errorf("the transaction page shows:\n%s", seen)
		}
		consoletest.FitsWidth(t, b, "the transaction page", size.W)
		consoletest.Screenshot(t, b, "3dss-console", "transaction-"+size.Name)

		browsertest.Navigate(t, b, r.srv.URL+"/console/analytics")
		raw := eval(`JSON.stringify([...document.querySelectorAll("#frictionless-rate rect.bar")].map(b => [b.dataset.label, b.dataset.series, b.dataset.value, String(b.getBoundingClientRect().height >= 10)]))`)
		var bars [][4]string
		must(t, json.Unmarshal([]byte(raw), &bars))
		if len(bars) != 1 || bars[0][0] != today || bars[0][1] != "shop" || bars[0][2] != "50.00" || bars[0][3] != "true" {
			t.Errorf("the frictionless chart draws %v; want one bar of 50.00 for shop today, drawn at least 10 px high", bars)
		}
		consoletest.FitsWidth(t, b, "the analytics page", size.W)
		consoletest.Screenshot(t, b, "3dss-console", "analytics-"+size.Name)
	}
	browsertest.Navigate(t, b, r.srv.URL+"/console/audit")
	rows := eval(`[...document.querySelectorAll("#audit tbody tr")].map(r => r.innerText.replace(/\s+/g, " ")).join("\n")`)
	if !strings.Contains(rows, "ada console merchant.key.rotate shop") || !strings.Contains(rows, "ada console merchant.create cafe-phone") ||
		!strings.Contains(rows, "ada console merchant.create cafe-desktop") || strings.Contains(rows, key) {
		t.Errorf("the audit log shows:\n%s", rows)
	}
	for _, k := range added {
		if strings.Contains(rows, k) {
			t.Error("the audit log shows a new merchant's key")
		}
	}
	consoletest.Screenshot(t, b, "3dss-console", "audit-desktop")
}
