package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// Pool sizes for PostgreSQL. Several instances of several roles share one server, whose default
// max_connections is 100, so each pool stays modest. Idle connections are kept up to the pool's size,
// so that a burst does not close and reopen them, and let go after a quiet spell.
const (
	pgMaxOpen     = 16
	pgMaxIdleTime = 5 * time.Minute
)

// openPostgres connects through pgx's database/sql adapter, so that PostgreSQL runs the same query
// code as SQLite. The DSN's parameters that are not connection settings (search_path, for one)
// are sent to the server as session settings on every pooled connection.
//
// The read pool sets default_transaction_read_only, so that writing through Reader fails on
// PostgreSQL as it does on SQLite; it is also the seam where a read replica would plug in.
func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx redacts passwords from its parse errors only on a best-effort basis, and the errors it
		// wraps (net/url's among them) may quote the DSN whole, so none of that text is passed on.
		return nil, errors.New("store: the PostgreSQL DSN does not parse; check its syntax (it is not repeated here, as it may hold a password)")
	}
	write := stdlib.OpenDB(*cfg)
	configurePGPool(write)
	if err := write.PingContext(ctx); err != nil {
		write.Close()
		return nil, fmt.Errorf("store: connect to PostgreSQL: %w", err)
	}

	rcfg := cfg.Copy()
	rcfg.RuntimeParams["default_transaction_read_only"] = "on"
	read := stdlib.OpenDB(*rcfg)
	configurePGPool(read)
	if err := read.PingContext(ctx); err != nil {
		read.Close()
		write.Close()
		return nil, fmt.Errorf("store: connect to PostgreSQL: %w", err)
	}
	return &DB{dialect: Postgres, q: dialectSQLs[Postgres], write: write, read: read}, nil
}

func configurePGPool(db *sql.DB) {
	db.SetMaxOpenConns(pgMaxOpen)
	db.SetMaxIdleConns(pgMaxOpen)
	db.SetConnMaxIdleTime(pgMaxIdleTime)
}
