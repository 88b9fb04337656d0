package store

import (
	"context"
	"database/sql/driver"
	"sync/atomic"
)

// SQLite parses a statement before it runs it, and the driver, handed a query text, parses it anew
// every time: on a busy ACS that parsing was a fifth of the CPU an AReq costs. So every SQLite
// connection the store opens keeps its statements prepared, one per query text, and runs each
// query text through its own statement from the second use on. Every query benefits, in a
// transaction or not, through either pool, without the callers changing.
//
// The cache sits on the connection rather than in database/sql's *sql.Stmt because the writer pool
// has one connection: preparing a *sql.Stmt needs a free connection, and a transaction that holds
// the only one would wait for itself. PostgreSQL needs none of this: pgx keeps prepared statements
// per connection itself (its default cache_statement mode, which a DSN may change).

// stmtCacheSize bounds the statements one connection keeps. Our query texts are constants, a few
// dozen per role, so the bound only guards against a caller building texts from data; past it, a
// new text is prepared for each use, as without the cache.
const stmtCacheSize = 512

// sqliteConn is what the SQLite driver's connections offer and database/sql looks for. The cache
// forwards all of it: hiding an interface would make database/sql fall back to context-free calls.
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// stmtCachingConnector opens connections that keep their prepared statements.
type stmtCachingConnector struct {
	driver.Connector
	// prepared counts the statements prepared into any connection's cache, so that tests can see
	// statements being reused rather than prepared again.
	prepared atomic.Int64
}

func (c *stmtCachingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	sc, ok := conn.(sqliteConn)
	if !ok {
		// The driver's connections have offered all of these for years; one that stopped would
		// still work, only without the cache.
		return conn, nil
	}
	return &stmtCachingConn{sqliteConn: sc, stmts: map[string]*cachedStmt{}, prepared: &c.prepared}, nil
}

// stmtCachingConn is one connection with its statements. database/sql lets one goroutine at a time
// use a connection, rows included, so its fields need no lock.
type stmtCachingConn struct {
	sqliteConn
	stmts    map[string]*cachedStmt
	prepared *atomic.Int64
}

// Unwrap gives the driver's own connection to code that looks for it (the driver's Limit does).
func (c *stmtCachingConn) Unwrap() driver.Conn { return c.sqliteConn }

// preparedStmt is what the driver's statements offer and the cache uses.
type preparedStmt interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

type cachedStmt struct {
	stmt preparedStmt
	// busy is set while rows read from the statement are open: a query run again with the same text
	// before they close (a nested loop) gets a statement of its own rather than resetting theirs.
	busy bool
}

// statement returns the connection's statement for query, preparing it on first use, or nil when
// the query should run unprepared: the statement is busy or the cache is full.
func (c *stmtCachingConn) statement(ctx context.Context, query string) (*cachedStmt, error) {
	if s, ok := c.stmts[query]; ok {
		if s.busy {
			return nil, nil
		}
		return s, nil
	}
	if len(c.stmts) >= stmtCacheSize {
		return nil, nil
	}
	ds, err := c.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	ps, ok := ds.(preparedStmt)
	if !ok {
		ds.Close()
		return nil, nil
	}
	s := &cachedStmt{stmt: ps}
	c.stmts[query] = s
	c.prepared.Add(1)
	return s, nil
}

func (c *stmtCachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	s, err := c.statement(ctx, query)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return c.sqliteConn.ExecContext(ctx, query, args)
	}
	return s.stmt.ExecContext(ctx, args)
}

func (c *stmtCachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	s, err := c.statement(ctx, query)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return c.sqliteConn.QueryContext(ctx, query, args)
	}
	rows, err := s.stmt.QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	s.busy = true
	if full, ok := rows.(sqliteRows); ok {
		return &cachedRows{sqliteRows: full, stmt: s}, nil
	}
	// Rows that cannot be wrapped without hiding what they offer are passed on as they are; the
	// statement, which cannot then learn when they close, stays busy and is not used again.
	return rows, nil
}

// Close finalizes the connection's statements before closing it.
func (c *stmtCachingConn) Close() error {
	for q, s := range c.stmts {
		s.stmt.Close()
		delete(c.stmts, q)
	}
	return c.sqliteConn.Close()
}

// sqliteRows is what the driver's rows offer; the wrapper forwards all of it.
type sqliteRows interface {
	driver.Rows
	driver.RowsColumnTypeDatabaseTypeName
	driver.RowsColumnTypeLength
	driver.RowsColumnTypeNullable
	driver.RowsColumnTypePrecisionScale
	driver.RowsColumnTypeScanType
}

// cachedRows frees its statement for the next query when it closes. The driver resets a reused
// statement on closing its rows, which also ends the statement's read of the database.
type cachedRows struct {
	sqliteRows
	stmt *cachedStmt
}

func (r *cachedRows) Close() error {
	err := r.sqliteRows.Close()
	r.stmt.busy = false
	return err
}
