package shop_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/open3ds/open3ds/internal/browsertest"
	"github.com/open3ds/open3ds/internal/shop"
)

// checkoutScript is the 3DS Server's checkout script, served here from the file the 3DS Server embeds.
var checkoutScript = filepath.Join("..", "threedsserver", "static", "checkout.js")

// browserShop serves the shop with the real checkout script from a second origin, as the 3DS Server
// serves it, and opens the shop page in a new tab that records script errors and CSP violations.
// edit, if any, changes the configuration last.
func browserShop(t *testing.T, api *fakeAPI, edit ...func(*shop.Config)) (tab context.Context, s *testShop, problems func() []string) {
	t.Helper()
	script, err := os.ReadFile(checkoutScript)
	if err != nil {
		t.Fatalf("the 3DS Server's checkout script is missing: %v", err)
	}
	tdss := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Write(script)
	}))
	t.Cleanup(tdss.Close)
	s = newShop(t, api, func(c *shop.Config) {
		c.ScriptURL = tdss.URL + "/checkout.js"
		c.Cards = []shop.Card{{Number: enrolledCard, Expiry: "12/39", Outcome: "frictionless Y"}}
		for _, e := range edit {
			e(c)
		}
	})
	tab, cancel := chromedp.NewContext(browsertest.Start(t, browsertest.Options{}))
	var mu sync.Mutex
	var seen []string
	done := make(chan struct{})
	messages := chromedp.Console(tab)
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException {
				mu.Lock()
				seen = append(seen, string(m.Type)+": "+m.Text)
				mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	do(t, tab, chromedp.Navigate(s.url+"/"), chromedp.WaitEnabled(chromedp.CSS("#buy")))
	return tab, s, func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), seen...) }
}

// do runs browser steps with a timeout, failing the test on error.
func do(t *testing.T, tab context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// get runs one browser step that reads something, failing the test on error.
func get[T any](t *testing.T, tab context.Context, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 15*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func logoShown(t *testing.T, tab context.Context) bool {
	t.Helper()
	return !get(t, tab, chromedp.Evaluate[bool](`document.getElementById("secure-logo").hidden`))
}

// typeCard replaces the card number with number, key by key.
func typeCard(t *testing.T, tab context.Context, number string) {
	t.Helper()
	get(t, tab, chromedp.Evaluate[string](`document.getElementById("card-number").value = ""`))
	do(t, tab, chromedp.SendKeys(chromedp.CSS("#card-number"), number))
}

func TestChromiumShowsTheSecureCheckoutLogoOnlyForAnEnrolledCard(t *testing.T) {
	api := newFakeAPI(t)
	api.start = func(card string) (int, string) {
		enrolled := strings.HasPrefix(card, "4000")
		return 201, `{"id":"` + enrolledID + `","enrolled":` + boolText(enrolled) + `,"showLogo":` + boolText(enrolled) +
			`,"messageVersion":"2.2.0","maskedPan":"masked"}`
	}
	tab, _, problems := browserShop(t, api)

	typeCard(t, tab, "4000 0000 0000 1001")
	// Longer than the pause after which the page takes a number as typed.
	do(t, tab, chromedp.Sleep(time.Second))
	if n := len(api.startedCards()); n != 0 || logoShown(t, tab) {
		t.Errorf("a number failing the Luhn check was sent %d times; logo shown %v", n, logoShown(t, tab))
	}
	do(t, tab, chromedp.SendKeys(chromedp.CSS("#card-number"), "\t"))
	msg := get(t, tab, chromedp.Text(chromedp.CSS("#errors")))
	if !strings.Contains(msg, "Card number is not valid") {
		t.Errorf("leaving a wrong number shows %q, want it called not valid", msg)
	}

	typeCard(t, tab, "5555 5555 5555 4444")
	waitFor(t, "the start of a card not enrolled", func() bool { return len(api.startedCards()) == 1 })
	do(t, tab, chromedp.Sleep(200*time.Millisecond))
	if logoShown(t, tab) {
		t.Error("the logo shows for a card not enrolled")
	}

	typeCard(t, tab, "4000 0000 0000 1000")
	do(t, tab, chromedp.WaitVisible(chromedp.CSS("#secure-logo")))
	if got := api.startedCards(); len(got) != 2 || got[1] != enrolledCard {
		t.Errorf("the 3DS Server got %q, want the enrolled card's digits last", got)
	}

	typeCard(t, tab, "4000 0000 0000 100")
	if logoShown(t, tab) {
		t.Error("the logo stays after the number changed")
	}
	if p := problems(); len(p) > 0 {
		t.Errorf("the page had script errors or CSP violations: %q", p)
	}
}

func TestChromiumFindsALabelForEveryField(t *testing.T) {
	tab, _, _ := browserShop(t, newFakeAPI(t))
	unlabelled := get(t, tab, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("input, select, textarea"))
		.filter(e => e.type !== "hidden" && (!e.labels || e.labels.length === 0 || !e.labels[0].textContent.trim()))
		.map(e => e.id || e.name)`))
	if len(unlabelled) > 0 {
		t.Errorf("fields without a label: %q", unlabelled)
	}
}

func TestChromiumBuysWithATestCardAndLandsOnTheResult(t *testing.T) {
	api := newFakeAPI(t)
	api.start = startWithoutMethod
	tab, _, problems := browserShop(t, api)
	do(t, tab, chromedp.Click(chromedp.CSS("#buy")))
	msg := get(t, tab, chromedp.Text(chromedp.CSS("#errors")))
	for _, w := range []string{"Card number must have 13 to 19 digits", "Expiry date must be MM/YY", "Name on the card is required"} {
		if !strings.Contains(msg, w) {
			t.Errorf("Buy with an empty form says %q, want %q", msg, w)
		}
	}
	do(t, tab, chromedp.Click(chromedp.CSS(`input[value="headphones"]`)), chromedp.Click(chromedp.CSS(`details.test-cards summary`)),
		chromedp.Click(chromedp.CSS(`.use-card`)), chromedp.WaitVisible(chromedp.CSS("#secure-logo")),
		chromedp.SendKeys(chromedp.CSS("#name"), "Ada Lovelace"))
	screenshot(t, tab, "shop")
	do(t, tab, chromedp.Click(chromedp.CSS("#buy")))
	// The 3DS Server's status panel names the card's scheme from the masked number the start gave.
	panel := get(t, tab, chromedp.Poll[string](`(s => s && s.textContent && s.parentElement.textContent)(`+
		string(browsertest.Deep("[role=status]"))+`)`, chromedp.WithPollingTimeout(10*time.Second)))
	if panel != "Visa secure checkoutChecking with your bank…" {
		t.Errorf("the status panel says %q; want Visa's secure checkout mark and the shop's words", panel)
	}
	screenshot(t, tab, "status")
	do(t, tab, chromedp.WaitVisible(chromedp.CSS("#outcome-heading")))
	screenshot(t, tab, "result")
	heading := get(t, tab, chromedp.Text(chromedp.CSS("#outcome-heading")))
	amount := get(t, tab, chromedp.Text(chromedp.CSS("#amount")))
	if heading != "Authenticated — payment complete" || amount != "€89.00" {
		t.Errorf("the result page says %q for %q", heading, amount)
	}
	sent := api.sentFor(enrolledID)
	browser, _ := sent["browser"].(map[string]any)
	if sent["threeDSCompInd"] != "U" || browser["javascriptEnabled"] != true ||
		!strings.Contains(fmt.Sprint(browser["acceptHeader"]), "text/html") || sent["cardExpiryDate"] != "3912" {
		t.Errorf("the 3DS Server got %v", sent)
	}
	if p := problems(); len(p) > 0 {
		t.Errorf("the page had script errors or CSP violations: %q", p)
	}
}

func TestChromiumsUseShortcutChoosesTheProductATestCardNeedsAndGivesTheShoppersChoiceBack(t *testing.T) {
	api := newFakeAPI(t)
	api.start = startWithoutMethod
	tab, _, problems := browserShop(t, api, func(c *shop.Config) {
		c.Cards = []shop.Card{{Number: enrolledCard, Expiry: "12/39", Outcome: "frictionless Y"},
			{Number: "4000010000001009", Expiry: "11/38", Outcome: "the road bike is challenged", Product: "bike"}}
	})
	// state is what the shopper sees: the chosen product, the Buy button, the card and expiry fields.
	state := func() string {
		return get(t, tab, chromedp.Evaluate[string](`[document.querySelector("input[name=product]:checked").value,
			document.getElementById("buy").textContent, document.getElementById("card-number").value,
			document.getElementById("expiry").value].join(" | ")`))
	}
	use := func(row int) {
		do(t, tab, chromedp.Click(chromedp.CSS(fmt.Sprintf(`.test-cards tbody tr:nth-child(%d) .use-card`, row))))
	}
	do(t, tab, chromedp.Click(chromedp.CSS(`input[value="headphones"]`)), chromedp.Click(chromedp.CSS(`details.test-cards summary`)))
	use(2)
	if got, want := state(), "bike | Buy for €1,450.00 | 4000 0100 0000 1009 | 11/38"; got != want {
		t.Errorf("after Use on the road-bike row the page shows %q; want %q", got, want)
	}
	use(1)
	if got, want := state(), "headphones | Buy for €89.00 | 4000 0000 0000 1000 | 12/39"; got != want {
		t.Errorf("after Use on a row without a product the page shows %q; want the shopper's headphones back, %q", got, want)
	}
	// A product the shopper picks after a shortcut is theirs: a card without a product leaves it.
	use(2)
	do(t, tab, chromedp.Click(chromedp.CSS(`input[value="book"]`)))
	use(1)
	if got := state(); !strings.HasPrefix(got, "book | ") {
		t.Errorf("the shopper chose the book after the shortcut, and Use on a row without a product made it %q", got)
	}
	if p := problems(); len(p) > 0 {
		t.Errorf("the page had script errors or CSP violations: %q", p)
	}
}

func TestChromiumShowsTheShopsRefusalNextToTheField(t *testing.T) {
	api := newFakeAPI(t)
	api.start = startWithoutMethod
	tab, s, _ := browserShop(t, api)
	do(t, tab, chromedp.SendKeys(chromedp.CSS("#card-number"), "4000 0000 0000 1000"),
		chromedp.SendKeys(chromedp.CSS("#expiry"), "01/20"), chromedp.SendKeys(chromedp.CSS("#name"), "Ada Lovelace"),
		chromedp.Click(chromedp.CSS("#buy")), chromedp.WaitVisible(chromedp.CSS("#errors li")))
	msg := get(t, tab, chromedp.Text(chromedp.CSS("#errors")))
	invalid := get(t, tab, chromedp.Evaluate[string](`document.getElementById("expiry").getAttribute("aria-invalid")`))
	if !strings.Contains(msg, "Expiry date is in the past") || invalid != "true" {
		t.Errorf("an expired card shows %q with aria-invalid %q", msg, invalid)
	}
	if focused := get(t, tab, chromedp.Evaluate[string](`document.activeElement.id`)); focused != "errors" {
		t.Errorf("focus is on %q, want the message", focused)
	}
	if s.api.sentFor(enrolledID) != nil {
		t.Error("the expired card reached the 3DS Server")
	}
}

// startWithoutMethod answers a start for an enrolled card without a 3DS Method: nothing here would
// answer the Method, and the script would wait its 10 seconds.
func startWithoutMethod(string) (int, string) {
	return 201, `{"id":"` + enrolledID + `","enrolled":true,"showLogo":true,"messageVersion":"2.2.0","maskedPan":"400000******1000"}`
}

// screenshot saves the page for a person to look at, in $OPEN3DS_SCREENSHOTS when set.
func screenshot(t *testing.T, tab context.Context, name string) {
	t.Helper()
	dir := os.Getenv("OPEN3DS_SCREENSHOTS")
	if dir == "" {
		return
	}
	png := get(t, tab, chromedp.CaptureScreenshot())
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Error(err)
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
