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
	pgQueryCanceled        = "57014" // statement_timeout, or pg_cancel_backend
	pgIdleInTxTimeout      = "25P03" // idle_in_transaction_session_timeout
)

// MapError turns a driver's error into the store's vocabulary, in one place for both back ends:
// sql.ErrNoRows becomes ErrNotFound, a unique or primary-key violation becomes ErrConflict and a
// statement PostgreSQL cancelled for running too long becomes ErrTimeout. The
// result wraps both the sentinel and the original error, so errors.Is and errors.As see each. Any
// other error, and nil, comes back unchanged. Store methods and WithTx call it already; role code
// calls it on errors from its own queries through Reader.
func MapError(err error) error {
	switch {
	case err == nil, errors.Is(err, ErrNotFound), errors.Is(err, ErrConflict), errors.Is(err, ErrTimeout):
		return err
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	case isTimeout(err):
		return fmt.Errorf("%w: %w", ErrTimeout, err)
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

// isTimeout reports whether PostgreSQL cancelled a statement for running, or a transaction for
// idling, past its timeout.
func isTimeout(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == pgQueryCanceled || pe.Code == pgIdleInTxTimeout)
}
