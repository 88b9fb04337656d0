package bench

import (
	"bytes"
	"testing"

	"github.com/open3ds/open3ds/internal/web"
)

// challengePage has the fields of the ACS's challenge page that challenge.html reads, so that the
// scraper is tested on the template the ACS really renders.
type challengePage struct {
	Base, Lang, Window, Step string
	T                        web.Messages
	BrandName, LogoURL       string
	SupportText              string
	Merchant, Amount, Card   string
	ID, Token                string
	Error, Hint, Status      string
	Destinations             []struct{ Key, Label string }
	Digits, Wait             int
	WaitText                 string
	NoResend, OtherChannels  bool
	BankApp                  bool // the 2.3.1 decoupled fallback button, which the bench never presses
	Ending                   string
	NotificationURL, CRes    string
	SessionData              string
}

func render(t *testing.T, p challengePage) []byte {
	t.Helper()
	p.T, p.Lang, p.Window = web.Text("en"), "en", "05"
	var b bytes.Buffer
	if err := web.Render(&b, "challenge.html", p); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestTheScraperReadsEachChallengePageAsABrowserWouldSubmitIt(t *testing.T) {
	const at = "https://acs.example:9445/acs/challenge"
	choose := parseForms(render(t, challengePage{Base: "/acs", Step: "choose", ID: "a&b", Token: `t"1`, BankApp: true,
		Destinations: []struct{ Key, Label string }{{"sms:0", "SMS to •••• 78"}, {"email:0", "e-mail"}}}), at)
	if len(choose) != 1 {
		t.Fatalf("%d forms on the choice page", len(choose))
	}
	f := choose[0]
	if f.action != "https://acs.example:9445/acs/challenge/step" || f.values.Get("id") != "a&b" || f.values.Get("token") != `t"1` ||
		f.values.Get("dest") != "sms:0" || f.hasCode {
		t.Errorf("choice page read as %+v", f)
	}

	code := parseForms(render(t, challengePage{Step: "code", ID: "x", Token: "y", Digits: 6, BankApp: true}), at)
	if len(code) != 1 || !code[0].hasCode || code[0].values.Get("id") != "x" || code[0].action != "https://acs.example:9445/challenge/step" {
		t.Errorf("code page read as %+v", code)
	}

	final := parseForms(render(t, challengePage{Step: "done", Ending: "ok", NotificationURL: "http://localhost:8401/3ds/notification",
		CRes: "eyJhIjoxfQ", SessionData: "c2Vzc2lvbg"}), at)
	if len(final) != 1 || final[0].id != "cres" || final[0].action != "http://localhost:8401/3ds/notification" ||
		final[0].values.Get("cres") != "eyJhIjoxfQ" || final[0].values.Get("threeDSSessionData") != "c2Vzc2lvbg" {
		t.Errorf("final page read as %+v", final)
	}
}

func TestTheScraperSubmitsTheCheckedRadioButton(t *testing.T) {
	page := []byte(`<form action="/x"><input type="radio" name="d" value="a"><input type=radio name=d value=b checked>` +
		`<input type="radio" name="d" value="c"></form><form action="/y"><input type="radio" name="d" value="p"><input type="radio" name="d" value="q"></form>`)
	forms := parseForms(page, "http://h/")
	if forms[0].values.Get("d") != "b" || forms[1].values.Get("d") != "p" {
		t.Errorf("radio values %q and %q, want the checked b and the first p", forms[0].values.Get("d"), forms[1].values.Get("d"))
	}
}
