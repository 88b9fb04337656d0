package acs_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/otp"
	"github.com/open3ds/open3ds/internal/sdkcrypto"
)

// erro checks an Erro answer: its code, the ACS as the component, the CReq as the message in
// error and, when the transaction is known, its ids.
func erro(t *testing.T, sdk *appSDK, a answer, code string, known bool) {
	t.Helper()
	e := a.e
	if e == nil {
		t.Fatalf("got CRes %+v, want Erro %s", a.c, code)
	}
	if e.ErrorCode != code || e.ErrorComponent != "A" || e.ErrorMessageType != "CReq" {
		t.Fatalf("Erro %s/%s/%s (%s), want %s from A about a CReq", e.ErrorCode, e.ErrorComponent, e.ErrorMessageType, e.ErrorDetail, code)
	}
	if known && (e.ACSTransID != sdk.res.ACSTransID || e.ThreeDSServerTransID != sdk.res.ThreeDSServerTransID || e.SDKTransID != sdk.res.SDKTransID) {
		t.Errorf("Erro ids %s %s %s", e.ACSTransID, e.ThreeDSServerTransID, e.SDKTransID)
	}
}

// onCodeScreen starts an app challenge on the code screen and sends its first CReq, which shows it.
func (s *shop) onCodeScreen(t *testing.T) *appSDK {
	t.Helper()
	sdk := s.startApp(t, false, nil)
	screen(t, sdk.send(t, nil), "01")
	return sdk
}

// endedN checks that the transaction ended N with reason, its RReq queued.
func endedN(t *testing.T, sdk *appSDK, reason string) {
	t.Helper()
	if r := sdk.rreq(t); r.TransStatus != "N" || r.TransStatusReason != reason {
		t.Errorf("RReq %s/%s, want N/%s", r.TransStatus, r.TransStatusReason, reason)
	}
}

func TestAppChallengeErrorsEndTheTransactionWithItsRReq(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := newAppShop(t, b.open)
			s.setAppUI(t, "01")
			t.Run("a JWE that does not decrypt is 302", func(t *testing.T) {
				sdk := s.startApp(t, false, nil)
				other, _ := sdkcrypto.SessionFromKey(make([]byte, 32))
				jwe, _ := other.Seal(sdkcrypto.SDKToACS, sdkcrypto.EncA128GCM, sdk.res.ACSTransID, 0, sdk.creq(nil))
				erro(t, sdk, sdk.post(t, jwe), "302", true)
				endedN(t, sdk, "09")
				// The transaction is over: even a right CReq now gets the final answer, never a new code.
				final(t, sdk, sdk.send(t, nil), "N")
			})
			t.Run("a replayed counter is 302", func(t *testing.T) {
				sdk := s.onCodeScreen(t)
				sdk.counter--
				erro(t, sdk, sdk.send(t, nil), "302", true)
				endedN(t, sdk, "09")
			})
			t.Run("a skipped counter is 302", func(t *testing.T) {
				sdk := s.startApp(t, false, nil)
				sdk.counter = 2
				erro(t, sdk, sdk.send(t, nil), "302", true)
				endedN(t, sdk, "09")
			})
			// A CReq whose content breaks the protocol ends the transaction as invalid (reason 07).
			for _, tc := range []struct {
				name   string
				fields map[string]any
				code   string
			}{
				{"a CReq without sdkTransID is 201", map[string]any{"sdkTransID": nil}, "201"},
				{"a CReq with a challengeCancel out of the list is 203", map[string]any{"challengeCancel": "99"}, "203"},
				{"a CReq naming another sdkTransID is 301", map[string]any{"sdkTransID": "0d3b9a31-1c1d-4c5e-9a2a-3f4e5d6c7b8a"}, "301"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					sdk := s.startApp(t, false, nil)
					erro(t, sdk, sdk.send(t, tc.fields), tc.code, true)
					endedN(t, sdk, "07")
				})
			}
			t.Run("a kid that names no transaction is 301 and ends nothing", func(t *testing.T) {
				sdk := s.startApp(t, false, nil)
				jwe, _ := sdk.sess.Seal(sdkcrypto.SDKToACS, sdk.enc, "6f1c1d9e-0000-4000-8000-000000000000", 0, sdk.creq(nil))
				erro(t, sdk, sdk.post(t, jwe), "301", false)
				sdk.noRReq(t)
				screen(t, sdk.send(t, nil), "01") // the real transaction goes on
			})
			t.Run("a body that is not a JWE is 302", func(t *testing.T) {
				sdk := s.startApp(t, false, nil)
				erro(t, sdk, sdk.post(t, `{"messageType":"CReq"}`), "302", false)
				sdk.noRReq(t)
			})
			t.Run("cancel ends N with challengeCancel 01", func(t *testing.T) {
				sdk := s.onCodeScreen(t)
				r := final(t, sdk, sdk.send(t, map[string]any{"challengeCancel": "01"}), "N")
				if r.ChallengeCancel != "01" {
					t.Errorf("RReq challengeCancel %q", r.ChallengeCancel)
				}
			})
			t.Run("three wrong codes end N", func(t *testing.T) {
				sdk := s.onCodeScreen(t)
				screen(t, sdk.send(t, map[string]any{"challengeDataEntry": "000000x"}), "01")
				screen(t, sdk.send(t, map[string]any{"challengeNoEntry": "Y"}), "01")
				r := final(t, sdk, sdk.send(t, map[string]any{"challengeDataEntry": "111111x"}), "N")
				if r.InteractionCounter != "03" {
					t.Errorf("interactionCounter %s", r.InteractionCounter)
				}
			})
			t.Run("a resend waits out the cool-down, and stops at the limit", func(t *testing.T) {
				sdk := s.onCodeScreen(t)
				c := screen(t, sdk.send(t, map[string]any{"resendChallenge": "Y"}), "01")
				if c.ChallengeInfoTextIndicator != "Y" || !strings.Contains(c.ChallengeInfoText, "new code in") {
					t.Errorf("a resend in the cool-down: %q", c.ChallengeInfoText)
				}
				for range 3 {
					s.clock.add(time.Minute)
					screen(t, sdk.send(t, map[string]any{"resendChallenge": "Y"}), "01")
				}
				s.clock.add(time.Minute)
				c = screen(t, sdk.send(t, map[string]any{"resendChallenge": "Y"}), "01")
				if !strings.Contains(c.ChallengeInfoText, "No more codes") {
					t.Errorf("a resend past the limit: %q", c.ChallengeInfoText)
				}
				sdk.noRReq(t)
			})
		})
	}
}

func TestAppChallengeTimeouts(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := newAppShop(t, b.open)
			s.setAppUI(t, "01")
			t.Run("a first CReq after 30 s is 402 with challengeCancel 05", func(t *testing.T) {
				sdk := s.startApp(t, false, nil)
				s.clock.add(31 * time.Second)
				erro(t, sdk, sdk.send(t, nil), "402", true)
				if r := sdk.rreq(t); r.TransStatusReason != "14" || r.ChallengeCancel != "05" {
					t.Errorf("RReq %s/%s", r.TransStatusReason, r.ChallengeCancel)
				}
			})
			t.Run("an idle challenge is 402 with challengeCancel 04", func(t *testing.T) {
				sdk := s.onCodeScreen(t)
				s.clock.add(11 * time.Minute)
				erro(t, sdk, sdk.send(t, map[string]any{"challengeDataEntry": "123456"}), "402", true)
				if r := sdk.rreq(t); r.ChallengeCancel != "04" {
					t.Errorf("RReq challengeCancel %s", r.ChallengeCancel)
				}
			})
			t.Run("the sweeper ends an app challenge, and the next CReq is 402", func(t *testing.T) {
				sdk := s.onCodeScreen(t)
				s.clock.add(11 * time.Minute)
				if n, err := s.b.ExpireStale(t.Context()); err != nil || n < 1 {
					t.Fatalf("ExpireStale: %d, %v", n, err)
				}
				if r := sdk.rreq(t); r.ChallengeCancel != "04" || r.ACSRenderingType == nil || r.ACSRenderingType.ACSUiTemplate != "01" {
					t.Errorf("RReq challengeCancel %s, acsRenderingType %+v", r.ChallengeCancel, r.ACSRenderingType)
				}
				erro(t, sdk, sdk.send(t, nil), "402", true)
			})
		})
	}
}

// TestAppCReqsAtOnceNeverAnswerOneCounterTwice: CReqs racing with one counter (a replaying
// attacker, a confused SDK) are answered at most once with a CRes; the rest are 302 and end the
// transaction, so at most one code guess is ever compared per counter.
func TestAppCReqsAtOnceNeverAnswerOneCounterTwice(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := newAppShop(t, b.open)
			s.unwatched = true
			s.setAppUI(t, "01")
			sdk := s.onCodeScreen(t)
			const n = 8
			var wg sync.WaitGroup
			answers := make([]answer, n)
			for i := range n {
				body := sdk.seal(t, sdk.creq(map[string]any{"challengeDataEntry": "99999" + string(rune('0'+i)) + "x"}))
				wg.Add(1)
				go func() {
					defer wg.Done()
					answers[i] = sdk.post(t, body)
				}()
			}
			wg.Wait()
			cres := 0
			for _, a := range answers {
				if a.c != nil {
					cres++
				} else if a.e.ErrorCode != "302" {
					t.Errorf("Erro %s", a.e.ErrorCode)
				}
			}
			if cres > 1 {
				t.Errorf("%d CRes for one counter", cres)
			}
			ch, tx, err := s.e.store.ChallengeWithTransaction(t.Context(), sdk.res.ACSTransID)
			if err != nil {
				t.Fatal(err)
			}
			if ch.OTP.Interactions > 1 || tx.TransStatus != "N" {
				t.Errorf("%d entries judged, transaction %s", ch.OTP.Interactions, tx.TransStatus)
			}
		})
	}
}

// TestAppGuessesOnManyPurchasesOfOneCardStopAtTheCardLock: six app challenges of one card guess at
// once, three wrong codes each. Entries are judged under the card's lock (the browser's
// JudgeEntry), so the card's failures stop at the policy's ten, never more, and every purchase
// ends N.
func TestAppGuessesOnManyPurchasesOfOneCardStopAtTheCardLock(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := newAppShop(t, b.open)
			s.unwatched = true
			s.setAppUI(t, "01")
			var sdks []*appSDK
			for range 6 {
				sdks = append(sdks, s.onCodeScreen(t))
			}
			start := make(chan struct{})
			var wg sync.WaitGroup
			for _, sdk := range sdks {
				wg.Go(func() {
					<-start
					for i := range 3 {
						if a := sdk.send(t, map[string]any{"challengeDataEntry": "99999" + counterOf(i)[2:] + "x"}); a.e != nil {
							t.Errorf("Erro %s", a.e.ErrorCode)
							return
						}
					}
				})
			}
			close(start)
			wg.Wait()
			tx, err := s.e.store.Transaction(t.Context(), sdks[0].res.ACSTransID)
			if err != nil {
				t.Fatal(err)
			}
			n, err := s.e.store.OTPFailures(t.Context(), tx.PANHash, time.Now().Add(-48*time.Hour))
			if err != nil || n != 10 {
				t.Errorf("the card has %d failures (%v), want exactly the lock's 10", n, err)
			}
			for _, sdk := range sdks {
				if r := sdk.rreq(t); r.TransStatus != "N" {
					t.Errorf("a purchase ended %s", r.TransStatus)
				}
			}
		})
	}
}

// TestAnAppChallengeCannotBeDrivenThroughTheBrowserPages: a browser CReq form naming an app
// challenge finds nothing, so the session key and counters cannot be gone round.
func TestAnAppChallengeCannotBeDrivenThroughTheBrowserPages(t *testing.T) {
	s := newAppShop(t, backends[0].open)
	s.unwatched = true
	sdk := s.startApp(t, false, nil)
	if p := s.start(t, sdk.res.ACSTransID, sdk.res.ThreeDSServerTransID); p.status != http.StatusNotFound {
		t.Fatalf("the browser CReq was answered %d: %s", p.status, p.body)
	}
	screen(t, sdk.send(t, nil), "02") // untouched: the app's first CReq still opens it
}

// TestALockedCardsAppChallengeEndsAtItsFirstCReq: a card at its failure limit is sent no code. The
// code screen, whose code would go out with the first CReq, and the choose screen both end the
// challenge there with reason 19.
func TestALockedCardsAppChallengeEndsAtItsFirstCReq(t *testing.T) {
	for _, ui := range []string{"01", "02"} {
		t.Run("screen "+ui, func(t *testing.T) {
			s := newAppShop(t, backends[0].open)
			s.setAppUI(t, ui)
			for range otp.DefaultPolicy().CardLockFailures {
				if err := s.e.store.RecordOTPFailure(t.Context(), s.e.store.LookupHash(panEnrolled), s.clock.now()); err != nil {
					t.Fatal(err)
				}
			}
			sdk := s.startApp(t, false, nil)
			if r := final(t, sdk, sdk.send(t, nil), "N"); r.TransStatusReason != "19" {
				t.Errorf("RReq reason %s, want 19", r.TransStatusReason)
			}
			time.Sleep(50 * time.Millisecond) // a code, had one been queued, reaches the outbox within milliseconds
			if n := len(s.outbox.Messages(mobile)) + len(s.outbox.Messages(email)); n != 0 {
				t.Errorf("%d codes were sent to a locked card", n)
			}
		})
	}
}
