package store

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"strconv"
	"time"

	"modernc.org/sqlite"
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
// writer. Connections in both pools keep their statements prepared (see stmtcache.go).
func openSQLite(ctx context.Context, path string) (*DB, error) {
	write, err := openSQLitePool(path + "?" + sqliteParams + "&_journal_mode=WAL&_txlock=immediate" +
		"&_pragma=wal_autocheckpoint(" + strconv.Itoa(walBackstopPages) + ")&_pragma=journal_size_limit(" + strconv.Itoa(walSizeLimit) + ")")
	if err != nil {
		return nil, fmt.Errorf("store: open SQLite database %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	// The writer connects first so that the file exists, in WAL mode, before any reader opens it.
	if err := pingWhileBusy(ctx, write); err != nil {
		write.Close()
		return nil, fmt.Errorf("store: open SQLite database %s: %w", path, err)
	}

	read, err := openSQLitePool(path + "?" + sqliteParams + "&_query_only=on")
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
	ckpt, err := startCheckpointer(path)
	if err != nil {
		read.Close()
		write.Close()
		return nil, fmt.Errorf("store: open SQLite database %s: %w", path, err)
	}
	db := &DB{dialect: SQLite, q: dialectSQLs[SQLite], write: write, read: read, ckpt: ckpt}
	db.group = newCommitter(db)
	return db, nil
}

// openSQLitePool opens a pool whose connections keep their prepared statements. Like sql.Open, it
// connects to nothing yet; a malformed parameter is reported here, anything else on first use.
func openSQLitePool(dsn string) (*sql.DB, error) {
	c, err := newStmtCachingConnector(dsn)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(c), nil
}

func newStmtCachingConnector(dsn string) (*stmtCachingConnector, error) {
	c, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return &stmtCachingConnector{Connector: c}, nil
}

// openBusyWait bounds how long opening waits for another process to let go of the file.
const openBusyWait = 30 * time.Second

// pingWhileBusy makes the writer's first connection, trying again while the file is busy. Switching
// a new file to WAL needs the file to itself, and SQLite answers that switch with SQLITE_BUSY at once
// rather than through busy_timeout, so two processes opening one new file together (two roles
// starting, or `open3ds migrate` beside a server) would otherwise see one of them fail.
func pingWhileBusy(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(openBusyWait)
	wait := 5 * time.Millisecond
	for {
		err := db.PingContext(ctx)
		if err == nil || !isRetryable(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, 250*time.Millisecond)
	}
}
