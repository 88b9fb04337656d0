package acs_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/open3ds/open3ds/internal/acs"
	"github.com/open3ds/open3ds/internal/browsertest"
	"github.com/open3ds/open3ds/internal/emv"
)

// browserShop is a shop whose AReqs send the CRes to the merchant page and the RReq to a DS.
func browserShop(t *testing.T) (*shop, *merchant, *fakeDS, *acs.Sender) {
	s := newShop(t)
	m := newMerchant(t)
	ds := newFakeDS(t, 0)
	s.notifyURL, s.dsURL = m.url+"/notify", ds.url
	return s, m, ds, &acs.Sender{Store: s.e.store, Client: s.e.acsTLS}
}

func navigate(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("navigating: %v", err)
	}
}

// press operates a button by keyboard (focus, then Enter), as a shopper without a mouse would.
func press(sel string) func(in chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
	return func(in chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{chromedp.SendKeys(chromedp.CSS(sel), "\r", in)}
	}
}

func visible(sel string) func(in chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
	return func(in chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{chromedp.WaitVisible(chromedp.CSS(sel), in)}
	}
}

func typeCode(code string) func(in chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
	return func(in chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{chromedp.SendKeys(chromedp.CSS("#code"), code+"\r", in)}
	}
}

// result reads the heading of the result page in the challenge frame.
func result(t *testing.T, ctx context.Context) string {
	t.Helper()
	var text string
	inFrame(t, ctx, "reading the result", func(in chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{keep(&text, chromedp.Text(chromedp.CSS("#result"), in))}
	})
	return text
}

// received waits for the n-th CRes at the notification URL and decodes it.
func (m *merchant) received(t *testing.T, n int) *emv.CRes {
	t.Helper()
	raw := waitFor(t, "the CRes at the notification URL", func() string {
		m.mu.Lock()
		defer m.mu.Unlock()
		if len(m.cres) < n {
			return ""
		}
		return m.cres[n-1]
	})
	b, err := emv.DecodeBase64Lenient(raw)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := emv.ParseAs(b, emv.TypeCRes, nil)
	if err != nil {
		t.Fatalf("the notification URL got no valid CRes: %v %s", err, b)
	}
	return msg.(*emv.CRes)
}

// count is how many CRes the notification URL got.
func (m *merchant) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.cres)
}

// rreqAtDS sends due RReqs and returns the one the DS got for id.
func rreqAtDS(t *testing.T, ds *fakeDS, sender *acs.Sender, id string) emv.RReq {
	t.Helper()
	sender.SendDue(context.Background())
	ds.mu.Lock()
	defer ds.mu.Unlock()
	for _, r := range ds.got {
		if r.ACSTransID == id {
			return r
		}
	}
	t.Fatalf("the DS got no RReq for %s", id)
	return emv.RReq{}
}

func TestChromiumCompletesAChallengeInEveryWindowSize(t *testing.T) {
	ctx := chromium(t)
	s, m, ds, sender := browserShop(t)
	for _, w := range windows {
		// The narrowest window gets Japanese, whose lines have no spaces to break at.
		lang, want := "en-GB", "Authenticated"
		if w.size == "01" {
			lang, want = "ja-JP", "認証されました"
		}
		t.Run("window size "+w.size+" lays out and authenticates in "+lang, func(t *testing.T) {
			id, server := s.challenge(t, lang)
			navigate(t, ctx, checkoutURL(m, s.url+"/challenge", creq(id, server, "2.2.0", w.size), w.css))
			inFrame(t, ctx, "the choice page", visible(`button[value="send"]`))
			notClipped(t, ctx, "challenge-"+w.size+"-choose")
			sent := len(s.outbox.Messages(mobile))
			submit(t, ctx, "choosing SMS", press(`button[value="send"]`))
			inFrame(t, ctx, "the code page", visible("#code"))
			notClipped(t, ctx, "challenge-"+w.size+"-code")
			before := m.count()
			submit(t, ctx, "entering the code", typeCode(s.code(t, mobile, sent+1)))
			if got := result(t, ctx); got != want {
				t.Errorf("result %q, want %q", got, want)
			}
			notClipped(t, ctx, "challenge-"+w.size+"-result")
			if c := m.received(t, before+1); c.TransStatus != "Y" || c.ACSTransID != id {
				t.Errorf("CRes at the notification URL: %+v", c)
			}
			if r := rreqAtDS(t, ds, sender, id); r.TransStatus != "Y" || r.AuthenticationValue == "" {
				t.Errorf("RReq at the DS: %+v", r)
			}
		})
	}
}

func TestChromiumFailurePaths(t *testing.T) {
	ctx := chromium(t)
	s, m, ds, sender := browserShop(t)
	// A short cool-down lets the page's own countdown end within the test.
	pol := s.b.Codes.Policy()
	pol.ResendCoolDown = 2 * time.Second
	s.b.Codes = s.b.Codes.WithPolicy(pol)
	cases := []struct {
		name           string
		play           func(t *testing.T, sent int)
		want, status   string
		reason, cancel string
	}{
		{name: "a wrong code thrice ends not authenticated", want: "Not authenticated", status: "N", reason: "01",
			play: func(t *testing.T, sent int) {
				wrong := wrongCode(s.code(t, mobile, sent+1))
				for i := range 3 {
					submit(t, ctx, "entering a wrong code", typeCode(wrong))
					if i < 2 {
						inFrame(t, ctx, "the failure message", visible("#message"))
					}
				}
			}},
		{name: "resend waits out its visible cool-down, then the new code authenticates", want: "Authenticated", status: "Y",
			play: func(t *testing.T, sent int) {
				s.code(t, mobile, sent+1)
				var disabled bool
				inFrame(t, ctx, "the resend button during the cool-down", func(in chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
					return []chromedp.Action[chromedp.Void]{keep(&disabled, chromedp.JavascriptAttribute[bool](chromedp.CSS("#resend"), "disabled", in))}
				})
				if !disabled {
					t.Errorf("resend is enabled during the cool-down")
				}
				inFrame(t, ctx, "the end of the cool-down", func(in chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
					return []chromedp.Action[chromedp.Void]{chromedp.WaitEnabled(chromedp.CSS("#resend"), in)}
				})
				s.clock.add(3 * time.Second)
				submit(t, ctx, "asking for a new code", press("#resend"))
				inFrame(t, ctx, "the code page again", visible("#code"))
				submit(t, ctx, "entering the new code", typeCode(s.code(t, mobile, sent+2)))
			}},
		{name: "cancel ends not authenticated with challengeCancel 01", want: "Purchase cancelled", status: "N", reason: "01", cancel: "01",
			play: func(t *testing.T, sent int) {
				submit(t, ctx, "cancelling", press(`button[value="cancel"]`))
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id, server := s.challenge(t, "en-GB")
			navigate(t, ctx, checkoutURL(m, s.url+"/challenge", creq(id, server, "2.2.0", "02"), windows[1].css))
			sent := len(s.outbox.Messages(mobile))
			submit(t, ctx, "choosing SMS", press(`button[value="send"]`))
			inFrame(t, ctx, "the code page", visible("#code"))
			before := m.count()
			tc.play(t, sent)
			if got := result(t, ctx); got != tc.want {
				t.Errorf("result %q, want %q", got, tc.want)
			}
			if c := m.received(t, before+1); c.TransStatus != tc.status {
				t.Errorf("CRes transStatus %s, want %s", c.TransStatus, tc.status)
			}
			r := rreqAtDS(t, ds, sender, id)
			if r.TransStatus != tc.status || r.TransStatusReason != tc.reason || r.ChallengeCancel != tc.cancel {
				t.Errorf("RReq %s/%q/%q, want %s/%q/%q", r.TransStatus, r.TransStatusReason, r.ChallengeCancel, tc.status, tc.reason, tc.cancel)
			}
		})
	}
}

// frameValue waits until expr, evaluated in the document the challenge frame shows, gives a
// non-empty string, and returns it.
func frameValue(t *testing.T, ctx context.Context, what, expr string) string {
	t.Helper()
	var last error
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		_, node, ok := browsertest.Frame(ctx, "#challenge")
		if !ok {
			continue
		}
		sctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		v, err := chromedp.Run(sctx, chromedp.Poll[string](expr, chromedp.WithPollingInFrame(node),
			chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(2*time.Second)))
		cancel()
		if last = err; err == nil && v != "" {
			return v
		}
	}
	t.Fatalf("%s: %v", what, last)
	return ""
}

// inView reports, for each selector, whether the element lies wholly inside the framed page's
// viewport and is the element a tap at its centre reaches (nothing covers it), as JSON; it gives ""
// until the page has loaded and has every element.
func inView(sels ...string) string {
	list, _ := json.Marshal(sels)
	return `document.readyState === "complete" && ` + string(list) + `.every(s => document.querySelector(s)) &&
		JSON.stringify(Object.fromEntries(` + string(list) + `.map(s => {
		const e = document.querySelector(s);
		if (!e) { return [s, "missing"]; }
		const r = e.getBoundingClientRect();
		if (r.width === 0 || r.top < 0 || r.left < 0 || r.bottom > innerHeight || r.right > innerWidth) {
			return [s, "outside the " + innerWidth + "x" + innerHeight + " viewport at " + [r.left, r.top, r.right, r.bottom].map(Math.round)];
		}
		const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
		return [s, hit === e || e.contains(hit) ? "ok" : "covered by " + (hit ? hit.outerHTML.slice(0, 60) : "nothing")];
	})))`
}

func TestChromiumShowsTheButtonsWithoutScrollingAndFocusesTheCodeInSmallWindows(t *testing.T) {
	ctx := chromium(t)
	s, m, _, _ := browserShop(t)
	for _, w := range windows {
		if w.size != "01" && w.size != "02" && w.size != "04" {
			continue
		}
		for _, lang := range []string{"en-GB", "ja-JP"} {
			t.Run("window size "+w.size+" in "+lang, func(t *testing.T) {
				id, server := s.challenge(t, lang)
				// The merchant's page is on another origin, so Chromium ignores autofocus in the frame.
				navigate(t, ctx, checkoutURL(m, s.url+"/challenge", creq(id, server, "2.2.0", w.size), w.css))
				check := func(page string, sels ...string) {
					t.Helper()
					var each map[string]string
					got := frameValue(t, ctx, "measuring the "+page, inView(sels...))
					if err := json.Unmarshal([]byte(got), &each); err != nil {
						t.Fatalf("%s: %v in %s", page, err, got)
					}
					for _, sel := range sels {
						if each[sel] != "ok" {
							t.Errorf("%s: %s is %s", page, sel, each[sel])
						}
					}
				}
				check("choice page", `button[value="send"]`, `button[value="cancel"]`)
				notClipped(t, ctx, "small-"+w.size+"-"+lang+"-choose")
				submit(t, ctx, "choosing SMS", press(`button[value="send"]`))
				check("code page", "#code", `button[value="submit"]`, `button[value="resend"]`, `button[value="back"]`, `button[value="cancel"]`)
				// The page's script has run once the page has loaded.
				focused := frameValue(t, ctx, "the focus on the code page",
					`document.readyState === "complete" && (document.activeElement.id || document.activeElement.tagName)`)
				if focused != "code" {
					t.Errorf("the focused element in the frame is %q; want the code field", focused)
				}
				// The shopper types without clicking first: the keys reach the field.
				browsertest.Do(t, ctx, "typing", chromedp.KeyEvent("12"))
				if got := frameValue(t, ctx, "the typed code", `document.getElementById("code").value || "nothing"`); got != "12" {
					t.Errorf("typing on the code page filled the field with %q; want 12", got)
				}
				notClipped(t, ctx, "small-"+w.size+"-"+lang+"-code")
				// A wrong code adds a message above the field: the buttons stay in view all the same.
				submit(t, ctx, "entering a wrong code", typeCode("9"))
				check("code page after a wrong code", "#message", "#code", `button[value="submit"]`, `button[value="resend"]`,
					`button[value="back"]`, `button[value="cancel"]`)
				notClipped(t, ctx, "small-"+w.size+"-"+lang+"-wrong")
			})
		}
	}
}
