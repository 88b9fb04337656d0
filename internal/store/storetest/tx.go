package storetest

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/open3ds/open3ds/internal/store"
)

// insertExchange writes a minimal exchange through tx with hand-written SQL, as role code writes its
// own queries: ? placeholders rebound for the dialect and times passed as store.Time.
func insertExchange(ctx context.Context, db *store.DB, tx *sql.Tx, id, peer string) error {
	_, err := tx.ExecContext(ctx, db.Rebind(`INSERT INTO exchanges
		(id, role, direction, peer, message_type, outcome, started_at, duration_us)
		VALUES (?, 'ds', 'in', ?, 'AReq', 'Y', ?, 0)`), id, peer, store.Time(base))
	return err
}

func countExchanges(t *testing.T, db *store.DB) int {
	t.Helper()
	var n int
	if err := db.Reader().QueryRowContext(context.Background(), "SELECT count(*) FROM exchanges").Scan(&n); err != nil {
		t.Fatalf("count exchanges: %v", err)
	}
	return n
}

var txChecks = []check{
	{"a transaction whose function returns nil is committed", func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		err := db.WithTx(ctx, func(tx *sql.Tx) error {
			if err := insertExchange(ctx, db, tx, "e1", "p"); err != nil {
				return err
			}
			return insertExchange(ctx, db, tx, "e2", "p")
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := db.RecentExchanges(ctx, 10)
		if err != nil || len(got) != 2 || !got[0].StartedAt.Equal(base) {
			t.Errorf("after commit: %d exchanges (err %v), want 2 starting at %s", len(got), err, base)
		}
	}},
	{"a transaction whose function fails is rolled back and returns that error", func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		refused := errors.New("refused by the test")
		err := db.WithTx(ctx, func(tx *sql.Tx) error {
			if err := insertExchange(ctx, db, tx, "e1", "p"); err != nil {
				return err
			}
			return refused
		})
		if !errors.Is(err, refused) {
			t.Errorf("err = %v, want the function's error", err)
		}
		if n := countExchanges(t, db); n != 0 {
			t.Errorf("%d exchanges kept after rollback, want 0", n)
		}
	}},
	{"a panic inside a transaction rolls it back and frees the store for the next", func(t *testing.T, db *store.DB) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		func() {
			defer func() { recover() }()
			db.WithTx(ctx, func(tx *sql.Tx) error {
				insertExchange(ctx, db, tx, "e1", "p")
				panic("test panic")
			})
		}()
		if err := db.WithTx(ctx, func(tx *sql.Tx) error { return insertExchange(ctx, db, tx, "e2", "p") }); err != nil {
			t.Fatalf("the next transaction: %v", err)
		}
		if n := countExchanges(t, db); n != 1 {
			t.Errorf("%d exchanges kept, want only the second transaction's", n)
		}
	}},
	{"a duplicate key inside a transaction is ErrConflict", func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		mustRecord(t, db, sample("e1", "tx-1", base))
		err := db.WithTx(ctx, func(tx *sql.Tx) error { return insertExchange(ctx, db, tx, "e1", "p") })
		if !errors.Is(err, store.ErrConflict) {
			t.Errorf("err = %v, want ErrConflict", err)
		}
	}},
	{"a missing row inside a transaction is ErrNotFound", func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		err := db.WithTx(ctx, func(tx *sql.Tx) error {
			var peer string
			return tx.QueryRowContext(ctx, db.Rebind("SELECT peer FROM exchanges WHERE id = ?"), "nope").Scan(&peer)
		})
		if !errors.Is(err, store.ErrNotFound) || !errors.Is(err, sql.ErrNoRows) {
			t.Errorf("err = %v, want ErrNotFound wrapping sql.ErrNoRows", err)
		}
	}},
	{"MapError turns a missing row from the read handle into ErrNotFound and leaves other errors be", func(t *testing.T, db *store.DB) {
		var peer string
		err := store.MapError(db.Reader().QueryRowContext(context.Background(),
			db.Rebind("SELECT peer FROM exchanges WHERE id = ?"), "nope").Scan(&peer))
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("err = %v, want ErrNotFound", err)
		}
		other := errors.New("other")
		if got := store.MapError(other); got != other {
			t.Errorf("MapError(other) = %v, want it unchanged", got)
		}
		if store.MapError(nil) != nil {
			t.Errorf("MapError(nil) is not nil")
		}
	}},
	{"the read handle sees committed writes and refuses to write", func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		mustRecord(t, db, sample("e1", "tx-1", base))
		if n := countExchanges(t, db); n != 1 {
			t.Errorf("the read handle sees %d exchanges, want 1", n)
		}
		_, err := db.Reader().ExecContext(ctx, "DELETE FROM exchanges")
		if err == nil {
			t.Errorf("a DELETE through the read handle succeeded")
		}
		if n := countExchanges(t, db); n != 1 {
			t.Errorf("%d exchanges left after a write through the read handle, want 1", n)
		}
	}},
	{"placeholders inside quotes are left alone by Rebind", func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		err := db.WithTx(ctx, func(tx *sql.Tx) error {
			if err := insertExchange(ctx, db, tx, "e1", "?"); err != nil {
				return err
			}
			return insertExchange(ctx, db, tx, "e2", "p")
		})
		if err != nil {
			t.Fatal(err)
		}
		var n int
		q := db.Rebind(`SELECT count(*) FROM exchanges WHERE peer = '?' /* ? */ OR peer = ? -- ?`)
		if err := db.Reader().QueryRowContext(ctx, q, "p").Scan(&n); err != nil || n != 2 {
			t.Errorf("count = %d (err %v), want 2", n, err)
		}
	}},
	{"a fresh store is at the latest schema version", func(t *testing.T, db *store.DB) {
		st, err := db.MigrationStatus(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if latest := len(store.Migrations(db.Dialect())); st.Current != latest || st.Latest != latest || len(st.Pending) != 0 {
			t.Errorf("status = %+v, want current and latest %d, nothing pending", st, latest)
		}
	}},
}
