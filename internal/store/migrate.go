package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"slices"
	"strconv"
	"time"
)

// The schema of each dialect is a series of SQL files, migrations/<dialect>/NNNN_name.sql, numbered
// from 0001 without gaps. Both dialects carry the same versions under the same names, so that one
// version number means one schema whichever the back end.
//
//go:embed migrations
var migrationFiles embed.FS

// Migration identifies one schema change.
type Migration struct {
	Version int
	Name    string
}

// String gives the migration's file name without the extension, e.g. 0002_exchanges_error_component.
func (m Migration) String() string { return fmt.Sprintf("%04d_%s", m.Version, m.Name) }

// MigrationStatus compares a database's schema with the migrations this binary carries.
type MigrationStatus struct {
	// Current is the highest version applied, 0 for an empty database.
	Current int
	// Latest is the highest version this binary knows.
	Latest int
	// Pending lists the known migrations not yet applied, oldest first.
	Pending []Migration
}

type migration struct {
	Migration
	sql string
}

var migrations = map[Dialect][]migration{
	SQLite:   mustLoadMigrations("migrations/sqlite"),
	Postgres: mustLoadMigrations("migrations/postgres"),
}

var migrationName = regexp.MustCompile(`^(\d{4})_([a-z0-9_]+)\.sql$`)

// mustLoadMigrations reads one dialect's files. A misnamed or missing file is a mistake in the
// source tree, not a condition to handle at run time, so it stops the program as it starts (and
// fails every test of the package).
func mustLoadMigrations(dir string) []migration {
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		panic(fmt.Sprintf("store: read embedded %s: %v", dir, err))
	}
	var ms []migration
	for _, e := range entries {
		m := migrationName.FindStringSubmatch(e.Name())
		if m == nil {
			panic(fmt.Sprintf("store: embedded migration %s/%s is not named NNNN_name.sql", dir, e.Name()))
		}
		body, err := fs.ReadFile(migrationFiles, dir+"/"+e.Name())
		if err != nil {
			panic(fmt.Sprintf("store: read embedded %s/%s: %v", dir, e.Name(), err))
		}
		v, _ := strconv.Atoi(m[1])
		if v != len(ms)+1 {
			panic(fmt.Sprintf("store: embedded migration %s/%s should be version %d", dir, e.Name(), len(ms)+1))
		}
		ms = append(ms, migration{Migration{Version: v, Name: m[2]}, string(body)})
	}
	return ms
}

// Migrations lists the migrations this binary carries for a dialect, oldest first.
func Migrations(d Dialect) []Migration {
	var out []Migration
	for _, m := range migrations[d] {
		out = append(out, m.Migration)
	}
	return out
}

func latestVersion(d Dialect) int { return len(migrations[d]) }

// Migrate applies the pending migrations to the database a DSN names and returns those it applied,
// oldest first; none when the schema is up to date. Several processes may migrate one database at
// once: each migration is applied exactly once. It returns Open's errors for a DSN it cannot use or
// a database it cannot reach, and the driver's error, naming the migration, for one that fails; the
// migrations applied before it stay applied.
func Migrate(ctx context.Context, dsn string) ([]Migration, error) {
	db, err := openRaw(ctx, dsn, Options{})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return db.migrate(ctx, latestVersion(db.dialect))
}

// Status reports the schema version of the database a DSN names without changing it. A SQLite file
// that does not exist yet is reported as version 0 and is not created. It returns Open's errors for
// a DSN it cannot use or a database it cannot reach.
func Status(ctx context.Context, dsn string) (MigrationStatus, error) {
	d, err := parseDSN(dsn)
	if err != nil {
		return MigrationStatus{}, err
	}
	if d.dialect == SQLite {
		if _, err := os.Stat(d.target); os.IsNotExist(err) {
			return statusFrom(SQLite, nil), nil
		}
	}
	db, err := openRaw(ctx, dsn, Options{})
	if err != nil {
		return MigrationStatus{}, err
	}
	defer db.Close()
	return db.MigrationStatus(ctx)
}

// MigrationStatus reports the schema version of db. It returns the driver's error if the
// migrations table cannot be read.
func (db *DB) MigrationStatus(ctx context.Context) (MigrationStatus, error) {
	var n int
	if err := db.read.QueryRowContext(ctx, db.q.migrationsTableExists).Scan(&n); err != nil {
		return MigrationStatus{}, fmt.Errorf("store: read schema version: %w", err)
	}
	var applied []int
	if n > 0 {
		rows, err := db.read.QueryContext(ctx, "SELECT version FROM schema_migrations ORDER BY version")
		if err != nil {
			return MigrationStatus{}, fmt.Errorf("store: read schema version: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var v int
			if err := rows.Scan(&v); err != nil {
				return MigrationStatus{}, fmt.Errorf("store: read schema version: %w", err)
			}
			applied = append(applied, v)
		}
		if err := rows.Err(); err != nil {
			return MigrationStatus{}, fmt.Errorf("store: read schema version: %w", err)
		}
	}
	return statusFrom(db.dialect, applied), nil
}

func statusFrom(d Dialect, applied []int) MigrationStatus {
	st := MigrationStatus{Latest: latestVersion(d)}
	if len(applied) > 0 {
		st.Current = slices.Max(applied)
	}
	for _, m := range migrations[d] {
		if !slices.Contains(applied, m.Version) {
			st.Pending = append(st.Pending, m.Migration)
		}
	}
	return st
}

// migrate applies the known migrations up to version upTo that are not yet applied.
func (db *DB) migrate(ctx context.Context, upTo int) ([]Migration, error) {
	var done []Migration
	for _, m := range migrations[db.dialect][:upTo] {
		applied, err := db.applyMigration(ctx, m)
		if err != nil {
			return done, fmt.Errorf("store: migration %s: %w", m, err)
		}
		if applied {
			done = append(done, m.Migration)
		}
	}
	return done, nil
}

// applyMigration applies one migration in a transaction of its own, unless it has been applied
// already; it reports whether it did. The check happens under a lock held to the end of the
// transaction (BEGIN IMMEDIATE on SQLite, an advisory lock on PostgreSQL), so that two processes
// migrating at once apply each file once: the second waits, then finds it recorded.
func (db *DB) applyMigration(ctx context.Context, m migration) (bool, error) {
	applied := false
	err := db.WithTx(ctx, func(tx *sql.Tx) error {
		applied = false
		// A migration may rewrite a large table: the role's statement timeouts are not for it.
		if db.dialect == Postgres {
			for _, name := range []string{"statement_timeout", "idle_in_transaction_session_timeout"} {
				if _, err := tx.ExecContext(ctx, "SET LOCAL "+name+" = 0"); err != nil {
					return err
				}
			}
		}
		if db.q.migrationLock != "" {
			if _, err := tx.ExecContext(ctx, db.q.migrationLock); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, db.q.createMigrationsTable); err != nil {
			return err
		}
		var n int
		err := tx.QueryRowContext(ctx, db.Rebind("SELECT count(*) FROM schema_migrations WHERE version = ?"), m.Version).Scan(&n)
		if err != nil || n > 0 {
			return err
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, db.Rebind("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"),
			m.Version, m.Name, Time(time.Now()))
		applied = err == nil
		return err
	})
	return applied, err
}
