package acs_test

import (
	"context"
	"net/http"
	"testing"
)

// authenticate plays one challenge of the enrolled card with the right code and returns its CRes
// transStatus.
func (s *shop) authenticate(tb testing.TB) string {
	tb.Helper()
	n := len(s.outbox.Messages(mobile))
	id, server := s.challenge(tb, "en-GB")
	first := s.start(tb, id, server)
	if first.field("cres") != "" {
		// A locked card ends on the first page, before any code is sent.
		cres, _ := s.final(tb, first, id)
		return cres.TransStatus
	}
	p := s.act(tb, first, "send", "dest", "sms:0")
	p = s.act(tb, p, "submit", "code", s.code(tb, mobile, n+1))
	cres, _ := s.final(tb, p, id)
	return cres.TransStatus
}

func TestALockedCardAuthenticatesAgainAfterTheIssuerUnlocksIt(t *testing.T) {
	s := newShop(t)
	ctx := context.Background()
	ch, err := s.e.store.CardholderByPAN(ctx, panEnrolled)
	if err != nil {
		t.Fatal(err)
	}
	// Ten failed entries in the last day lock the card under the default policy.
	for range 10 {
		if err := s.e.store.RecordOTPFailure(ctx, s.e.store.LookupHash(panEnrolled), s.clock.now()); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.authenticate(t); got != "N" {
		t.Fatalf("the locked card authenticated with transStatus %s, want N", got)
	}

	var ans struct {
		ID              string
		ClearedFailures int
	}
	if st := call(t, "POST", s.e.admin+"/v1/cardholders/"+ch.ID+"/unlock", "", nil, nil); st != http.StatusUnauthorized {
		t.Errorf("an unlock without the token answered %d, want 401", st)
	}
	if st := call(t, "POST", s.e.admin+"/v1/cardholders/"+ch.ID+"/unlock", adminToken, nil, &ans); st != http.StatusOK {
		t.Fatalf("unlock answered %d", st)
	}
	if ans.ID != ch.ID || ans.ClearedFailures < 10 {
		t.Errorf("unlock answered %+v, want the cardholder and at least 10 cleared failures", ans)
	}
	if got := s.authenticate(t); got != "Y" {
		t.Errorf("after the unlock the card got transStatus %s, want Y", got)
	}

	if st := call(t, "POST", s.e.admin+"/v1/cardholders/"+ch.ID+"/unlock", adminToken, nil, &ans); st != http.StatusOK || ans.ClearedFailures != 0 {
		t.Errorf("a second unlock answered %d %+v, want 200 with nothing cleared", st, ans)
	}
	if st := call(t, "POST", s.e.admin+"/v1/cardholders/no-such-card/unlock", adminToken, nil, nil); st != http.StatusNotFound {
		t.Errorf("unlocking an unknown cardholder answered %d, want 404", st)
	}
}
