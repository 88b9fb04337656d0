package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"regexp"
)

// The roles' tables carry a role prefix (acs_, ds_, tdss_), but the migration set is shared and some
// tables are common to every role: exchanges, audit_log, console_accounts, console_sessions,
// job_leases and schema_migrations itself. Two roles in one PostgreSQL schema would share their
// consoles' accounts, audit trails and job leases, so each role needs a schema of its own. These
// helpers make one and point a DSN at it.

// schemaName is what SchemaDSN and EnsureSchema accept: a plain lower-case identifier, which needs
// no quoting in SQL and which PostgreSQL does not fold.
var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// CheckSchemaName refuses a schema name that is not a plain lower-case identifier.
func CheckSchemaName(name string) error {
	if !schemaName.MatchString(name) {
		return fmt.Errorf("store: schema name %q: want lower-case letters, digits and underscores, at most 63, not starting with a digit", name)
	}
	return nil
}

// PostgresSearchPath returns the search_path a PostgreSQL DSN sets, or "" when it sets none.
func PostgresSearchPath(dsn string) (string, error) {
	u, err := postgresURL(dsn)
	if err != nil {
		return "", err
	}
	return u.Query().Get("search_path"), nil
}

// SchemaDSN returns the PostgreSQL DSN with its search_path replaced by schema, so that every
// pooled connection works in that schema.
func SchemaDSN(dsn, schema string) (string, error) {
	if err := CheckSchemaName(schema); err != nil {
		return "", err
	}
	u, err := postgresURL(dsn)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// postgresURL parses a postgres:// DSN; its errors never quote it, as it may hold a password.
func postgresURL(dsn string) (*url.URL, error) {
	d, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	if d.dialect != Postgres {
		return nil, errors.New("store: not a PostgreSQL DSN; want postgres://…")
	}
	u, err := url.Parse(dsn)
	if err != nil || u.Host == "" {
		return nil, errors.New("store: the PostgreSQL DSN does not parse as a postgres:// URL (it is not repeated here, as it may hold a password)")
	}
	return u, nil
}

// SchemaState says what EnsureSchema found.
type SchemaState int

const (
	SchemaCreated  SchemaState = iota // there was none: it was made, with the owner's comment
	SchemaExisting                    // it was there, with the owner's comment
)

// ErrSchemaNotOurs is returned by EnsureSchema for a schema that exists without the owner's
// comment: something else made it, and it is left alone.
var ErrSchemaNotOurs = errors.New("store: the schema exists but was not made by this owner")

// EnsureSchema makes the schema in the database the DSN names, unless it exists, and marks it with
// owner as its comment. With fresh set, a schema that exists with that comment is dropped, with
// everything in it, and made again empty. A schema that exists with another comment (or none) is
// never touched: ErrSchemaNotOurs.
func EnsureSchema(ctx context.Context, dsn, schema, owner string, fresh bool) (SchemaState, error) {
	if err := CheckSchemaName(schema); err != nil {
		return 0, err
	}
	if _, err := postgresURL(dsn); err != nil {
		return 0, err
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return 0, errors.New("store: the PostgreSQL DSN does not parse (it is not repeated here, as it may hold a password)")
	}
	defer db.Close()
	var comment sql.NullString
	err = db.QueryRowContext(ctx, "SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = $1", schema).Scan(&comment)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return 0, fmt.Errorf("store: look for schema %s: %w", schema, err)
	case comment.String != owner:
		return 0, fmt.Errorf("%w: schema %s (its comment is %q, not %q)", ErrSchemaNotOurs, schema, comment.String, owner)
	case !fresh:
		return SchemaExisting, nil
	default:
		// The name was checked above: it needs no quoting.
		if _, err := db.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			return 0, fmt.Errorf("store: drop schema %s: %w", schema, err)
		}
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("store: create schema %s: %w", schema, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		return 0, fmt.Errorf("store: create schema %s: %w", schema, err)
	}
	// COMMENT takes a literal, not a parameter; the owner is ours, but is quoted all the same.
	if _, err := tx.ExecContext(ctx, "COMMENT ON SCHEMA "+schema+" IS "+quoteLiteral(owner)); err != nil {
		return 0, fmt.Errorf("store: comment on schema %s: %w", schema, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("store: create schema %s: %w", schema, err)
	}
	return SchemaCreated, nil
}

// quoteLiteral quotes s as an SQL string literal.
func quoteLiteral(s string) string {
	out := []byte{'\''}
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' {
			out = append(out, '\'')
		}
		out = append(out, s[i])
	}
	return string(append(out, '\''))
}
