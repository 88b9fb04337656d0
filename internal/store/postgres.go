package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// openPostgres connects through pgx's database/sql adapter, so that PostgreSQL runs the same query
// code as SQLite. The DSN's parameters that are not connection settings (search_path, for one)
// are sent to the server as session settings on every pooled connection, and so are the timeouts
// and application name of opts.
//
// The read pool sets default_transaction_read_only, so that writing through Reader fails on
// PostgreSQL as it does on SQLite; it is also the seam where a read replica would plug in.
func openPostgres(ctx context.Context, dsn string, opts Options) (*DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx redacts passwords from its parse errors only on a best-effort basis, and the errors it
		// wraps (net/url's among them) may quote the DSN whole, so none of that text is passed on.
		return nil, errors.New("store: the PostgreSQL DSN does not parse; check its syntax (it is not repeated here, as it may hold a password)")
	}
	setParam(cfg, "statement_timeout", opts.StatementTimeout)
	setParam(cfg, "idle_in_transaction_session_timeout", opts.IdleInTransactionTimeout)
	rcfg := cfg.Copy()
	if _, ok := cfg.RuntimeParams["application_name"]; !ok && opts.ApplicationName != "" {
		cfg.RuntimeParams["application_name"] = opts.ApplicationName
		rcfg.RuntimeParams["application_name"] = opts.ApplicationName + "-read"
	}
	write := stdlib.OpenDB(*cfg)
	configurePGPool(write, opts)
	if err := write.PingContext(ctx); err != nil {
		write.Close()
		return nil, fmt.Errorf("store: connect to PostgreSQL: %w", err)
	}

	rcfg.RuntimeParams["default_transaction_read_only"] = "on"
	read := stdlib.OpenDB(*rcfg)
	configurePGPool(read, opts)
	if err := read.PingContext(ctx); err != nil {
		read.Close()
		write.Close()
		return nil, fmt.Errorf("store: connect to PostgreSQL: %w", err)
	}
	return &DB{dialect: Postgres, q: dialectSQLs[Postgres], write: write, read: read}, nil
}

// setParam sets a timeout as a session setting in milliseconds, unless it is zero or the DSN set
// that parameter itself.
func setParam(cfg *pgx.ConnConfig, name string, d time.Duration) {
	if _, ok := cfg.RuntimeParams[name]; ok || d <= 0 {
		return
	}
	cfg.RuntimeParams[name] = strconv.FormatInt(max(d.Milliseconds(), 1), 10)
}

// configurePGPool sizes one pool. Several instances of several roles share one server, whose
// default max_connections is 100, so each pool stays modest (DefaultMaxOpen unless the operator
// sets it per role). Idle connections are kept up to the pool's size by default, so that a burst
// does not close and reopen them, and let go after a quiet spell.
func configurePGPool(db *sql.DB, opts Options) {
	maxOpen, maxIdle, idleTime := opts.MaxOpen, opts.MaxIdle, opts.MaxIdleTime
	if maxOpen <= 0 {
		maxOpen = DefaultMaxOpen
	}
	if maxIdle <= 0 || maxIdle > maxOpen {
		maxIdle = maxOpen
	}
	if idleTime <= 0 {
		idleTime = DefaultMaxIdleTime
	}
	db.SetMaxOpenConns(maxOpen)
	db.SetMaxIdleConns(maxIdle)
	db.SetConnMaxIdleTime(idleTime)
}
