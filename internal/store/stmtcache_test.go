package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"testing"
)

// TestSQLiteConnectionsReuseTheirStatements runs the same queries many times, in and out of
// transactions, with a query nested inside the rows of the same text, and checks both the answers and
// that each text was prepared once per connection rather than once per use.
func TestSQLiteConnectionsReuseTheirStatements(t *testing.T) {
	ctx := context.Background()
	c, err := newStmtCachingConnector(filepath.Join(t.TempDir(), "stmts.db") + "?" + sqliteParams + "&_journal_mode=WAL&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(c)
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	const insert, get = `INSERT INTO t (k, v) VALUES (?, ?)`, `SELECT v FROM t WHERE k = ?`
	before := c.prepared.Load()
	for k := range 100 {
		if k%2 == 0 {
			if _, err := db.ExecContext(ctx, insert, k, "v"+string(rune('a'+k%26))); err != nil {
				t.Fatal(err)
			}
			continue
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, insert, k, "v"+string(rune('a'+k%26))); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	for k := range 100 {
		var v string
		if err := db.QueryRowContext(ctx, get, k).Scan(&v); err != nil || v != "v"+string(rune('a'+k%26)) {
			t.Fatalf("row %d = %q, %v", k, v, err)
		}
	}
	// Rows of one query open while the same text runs again for each of them: the inner query gets a
	// statement of its own and the outer rows go on where they were.
	const list = `SELECT k FROM t WHERE k < ? ORDER BY k`
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	outer, err := tx.QueryContext(ctx, list, 5)
	if err != nil {
		t.Fatal(err)
	}
	var seen, inner []int
	for outer.Next() {
		var k int
		if err := outer.Scan(&k); err != nil {
			t.Fatal(err)
		}
		seen = append(seen, k)
		rows, err := tx.QueryContext(ctx, list, k)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			n++
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
		inner = append(inner, n)
	}
	if err := outer.Close(); err != nil {
		t.Fatal(err)
	}
	if want := []int{0, 1, 2, 3, 4}; !slices.Equal(seen, want) || !slices.Equal(inner, want) {
		t.Fatalf("outer rows = %v, inner counts = %v, want %v for both", seen, inner, want)
	}
	// Once the outer rows have closed, the statement is the connection's again.
	var k int
	if err := tx.QueryRowContext(ctx, list, 1).Scan(&k); err != nil || k != 0 {
		t.Fatalf("list after the nested loop = %d, %v", k, err)
	}
	// insert, get and list are three texts on one connection; the nested runs of list were not
	// prepared into the cache.
	if n := c.prepared.Load() - before; n != 3 {
		t.Errorf("prepared %d statements into the cache for 3 query texts run 210 times on one connection, want 3", n)
	}
}
