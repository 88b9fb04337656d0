package storetest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/open3ds/open3ds/internal/store"
)

var groupChecks = []check{
	{"many callers writing at once through WithGroupTx all commit, each its own rows", func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		const callers = 200
		errs := groupCallers(ctx, db, callers, func(ctx context.Context, tx *sql.Tx, i int) error {
			if err := insertExchange(ctx, db, tx, fmt.Sprintf("g%d-a", i), "p"); err != nil {
				return err
			}
			return insertExchange(ctx, db, tx, fmt.Sprintf("g%d-b", i), "p")
		})
		for i, err := range errs {
			if err != nil {
				t.Fatalf("caller %d: %v", i, err)
			}
		}
		if n := countExchanges(t, db); n != 2*callers {
			t.Fatalf("%d rows after %d callers wrote two each", n, callers)
		}
	}},
	{"a caller whose function fails gets its error and loses its writes, its neighbours keep theirs", func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		refused := errors.New("refused by the test")
		const callers = 60
		errs := groupCallers(ctx, db, callers, func(ctx context.Context, tx *sql.Tx, i int) error {
			if err := insertExchange(ctx, db, tx, fmt.Sprintf("h%d", i), "p"); err != nil {
				return err
			}
			switch i % 3 {
			case 1:
				return refused // after a write, which must be undone
			case 2:
				// A duplicate key fails inside the database, after this caller's first row.
				return insertExchange(ctx, db, tx, fmt.Sprintf("h%d", i), "p")
			}
			return nil
		})
		for i, err := range errs {
			want := map[int]func(error) bool{0: func(e error) bool { return e == nil },
				1: func(e error) bool { return errors.Is(e, refused) },
				2: func(e error) bool { return errors.Is(e, store.ErrConflict) }}[i%3]
			if !want(err) {
				t.Errorf("caller %d (kind %d): %v", i, i%3, err)
			}
		}
		got, err := db.RecentExchanges(ctx, store.MaxRecent)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range got {
			var i int
			fmt.Sscanf(strings.TrimPrefix(e.ID, "h"), "%d", &i)
			if i%3 != 0 {
				t.Errorf("row %s of a failed caller was kept", e.ID)
			}
		}
		if len(got) != callers/3 {
			t.Errorf("%d rows kept, want %d", len(got), callers/3)
		}
	}},
	{"a caller whose function panics panics in its own goroutine, and the next caller still commits", func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		func() {
			defer func() {
				if r := recover(); r != "boom" {
					t.Errorf("recovered %v, want the function's own panic", r)
				}
			}()
			db.WithGroupTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
				if err := insertExchange(ctx, db, tx, "p1", "p"); err != nil {
					return err
				}
				panic("boom")
			})
		}()
		if err := db.WithGroupTx(ctx, func(ctx context.Context, tx *sql.Tx) error { return insertExchange(ctx, db, tx, "p2", "p") }); err != nil {
			t.Fatal(err)
		}
		if n := countExchanges(t, db); n != 1 {
			t.Errorf("%d rows, want only the second caller's", n)
		}
	}},
	{"a lone caller whose function fails has it run once", func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		refused := errors.New("refused by the test")
		runs := 0
		err := db.WithGroupTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
			runs++
			if err := insertExchange(ctx, db, tx, "once", "p"); err != nil {
				return err
			}
			return refused
		})
		if !errors.Is(err, refused) || runs != 1 {
			t.Errorf("got %v after %d runs, want the function's error after one", err, runs)
		}
		if n := countExchanges(t, db); n != 0 {
			t.Errorf("%d rows kept of a failed caller", n)
		}
	}},
	{"a caller whose context has ended is refused without writing", func(t *testing.T, db *store.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := db.WithGroupTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
			return insertExchange(context.Background(), db, tx, "c1", "p")
		})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v", err)
		}
		if n := countExchanges(t, db); n != 0 {
			t.Errorf("%d rows written for a cancelled caller", n)
		}
	}},
	{"after Close a grouped write is refused, not left waiting", func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := db.WithGroupTx(ctx, func(ctx context.Context, tx *sql.Tx) error { return insertExchange(ctx, db, tx, "x1", "p") }); err != nil {
			t.Fatal(err)
		}
		db.Close()
		if err := db.WithGroupTx(ctx, func(ctx context.Context, tx *sql.Tx) error { return nil }); err == nil {
			t.Fatal("a write after Close reported success")
		}
	}},
}

// groupCallers runs fn for callers 0..n-1 at once, each through its own WithGroupTx, and returns
// what each got.
func groupCallers(ctx context.Context, db *store.DB, n int, fn func(ctx context.Context, tx *sql.Tx, i int) error) []error {
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			errs[i] = db.WithGroupTx(ctx, func(ctx context.Context, tx *sql.Tx) error { return fn(ctx, tx, i) })
		})
	}
	wg.Wait()
	return errs
}
