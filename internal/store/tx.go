package store

import (
	"context"
	"database/sql"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// maxAttempts bounds how often WithTx runs a transaction that keeps hitting lock contention. Each
// SQLite attempt has already waited busy_timeout, and PostgreSQL aborts only one side of a
// deadlock, so a few attempts settle every case but a stuck database.
const maxAttempts = 4

// WithTx runs fn in a read-write transaction and commits it if fn returns nil; otherwise it rolls
// back and returns fn's error. When the transaction fails because SQLite stayed busy or PostgreSQL
// aborted it over a serialization failure or a deadlock, WithTx runs fn again from the start, up to
// a few times with a short random pause, so fn must do nothing outside tx that cannot be repeated.
//
// The error returned has been through MapError (ErrNotFound, ErrConflict); it is ctx's error if the
// context ends first. On SQLite every write shares one connection, so fn must not call WithTx or
// another writing method of db itself: that would wait forever for the connection fn holds.
func (db *DB) WithTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	defer db.committed()
	return db.retry(ctx, func() error {
		tx, err := db.write.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		// Rollback after Commit does nothing; after a panic in fn it frees the connection.
		defer tx.Rollback()
		if err := fn(tx); err != nil {
			return err
		}
		return tx.Commit()
	})
}

// committed tells a SQLite store's checkpointer that the log may have grown.
func (db *DB) committed() {
	if db.ckpt != nil {
		db.ckpt.committed()
	}
}

func (db *DB) retry(ctx context.Context, attempt func() error) error {
	var err error
	for i := range maxAttempts {
		if err = attempt(); err == nil || !isRetryable(err) || i == maxAttempts-1 {
			break
		}
		// Random pauses that grow (up to 10, 20, 40 ms) keep two colliding transactions from
		// colliding again in step.
		pause := time.Duration(rand.Int64N(int64(10*time.Millisecond)<<i)) + time.Millisecond
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
	}
	return MapError(err)
}

// Rebind rewrites a query written with ? placeholders for the DB's dialect: unchanged for SQLite,
// $1, $2, … for PostgreSQL. A ? inside a quoted string, a quoted identifier or a comment is left
// alone. Queries for PostgreSQL cannot then use its ? operators (on jsonb); none of ours do.
func (db *DB) Rebind(query string) string {
	if db.dialect != Postgres {
		return query
	}
	return rebindDollar(query)
}

func rebindDollar(query string) string {
	var b strings.Builder
	b.Grow(len(query) + 8)
	n := 0
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		case c == '\'' || c == '"':
			// Copy through to the closing quote; a doubled quote inside is just two more quotes.
			end := strings.IndexByte(query[i+1:], c)
			if end < 0 {
				b.WriteString(query[i:])
				return b.String()
			}
			b.WriteString(query[i : i+end+2])
			i += end + 1
			continue
		case c == '-' && strings.HasPrefix(query[i:], "--"):
			end := strings.IndexByte(query[i:], '\n')
			if end < 0 {
				end = len(query) - i - 1
			}
			b.WriteString(query[i : i+end+1])
			i += end
			continue
		case c == '/' && strings.HasPrefix(query[i:], "/*"):
			end := strings.Index(query[i+2:], "*/")
			if end < 0 {
				b.WriteString(query[i:])
				return b.String()
			}
			b.WriteString(query[i : i+end+4])
			i += end + 3
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
