package store

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"time"
)

// Group commit.
//
// A role's hot path (an AReq) writes a few rows and must not answer before they are durable. Each in
// its own transaction, the writes queue behind SQLite's one writer and every commit appends to the
// WAL and makes every reader connection drop its page cache; on PostgreSQL every commit waits for a
// flush of the log. WithGroupTx instead hands fn to a committer that runs whatever callers are
// waiting, each inside a savepoint of one shared transaction, and commits them together. Nothing
// waits for a batch to fill: the committer takes what has queued while the previous commit ran, so a
// lone caller is committed at once and a busy store commits many callers per flush.

// maxGroup bounds one commit: large enough to absorb a burst, small enough that a failed commit
// repeats little work.
const maxGroup = 128

// groupTimeout bounds one batch's transaction, which is not tied to any one caller's context.
const groupTimeout = 30 * time.Second

// errClosed answers a WithGroupTx call made after Close.
var errClosed = errors.New("store: the database is closed")

type groupItem struct {
	ctx  context.Context
	fn   func(context.Context, *sql.Tx) error
	done chan error
}

// committer is one worker, since SQLite has one writing connection.
type committer struct {
	db      *DB
	queue   chan *groupItem
	quit    chan struct{}
	stopped chan struct{} // closes when the worker returns
	// dead closes once the worker is gone and the queue is drained: a caller still waiting then
	// has its answer in done, or never will.
	dead    chan struct{}
	closing sync.Once
}

// newCommitter starts the worker that commits db's grouped writes.
func newCommitter(db *DB) *committer {
	c := &committer{db: db, queue: make(chan *groupItem, 4*maxGroup), quit: make(chan struct{}), stopped: make(chan struct{}),
		dead: make(chan struct{})}
	go c.work()
	return c
}

// WithGroupTx runs fn as WithTx does, with the same contract (fn may run more than once and must
// not write through db itself), but commits it together with other callers' functions. fn's
// statements use the context it is given: on SQLite that is the batch's, which no caller's
// cancellation ends (cancelling the one writing connection mid-statement would interrupt a
// neighbour's write); a caller whose ctx ends before its turn is refused instead. fn runs
// inside a savepoint: when it returns an error its writes are undone and that error comes back to
// this caller alone, while the others' writes commit. When the shared commit fails, every caller in
// the batch gets the failure, and none of their writes is kept.
//
// WithGroupTx returns only once fn's writes are committed or known lost. It gives up waiting when
// ctx ends before fn has started; once fn runs, the commit decides.
//
// On PostgreSQL it is WithTx: PostgreSQL already overlaps the commits of concurrent connections,
// and funnelling them through a few committers halved its rate of parallel inserts (BENCHMARKS.md).
func (db *DB) WithGroupTx(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	c := db.group
	if c == nil {
		return db.WithTx(ctx, func(tx *sql.Tx) error { return fn(ctx, tx) })
	}
	it := &groupItem{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case c.queue <- it:
	case <-c.quit:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	var err error
	select {
	case err = <-it.done:
	case <-c.dead:
		select {
		case err = <-it.done:
		default:
			err = errClosed
		}
	}
	if p, ok := err.(groupPanic); ok {
		panic(p.v)
	}
	return err
}

// stop ends the worker once its batch is committed; items still queued are answered errClosed.
func (c *committer) stop() {
	c.closing.Do(func() {
		close(c.quit)
		<-c.stopped
		for {
			select {
			case it := <-c.queue:
				it.done <- errClosed
			default:
				close(c.dead)
				return
			}
		}
	})
}

func (c *committer) work() {
	defer close(c.stopped)
	batch := make([]*groupItem, 0, maxGroup)
	for {
		select {
		case <-c.quit:
			return
		case it := <-c.queue:
			batch = append(batch[:0], it)
		}
	more:
		for len(batch) < maxGroup {
			select {
			case it := <-c.queue:
				batch = append(batch, it)
			default:
				break more
			}
		}
		c.commit(batch)
		clear(batch)
	}
}

// errItemFailed stops an optimistic batch at the first function that fails.
var errItemFailed = errors.New("store: a grouped write failed")

// commit runs one batch in one transaction, with WithTx's retries when the store is busy. It first
// runs every function straight, without savepoints, since nearly every batch succeeds whole; when
// one fails, that attempt is rolled back and the batch runs again with a savepoint per function.
func (c *committer) commit(batch []*groupItem) {
	ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
	defer cancel()
	results := make([]error, len(batch))
	err := c.db.retry(ctx, func() error { return c.attempt(ctx, batch, results, false) })
	if errors.Is(err, errItemFailed) {
		if len(batch) == 1 {
			err = nil // its one function failed, and results holds why: nothing else to commit
		} else {
			err = c.db.retry(ctx, func() error { return c.attempt(ctx, batch, results, true) })
		}
	}
	c.db.committed()
	for i, it := range batch {
		if err != nil && results[i] == nil {
			results[i] = err
		}
		it.done <- results[i]
	}
}

// attempt runs the batch once. Without savepoints it gives up with errItemFailed at the first
// function that fails; with them, a failing function's writes are undone and the rest go on.
func (c *committer) attempt(ctx context.Context, batch []*groupItem, results []error, savepoints bool) error {
	clear(results)
	tx, err := c.db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for i, it := range batch {
		if err := it.ctx.Err(); err != nil {
			results[i] = err
			continue
		}
		if !savepoints {
			if err := c.call(ctx, it, tx); err != nil {
				if isRetryable(err) {
					return err
				}
				results[i] = itemError(err)
				return errItemFailed
			}
			continue
		}
		if _, err := tx.ExecContext(ctx, "SAVEPOINT grp"); err != nil {
			return err
		}
		if err := c.call(ctx, it, tx); err != nil {
			if isRetryable(err) {
				return err // the whole batch goes again
			}
			results[i] = itemError(err)
			if _, err := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT grp"); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, "RELEASE SAVEPOINT grp"); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// groupPanic carries a panic in a caller's function back to the caller, who panics with it there.
type groupPanic struct{ v any }

func (p groupPanic) Error() string { return "store: a grouped write panicked" }

// itemError is what a caller hears of its function's failure: the panic to repeat, or the error
// mapped as WithTx maps it.
func itemError(err error) error {
	if _, ok := err.(groupPanic); ok {
		return err
	}
	return MapError(err)
}

// call runs one caller's function with the batch's context; a panic becomes that caller's alone, so
// that one bad function neither kills the committer nor fails its neighbours.
func (c *committer) call(ctx context.Context, it *groupItem, tx *sql.Tx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = groupPanic{r}
		}
	}()
	return it.fn(ctx, tx)
}
