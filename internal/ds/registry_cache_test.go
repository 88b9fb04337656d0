package ds_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/ds"
	"github.com/open3ds/open3ds/internal/store"
)

// Two DS instances share one database. The one that serves its registry from memory sees its own
// changes at once and another instance's changes once it has read the serial again, and never
// before: an ACS removed elsewhere keeps being found only until then.
func TestTheRegistryInMemoryFollowsChangesMadeByAnotherInstance(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := b.open(t)
			mine, other := ds.NewSQLStore(db), ds.NewSQLStore(db)
			mine.RegistryRecheck = time.Hour
			seedRegistry(t, other)

			if a, err := mine.ACS(ctx, "bank"); err != nil || a.URL != testACS("bank").URL {
				t.Fatalf("ACS bank: %+v, %v", a, err)
			}
			// Another instance moves bank's URL: an hour's recheck still has the old one.
			moved := testACS("bank")
			moved.URL = "https://127.0.0.1:2/bank-moved"
			must(t, other.ChangeACS(ctx, moved))
			if a, _ := mine.ACS(ctx, "bank"); a.URL != testACS("bank").URL {
				t.Errorf("with an hour between rechecks, another instance's change showed at once: %s", a.URL)
			}
			// A change through this instance drops the copy: both changes show.
			must(t, mine.AddRange(ctx, testRange("6000000000000000", "6000000000009999", "other")))
			if a, _ := mine.ACS(ctx, "bank"); a.URL != moved.URL {
				t.Errorf("after a change of its own, the instance still routes bank to %s", a.URL)
			}
			if r, err := mine.FindRange(ctx, "6000000000000042"); err != nil || r.ACS != "other" {
				t.Errorf("the range added by this instance: %+v, %v", r, err)
			}

			// With a short recheck, another instance's removals reach this one.
			mine.RegistryRecheck = 20 * time.Millisecond
			must(t, other.RemoveRange(ctx, "5100000000000000"))
			must(t, other.RemoveThreeDSServer(ctx, "shop"))
			deadline := time.Now().Add(10 * time.Second)
			for {
				_, rerr := mine.FindRange(ctx, "5100000000000001")
				_, serr := mine.ThreeDSServer(ctx, "shop")
				if errors.Is(rerr, store.ErrNotFound) && errors.Is(serr, store.ErrNotFound) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("another instance's removals never reached this one: range %v, 3DS Server %v", rerr, serr)
				}
				time.Sleep(10 * time.Millisecond)
			}
			sc, err := mine.Scheme(ctx)
			want, _ := other.Scheme(ctx)
			if err != nil || sc.Serial != want.Serial {
				t.Errorf("the scheme in memory is at serial %d, the database's at %d (%v)", sc.Serial, want.Serial, err)
			}
		})
	}
}

// For any PAN, the range found in memory is the one the database finds: same length only, the
// last range starting at or before the PAN, and nothing in the gaps.
func TestTheRegistryInMemoryFindsTheSameRangesAsTheDatabase(t *testing.T) {
	ctx := context.Background()
	db := backends[0].open(t)
	tables, mem := ds.NewSQLStore(db), ds.NewSQLStore(db)
	mem.RegistryRecheck = time.Hour
	must(t, tables.AddACS(ctx, testACS("bank")))
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 60 {
		// Ranges of 16 and 19 digits with gaps between them.
		start := 4000000000000000 + int64(i)*100000 + rng.Int64N(50000)
		end := start + rng.Int64N(40000)
		must(t, tables.AddRange(ctx, testRange(fmt.Sprint(start), fmt.Sprint(end), "bank")))
		if i%3 == 0 {
			must(t, tables.AddRange(ctx, testRange(fmt.Sprint(start)+"000", fmt.Sprint(end)+"999", "bank")))
		}
	}
	found, gaps := 0, 0
	for range 3000 {
		pan := fmt.Sprint(3999999999990000 + rng.Int64N(6100000))
		if rng.IntN(4) == 0 {
			pan += fmt.Sprintf("%03d", rng.IntN(1000))
		}
		want, werr := tables.FindRange(ctx, pan)
		got, gerr := mem.FindRange(ctx, pan)
		if errors.Is(werr, store.ErrNotFound) != errors.Is(gerr, store.ErrNotFound) || want.Start != got.Start || want.End != got.End {
			t.Fatalf("PAN %s: the database finds %s–%s (%v), memory %s–%s (%v)", pan, want.Start, want.End, werr, got.Start, got.End, gerr)
		}
		if werr == nil {
			found++
		} else {
			gaps++
		}
	}
	// Both answers must have been compared many times, or the loop proved nothing.
	if found < 100 || gaps < 100 {
		t.Errorf("of 3,000 PANs %d fell in a range and %d in a gap: the test no longer exercises both", found, gaps)
	}
}
