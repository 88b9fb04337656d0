package acs_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/open3ds/open3ds/internal/emv"
)

// startAppFallback opens a 2.3.1 app challenge on the card whose issuer offers decoupled, with the
// screen ui, whose AReq says threeDSRequestorDecReqInd ind (nil: absent).
func (s *shop) startAppFallback(t *testing.T, jose bool, version, ui string, ind any, dsURL string) *appSDK {
	t.Helper()
	s.setAppUIOf(t, panMastercard, ui)
	set := map[string]any{"acctNumber": panMastercard, "threeDSRequestorDecReqInd": ind, "threeDSRequestorDecMaxTime": "00010"}
	if ind == nil || version != "2.3.1" {
		set["threeDSRequestorDecMaxTime"] = nil
	}
	if dsURL != "" {
		set["dsURL"] = dsURL
	}
	if ui == "05" {
		set["deviceRenderOptions"] = map[string]any{"sdkInterface": "02", "sdkUiType": []string{"01", "02", "05"}}
	}
	return s.startAppVersion(t, jose, version, set)
}

func hasBankApp(c *emv.CRes) bool {
	for _, m := range c.ChallengeSelectInfo {
		if m["bankapp"] != "" {
			return true
		}
	}
	return false
}

// TestAppChallengeDecoupledFallback: a 2.3.1 app challenge whose AReq said F or B offers "Approve
// in my bank's app instead" among the choices; taking it answers the final CRes D over the JWE,
// queues the interim RReq D, and the approval through the link sends the final RReq Y.
func TestAppChallengeDecoupledFallback(t *testing.T) {
	for _, b := range backends {
		for _, sd := range sdks {
			t.Run(b.name+"/"+sd.name, func(t *testing.T) {
				s := newAppShop(t, b.open)
				s.unwatched = true
				ds, dsURL := newRReqDS(t)
				// B would let the ACS answer D at once (this issuer offers it): F asks for a challenge first.
				sdk := s.startAppFallback(t, sd.jose, "2.3.1", "02", "F", dsURL)
				c := screen(t, sdk.send(t, nil), "02")
				if !hasBankApp(c) || len(c.ChallengeSelectInfo) != 2 || c.ChallengeSelectInfo[1]["bankapp"] != "Approve in my bank's app instead" {
					t.Fatalf("the choice screen offers %v", c.ChallengeSelectInfo)
				}
				a := sdk.send(t, map[string]any{"challengeDataEntry": "bankapp"})
				if a.c == nil || a.c.ChallengeCompletionInd != "Y" || a.c.TransStatus != "D" {
					t.Fatalf("after choosing the bank app: CRes %+v, Erro %+v; want the final CRes D", a.c, a.e)
				}
				id := sdk.res.ACSTransID
				if r := s.rreqOf(t, id); r.TransStatus != "D" || r.AuthenticationValue != "" {
					t.Errorf("interim RReq %+v", r)
				}
				if tx, _ := s.e.store.Transaction(t.Context(), id); tx.TransStatus != "D" {
					t.Errorf("transaction %s, want D", tx.TransStatus)
				}
				// A CReq after the switch (an SDK retrying) gets the same final CRes D.
				if again := sdk.send(t, map[string]any{"challengeDataEntry": "email:0"}); again.c == nil || again.c.TransStatus != "D" {
					t.Errorf("a later CReq: %+v %+v", again.c, again.e)
				}
				sendAll(s.e.store, 4)
				if got := answerDec(t, s.link(t, id), "approve"); !strings.Contains(got, "Approved") {
					t.Errorf("after approving: %s", got)
				}
				if r := s.rreqOf(t, id); r.TransStatus != "Y" || r.AuthenticationValue == "" {
					t.Errorf("final RReq %+v", r)
				}
				sendAll(s.e.store, 4)
				if got := strings.Join(ds.seen(), ","); got != "D,Y" {
					t.Errorf("the DS received %s, want D,Y", got)
				}
				for _, m := range s.outbox.Messages("") {
					if m.TransactionID == id && m.Code != "" {
						t.Errorf("a code went out although the cardholder chose the bank app: %+v", m)
					}
				}
			})
		}
	}
}

// TestAppChallengeDecoupledFallbackOnEveryScreen: the multi-select screen's choice, the HTML
// screens' radio and button, and what a requestor that did not allow it (2.3.1 N, 2.2.0) sees.
func TestAppChallengeDecoupledFallbackOnEveryScreen(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := newAppShop(t, b.open)
			s.unwatched = true
			_, dsURL := newRReqDS(t)
			t.Run("03: ticked with a destination, the bank app wins and no code goes out", func(t *testing.T) {
				// The multi-select screen needs two destinations.
				ch, _ := s.e.store.CardholderByPAN(t.Context(), panMastercard)
				ch.Mobiles = []string{"+819012345678"}
				if err := s.e.store.UpdateCardholder(t.Context(), ch); err != nil {
					t.Fatal(err)
				}
				defer func() {
					ch.Mobiles = nil
					s.e.store.UpdateCardholder(t.Context(), ch)
				}()
				sdk := s.startAppFallback(t, false, "2.3.1", "03", "F", dsURL)
				c := screen(t, sdk.send(t, nil), "03")
				if !hasBankApp(c) {
					t.Fatalf("multi-select %v", c.ChallengeSelectInfo)
				}
				a := sdk.send(t, map[string]any{"challengeDataEntry": "email:0,bankapp"})
				if a.c == nil || a.c.TransStatus != "D" {
					t.Fatalf("got %+v %+v, want CRes D", a.c, a.e)
				}
				for _, m := range s.outbox.Messages("") {
					if m.TransactionID == sdk.res.ACSTransID && m.Code != "" {
						t.Errorf("a code went out: %+v", m)
					}
				}
			})
			t.Run("05: the code page's button switches", func(t *testing.T) {
				sdk := s.startAppFallback(t, true, "2.3.1", "05", "F", dsURL)
				html := func(c *emv.CRes) string {
					raw, err := base64.RawURLEncoding.DecodeString(c.ACSHTML)
					if err != nil {
						t.Fatal(err)
					}
					return string(raw)
				}
				if page := html(screen(t, sdk.send(t, nil), "05")); !strings.Contains(page, `name="dest" value="bankapp"`) {
					t.Fatalf("HTML choose page: %s", page)
				}
				page := html(screen(t, sdk.send(t, map[string]any{"challengeHTMLDataEntry": "dest=email%3A0"}), "05"))
				if !strings.Contains(page, `name="action" value="bankapp"`) || !strings.Contains(page, "Approve in my bank&#39;s app instead") {
					t.Fatalf("HTML code page: %s", page)
				}
				a := sdk.send(t, map[string]any{"challengeHTMLDataEntry": "code=&action=bankapp"})
				if a.c == nil || a.c.TransStatus != "D" {
					t.Fatalf("got %+v %+v, want CRes D", a.c, a.e)
				}
				if r := s.rreqOf(t, sdk.res.ACSTransID); r.TransStatus != "D" {
					t.Errorf("interim RReq %+v", r)
				}
			})
			for _, c := range []struct {
				version string
				ind     any
			}{{"2.3.1", "N"}, {"2.3.1", nil}, {"2.2.0", nil}} {
				t.Run("no fallback offered or taken: "+c.version+" "+map[bool]string{true: "without indicator", false: "N"}[c.ind == nil], func(t *testing.T) {
					sdk := s.startAppFallback(t, false, c.version, "02", c.ind, dsURL)
					scr := screen(t, sdk.send(t, nil), "02")
					if hasBankApp(scr) {
						t.Fatalf("offered: %v", scr.ChallengeSelectInfo)
					}
					// A forged choice is a destination that does not exist: the screen again, no switch.
					if again := screen(t, sdk.send(t, map[string]any{"challengeDataEntry": "bankapp"}), "02"); hasBankApp(again) {
						t.Errorf("forged choice: %+v", again)
					}
					if tx, _ := s.e.store.Transaction(t.Context(), sdk.res.ACSTransID); tx.TransStatus != "C" {
						t.Errorf("transaction %s after a forged switch, want C", tx.TransStatus)
					}
				})
			}
		})
	}
}
