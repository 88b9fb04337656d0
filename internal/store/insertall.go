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
