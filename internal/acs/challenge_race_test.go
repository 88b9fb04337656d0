package acs_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/acs"
	"github.com/open3ds/open3ds/internal/otp"
)

// guessAtOnce posts every code in codes to one challenge page at the same moment, from as many
// goroutines, and waits for all of them to be answered.
func (s *shop) guessAtOnce(tb testing.TB, p page, codes []string) {
	tb.Helper()
	start := make(chan struct{})
	var wg sync.WaitGroup
	for _, c := range codes {
		wg.Go(func() {
			<-start
			f := url.Values{"id": {p.field("id")}, "token": {p.field("token")}, "action": {"submit"}, "code": {c}}
			res, err := http.PostForm(s.url+"/challenge/step", f)
			if err != nil {
				tb.Error(err)
				return
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK && res.StatusCode != http.StatusConflict {
				tb.Errorf("a guess was answered %d", res.StatusCode)
			}
		})
	}
	close(start)
	wg.Wait()
}

// judged counts the entries the ACS compared with a code: each one logs "code entered".
func judged(s *shop) int { return strings.Count(s.e.logs.String(), `"msg":"code entered"`) }

// TestConcurrentGuessesNeverCheckMoreCodesThanThePolicyAllows posts 40 entries at once to one
// challenge, the right code among them. Each entry spends an attempt before it is compared, in one
// store transaction, so at most the policy's three are ever compared; the right code wins only if
// it was among those three, and the challenge ends either way.
func TestConcurrentGuessesNeverCheckMoreCodesThanThePolicyAllows(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := newShopOn(t, b.open)
			s.unwatched = true // 40 pages at once; the RReq-before-CRes order has its own tests
			id, server := s.challenge(t, "en-GB")
			p := s.act(t, s.start(t, id, server), "send", "dest", "sms:0")
			right := s.code(t, mobile, 1)
			guesses := make([]string, 40)
			for i := range guesses {
				guesses[i] = wrongCode(right)
			}
			guesses[len(guesses)/2] = right
			s.guessAtOnce(t, p, guesses)

			if n := judged(s); n > otp.DefaultPolicy().MaxWrong {
				t.Errorf("%d entries were compared with the code, the policy allows %d", n, otp.DefaultPolicy().MaxWrong)
			}
			tx, err := s.e.store.Transaction(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			accepted := strings.Contains(s.e.logs.String(), `"result":"accepted"`)
			switch {
			case tx.TransStatus == "Y" && !accepted:
				t.Errorf("the transaction ended Y without an accepted entry")
			case tx.TransStatus != "Y" && tx.TransStatus != "N":
				t.Errorf("after the guesses the transaction is %q, want it ended", tx.TransStatus)
			}
			// The page shows the end to whoever posts next, and nothing more is compared.
			before := judged(s)
			again := s.act(t, p, "submit", "code", right)
			if c, _ := s.final(t, again, id); c.TransStatus != tx.TransStatus {
				t.Errorf("a post after the end shows %s, the transaction is %s", c.TransStatus, tx.TransStatus)
			}
			if judged(s) != before {
				t.Errorf("an entry after the end was compared")
			}
		})
	}
}

// TestTheCardLockHoldsUnderConcurrentEntries posts wrong codes at once to eight challenges of one
// card (24 entries, more than the card's limit of 10 failures a day). The count and the new
// failure are read and written under one per-card lock, so exactly the limit is recorded and every
// challenge ends.
func TestTheCardLockHoldsUnderConcurrentEntries(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := newShopOn(t, b.open)
			s.unwatched = true
			ctx := context.Background()
			type open struct {
				id string
				p  page
			}
			var pages []open
			for range 8 {
				id, server := s.challenge(t, "en-GB")
				pages = append(pages, open{id, s.act(t, s.start(t, id, server), "send", "dest", "sms:0")})
				s.clock.add(31 * time.Second) // the next challenge's first send is not a resend, but keep clear of any cool-down
			}
			right := s.code(t, mobile, 8)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for _, o := range pages {
				wg.Go(func() {
					<-start
					s.guessAtOnce(t, o.p, []string{wrongCode(right), wrongCode(right), wrongCode(right)})
				})
			}
			close(start)
			wg.Wait()

			limit := otp.DefaultPolicy().CardLockFailures
			n, err := s.e.store.OTPFailures(ctx, s.e.store.LookupHash(panEnrolled), s.clock.now().Add(-24*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if n != limit {
				t.Errorf("%d failures recorded for the card, want exactly the limit %d", n, limit)
			}
			locked := 0
			for _, o := range pages {
				tx, err := s.e.store.Transaction(ctx, o.id)
				if err != nil {
					t.Fatal(err)
				}
				if tx.TransStatus != "N" {
					t.Errorf("challenge %s ended %q, want N", o.id, tx.TransStatus)
				}
				if tx.Reason == "19" {
					locked++
				}
			}
			if locked == 0 {
				t.Errorf("no challenge ended with the card lock (reason 19)")
			}
		})
	}
}

// TestALockedCardIsToldAtOnceAndSentNothing: a card at its failure limit learns on the first page
// that it is locked, under the bank's name, and no code goes out for it.
func TestALockedCardIsToldAtOnceAndSentNothing(t *testing.T) {
	s := newShop(t)
	ctx := context.Background()
	for range otp.DefaultPolicy().CardLockFailures {
		if err := s.e.store.RecordOTPFailure(ctx, s.e.store.LookupHash(panEnrolled), s.clock.now()); err != nil {
			t.Fatal(err)
		}
	}
	id, server := s.challenge(t, "en-GB")
	first := s.start(t, id, server)
	if strings.Contains(first.body, "Send code") {
		t.Errorf("a locked card is offered a code")
	}
	if !strings.Contains(first.body, ">Card locked for online checks<") || !strings.Contains(first.body, "Contact your bank") {
		t.Errorf("the first page does not say the card is locked: %s", first.body)
	}
	if !strings.Contains(first.body, `alt="Bank bank-a"`) {
		t.Errorf("the locked page does not carry the bank's name")
	}
	cres, rreq := s.final(t, first, id)
	if cres.TransStatus != "N" || rreq.TransStatus != "N" || rreq.TransStatusReason != "19" {
		t.Errorf("CRes %s, RReq %s reason %s; want N, N reason 19", cres.TransStatus, rreq.TransStatus, rreq.TransStatusReason)
	}
	time.Sleep(50 * time.Millisecond) // a code, had one been queued, reaches the outbox within milliseconds
	if msgs := s.outbox.Messages(mobile); len(msgs) != 0 {
		t.Errorf("%d codes were sent to a locked card", len(msgs))
	}
}

// TestAJudgedEntryIsFinishedByTheNextPageOrTheSweeper: an instance that stops between committing an
// entry's judgement and ending the authentication leaves the end it decided on the row; the next
// page the shopper posts, or the expiry sweeper, ends the authentication with it.
func TestAJudgedEntryIsFinishedByTheNextPageOrTheSweeper(t *testing.T) {
	for _, how := range []string{"next page", "sweeper"} {
		t.Run(how, func(t *testing.T) {
			s := newShop(t)
			s.unwatched = true
			ctx := context.Background()
			id, server := s.challenge(t, "en-GB")
			p := s.act(t, s.start(t, id, server), "send", "dest", "sms:0")
			tx, err := s.e.store.Transaction(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			// The judgement of a right code committed; the instance stopped before it ended anything.
			_, err = s.e.store.JudgeEntry(ctx, id, tx.PANHash, s.clock.now().Add(-24*time.Hour),
				func(c acs.ChallengeRow, _ int) (acs.ChallengeRow, bool, error) {
					c.OTP.Finished, c.OTP.Interactions, c.Result = true, 1, "Y"
					return c, false, nil
				})
			if err != nil {
				t.Fatal(err)
			}
			if how == "next page" {
				p = s.act(t, p, "resend")
				if c, _ := s.final(t, p, id); c.TransStatus != "Y" {
					t.Errorf("the next page shows %s, want the Y the entry decided", c.TransStatus)
				}
			} else {
				s.clock.add(acs.IdleLimit + time.Second)
				if n, err := s.b.ExpireStale(ctx); err != nil || n != 1 {
					t.Fatalf("the sweeper ended %d, %v", n, err)
				}
			}
			r, err := s.e.store.Outbox(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(r.Body), `"transStatus":"Y"`) {
				t.Errorf("the RReq does not carry the decided Y: %s", r.Body)
			}
		})
	}
}
