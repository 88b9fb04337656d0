package acs_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/open3ds/open3ds/internal/acs"
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
