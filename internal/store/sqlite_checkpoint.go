package store

import (
	"database/sql"
	"sync"
	"time"
)

// SQLite in WAL mode appends every commit to the log and copies the log back into the database file
// at a checkpoint. Left to itself, SQLite checkpoints inside the commit that takes the log past
// 1,000 pages, so every few hundred AReqs one of them (and every writer queued behind the one
// connection) waits while pages are copied and the file is synced: on the ACS's AReq path that was
// a fifth of the writer's time (BENCHMARKS.md). Instead a connection of its own checkpoints every
// checkpointEvery, beside the writer; a passive checkpoint takes no lock a writer or reader needs.
// The writer keeps an automatic checkpoint at walBackstopPages, far above what the background keeps
// the log at, as a backstop for a checkpointer that cannot keep up. Readers are nearly always busy
// under load, so the log restarts from its beginning less often than it is checkpointed and the
// file keeps its largest size; walSizeLimit truncates it back when it restarts.
const (
	checkpointEvery  = 100 * time.Millisecond
	walBackstopPages = 16000
	walSizeLimit     = 64 << 20
)

type checkpointer struct {
	conn    *sql.DB
	stop    chan struct{}
	done    chan struct{}
	closing sync.Once
	err     error
}

// startCheckpointer opens the checkpointing connection to the database at path and starts it.
func startCheckpointer(path string) (*checkpointer, error) {
	conn, err := openSQLitePool(path + "?" + sqliteParams)
	if err != nil {
		return nil, err
	}
	conn.SetMaxOpenConns(1)
	conn.SetMaxIdleConns(1)
	c := &checkpointer{conn: conn, stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c, nil
}

func (c *checkpointer) run() {
	defer close(c.done)
	tick := time.NewTicker(checkpointEvery)
	defer tick.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-tick.C:
		}
		// A checkpoint that fails (another process checkpointing, the file busy) is simply tried
		// again at the next tick; what it leaves behind stays safely in the log meanwhile.
		var busy, logPages, copied int
		_ = c.conn.QueryRow("PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logPages, &copied)
	}
}

// close stops checkpointing; SQLite checkpoints once more itself when the last connection closes.
func (c *checkpointer) close() error {
	c.closing.Do(func() {
		close(c.stop)
		<-c.done
		c.err = c.conn.Close()
	})
	return c.err
}
