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
// a fifth of the writer's time (BENCHMARKS.md). Instead a connection of its own checkpoints beside
// the writer, after commits: a passive checkpoint takes no lock a writer or reader needs, and
// small checkpoints keep the stalls they still cause short (at half the ACS's top rate, p99 went
// from 107 ms with a checkpoint a second to 10 ms with one every 5 ms). The gap between two
// checkpoints adapts so that each copies about checkpointPages; an idle store does not checkpoint.
//
// The writer keeps an automatic checkpoint at walBackstopPages, far above what the background keeps
// the log at, as a backstop for a checkpointer that cannot keep up (or a process that writes
// without one running). Readers are nearly always busy under load, so the log restarts from its
// beginning less often than it is checkpointed and the file keeps its largest size; walSizeLimit
// truncates it back when it restarts.
const (
	checkpointMinGap = 5 * time.Millisecond
	checkpointMaxGap = 200 * time.Millisecond
	checkpointPages  = 256
	walBackstopPages = 16000
	walSizeLimit     = 64 << 20
)

type checkpointer struct {
	conn    *sql.DB
	wrote   chan struct{} // a commit happened since the last checkpoint
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
	c := &checkpointer{conn: conn, wrote: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c, nil
}

// committed tells the checkpointer that the log grew; it never blocks.
func (c *checkpointer) committed() {
	select {
	case c.wrote <- struct{}{}:
	default:
	}
}

func (c *checkpointer) run() {
	defer close(c.done)
	gap, lastLog := checkpointMinGap, 0
	for {
		select {
		case <-c.stop:
			return
		case <-c.wrote:
		}
		// A checkpoint that fails (another process checkpointing, the file busy) is tried again
		// after the next commit; what it leaves behind stays safely in the log meanwhile.
		var busy, logPages, copied int
		if err := c.conn.QueryRow("PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logPages, &copied); err == nil && logPages >= 0 {
			gap, lastLog = nextCheckpointGap(gap, lastLog, logPages)
		}
		// Commits during the gap are taken by one checkpoint after it.
		select {
		case <-c.stop:
			return
		case <-time.After(gap):
		}
	}
}

// nextCheckpointGap aims each checkpoint at about checkpointPages new pages of log: a busy store
// checkpoints often and briefly, a quiet one seldom (each checkpoint syncs the file, whatever it
// copies). logPages is the log's length now; it starts again from zero when the log restarts.
func nextCheckpointGap(gap time.Duration, lastLog, logPages int) (time.Duration, int) {
	grown := logPages - lastLog
	if grown < 0 {
		grown = logPages
	}
	switch {
	case grown > checkpointPages:
		gap = max(gap/2, checkpointMinGap)
	case grown < checkpointPages/4:
		gap = min(gap*2, checkpointMaxGap)
	}
	return gap, logPages
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
