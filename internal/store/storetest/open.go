package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver for schema set-up

	"github.com/open3ds/open3ds/internal/store"
)

// PostgresEnv names the environment variable that holds the DSN of the PostgreSQL database tests
// may use, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable. Without it PostgreSQL
// tests skip.
const PostgresEnv = "OPEN3DS_TEST_POSTGRES"

// SQLiteDSN returns the DSN of a SQLite file, not yet created, in a directory the test removes.
func SQLiteDSN(tb testing.TB) string {
	tb.Helper()
	return "sqlite:" + filepath.Join(tb.TempDir(), "open3ds.db")
}

// OpenSQLite opens a fresh, migrated SQLite store in a temporary file, closed when the test ends.
func OpenSQLite(tb testing.TB) *store.DB {
	tb.Helper()
	return open(tb, SQLiteDSN(tb))
}

// PostgresDSN creates an empty schema with a random name in the database PostgresEnv names and
// returns a DSN whose connections all use it (through search_path), so that tests running in
// parallel do not see each other's tables. The schema is dropped when the test ends. Without
// PostgresEnv the test is skipped, loudly.
func PostgresDSN(tb testing.TB) string {
	tb.Helper()
	base := SkipWithoutPostgres(tb)
	var b [8]byte
	rand.Read(b[:])
	schema := "open3ds_test_" + hex.EncodeToString(b[:])

	admin, err := sql.Open("pgx", base)
	if err != nil {
		tb.Fatalf("%s does not parse as a PostgreSQL DSN", PostgresEnv)
	}
	ctx := context.Background()
	// The schema name is ours, made of hex digits, so it needs no quoting.
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		tb.Fatalf("create test schema in the database %s names: %v", PostgresEnv, err)
	}
	tb.Cleanup(func() {
		defer admin.Close()
		if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			tb.Errorf("drop test schema %s: %v", schema, err)
		}
	})

	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("%s does not parse as a URL", PostgresEnv)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// SkipWithoutPostgres skips the test, loudly, unless PostgresEnv names a database to test against,
// and returns that DSN. Tests should rather use PostgresDSN or OpenPostgres, which keep each test's
// tables apart.
func SkipWithoutPostgres(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv(PostgresEnv)
	if dsn == "" && os.Getenv("CI") != "" {
		// CI must skip nothing: scripts/test.sh always sets the DSN, so its absence there is a fault.
		tb.Fatalf("%s is not set under CI; the PostgreSQL suite must run (scripts/test.sh sets it)", PostgresEnv)
	}
	if dsn == "" {
		tb.Skipf("SKIPPED: PostgreSQL tests need %s set to a DSN, e.g. %s=postgres://postgres@127.0.0.1:5432/test?sslmode=disable",
			PostgresEnv, PostgresEnv)
	}
	return dsn
}

// OpenPostgres opens a fresh, migrated PostgreSQL store in a schema of its own (see PostgresDSN),
// closed and dropped when the test ends. Without PostgresEnv the test is skipped, loudly.
func OpenPostgres(tb testing.TB) *store.DB {
	tb.Helper()
	return open(tb, PostgresDSN(tb))
}

func open(tb testing.TB, dsn string) *store.DB {
	tb.Helper()
	db, err := store.Open(context.Background(), dsn, store.Options{Migrate: true})
	if err != nil {
		tb.Fatalf("open test store: %v", err)
	}
	// Registered after PostgresDSN's clean-up, so it runs first: connections close before the
	// schema is dropped.
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Errorf("close test store: %v", err)
		}
	})
	return db
}
