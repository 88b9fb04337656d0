package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/store"
)

// claimAll has n holders claim the job at the same instant, each from its own goroutine, and
// returns how many got it.
func claimAll(t *testing.T, db *store.DB, job string, n int, now time.Time) int {
	t.Helper()
	var won atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			ok, err := db.ClaimJob(context.Background(), job, fmt.Sprintf("instance-%d", i), now, 10*time.Minute, false)
			if err != nil {
				errs <- err
			}
			if ok {
				won.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("claim: %v", err)
	}
	return int(won.Load())
}

// holderOf says who holds the job's lease now, "" when nobody does.
func holderOf(t *testing.T, db *store.DB, job string) string {
	t.Helper()
	var h string
	err := db.Reader().QueryRowContext(context.Background(), db.Rebind(`SELECT holder FROM job_leases WHERE name = ?`), job).Scan(&h)
	if err != nil {
		t.Fatalf("read lease: %v", err)
	}
	return h
}

var leaseChecks = []check{
	{"of many instances claiming a due job at once exactly one wins, once per period", func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		const claimers = 40
		if n := claimAll(t, db, "retention:acs", claimers, base); n != 1 {
			t.Fatalf("%d of %d claimers won the first run, want exactly 1", n, claimers)
		}
		winner := holderOf(t, db, "retention:acs")
		// While the winner runs, nobody else gets the job.
		if n := claimAll(t, db, "retention:acs", claimers, base.Add(time.Minute)); n != 0 {
			t.Fatalf("%d claimers won while the lease was held", n)
		}
		if err := db.FinishJob(ctx, "retention:acs", winner, base.Add(2*time.Minute), base.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		// Later in the same period the run is not due: nobody runs it again.
		if n := claimAll(t, db, "retention:acs", claimers, base.Add(30*time.Minute)); n != 0 {
			t.Fatalf("%d claimers won again within the period", n)
		}
		// The next period has exactly one run again.
		if n := claimAll(t, db, "retention:acs", claimers, base.Add(time.Hour)); n != 1 {
			t.Fatalf("%d claimers won the next period's run, want exactly 1", n)
		}
		last, err := db.JobLastRun(ctx, "retention:acs")
		if err != nil || !last.Equal(base.Add(2*time.Minute)) {
			t.Errorf("last run = %v, %v; want the first run's end", last, err)
		}
	}},
	{"jobs of different names are leased apart", func(t *testing.T, db *store.DB) {
		if n := claimAll(t, db, "retention:ds", 10, base); n != 1 {
			t.Fatalf("%d won the DS job", n)
		}
		if n := claimAll(t, db, "retention:3dss", 10, base); n != 1 {
			t.Fatalf("%d won the 3DS Server job while the DS's was held", n)
		}
	}},
	{"a crashed holder's lease lapses and another instance takes the run over", func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		claim := func(holder string, at time.Time) bool {
			ok, err := db.ClaimJob(ctx, "j", holder, at, 10*time.Minute, false)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if !claim("a", base) {
			t.Fatal("a did not get a free job")
		}
		if claim("b", base.Add(9*time.Minute)) {
			t.Fatal("b took a lease still running")
		}
		if !claim("b", base.Add(10*time.Minute)) {
			t.Fatal("b did not get the job once a's lease ran out")
		}
		// a comes back: its lease is gone, so it must stop, and cannot close b's run.
		if err := db.RenewJob(ctx, "j", "a", base.Add(11*time.Minute), 10*time.Minute); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("renewing a lost lease: %v, want ErrNotFound", err)
		}
		if err := db.FinishJob(ctx, "j", "a", base.Add(11*time.Minute), base.Add(time.Hour)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("finishing with a lost lease: %v, want ErrNotFound", err)
		}
		if err := db.RenewJob(ctx, "j", "b", base.Add(15*time.Minute), 10*time.Minute); err != nil {
			t.Errorf("b renewing its lease: %v", err)
		}
		if claim("c", base.Add(21*time.Minute)) {
			t.Error("c took b's renewed lease")
		}
	}},
	{"a failed run frees the lease and stays due; a run by hand waits only for a running lease", func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if ok, _ := db.ClaimJob(ctx, "j", "a", base, time.Minute, false); !ok {
			t.Fatal("a did not get a free job")
		}
		if ok, _ := db.ClaimJob(ctx, "j", "hand", base, time.Minute, true); ok {
			t.Fatal("a run by hand took a running lease")
		}
		if err := db.ReleaseJob(ctx, "j", "a", base.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		if ok, _ := db.ClaimJob(ctx, "j", "b", base.Add(2*time.Second), time.Minute, false); !ok {
			t.Fatal("the run was not due again after a failed one")
		}
		if err := db.FinishJob(ctx, "j", "b", base.Add(3*time.Second), base.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if ok, _ := db.ClaimJob(ctx, "j", "hand", base.Add(4*time.Second), time.Minute, true); !ok {
			t.Fatal("a run by hand waited for the schedule")
		}
		if err := db.FinishJob(ctx, "j", "hand", base.Add(5*time.Second), time.Time{}); err != nil {
			t.Fatal(err)
		}
		if ok, _ := db.ClaimJob(ctx, "j", "c", base.Add(6*time.Second), time.Minute, false); ok {
			t.Error("a run by hand moved the schedule: the next run came early")
		}
	}},
	{"a lease needs a name, a holder and a duration", func(t *testing.T, db *store.DB) {
		for _, c := range []struct {
			name, holder string
			ttl          time.Duration
		}{{"", "a", time.Minute}, {"j", "", time.Minute}, {"j", "a", 0}} {
			if _, err := db.ClaimJob(context.Background(), c.name, c.holder, base, c.ttl, false); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("claim(%q, %q, %s): %v, want ErrInvalid", c.name, c.holder, c.ttl, err)
			}
		}
	}},
}
