package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
)

// The rest of the package's tests are black-box; these look at two unexported helpers whose every
// case cannot be reached cheaply through the API.

func TestRebindDollarNumbersPlaceholdersOutsideQuotesAndComments(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"placeholders are numbered in order", "SELECT ? , ?, ?", "SELECT $1 , $2, $3"},
		{"a query without placeholders is unchanged", "SELECT 1", "SELECT 1"},
		{"a ? in a string literal is left alone", "SELECT '?', ?", "SELECT '?', $1"},
		{"a doubled quote does not end the literal", "SELECT 'it''s ?', ?", "SELECT 'it''s ?', $1"},
		{"a ? in a quoted identifier is left alone", `SELECT "a?" FROM t WHERE x = ?`, `SELECT "a?" FROM t WHERE x = $1`},
		{"a ? in a line comment is left alone", "SELECT ? -- why?\n, ?", "SELECT $1 -- why?\n, $2"},
		{"a line comment may end the query", "SELECT ? -- why?", "SELECT $1 -- why?"},
		{"a ? in a block comment is left alone", "SELECT /* ? */ ?", "SELECT /* ? */ $1"},
		{"an unterminated literal is copied as it is", "SELECT ?, 'open ?", "SELECT $1, 'open ?"},
		{"ten and more placeholders get two digits", "?,?,?,?,?,?,?,?,?,?", "$1,$2,$3,$4,$5,$6,$7,$8,$9,$10"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := rebindDollar(tc.in); got != tc.want {
				t.Errorf("rebindDollar(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestSQLiteBusyIsRetryableAndAConstraintIsNot produces real errors from SQLite: SQLITE_BUSY from a
// connection that will not wait for a lock another holds, and a unique violation.
func TestSQLiteBusyIsRetryableAndAConstraintIsNot(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "busy.db")
	holder, err := sql.Open("sqlite", path+"?_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	impatient, err := sql.Open("sqlite", path+"?_busy_timeout=0")
	if err != nil {
		t.Fatal(err)
	}
	defer impatient.Close()
	if _, err := holder.ExecContext(ctx, "CREATE TABLE t (k INTEGER PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}

	conn, err := holder.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	_, busy := impatient.ExecContext(ctx, "INSERT INTO t VALUES (1)")
	if busy == nil || !isRetryable(busy) {
		t.Errorf("a write while another connection holds the lock: err = %v, want a retryable SQLITE_BUSY", busy)
	}
	if _, err := conn.ExecContext(ctx, "INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		t.Fatal(err)
	}

	_, dup := holder.ExecContext(ctx, "INSERT INTO t VALUES (1)")
	if dup == nil || isRetryable(dup) || !isUniqueViolation(dup) {
		t.Errorf("a duplicate key: err = %v, want a unique violation that is not retried", dup)
	}
}
