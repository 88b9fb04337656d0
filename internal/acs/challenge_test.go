package acs_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/acs"
	"github.com/open3ds/open3ds/internal/emv"
	"github.com/open3ds/open3ds/internal/otp"
)

const mobile, email = "+447700900123", "taro@example.com"

func TestChallengeEndings(t *testing.T) {
	cases := []struct {
		name string
		// play drives the pages from the first page on and returns the result page.
		play                   func(t *testing.T, s *shop, first page) page
		status, reason, cancel string
		interactions           string
		wantValue, wantFailed  bool
		// heading is what the result page says; "Not authenticated" when empty and the status is N.
		heading string
	}{
		{name: "the right code sent by SMS authenticates the shopper",
			play: func(t *testing.T, s *shop, p page) page {
				p = s.act(t, p, "send", "dest", "sms:0")
				return s.act(t, p, "submit", "code", s.code(t, mobile, 1))
			}, status: "Y", interactions: "01", wantValue: true},
		{name: "the right code sent by e-mail authenticates the shopper",
			play: func(t *testing.T, s *shop, p page) page {
				p = s.act(t, p, "send", "dest", "email:0")
				return s.act(t, p, "submit", "code", s.code(t, email, 1))
			}, status: "Y", interactions: "01", wantValue: true},
		{name: "switching from SMS to e-mail counts as a resend and the e-mailed code authenticates",
			play: func(t *testing.T, s *shop, p page) page {
				p = s.act(t, p, "send", "dest", "sms:0")
				s.code(t, mobile, 1)
				p = s.act(t, p, "back")
				if !strings.Contains(p.body, "E-mail to") {
					t.Fatalf("back did not offer the channels again: %s", p.body)
				}
				if early := s.act(t, p, "send", "dest", "email:0"); !strings.Contains(early.body, "You can ask for a new code in") {
					t.Errorf("switching skipped the cool-down")
				}
				s.clock.add(31 * time.Second)
				p = s.act(t, p, "send", "dest", "email:0")
				return s.act(t, p, "submit", "code", s.code(t, email, 1))
			}, status: "Y", interactions: "01", wantValue: true},
		{name: "a wrong code thrice ends the challenge not authenticated",
			play: func(t *testing.T, s *shop, p page) page {
				p = s.act(t, p, "send", "dest", "sms:0")
				right := s.code(t, mobile, 1)
				for i := range 2 {
					p = s.act(t, p, "submit", "code", wrongCode(right))
					if !strings.Contains(p.body, otp.ShopperMessage) || !strings.Contains(p.body, "aria-live") {
						t.Fatalf("entry %d: the failure is not announced: %s", i+1, p.body)
					}
				}
				return s.act(t, p, "submit", "code", wrongCode(right))
			}, status: "N", reason: "01", interactions: "03", wantFailed: true},
		{name: "cancel ends the challenge with challengeCancel 01",
			play: func(t *testing.T, s *shop, p page) page {
				p = s.act(t, p, "send", "dest", "sms:0")
				return s.act(t, p, "cancel")
			}, status: "N", reason: "01", cancel: "01", interactions: "00", heading: "Purchase cancelled"},
		{name: "ten minutes without interaction end the challenge with challengeCancel 04",
			play: func(t *testing.T, s *shop, p page) page {
				p = s.act(t, p, "send", "dest", "sms:0")
				code := s.code(t, mobile, 1)
				s.clock.add(acs.IdleLimit + time.Second)
				return s.act(t, p, "submit", "code", code)
			}, status: "N", reason: "14", cancel: "04", interactions: "00", heading: "Time ran out"},
		{name: "a card locked by another purchase after the code was sent is not authenticated with the right code, reason 19",
			play: func(t *testing.T, s *shop, p page) page {
				p = s.act(t, p, "send", "dest", "sms:0")
				for range 10 {
					s.e.store.RecordOTPFailure(context.Background(), s.e.store.LookupHash(panEnrolled), s.clock.now())
				}
				return s.act(t, p, "submit", "code", s.code(t, mobile, 1))
			}, status: "N", reason: "19", interactions: "01", wantFailed: true, heading: "Card locked for online checks"},
		{name: "a resend within the cool-down is refused visibly, after it a new code works",
			play: func(t *testing.T, s *shop, p page) page {
				p = s.act(t, p, "send", "dest", "sms:0")
				first := s.code(t, mobile, 1)
				if !strings.Contains(p.body, `data-wait="30"`) {
					t.Errorf("the code page shows no cool-down on resend: %s", p.body)
				}
				p = s.act(t, p, "resend")
				if !strings.Contains(p.body, "You can ask for a new code in 30 s") {
					t.Errorf("an early resend is not explained: %s", p.body)
				}
				if n := len(s.outbox.Messages(mobile)); n != 1 {
					t.Errorf("an early resend sent a message: %d in the outbox", n)
				}
				s.clock.add(31 * time.Second)
				p = s.act(t, p, "resend")
				second := s.code(t, mobile, 2)
				if second == first {
					t.Skip("the resend drew the same code by chance")
				}
				p = s.act(t, p, "submit", "code", first)
				if !strings.Contains(p.body, otp.ShopperMessage) {
					t.Errorf("the replaced code was not refused")
				}
				return s.act(t, p, "submit", "code", second)
			}, status: "Y", interactions: "02", wantValue: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newShop(t)
			id, server := s.challenge(t, "en-GB")
			first := s.start(t, id, server)
			if first.status != http.StatusOK || !strings.Contains(first.body, "SMS to") {
				t.Fatalf("first page %d: %s", first.status, first.body)
			}
			res := tc.play(t, s, first)
			cres, rreq := s.final(t, res, id)
			wantCRes := tc.status
			if cres.TransStatus != wantCRes || cres.ChallengeCompletionInd != "Y" || cres.ACSTransID != id {
				t.Errorf("CRes %+v, want transStatus %s", cres, wantCRes)
			}
			if rreq.TransStatus != tc.status || rreq.TransStatusReason != tc.reason || rreq.ChallengeCancel != tc.cancel {
				t.Errorf("RReq status %s reason %q cancel %q, want %s %q %q", rreq.TransStatus, rreq.TransStatusReason, rreq.ChallengeCancel, tc.status, tc.reason, tc.cancel)
			}
			if rreq.InteractionCounter != tc.interactions {
				t.Errorf("interactionCounter %s, want %s", rreq.InteractionCounter, tc.interactions)
			}
			if (rreq.AuthenticationValue != "") != tc.wantValue {
				t.Errorf("authenticationValue present %v, want %v", rreq.AuthenticationValue != "", tc.wantValue)
			}
			tx, _ := s.e.store.Transaction(context.Background(), id)
			if tx.ChallengeFailed != tc.wantFailed || tx.TransStatus != tc.status {
				t.Errorf("transaction %s failed=%v, want %s failed=%v", tx.TransStatus, tx.ChallengeFailed, tc.status, tc.wantFailed)
			}
			want := tc.heading
			switch {
			case tc.status == "Y":
				want = "Authenticated"
			case want == "":
				want = "Not authenticated"
			}
			if !strings.Contains(res.body, ">"+want+"<") {
				t.Errorf("the result page does not say %q", want)
			}
			// The result page stays the bank's: its name is on it as on every page before.
			if !strings.Contains(res.body, `alt="Bank bank-a"`) {
				t.Errorf("the result page does not carry the bank's name: %s", res.body)
			}
			// The page may be posted again (a reload): it shows the same result and ends nothing twice.
			again := s.act(t, first, "submit", "code", "000000")
			if c, _ := s.final(t, again, id); c.TransStatus != wantCRes {
				t.Errorf("a post after the end shows %s", c.TransStatus)
			}
		})
	}
}

func wrongCode(right string) string {
	if right == "000000" {
		return "111111"
	}
	return "000000"
}

func TestAFirstCReqLaterThan30SecondsEndsTheTransaction(t *testing.T) {
	s := newShop(t)
	id, server := s.challenge(t, "en")
	s.clock.add(acs.FirstCReqWithin + time.Second)
	cres, rreq := s.final(t, s.start(t, id, server), id)
	if cres.TransStatus != "N" || rreq.ChallengeCancel != "05" || rreq.TransStatusReason != "14" {
		t.Errorf("CRes %s, RReq cancel %q reason %q; want N, 05, 14", cres.TransStatus, rreq.ChallengeCancel, rreq.TransStatusReason)
	}
}

func TestTheSweeperEndsChallengesNobodyFinished(t *testing.T) {
	s := newShop(t)
	never, _ := s.challenge(t, "en")
	idle, server := s.challenge(t, "en")
	s.start(t, idle, server)
	s.clock.add(acs.FirstCReqWithin + time.Second)
	if n, err := s.b.ExpireStale(context.Background()); err != nil || n != 1 {
		t.Fatalf("first sweep ended %d (%v), want the one whose CReq never came", n, err)
	}
	s.clock.add(acs.IdleLimit)
	if n, err := s.b.ExpireStale(context.Background()); err != nil || n != 1 {
		t.Fatalf("second sweep ended %d (%v), want the idle one", n, err)
	}
	for id, cancel := range map[string]string{never: "05", idle: "04"} {
		row, err := s.e.store.Outbox(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		m, _ := emv.ParseAs(row.Body, emv.TypeRReq, nil)
		if r := m.(*emv.RReq); r.ChallengeCancel != cancel || r.TransStatus != "N" {
			t.Errorf("RReq %s: cancel %q status %s, want %s N", id, r.ChallengeCancel, r.TransStatus, cancel)
		}
	}
}

func TestABadCReqIsAnsweredWithAnErroToTheNotificationURL(t *testing.T) {
	s := newShop(t)
	id, server := s.challenge(t, "en")
	cases := []struct {
		name, creq string
		code       emv.Code
		detail     string
	}{
		{"a CReq without challengeWindowSize names that field", creq(id, server, "2.2.0", ""), emv.CodeRequiredMissing, "challengeWindowSize"},
		{"a CReq of another version than the AReq names messageVersion", creq(id, server, "2.1.0", "02"), emv.CodeFormatInvalid, "messageVersion"},
		{"a CReq for another server transaction names threeDSServerTransID", creq(id, "8a880dc0-d2d2-4067-bcb1-b08d1690b26e", "2.2.0", "02"), emv.CodeTransIDNotRecognised, "threeDSServerTransID"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := s.post(t, "/challenge", url.Values{"creq": {tc.creq}, "threeDSSessionData": {"abc"}})
			raw, err := emv.DecodeBase64Lenient(p.field("cres"))
			if err != nil {
				t.Fatalf("no cres: %s", p.body)
			}
			m, err := emv.Parse(raw, nil)
			if err != nil {
				t.Fatalf("cres is no valid message: %v %s", err, raw)
			}
			e, ok := m.(*emv.Erro)
			if !ok || e.ErrorCode != itoa(tc.code) || !strings.Contains(e.ErrorDetail, tc.detail) || e.ACSTransID != id {
				t.Errorf("got %s, want Erro %d naming %s", raw, tc.code, tc.detail)
			}
			if p.field("threeDSSessionData") != "abc" {
				t.Errorf("threeDSSessionData not echoed")
			}
		})
	}
	for name, form := range map[string]url.Values{
		"a creq that is not base64 gets a 400 page":         {"creq": {"%%%"}},
		"a CReq for an unknown transaction gets a 404 page": {"creq": {creq("8a880dc0-d2d2-4067-bcb1-b08d1690b26e", server, "2.2.0", "02")}},
	} {
		t.Run(name, func(t *testing.T) {
			p := s.post(t, "/challenge", form)
			if p.status != http.StatusBadRequest && p.status != http.StatusNotFound {
				t.Errorf("status %d", p.status)
			}
		})
	}
}

func itoa(c emv.Code) string { return strconv.Itoa(int(c)) }

func TestChallengePagesAreFramableStrictAndTranslated(t *testing.T) {
	s := newShop(t)
	id, server := s.challenge(t, "ja-JP")
	p := s.start(t, id, server)
	csp := p.header.Get("Content-Security-Policy")
	for _, want := range []string{"frame-ancestors *", "script-src 'self'", "default-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(p.body, "<script>") || strings.Contains(p.body, " style=") {
		t.Errorf("the page has inline script or style")
	}
	if p.header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", p.header.Get("Cache-Control"))
	}
	for _, want := range []string{`lang="ja"`, "ご本人確認", "SMS（•••• 0123）", "メール（t", "EUR 2,500.00", "•••• 7891"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the first page lacks %q", want)
		}
	}
	if strings.Contains(p.body, mobile) || strings.Contains(p.body, email) || strings.Contains(p.body, panEnrolled) {
		t.Errorf("the page shows a destination or the PAN in full")
	}
	p = s.act(t, p, "send", "dest", "sms:0")
	for _, want := range []string{`inputmode="numeric"`, `autocomplete="one-time-code"`, `<label for="code">`, "<details>", `aria-live`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the code page lacks %q", want)
		}
	}
	if code := s.code(t, mobile, 1); strings.Contains(s.e.logs.String(), code) {
		t.Errorf("the code reached the log")
	}
	resp, err := http.Get(s.url + "/static/challenge.css")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") {
		t.Errorf("stylesheet: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

func TestAForgedStepIsRefused(t *testing.T) {
	s := newShop(t)
	id, server := s.challenge(t, "en")
	s.start(t, id, server)
	f := url.Values{"id": {id}, "token": {"forged"}, "action": {"cancel"}}
	if got := s.post(t, "/challenge/step", f); got.status != http.StatusForbidden {
		t.Errorf("status %d, want 403", got.status)
	}
	if _, err := s.e.store.Outbox(context.Background(), id); err == nil {
		t.Errorf("a forged cancel ended the transaction")
	}
}

// TestTheCodePageOutlivesItsCardholderRecord checks that a cardholder the issuer removes while the
// shopper is on the code page does not break the page: a wrong entry is still announced, and the right
// code still ends the challenge.
func TestTheCodePageOutlivesItsCardholderRecord(t *testing.T) {
	s := newShop(t)
	id, server := s.challenge(t, "en")
	p := s.act(t, s.start(t, id, server), "send", "dest", "sms:0")
	right := s.code(t, mobile, 1)
	ch, err := s.e.store.CardholderByPAN(context.Background(), panEnrolled)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.e.store.DeleteCardholder(context.Background(), ch.ID); err != nil {
		t.Fatal(err)
	}
	if p = s.act(t, p, "submit", "code", wrongCode(right)); p.status != http.StatusOK || !strings.Contains(p.body, otp.ShopperMessage) {
		t.Fatalf("after a wrong entry: status %d\n%s", p.status, p.body)
	}
	cres, _ := s.final(t, s.act(t, p, "submit", "code", right), id)
	if cres.TransStatus != "Y" {
		t.Errorf("transStatus %s, want Y", cres.TransStatus)
	}
}
