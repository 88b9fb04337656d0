package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// Insert is one INSERT statement (with ? placeholders) and its arguments.
type Insert struct {
	Query string
	Args  []any
}

// InsertAll stores the rows of inserts together: all or none, durable when it returns, as WithGroupTx
// would with one statement per insert.
//
// On SQLite that is what it does (the grouped commit). On PostgreSQL each statement of a
// transaction is a round trip, and BEGIN and COMMIT are two more, so a hot path writing three rows
// paid five. There the inserts are sent as one statement, all but the last in data-modifying WITH
// clauses, which PostgreSQL runs to completion whether or not the query reads them; a single statement
// commits on its own, so it is one round trip (issue 18). Each query must be a plain INSERT without
// RETURNING or ON CONFLICT, written for both dialects as the store's queries are.
func (db *DB) InsertAll(ctx context.Context, inserts ...Insert) error {
	switch {
	case len(inserts) == 0:
		return nil
	case db.dialect != Postgres:
		return db.WithGroupTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
			for _, in := range inserts {
				if _, err := tx.ExecContext(ctx, db.Rebind(in.Query), in.Args...); err != nil {
					return err
				}
			}
			return nil
		})
	}
	var b strings.Builder
	var args []any
	last := len(inserts) - 1
	for i, in := range inserts[:last] {
		if i == 0 {
			b.WriteString("WITH ")
		} else {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "i%d AS (%s)", i, in.Query)
		args = append(args, in.Args...)
	}
	if last > 0 {
		b.WriteString(" ")
	}
	b.WriteString(inserts[last].Query)
	args = append(args, inserts[last].Args...)
	query := db.Rebind(b.String())
	return db.retry(ctx, func() error {
		_, err := db.write.ExecContext(ctx, query, args...)
		return err
	})
}

// Exec runs one write statement (with ? placeholders), durable when it returns, and says how many
// rows it changed. On SQLite it joins the grouped commit; on PostgreSQL the statement commits on its
// own, one round trip instead of three with BEGIN and COMMIT.
func (db *DB) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	var n int64
	run := func(ctx context.Context, ex interface {
		ExecContext(context.Context, string, ...any) (sql.Result, error)
	}) error {
		res, err := ex.ExecContext(ctx, db.Rebind(query), args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	}
	if db.dialect != Postgres {
		err := db.WithGroupTx(ctx, func(ctx context.Context, tx *sql.Tx) error { return run(ctx, tx) })
		return n, err
	}
	err := db.retry(ctx, func() error { return run(ctx, db.write) })
	return n, err
}
