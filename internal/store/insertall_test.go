package store_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/open3ds/open3ds/internal/store"
	"github.com/open3ds/open3ds/internal/store/storetest"
)

// InsertAll stores its rows all together or not at all, on both stores: on PostgreSQL as one
// statement, on SQLite in the grouped commit.
func TestInsertAllAndExecStoreEveryRowOrNone(t *testing.T) {
	for name, open := range map[string]func(testing.TB) *store.DB{"sqlite": storetest.OpenSQLite, "postgres": storetest.OpenPostgres} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db := open(t)
			if err := db.WithTx(ctx, func(tx *sql.Tx) error {
				for _, q := range []string{`CREATE TABLE ia_a (id TEXT PRIMARY KEY, n INTEGER NOT NULL)`,
					`CREATE TABLE ia_b (id TEXT PRIMARY KEY, note TEXT)`} {
					if _, err := tx.ExecContext(ctx, q); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			count := func(table string) int {
				var n int
				if err := db.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}

			if err := db.InsertAll(ctx,
				store.Insert{Query: `INSERT INTO ia_a (id, n) VALUES (?, ?)`, Args: []any{"x", 1}},
				store.Insert{Query: `INSERT INTO ia_b (id, note) VALUES (?, ?)`, Args: []any{"x", "it's ? here"}},
				store.Insert{Query: `INSERT INTO ia_a (id, n) VALUES (?, ?)`, Args: []any{"y", 2}}); err != nil {
				t.Fatal(err)
			}
			var note string
			if err := db.Reader().QueryRowContext(ctx, db.Rebind(`SELECT note FROM ia_b WHERE id = ?`), "x").Scan(&note); err != nil || note != "it's ? here" {
				t.Fatalf("the second row: %q, %v", note, err)
			}
			if a, b := count("ia_a"), count("ia_b"); a != 2 || b != 1 {
				t.Fatalf("stored %d and %d rows, want 2 and 1", a, b)
			}

			// The last insert collides: neither of the others stays.
			err := db.InsertAll(ctx,
				store.Insert{Query: `INSERT INTO ia_a (id, n) VALUES (?, ?)`, Args: []any{"z", 3}},
				store.Insert{Query: `INSERT INTO ia_b (id, note) VALUES (?, ?)`, Args: []any{"z", nil}},
				store.Insert{Query: `INSERT INTO ia_a (id, n) VALUES (?, ?)`, Args: []any{"x", 4}})
			if !errors.Is(err, store.ErrConflict) {
				t.Fatalf("a duplicate key: %v, want ErrConflict", err)
			}
			if a, b := count("ia_a"), count("ia_b"); a != 2 || b != 1 {
				t.Errorf("after the failed insert: %d and %d rows, want 2 and 1 as before", a, b)
			}
			if err := db.InsertAll(ctx, store.Insert{Query: `INSERT INTO ia_b (id) VALUES (?)`, Args: []any{"lone"}}); err != nil || count("ia_b") != 2 {
				t.Errorf("a lone insert: %v", err)
			}

			// Exec: one statement, and how many rows it changed.
			if n, err := db.Exec(ctx, `UPDATE ia_a SET n = n + 10 WHERE n < ?`, 3); err != nil || n != 2 {
				t.Errorf("an update of two rows: %d, %v", n, err)
			}
			if n, err := db.Exec(ctx, `UPDATE ia_a SET n = 0 WHERE id = ?`, "nobody"); err != nil || n != 0 {
				t.Errorf("an update of no row: %d, %v", n, err)
			}
			if _, err := db.Exec(ctx, `INSERT INTO ia_a (id, n) VALUES (?, ?)`, "x", 5); !errors.Is(err, store.ErrConflict) {
				t.Errorf("a duplicate key through Exec: %v, want ErrConflict", err)
			}
		})
	}
}
