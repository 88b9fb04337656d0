package store

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// SQLite settings, applied by the driver to every new connection.
//
//   - journal_mode=WAL lets readers run beside the one writer and keeps a reader's snapshot stable.
//   - synchronous=NORMAL in WAL mode syncs the log at checkpoints rather than at every commit: a
//     committed transaction survives the process crashing, and the file is never corrupted, but the
//     last transactions before a power cut or an operating-system crash may be lost. That is the
//     trade SQLite's authors recommend for WAL, and it suits the one-machine deployments SQLite
//     serves here; a deployment that cannot lose one is the PostgreSQL one.
//   - busy_timeout=5000 makes a connection wait up to 5 s for a lock another process holds (such as
//     `open3ds migrate` beside a running server) instead of failing with SQLITE_BUSY at once.
//   - foreign_keys=on, because SQLite leaves foreign keys unenforced unless asked.
const sqliteParams = "_busy_timeout=5000&_foreign_keys=on&_synchronous=NORMAL"

// openSQLite opens the file at path with two pools.
//
// SQLite allows one writer at a time. Rather than let several pooled connections race for the write
// lock (SQLite's busy handler then polls and sleeps, and a read transaction that later tries to
// write fails with SQLITE_BUSY outright, whatever the timeout), every write goes through a pool of
// exactly one connection: writers queue in database/sql, in order and honouring their contexts,
// and never see SQLITE_BUSY from one another. That connection begins its transactions with BEGIN
// IMMEDIATE (_txlock=immediate), which takes the write lock at the start, so a transaction competing
// with another process waits under busy_timeout at BEGIN instead of failing half way.
//
// Reads go through a second pool of several query-only connections, which WAL lets run beside the
// writer.
func openSQLite(ctx context.Context, path string) (*DB, error) {
	write, err := sql.Open("sqlite", path+"?"+sqliteParams+"&_journal_mode=WAL&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("store: open SQLite database %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	// The writer connects first so that the file exists, in WAL mode, before any reader opens it.
	if err := write.PingContext(ctx); err != nil {
		write.Close()
		return nil, fmt.Errorf("store: open SQLite database %s: %w", path, err)
	}

	read, err := sql.Open("sqlite", path+"?"+sqliteParams+"&_query_only=on")
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("store: open SQLite database %s: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	if err := read.PingContext(ctx); err != nil {
		read.Close()
		write.Close()
		return nil, fmt.Errorf("store: open SQLite database %s: %w", path, err)
	}
	return &DB{dialect: SQLite, q: dialectSQLs[SQLite], write: write, read: read}, nil
}
