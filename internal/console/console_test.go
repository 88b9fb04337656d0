package console

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/audit"
)

func TestAnOperatorSignsInWithPasswordAndAuthenticatorAndChangesSomething(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			r := newRig(t, be.open(t), DefaultPolicy)
			pw := r.account("olga", Operator)
			b := r.browser()

			// Without a session every page sends the browser to sign in, keeping where it was going.
			st, loc, _ := b.get("/console/widgets")
			if st != http.StatusSeeOther || loc != "/console/sign-in?next=%2Fconsole%2Fwidgets" {
				t.Fatalf("unsigned page: %d → %q", st, loc)
			}
			secrets := map[string]string{}
			b.signIn("olga", pw, secrets)
			if secrets["olga"] == "" {
				t.Fatal("the first sign-in did not show the authenticator key to enrol")
			}
			st, _, body := b.get("/console/widgets")
			if st != http.StatusOK || !strings.Contains(body, "Widgets: 0") || !strings.Contains(body, "olga") {
				t.Fatalf("widgets page: %d\n%s", st, body)
			}
			st, loc, _ = b.post("/console/widgets/add", url.Values{"csrf": {b.csrf()}})
			if st != http.StatusSeeOther || loc != "/console/widgets" || r.widgets.Load() != 1 {
				t.Fatalf("add: %d → %q, widgets %d", st, loc, r.widgets.Load())
			}
			_, _, body = b.get("/console/widgets")
			if !strings.Contains(body, "Widget added.") {
				t.Error("the notice of the change is not on the next page")
			}
			es, err := r.c.audit.List(context.Background(), audit.Filter{Action: "widget."})
			if err != nil || len(es) != 1 || es[0].Actor != "olga" || es[0].Via != audit.ViaConsole || es[0].Target != "1" {
				t.Fatalf("audit of the change: %+v, %v", es, err)
			}
			// The second sign-in asks for a code and shows no key.
			b2 := r.browser()
			st, loc, _ = b2.passwordStep("olga", pw)
			if st != http.StatusSeeOther {
				t.Fatalf("second sign-in: %d", st)
			}
			_, _, body = b2.get(loc)
			if strings.Contains(body, "totp-secret") {
				t.Error("an enrolled account was shown its authenticator key again")
			}
		})
	}
}

func TestTheSameCodeDoesNotSignInTwice(t *testing.T) {
	r := newRig(t, backends[0].open(t), DefaultPolicy)
	pw := r.account("olga", Operator)
	secrets := map[string]string{}
	r.browser().signIn("olga", pw, secrets)
	r.advance(-totpPeriod * time.Second) // back to the step whose code was just used
	b := r.browser()
	_, loc, _ := b.passwordStep("olga", pw)
	_, _, body := b.get(loc)
	code, _ := TOTPCode(secrets["olga"], r.now())
	st, _, body := b.post("/console/second-factor", url.Values{"csrf": {find(t, csrfField, body, "csrf")}, "code": {code}})
	if st != http.StatusUnauthorized || !strings.Contains(body, "was used already") {
		t.Fatalf("a reused code: %d\n%s", st, body)
	}
}

func TestReadOnlyAccountsSeeButDoNotChangeAndOnlyAdminsManageAccounts(t *testing.T) {
	r := newRig(t, backends[0].open(t), DefaultPolicy)
	secrets := map[string]string{}
	viewer := r.browser()
	viewer.signIn("rita", r.account("rita", ReadOnly), secrets)
	if st, _, _ := viewer.get("/console/widgets"); st != http.StatusOK {
		t.Fatalf("read-only page view: %d", st)
	}
	if st, _, _ := viewer.post("/console/widgets/add", url.Values{"csrf": {viewer.csrf()}}); st != http.StatusForbidden || r.widgets.Load() != 0 {
		t.Fatalf("read-only change: %d, widgets %d", st, r.widgets.Load())
	}
	op := r.browser()
	op.signIn("olga", r.account("olga", Operator), secrets)
	if st, _, _ := op.get("/console/accounts"); st != http.StatusForbidden {
		t.Fatalf("operator on the accounts page: %d", st)
	}
	admin := r.browser()
	admin.signIn("ada", r.account("ada", Admin), secrets)
	st, _, body := admin.post("/console/accounts", url.Values{"csrf": {admin.csrf()}, "name": {"newbie"}, "access": {"operator"}})
	if st != http.StatusOK || !strings.Contains(body, `id="new-password"`) {
		t.Fatalf("create account: %d\n%s", st, body)
	}
	if _, err := r.c.accounts.Get(context.Background(), "newbie"); err != nil {
		t.Fatal(err)
	}
	// Lowering olga's access ends her session at once.
	admin.post("/console/accounts/olga/access", url.Values{"csrf": {admin.csrf()}, "access": {"read-only"}})
	if st, loc, _ := op.get("/console/widgets"); st != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/sign-in") {
		t.Fatalf("olga's session after her access changed: %d → %q", st, loc)
	}
}

func TestAFormWithoutTheSessionsTokenChangesNothing(t *testing.T) {
	r := newRig(t, backends[0].open(t), DefaultPolicy)
	b := r.browser()
	b.signIn("olga", r.account("olga", Operator), map[string]string{})
	for _, tok := range []string{"", "00", strings.Repeat("ab", 32)} {
		if st, _, _ := b.post("/console/widgets/add", url.Values{"csrf": {tok}}); st != http.StatusForbidden {
			t.Errorf("csrf %q: status %d", tok, st)
		}
	}
	if r.widgets.Load() != 0 {
		t.Fatalf("a forged form changed something: %d widgets", r.widgets.Load())
	}
	// The sign-in form has its own token.
	st, _, _ := b.post("/console/sign-in", url.Values{"name": {"olga"}, "password": {"x"}})
	if st != http.StatusForbidden {
		t.Fatalf("sign-in without its form token: %d", st)
	}
}

// The attempt limit holds however many wrong passwords arrive at once: exactly MaxAttempts of them
// are checked and recorded, the rest are refused as locked, and then the right password is refused
// too until the lock runs out or an admin unlocks the account.
func TestTheAttemptLimitHoldsUnderParallelWrongPasswords(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			r := newRig(t, be.open(t), DefaultPolicy)
			pw := r.account("olga", Operator)
			const n = 40
			var wg sync.WaitGroup
			for range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					b := r.browser()
					if st, _, _ := b.passwordStep("olga", "wrong password!"); st != http.StatusUnauthorized {
						t.Errorf("wrong password: status %d", st)
					}
				}()
			}
			wg.Wait()
			ctx := context.Background()
			failed, _ := r.c.audit.List(ctx, audit.Filter{Action: "signin.failed", Limit: 500})
			refused, _ := r.c.audit.List(ctx, audit.Filter{Action: "signin.refused", Limit: 500})
			if len(failed) != DefaultPolicy.MaxAttempts || len(failed)+len(refused) != n {
				t.Fatalf("%d passwords checked and %d refused of %d; want %d checked", len(failed), len(refused), n, DefaultPolicy.MaxAttempts)
			}
			ac, _ := r.c.accounts.Get(ctx, "olga")
			if !ac.Locked(r.now()) {
				t.Fatalf("account not locked: %+v", ac)
			}
			if st, _, _ := r.browser().passwordStep("olga", pw); st != http.StatusUnauthorized {
				t.Fatalf("right password on a locked account: %d", st)
			}
			// The lock runs out on its own …
			r.advance(DefaultPolicy.LockFor + time.Second)
			if st, _, _ := r.browser().passwordStep("olga", pw); st != http.StatusSeeOther {
				t.Fatalf("right password after the lock ran out: %d", st)
			}
		})
	}
}

func TestWrongCodesCountTowardsTheLockToo(t *testing.T) {
	r := newRig(t, backends[0].open(t), DefaultPolicy)
	pw := r.account("olga", Operator)
	secrets := map[string]string{}
	r.browser().signIn("olga", pw, secrets)
	b := r.browser()
	_, loc, _ := b.passwordStep("olga", pw)
	for i := range DefaultPolicy.MaxAttempts {
		_, _, body := b.get(loc)
		if !strings.Contains(body, "csrf") {
			t.Fatalf("attempt %d: the code page is gone\n%s", i, body)
		}
		st, _, _ := b.post("/console/second-factor", url.Values{"csrf": {find(t, csrfField, body, "csrf")}, "code": {"000000"}})
		if st != http.StatusUnauthorized {
			t.Fatalf("wrong code %d: %d", i, st)
		}
	}
	ac, _ := r.c.accounts.Get(context.Background(), "olga")
	if !ac.Locked(r.now()) {
		t.Fatalf("five wrong codes did not lock the account: %+v", ac)
	}
	// An admin unlocks it.
	if err := r.c.accounts.Unlock(context.Background(), "olga"); err != nil {
		t.Fatal(err)
	}
	r.browser().signIn("olga", pw, secrets)
}

func TestSessionsEndWhenIdleAndOnSignOut(t *testing.T) {
	r := newRig(t, backends[0].open(t), DefaultPolicy)
	pw := r.account("olga", Operator)
	secrets := map[string]string{}
	b := r.browser()
	b.signIn("olga", pw, secrets)
	r.advance(DefaultPolicy.IdleTimeout + time.Minute)
	if st, loc, _ := b.get("/console/widgets"); st != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/sign-in") {
		t.Fatalf("idle session: %d → %q", st, loc)
	}
	b.signIn("olga", pw, secrets)
	if st, _, _ := b.post("/console/sign-out", url.Values{"csrf": {b.csrf()}}); st != http.StatusSeeOther {
		t.Fatalf("sign out: %d", st)
	}
	if st, _, _ := b.get("/console/widgets"); st != http.StatusSeeOther {
		t.Fatalf("page after sign-out: %d", st)
	}
}

func TestPasswordsAreArgon2idAndCheckedAsSuch(t *testing.T) {
	h, err := HashPassword("correct horse battery", DefaultArgon2)
	if err != nil || !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q, %v", h, err)
	}
	if ok, stale, err := CheckPassword(h, "correct horse battery", DefaultArgon2); !ok || stale || err != nil {
		t.Fatalf("right password: %v %v %v", ok, stale, err)
	}
	if ok, _, _ := CheckPassword(h, "correct horse batterx", DefaultArgon2); ok {
		t.Fatal("wrong password accepted")
	}
	weak, _ := HashPassword("pw", Argon2Params{Memory: 1024, Time: 1, Threads: 1})
	if _, stale, _ := CheckPassword(weak, "pw", DefaultArgon2); !stale {
		t.Error("a hash made with weaker settings is not reported stale")
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=1,t=1,p=1$AAAA$AAAA", "$argon2id$v=19$m=x$a$b", "plain"} {
		if _, _, err := CheckPassword(bad, "pw", DefaultArgon2); err == nil {
			t.Errorf("%q accepted as a hash", bad)
		}
	}
}

// RFC 6238, appendix B: the SHA-1 vectors, cut to six digits.
func TestTOTPMatchesTheRFCVectors(t *testing.T) {
	secret := []byte("12345678901234567890")
	for _, v := range []struct {
		unix int64
		code string
	}{{59, "287082"}, {1111111109, "081804"}, {1111111111, "050471"}, {1234567890, "005924"}, {2000000000, "279037"}} {
		if got := totpCode(secret, totpStep(time.Unix(v.unix, 0))); got != v.code {
			t.Errorf("at %d: %s, want %s", v.unix, got, v.code)
		}
		if matchTOTP(secret, v.code, time.Unix(v.unix+totpPeriod, 0)) == 0 {
			t.Errorf("at %d: a code one step old is refused", v.unix)
		}
		if matchTOTP(secret, v.code, time.Unix(v.unix+3*totpPeriod, 0)) != 0 {
			t.Errorf("at %d: a code three steps old is accepted", v.unix)
		}
	}
}
