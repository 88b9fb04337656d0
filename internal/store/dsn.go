package store

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// dsn is a parsed data source name: the back end and what that back end's driver needs.
type dsn struct {
	dialect Dialect
	// target is the file path for SQLite and the untouched URL for PostgreSQL.
	target string
}

// parseDSN picks the back end from the DSN's scheme. Its errors name the scheme at most: a DSN may
// carry a password, so it is never repeated.
func parseDSN(s string) (dsn, error) {
	scheme, rest, ok := strings.Cut(s, ":")
	if !ok || scheme == "" || strings.ContainsAny(scheme, "/\\ ") {
		return dsn{}, errors.New("store: the DSN has no scheme; want sqlite:PATH or postgres://…")
	}
	switch strings.ToLower(scheme) {
	case "sqlite":
		// sqlite:///abs/path and sqlite://rel/path read as a URL would; sqlite:PATH is the short form.
		path := strings.TrimPrefix(rest, "//")
		switch {
		case path == "":
			return dsn{}, errors.New("store: the sqlite DSN names no file; want sqlite:PATH")
		case strings.Contains(path, ":memory:"):
			// Reads and writes use separate connections (see openSQLite), and each in-memory
			// connection would see a database of its own.
			return dsn{}, errors.New("store: an in-memory SQLite database is not supported; name a file, e.g. sqlite:open3ds.db")
		case strings.Contains(path, "?"):
			// The driver reads everything after '?' as its own parameters, which we set ourselves.
			return dsn{}, errors.New("store: a sqlite DSN takes no parameters (and its path no '?')")
		}
		return dsn{dialect: SQLite, target: path}, nil
	case "postgres", "postgresql":
		return dsn{dialect: Postgres, target: s}, nil
	default:
		return dsn{}, fmt.Errorf("store: unknown DSN scheme %q; want sqlite: or postgres://", scheme)
	}
}

// RedactDSN returns the DSN fit for a log line or a message: a password in a postgres:// URL (in
// its user information or a password parameter) is replaced by "xxxxx". A string that does not
// parse as a URL is replaced as a whole, since where its password sits cannot be known.
func RedactDSN(s string) string {
	d, err := parseDSN(s)
	if err != nil {
		return "(unparsable DSN)"
	}
	if d.dialect == SQLite {
		return s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable DSN)"
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}
