package otp_test

import (
	"errors"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/otp"
)

var (
	testKey = []byte("0123456789abcdef0123456789abcdef")
	t0      = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
)

func newCodes(tb testing.TB) *otp.Codes {
	tb.Helper()
	c, err := otp.New(testKey, otp.Policy{})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// issued returns a state with a first code sent at t0, and that code.
func issued(tb testing.TB, c *otp.Codes) (string, otp.State) {
	tb.Helper()
	code, s, err := c.Issue(otp.State{TransactionID: "8a880dc0-d2d2-4067-bcb1-b08d1690b26e"}, t0)
	if err != nil {
		tb.Fatal(err)
	}
	return code, s
}

// wrongFor returns a six-digit code that differs from code.
func wrongFor(code string) string {
	n, _ := strconv.Atoi(code)
	return strconv.Itoa(100000 + (n+1)%900000)
}

func TestNewRefusesAShortKey(t *testing.T) {
	if _, err := otp.New([]byte("short"), otp.Policy{}); !errors.Is(err, otp.ErrShortKey) {
		t.Fatalf("err = %v, want ErrShortKey", err)
	}
}

func TestDefaultPolicyHasTheDocumentedLimits(t *testing.T) {
	p := newCodes(t).Policy()
	want := otp.Policy{Digits: 6, Lifetime: 5 * time.Minute, MaxWrong: 3, MaxResends: 3, ResendCoolDown: 30 * time.Second,
		CardLockFailures: 10, CardLockWindow: 24 * time.Hour}
	if p != want {
		t.Fatalf("policy = %+v, want %+v", p, want)
	}
}

func TestIssuedCodeIsSixDigitsAndStoredOnlyAsAHash(t *testing.T) {
	c := newCodes(t)
	code, s := issued(t, c)
	if len(code) != 6 || digitCount(code) != 6 {
		t.Fatalf("code %q is not six digits", code)
	}
	if len(s.Hash) != 32 || string(s.Hash) == code {
		t.Fatalf("hash %x is not an HMAC-SHA-256", s.Hash)
	}
	if s.Sequence != 1 || !s.IssuedAt.Equal(t0) || !s.LastSent.Equal(t0) {
		t.Fatalf("state = %+v", s)
	}
	if _, _, err := c.Issue(s, t0); !errors.Is(err, otp.ErrAlreadyIssued) {
		t.Fatalf("second Issue err = %v, want ErrAlreadyIssued", err)
	}
}

func digitCount(s string) int {
	n := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			n++
		}
	}
	return n
}

func TestHashIsBoundToTheKeyTransactionAndSequence(t *testing.T) {
	c := newCodes(t)
	code, s := issued(t, c)
	other, _ := otp.New([]byte("another key of thirty-two bytes!"), otp.Policy{})
	cases := []struct {
		name  string
		codes *otp.Codes
		alter func(*otp.State)
	}{
		{"a different key does not accept the code", other, func(*otp.State) {}},
		{"the hash moved to another transaction does not accept the code", c, func(s *otp.State) { s.TransactionID = "other" }},
		{"the hash under another sequence number does not accept the code", c, func(s *otp.State) { s.Sequence = 2 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := s
			tc.alter(&st)
			if out, _ := tc.codes.Check(st, code, t0, 0); out.Result == otp.Accepted {
				t.Fatal("accepted")
			}
		})
	}
}

func TestCheck(t *testing.T) {
	c := newCodes(t)
	cases := []struct {
		name        string
		at          time.Duration
		right       bool
		failures24h int
		want        otp.Result
		remaining   int
		cardFailure bool
	}{
		{"the right code in time is accepted", time.Minute, true, 0, otp.Accepted, 3, false},
		{"the right code one nanosecond before expiry is accepted", 5*time.Minute - 1, true, 0, otp.Accepted, 3, false},
		{"the right code at exactly five minutes has expired", 5 * time.Minute, true, 0, otp.Expired, 2, false},
		{"a wrong code leaves two attempts and counts against the card", time.Minute, false, 0, otp.Wrong, 2, true},
		{"a code entered with surrounding spaces is accepted", time.Minute, true, 0, otp.Accepted, 3, false},
		{"the right code on a card with ten failures is refused as locked", time.Minute, true, 10, otp.Locked, 0, false},
		{"a ninth failure on the card is only wrong", time.Minute, false, 8, otp.Wrong, 2, true},
		{"a tenth failure on the card locks it", time.Minute, false, 9, otp.Locked, 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, s := issued(t, c)
			entered := code
			if !tc.right {
				entered = wrongFor(code)
			}
			if tc.name == "a code entered with surrounding spaces is accepted" {
				entered = " " + code + " "
			}
			out, next := c.Check(s, entered, t0.Add(tc.at), tc.failures24h)
			if out.Result != tc.want || out.Remaining != tc.remaining || out.CardFailure != tc.cardFailure {
				t.Fatalf("outcome = %+v (%s), want %s remaining %d cardFailure %v", out, out.Result, tc.want, tc.remaining, tc.cardFailure)
			}
			if next.Interactions != 1 || next.InteractionCounter() != "01" {
				t.Fatalf("interactions = %d", next.Interactions)
			}
			if next.Finished != tc.want.Final() {
				t.Fatalf("finished = %v for %s", next.Finished, tc.want)
			}
		})
	}
}

func TestThreeWrongEntriesExhaustTheTransaction(t *testing.T) {
	c := newCodes(t)
	code, s := issued(t, c)
	var out otp.Outcome
	for i, want := range []otp.Result{otp.Wrong, otp.Wrong, otp.Exhausted} {
		out, s = c.Check(s, wrongFor(code), t0.Add(time.Second), i)
		if out.Result != want {
			t.Fatalf("entry %d: %s, want %s", i+1, out.Result, want)
		}
	}
	if out, _ = c.Check(s, code, t0.Add(time.Second), 3); out.Result != otp.Exhausted {
		t.Fatalf("the right code after three wrong ones gave %s, want exhausted", out.Result)
	}
	if _, _, err := c.Resend(s, t0.Add(time.Hour)); !errors.Is(err, otp.ErrFinished) {
		t.Fatalf("resend after exhaustion: %v, want ErrFinished", err)
	}
}

func TestResendNeverAddsAttempts(t *testing.T) {
	c := newCodes(t)
	code, s := issued(t, c)
	now := t0
	for range 2 {
		_, s = c.Check(s, wrongFor(code), now, 0)
		now = now.Add(31 * time.Second)
		var err error
		if code, s, err = c.Resend(s, now); err != nil {
			t.Fatal(err)
		}
	}
	out, _ := c.Check(s, wrongFor(code), now, 0)
	if out.Result != otp.Exhausted {
		t.Fatalf("third wrong entry after two resends gave %s, want exhausted", out.Result)
	}
}

func TestResendReplacesTheCode(t *testing.T) {
	c := newCodes(t)
	old, s := issued(t, c)
	code, s, err := c.Resend(s, t0.Add(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if s.Sequence != 2 || s.Resends != 1 {
		t.Fatalf("state = %+v", s)
	}
	if old != code {
		if out, _ := c.Check(s, old, t0.Add(31*time.Second), 0); out.Result == otp.Accepted {
			t.Fatal("the replaced code was accepted")
		}
	}
	if out, _ := c.Check(s, code, t0.Add(31*time.Second), 0); out.Result != otp.Accepted {
		t.Fatalf("new code gave %s", out.Result)
	}
	// The new code lives five minutes from its own send, not from the first one.
	if out, _ := c.Check(s, code, t0.Add(30*time.Second+5*time.Minute-1), 0); out.Result != otp.Accepted {
		t.Fatalf("new code near its own expiry gave %s", out.Result)
	}
}

func TestResendLimits(t *testing.T) {
	c := newCodes(t)
	_, s := issued(t, c)
	var cd *otp.CoolDownError
	if _, _, err := c.Resend(s, t0.Add(20*time.Second)); !errors.As(err, &cd) || !errors.Is(err, otp.ErrCoolDown) || cd.Wait != 10*time.Second {
		t.Fatalf("resend after 20 s: %v, want a cool-down of 10 s", err)
	}
	now := t0
	for i := range 3 {
		now = now.Add(30 * time.Second)
		var err error
		if _, s, err = c.Resend(s, now); err != nil {
			t.Fatalf("resend %d: %v", i+1, err)
		}
	}
	if _, _, err := c.Resend(s, now.Add(time.Hour)); !errors.Is(err, otp.ErrNoResendsLeft) {
		t.Fatalf("fourth resend: %v, want ErrNoResendsLeft", err)
	}
	if _, _, err := c.Resend(otp.State{TransactionID: "x"}, now); !errors.Is(err, otp.ErrNotIssued) {
		t.Fatalf("resend before issue: %v, want ErrNotIssued", err)
	}
}

func TestCardLocksAfterTenFailuresAcrossTransactions(t *testing.T) {
	c := newCodes(t)
	failures := 0 // what the ACS records for the card within 24 h
	var last otp.Result
	for tx := 0; failures < 10 && tx < 10; tx++ {
		code, s, _ := c.Issue(otp.State{TransactionID: "tx" + strconv.Itoa(tx)}, t0)
		for !s.Finished {
			var out otp.Outcome
			out, s = c.Check(s, wrongFor(code), t0.Add(time.Second), failures)
			if out.CardFailure {
				failures++
			}
			last = out.Result
		}
	}
	if failures != 10 || last != otp.Locked {
		t.Fatalf("after %d failures the last result was %s, want locked after 10", failures, last)
	}
	code, s, _ := c.Issue(otp.State{TransactionID: "next"}, t0)
	if out, _ := c.Check(s, code, t0.Add(time.Second), failures); out.Result != otp.Locked {
		t.Fatalf("right code on a locked card gave %s", out.Result)
	}
}

func TestInteractionCounterIsCappedAt99(t *testing.T) {
	c := newCodes(t)
	code, s := issued(t, c)
	s.Interactions = 98
	for range 3 {
		_, s = c.Check(s, code, t0, 0)
	}
	if s.InteractionCounter() != "99" {
		t.Fatalf("counter = %s", s.InteractionCounter())
	}
}

func TestSeededSourceGivesRepeatableCodes(t *testing.T) {
	c := newCodes(t)
	a, _, _ := c.WithRand(rand.NewChaCha8([32]byte{1})).Issue(otp.State{TransactionID: "t"}, t0)
	b, _, _ := c.WithRand(rand.NewChaCha8([32]byte{1})).Issue(otp.State{TransactionID: "t"}, t0)
	if a != b {
		t.Fatalf("%s != %s", a, b)
	}
}

func TestIssuersChooseTheCodeLength(t *testing.T) {
	cases := []struct {
		name   string
		digits int
		want   int
	}{
		{"four digits are allowed", 4, 4},
		{"ten digits are allowed", 10, 10},
		{"fewer than four digits become four", 2, 4},
		{"more than ten digits become ten", 12, 10},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newCodes(t).WithPolicy(otp.Policy{Digits: tc.digits})
			code, s, err := c.Issue(otp.State{TransactionID: "t"}, t0)
			if err != nil {
				t.Fatal(err)
			}
			if len(code) != tc.want || digitCount(code) != tc.want {
				t.Fatalf("code %q, want %d digits", code, tc.want)
			}
			if out, _ := c.Check(s, code, t0, 0); out.Result != otp.Accepted {
				t.Fatalf("own code gave %s", out.Result)
			}
		})
	}
}
