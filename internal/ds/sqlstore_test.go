package ds_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/ds"
	"github.com/open3ds/open3ds/internal/httpx"
	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/store/storetest"
)

// backends opens one fresh store per dialect, so every contract test runs against both.
var backends = []struct {
	name string
	open func(testing.TB) *store.DB
}{
	{"sqlite", storetest.OpenSQLite},
	{"postgres", storetest.OpenPostgres},
}

// forEachBackend runs a contract test on each dialect twice: reading the registry from the
// database, and serving it from memory as `serve ds` does (registry_cache.go), so that the copy
// answers exactly as the tables do.
func forEachBackend(t *testing.T, fn func(t *testing.T, s *ds.SQLStore)) {
	for _, b := range backends {
		for _, cached := range []bool{false, true} {
			name := b.name
			if cached {
				name += "/registry-in-memory"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				s := ds.NewSQLStore(b.open(t))
				if cached {
					s.RegistryRecheck = time.Hour
				}
				fn(t, s)
			})
		}
	}
}

func testACS(name string) ds.ACS {
	return ds.ACS{Name: name, ReferenceNumber: "ACS-REF-" + name, OperatorID: "OP-" + name, URL: "https://127.0.0.1:1/" + name}
}

func testRange(start, end, acs string) ds.Range {
	return ds.Range{Start: start, End: end, ACS: acs, ACSStart: "2.1.0", ACSEnd: "2.3.1", DSStart: "2.1.0", DSEnd: "2.3.1",
		MethodURL: "https://acs.example/method", ACSInfoInd: []string{"01", "02"}}
}

func TestStoreRefusesAnOverlappingRangeNamingTheRangeItOverlaps(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *ds.SQLStore) {
		ctx := context.Background()
		must(t, s.AddACS(ctx, testACS("bank")))
		must(t, s.AddRange(ctx, testRange("4000000000000000", "4000000000009999", "bank")))
		before, err := s.Scheme(ctx)
		must(t, err)
		for _, r := range []ds.Range{
			testRange("4000000000005000", "4000000000019999", "bank"), // tail overlap
			testRange("3999999999999999", "4000000000000000", "bank"), // touches the start
			testRange("4000000000000100", "4000000000000200", "bank"), // nested
		} {
			err := s.AddRange(ctx, r)
			var p *httpx.Problem
			if !errors.As(err, &p) || p.Status != 409 || !strings.Contains(p.Detail, "4000000000000000–4000000000009999") {
				t.Errorf("add %s–%s: got %v, want a 409 naming the overlapped range", r.Start, r.End, err)
			}
		}
		// A refused change leaves nothing behind: no new serial, no change to send in a PReq delta.
		if after, err := s.Scheme(ctx); err != nil || after.Serial != before.Serial {
			t.Errorf("refused adds moved the serial from %d to %d (%v)", before.Serial, after.Serial, err)
		}
		if changes, _, err := s.RangesSince(ctx, before.Serial); err != nil || len(changes) != 0 {
			t.Errorf("refused adds left %d changes (%v)", len(changes), err)
		}
		// Another length never overlaps, and neither does the next range up.
		must(t, s.AddRange(ctx, testRange("4000000000000", "4000000009999", "bank")))
		must(t, s.AddRange(ctx, testRange("4000000000010000", "4000000000019999", "bank")))
	})
}

func TestStoreFindsTheRangeHoldingAPAN(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *ds.SQLStore) {
		ctx := context.Background()
		must(t, s.AddACS(ctx, testACS("bank")))
		must(t, s.AddRange(ctx, testRange("4000000000000000", "4000000000009999", "bank")))
		r, err := s.FindRange(ctx, "4000000000001091")
		if err != nil || r.Start != "4000000000000000" || r.ACS != "bank" || strings.Join(r.ACSInfoInd, ",") != "01,02" {
			t.Fatalf("FindRange = %+v, %v", r, err)
		}
		for _, pan := range []string{"4000000000010000", "400000000000109", "40000000000010910"} {
			if _, err := s.FindRange(ctx, pan); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("FindRange(%d digits) = %v, want ErrNotFound", len(pan), err)
			}
		}
	})
}

func TestStoreFoldsRangeChangesSinceASerialIntoOneActionPerRange(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *ds.SQLStore) {
		ctx := context.Background()
		must(t, s.AddACS(ctx, testACS("bank")))
		must(t, s.AddRange(ctx, testRange("4000000000000000", "4000000000000999", "bank"))) // will be modified
		must(t, s.AddRange(ctx, testRange("4000000000001000", "4000000000001999", "bank"))) // will be deleted
		must(t, s.AddRange(ctx, testRange("4000000000002000", "4000000000002999", "bank"))) // untouched
		_, serial, err := s.Ranges(ctx)
		must(t, err)
		changed := testRange("4000000000000000", "4000000000000499", "bank")
		must(t, s.ChangeRange(ctx, changed))
		must(t, s.RemoveRange(ctx, "4000000000001000"))
		must(t, s.AddRange(ctx, testRange("4000000000003000", "4000000000003999", "bank"))) // added
		must(t, s.AddRange(ctx, testRange("4000000000004000", "4000000000004999", "bank"))) // added, then gone
		must(t, s.RemoveRange(ctx, "4000000000004000"))

		got, current, err := s.RangesSince(ctx, serial)
		must(t, err)
		var summary []string
		for _, c := range got {
			summary = append(summary, c.Action+":"+c.Range.Start+"-"+c.Range.End)
		}
		want := "M:4000000000000000-4000000000000499 D:4000000000001000-4000000000001999 A:4000000000003000-4000000000003999"
		if strings.Join(summary, " ") != want {
			t.Errorf("changes = %s\nwant      %s", strings.Join(summary, " "), want)
		}
		if current != serial+5 {
			t.Errorf("current serial %d, want %d", current, serial+5)
		}
		if _, _, err := s.RangesSince(ctx, current+1); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a serial from the future: %v, want ErrNotFound", err)
		}
	})
}

func TestStoreKeepsEachRequestorIDWithOneThreeDSServer(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *ds.SQLStore) {
		ctx := context.Background()
		must(t, s.AddThreeDSServer(ctx, ds.ThreeDSServer{Name: "psp", ReferenceNumber: "REF", RequestorIDs: []string{"R1", "R2"}}))
		err := s.AddThreeDSServer(ctx, ds.ThreeDSServer{Name: "other", ReferenceNumber: "REF", RequestorIDs: []string{"R2"}})
		var p *httpx.Problem
		if !errors.As(err, &p) || p.Status != 409 {
			t.Fatalf("second owner of R2: %v, want 409", err)
		}
		if _, err := s.ThreeDSServer(ctx, "other"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the refused 3DS Server was half-written: %v", err)
		}
		owner, err := s.ThreeDSServer(ctx, "psp")
		if err != nil || !slices.Contains(owner.RequestorIDs, "R2") {
			t.Errorf("R2 is no longer psp's: %+v, %v", owner, err)
		}
		must(t, s.ChangeThreeDSServer(ctx, ds.ThreeDSServer{Name: "psp", ReferenceNumber: "REF2", RequestorIDs: []string{"R3"}}))
		got, err := s.ThreeDSServer(ctx, "psp")
		if err != nil || got.ReferenceNumber != "REF2" || strings.Join(got.RequestorIDs, ",") != "R3" {
			t.Errorf("after change: %+v, %v", got, err)
		}
	})
}

func TestStorePacesPReqsButAdmitsAReloadOwedAfter307(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *ds.SQLStore) {
		ctx := context.Background()
		now := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
		steps := []struct {
			at   time.Duration
			full bool
			owe  bool
			want bool
		}{
			{0, true, false, true},
			{time.Minute, true, false, false},
			{2 * time.Minute, false, true, false}, // refused, but now owed
			{3 * time.Minute, true, false, true},  // the owed reload
			{4 * time.Minute, true, false, false},
			{time.Hour + 3*time.Minute, false, false, true},
		}
		for i, st := range steps {
			if st.owe {
				must(t, s.OweReload(ctx, "psp"))
			}
			ok, err := s.PacePReq(ctx, "psp", now.Add(st.at), time.Hour, st.full)
			if err != nil || ok != st.want {
				t.Errorf("step %d: admitted %v, %v; want %v", i, ok, err, st.want)
			}
		}
	})
}

func TestStoreRemembersTransactions(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *ds.SQLStore) {
		ctx := context.Background()
		want := ds.Transaction{DSTransID: "d1", ThreeDSServerTransID: "s1", ACSTransID: "a1", ACS: "bank", ThreeDSServer: "psp",
			ThreeDSServerURL: "https://3dss/rreq", MessageVersion: "2.2.0", MessageCategory: "01", DeviceChannel: "02",
			MaskedPAN: "400000******1091", Outcome: "C", CreatedAt: time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)}
		must(t, s.CreateTransaction(ctx, want))
		got, err := s.Transaction(ctx, "d1")
		if err != nil || !got.CreatedAt.Equal(want.CreatedAt) {
			t.Fatalf("Transaction = %+v, %v", got, err)
		}
		got.CreatedAt = want.CreatedAt
		if got != want {
			t.Errorf("got %+v\nwant %+v", got, want)
		}
		if _, err := s.Transaction(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown transaction: %v", err)
		}
	})
}

// SetStandIn changes the two stand-in policies alone, says what they were, refuses a policy that is
// none, and parallel changes each take their turn: none fails and each bumps the serial once.
func TestStoreSetsTheStandInPoliciesAloneAndSaysWhatTheyReplaced(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *ds.SQLStore) {
		ctx := context.Background()
		sc, err := s.Scheme(ctx)
		must(t, err)
		sc.ECI = ds.ECIMastercard
		sc, err = s.SetScheme(ctx, sc)
		must(t, err)
		before, after, err := s.SetStandIn(ctx, ds.PolicyNotEnrolled, ds.PolicyAttempts)
		must(t, err)
		if before.NotEnrolled != ds.PolicyAttempts || before.Unavailable != ds.PolicyUnavailable ||
			after.NotEnrolled != ds.PolicyNotEnrolled || after.Unavailable != ds.PolicyAttempts || after.ECI != ds.ECIMastercard {
			t.Errorf("SetStandIn: before %+v, after %+v", before, after)
		}
		var p *httpx.Problem
		if _, _, err := s.SetStandIn(ctx, "maybe", ds.PolicyAttempts); !errors.As(err, &p) || p.Status != 422 {
			t.Errorf("a policy that is none: %v", err)
		}
		const n = 16
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p := ds.PolicyAttempts
				if i%2 == 0 {
					p = ds.PolicyUnavailable
				}
				_, _, err := s.SetStandIn(ctx, p, p)
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			must(t, err)
		}
		if last, err := s.Scheme(ctx); err != nil || last.Serial != after.Serial+n {
			t.Errorf("after %d parallel changes the serial is %d, want %d (%v)", n, last.Serial, after.Serial+n, err)
		}
	})
}
