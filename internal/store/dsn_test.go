package store_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/open3ds/open3ds/internal/store"
)

func TestOpenRefusesABadDSNWithoutRepeatingItsPassword(t *testing.T) {
	tests := []struct {
		name, dsn, wantInErr string
	}{
		{"an unknown scheme is named", "mysql://app:hunter2@db.example/open3ds", `unknown DSN scheme "mysql"`},
		{"a bare path has no scheme", "open3ds.db", "no scheme"},
		{"a sqlite DSN without a path is refused", "sqlite:", "names no file"},
		{"an in-memory SQLite database is refused", "sqlite::memory:", "in-memory"},
		{"a sqlite DSN with parameters is refused", "sqlite:x.db?_pragma=foo", "no parameters"},
		{"a PostgreSQL DSN that does not parse hides its password", "postgres://app:hunter2@db.example:notaport/open3ds", "does not parse"},
		{"a PostgreSQL server that cannot be reached hides the password", "postgres://app:hunter2@127.0.0.1:1/open3ds?connect_timeout=2", "connect to PostgreSQL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db, err := store.Open(context.Background(), tc.dsn, store.Options{})
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tc.wantInErr) {
				t.Errorf("err = %q, want it to say %q", err, tc.wantInErr)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("err = %q repeats the password", err)
			}
		})
	}
}

func TestSQLiteDSNFormsOpenTheFileTheyName(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	tests := []struct {
		name, dsn, file string
	}{
		{"sqlite:PATH with a relative path", "sqlite:short.db", "short.db"},
		{"sqlite://PATH with a relative path", "sqlite://url.db", "url.db"},
		{"sqlite:PATH with an absolute path", "sqlite:" + filepath.Join(dir, "abs.db"), "abs.db"},
		{"sqlite://PATH with an absolute path", "sqlite://" + filepath.Join(dir, "absurl.db"), "absurl.db"},
		{"an upper-case scheme", "SQLite:upper.db", "upper.db"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db, err := store.Open(context.Background(), tc.dsn, store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			db.Close()
			if db.Dialect() != store.SQLite {
				t.Errorf("dialect = %s, want sqlite", db.Dialect())
			}
			if _, err := os.Stat(filepath.Join(dir, tc.file)); err != nil {
				t.Errorf("the database file was not created where the DSN says: %v", err)
			}
		})
	}
}

func TestRedactDSNHidesPasswords(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"a password in the user information is replaced",
			"postgres://app:hunter2@db.example:5432/open3ds?sslmode=verify-full",
			"postgres://app:xxxxx@db.example:5432/open3ds?sslmode=verify-full"},
		{"a password parameter is replaced",
			"postgresql://app@db.example/open3ds?password=hunter2",
			"postgresql://app@db.example/open3ds?password=xxxxx"},
		{"a DSN without a password is unchanged",
			"postgres://app@db.example/open3ds", "postgres://app@db.example/open3ds"},
		{"a sqlite DSN is unchanged", "sqlite:/var/lib/open3ds/open3ds.db", "sqlite:/var/lib/open3ds/open3ds.db"},
		{"a DSN that does not parse is hidden whole", "postgres://app:hunter2@db.example:port/x", "(unparsable DSN)"},
		{"a DSN without a scheme is hidden whole", "app:hunter2@db", "(unparsable DSN)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := store.RedactDSN(tc.in); got != tc.want {
				t.Errorf("RedactDSN = %q, want %q", got, tc.want)
			}
		})
	}
}
