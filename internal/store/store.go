// Package store keeps the state of every open3ds role in SQLite (one machine) or PostgreSQL (several
// instances sharing one database). One DSN picks the back end; both speak the same hand-written SQL
// through database/sql, with small per-dialect overrides where the two differ. Schema changes are SQL
// files per dialect, embedded in the binary and applied in order, one transaction per file.
//
// Role packages own the small Store interfaces they need; the methods behind them live here, on *DB,
// so that all SQL sits in one place. For queries of their own, role code gets the dialect, a
// transaction runner that retries on lock contention (WithTx), a read-only handle (Reader), a
// placeholder rewriter (Rebind) and one mapping of driver errors to ErrNotFound and ErrConflict
// (MapError).
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Dialect names the SQL back end behind a DB.
type Dialect string

// The dialects a DSN can select.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Errors a store method returns, possibly wrapped; test them with errors.Is. Their text never holds
// a value the caller passed in, so that a PAN or a key cannot reach a log through them.
var (
	// ErrNotFound means the row asked for does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict means a write would break a uniqueness rule, such as an id recorded twice.
	ErrConflict = errors.New("store: conflict")
	// ErrInvalid means the caller passed a value the store refuses to keep, such as a PAN with too
	// many digits visible.
	ErrInvalid = errors.New("store: invalid value")
	// ErrSchemaBehind means the database has not had every migration this binary knows applied:
	// PostgreSQL waits for `open3ds migrate` rather than changing a shared schema on start.
	ErrSchemaBehind = errors.New("store: database schema is behind this open3ds")
	// ErrTimeout means PostgreSQL gave up on a statement: it ran past the statement timeout (see
	// Options.StatementTimeout; an operator's pg_cancel_backend ends one the same way), or its
	// transaction sat idle past the idle-in-transaction timeout. The connection it ran on is fine,
	// or was replaced; the pool goes on serving.
	ErrTimeout = errors.New("store: the database ended a statement or transaction that took too long")
)

// Defaults of Options' PostgreSQL pool and timeouts, which a role's configuration starts from.
const (
	DefaultMaxOpen     = 16
	DefaultMaxIdleTime = 5 * time.Minute
	// DefaultStatementTimeout is far above what any of the roles' statements takes (milliseconds)
	// and below their exchanges' budgets (10 s and more), so that a stuck query fails the one
	// exchange with an error that says so instead of pinning a connection until the pool is gone.
	DefaultStatementTimeout = 5 * time.Second
	// DefaultIdleInTransactionTimeout ends a transaction that nothing has used for that long: the
	// roles never wait on anything outside the database inside one, so it is a lost transaction,
	// holding its locks and its connection.
	DefaultIdleInTransactionTimeout = 10 * time.Second
)

// Options tune Open. The zero value suits the command-line tools; role servers set the pool and
// timeouts from their configuration. The pool fields and timeouts apply to PostgreSQL only (see
// openSQLite for SQLite's pools).
type Options struct {
	// Migrate applies pending migrations to a PostgreSQL database on Open. Without it Open only
	// checks the schema version and refuses a database that is behind. SQLite, which belongs to one
	// machine, always migrates on Open.
	Migrate bool
	// MaxOpen bounds the connections of each of the two pools (writes, reads): DefaultMaxOpen when
	// zero. MaxIdle is how many of them stay open when idle, MaxOpen when zero; MaxIdleTime closes an
	// idle one after that long, DefaultMaxIdleTime when zero.
	MaxOpen, MaxIdle int
	MaxIdleTime      time.Duration
	// StatementTimeout and IdleInTransactionTimeout are PostgreSQL's statement_timeout and
	// idle_in_transaction_session_timeout, set on every pooled connection; zero leaves the server's
	// own. A DSN that sets either itself keeps its value. Migrations run without them.
	StatementTimeout, IdleInTransactionTimeout time.Duration
	// ApplicationName names the connections in pg_stat_activity: the write pool's as given, the
	// read pool's with "-read" after it. A DSN's application_name wins.
	ApplicationName string
}

// DB is an open store. It is safe for concurrent use; Close it when done.
type DB struct {
	dialect Dialect
	q       *dialectSQL
	// write runs every transaction that may change data. For SQLite it holds exactly one
	// connection (see openSQLite); for PostgreSQL it is an ordinary pool.
	write *sql.DB
	// read serves queries and refuses writes, on both back ends, so that a role cannot write
	// outside WithTx by mistake.
	read *sql.DB
	// group commits WithGroupTx's callers together on SQLite; nil on PostgreSQL.
	group *committer
	// ckpt checkpoints a SQLite database's log beside the writer; nil on PostgreSQL.
	ckpt *checkpointer
}

// Open connects to the store a DSN names: `sqlite:PATH` (or `sqlite://PATH`) or
// `postgres://…` (or `postgresql://…`). SQLite is migrated to the latest schema; PostgreSQL is
// migrated only when opts.Migrate is set and is otherwise refused, with ErrSchemaBehind, when
// migrations are pending. Errors name the back end and never repeat the DSN's password.
func Open(ctx context.Context, dsn string, opts Options) (*DB, error) {
	db, err := openRaw(ctx, dsn, opts)
	if err != nil {
		return nil, err
	}
	if err := db.prepareSchema(ctx, opts); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// prepareSchema applies Open's migration policy.
func (db *DB) prepareSchema(ctx context.Context, opts Options) error {
	if db.dialect == SQLite || opts.Migrate {
		_, err := db.migrate(ctx, latestVersion(db.dialect))
		return err
	}
	st, err := db.MigrationStatus(ctx)
	if err != nil {
		return err
	}
	if len(st.Pending) > 0 {
		return fmt.Errorf("%w: it is at version %d and this open3ds needs version %d; run `open3ds migrate`",
			ErrSchemaBehind, st.Current, st.Latest)
	}
	return nil
}

// openRaw connects without looking at the schema: Open, Migrate and Status build on it.
func openRaw(ctx context.Context, dsn string, opts Options) (*DB, error) {
	d, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	switch d.dialect {
	case SQLite:
		return openSQLite(ctx, d.target)
	default:
		return openPostgres(ctx, d.target, opts)
	}
}

// Dialect reports which back end the DB talks to, for the rare query that must differ.
func (db *DB) Dialect() Dialect { return db.dialect }

// Reader returns a handle for queries. It refuses writes on both back ends: SQLite's read
// connections are query-only and PostgreSQL's open every transaction read-only. On SQLite, reads
// through it run beside a write in progress (WAL) and see only committed data.
func (db *DB) Reader() *sql.DB { return db.read }

// Ready says whether the store answers: a query through the read pool and, on PostgreSQL, a round
// trip on the write pool too (SQLite's writer is a connection in this process, which a busy commit
// may hold for a moment: asking it would report load as absence). It is the store's readiness check.
func (db *DB) Ready(ctx context.Context) error {
	var one int
	if err := db.read.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("store: reading: %w", err)
	}
	if db.dialect == Postgres {
		if err := db.write.PingContext(ctx); err != nil {
			return fmt.Errorf("store: writing: %w", err)
		}
	}
	return nil
}

// Close releases every connection. It returns the first error either pool reports on closing.
func (db *DB) Close() error {
	if db.group != nil {
		db.group.stop()
	}
	var ckptErr error
	if db.ckpt != nil {
		ckptErr = db.ckpt.close()
	}
	return errors.Join(db.read.Close(), db.write.Close(), ckptErr)
}
