package store

import (
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// PostgreSQL error codes (SQLSTATE) the store acts on.
const (
	pgUniqueViolation      = "23505"
	pgSerializationFailure = "40001"
	pgDeadlockDetected     = "40P01"
)

// MapError turns a driver's error into the store's vocabulary, in one place for both back ends:
// sql.ErrNoRows becomes ErrNotFound and a unique or primary-key violation becomes ErrConflict. The
// result wraps both the sentinel and the original error, so errors.Is and errors.As see each. Any
// other error, and nil, comes back unchanged. Store methods and WithTx call it already; role code
// calls it on errors from its own queries through Reader.
func MapError(err error) error {
	switch {
	case err == nil, errors.Is(err, ErrNotFound), errors.Is(err, ErrConflict):
		return err
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	case isUniqueViolation(err):
		// Neither driver's message repeats the duplicate value (PostgreSQL keeps it in the error's
		// Detail, which Error leaves out), so the original text is safe to pass on.
		return fmt.Errorf("%w: %w", ErrConflict, err)
	}
	return err
}

func isUniqueViolation(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == pgUniqueViolation
}

// isRetryable reports whether a transaction that failed with err may succeed if run again from the
// start: SQLite was busy or locked (another process held the lock past busy_timeout), or PostgreSQL
// aborted it to resolve a serialization failure or a deadlock.
func isRetryable(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		// The low byte of an extended result code is its primary code (SQLITE_BUSY_SNAPSHOT is BUSY).
		primary := se.Code() & 0xff
		return primary == sqlite3.SQLITE_BUSY || primary == sqlite3.SQLITE_LOCKED
	}
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == pgSerializationFailure || pe.Code == pgDeadlockDetected)
}
